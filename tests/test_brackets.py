"""Bracket tables: the shipped snapshots, lookups, the cum recurrence, refusing bad tables."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from margin_lib import BracketTable, BracketTableError, InvalidInputError

OLD = [
    dict(bracket=1, notional_floor=0, notional_cap=50_000, max_leverage=125, mmr=0.004, maintenance_amount=0),
    dict(
        bracket=2,
        notional_floor=50_000,
        notional_cap=250_000,
        max_leverage=100,
        mmr=0.005,
        maintenance_amount=50,
    ),
    dict(
        bracket=3,
        notional_floor=250_000,
        notional_cap=1_000_000,
        max_leverage=50,
        mmr=0.01,
        maintenance_amount=1_300,
    ),
]


def test_reference_cum_example_250000_times_half_percent_plus_50_is_1300():
    """The FAQ's worked figure: 250,000 × (1 % − 0.5 %) + 50 = 1,300."""
    table = BracketTable.from_records(OLD)
    assert table.bracket_for(250_000).maintenance_amount == 1_300
    # MM is continuous at the edge: both tiers give the same figure there
    below = 250_000 * 0.005 - 50
    assert table.maintenance_margin(250_000) == pytest.approx(below)


def test_shipped_snapshots_load_with_dates():
    assert BracketTable.available() == ["BTCUSDT", "BTCUSDT-2021", "ETHUSDT"]
    btc = BracketTable.load("btcusdt")
    eth = BracketTable.load("ETHUSDT")
    assert (btc.symbol, btc.as_of, len(btc)) == ("BTCUSDT", "2026-09", 12)
    assert (eth.symbol, eth.as_of, len(eth)) == ("ETHUSDT", "2026-09", 12)
    assert btc.brackets[-1].maintenance_amount == 421_482_000
    assert eth.brackets[-1].maintenance_amount == 280_507_000
    old = BracketTable.load("BTCUSDT-2021")
    assert [b.maintenance_amount for b in old] == [0, 50, 1_300, 16_300]
    assert BracketTable.from_records(old.records()) == old


def test_maintenance_margin_is_continuous_at_every_edge():
    for name in BracketTable.available():
        table = BracketTable.load(name)
        for b in table.brackets[1:]:
            edge = b.notional_floor
            assert table.maintenance_margin(edge) == pytest.approx(
                table.maintenance_margin(edge * (1 - 1e-12)), rel=1e-9
            )


def test_floor_belongs_to_upper_tier():
    table = BracketTable.load("BTCUSDT")
    assert table.bracket_for(300_000).bracket == 2
    assert table.bracket_for(299_999.99).bracket == 1
    assert table.max_leverage(300_000) == 100
    assert table.max_leverage(299_999) == 150


def test_lookup_is_vectorised_and_matches_scalars():
    table = BracketTable.load("ETHUSDT")
    n = np.array([[1_000.0, 300_000.0], [5e7, 1.1e9]])
    b = table.bracket_for(n)
    assert b.bracket.shape == (2, 2)
    assert b.bracket.tolist() == [[1, 2], [6, 12]]
    mm = table.maintenance_margin(n)
    assert mm.shape == (2, 2)
    for idx in np.ndindex(n.shape):
        assert mm[idx] == table.maintenance_margin(float(n[idx]))
        assert table.max_leverage(n)[idx] == table.max_leverage(float(n[idx]))


def test_larger_positions_get_higher_rate_and_lower_leverage():
    table = BracketTable.load("BTCUSDT")
    rates = [b.mmr for b in table]
    levs = [b.max_leverage for b in table]
    assert rates == sorted(rates) and levs == sorted(levs, reverse=True)


def test_maintenance_margin_curve_agrees_with_lookup_and_extends_past_cap():
    table = BracketTable.load("BTCUSDT")
    n = np.geomspace(1, 1.7e9, 2_000)
    assert np.allclose(table.maintenance_margin_curve(n), table.maintenance_margin(n), rtol=1e-12)
    beyond = 2e9
    assert table.maintenance_margin_curve(np.array(beyond)) == pytest.approx(beyond * 0.5 - 421_482_000)


def test_flat_table():
    t = BracketTable.flat(0.005, 100)
    assert t.maintenance_margin(1_000) == 5.0
    assert t.max_leverage(1e12) == 100


def test_from_exchange_json_and_load_file(tmp_path):
    payload = [
        {
            "symbol": "XYZUSDT",
            "brackets": [
                {
                    "bracket": 1,
                    "initialLeverage": 75,
                    "notionalCap": 10000,
                    "notionalFloor": 0,
                    "maintMarginRatio": 0.0065,
                    "cum": 0.0,
                },
                {
                    "bracket": 2,
                    "initialLeverage": 50,
                    "notionalCap": 50000,
                    "notionalFloor": 10000,
                    "maintMarginRatio": 0.01,
                    "cum": 35.0,
                },
            ],
        }
    ]
    table = BracketTable.from_exchange(payload)
    assert table.symbol == "XYZUSDT"
    assert table.maintenance_margin(20_000) == pytest.approx(20_000 * 0.01 - 35)
    path = tmp_path / "xyz.json"
    path.write_text(json.dumps(payload[0]))
    assert BracketTable.load_file(path) == table
    ours = tmp_path / "ours.json"
    ours.write_text(json.dumps({"symbol": "OLD", "as_of": "2021", "brackets": OLD}))
    assert BracketTable.load_file(ours).as_of == "2021"


# --------------------------------------------------------------------------- refusals
def _with(i, **changes):
    rows = [dict(r) for r in OLD]
    rows[i].update(changes)
    return rows


@pytest.mark.parametrize(
    "records, words",
    [
        ([], "at least one bracket"),
        ([OLD[1], OLD[0], OLD[2]], "sorted by notional_floor"),
        (_with(1, notional_floor=40_000), "overlaps the previous bracket"),
        (_with(1, notional_floor=60_000, maintenance_amount=120), "leaves a gap"),
        (_with(2, maintenance_amount=1_250), "maintenance_amount must be 1,300"),
        (_with(0, maintenance_amount=5), "first maintenance_amount must be 0"),
        (_with(0, notional_floor=10), "first notional_floor must be 0"),
        (_with(1, mmr=0.003, maintenance_amount=-50), "maintenance_amount must be >= 0"),
        (_with(1, max_leverage=130), "max_leverage must not rise"),
        (_with(0, mmr=0.01), "mmr must be below the initial margin rate"),
        (_with(1, mmr=float("nan")), "must be finite"),
        (_with(1, mmr="abc"), "must be a number"),
        (_with(1, notional_cap=50_000), "notional_cap must be above notional_floor"),
        ([{k: v for k, v in OLD[0].items() if k != "mmr"}], "missing ['mmr']"),
        ("not a list", "must be a list of dicts"),
    ],
)
def test_inconsistent_tables_are_refused(records, words):
    with pytest.raises(BracketTableError) as info:
        BracketTable.from_records(records)
    assert words in str(info.value)


def test_lookup_refuses_bad_notional():
    table = BracketTable.load("BTCUSDT")
    with pytest.raises(InvalidInputError, match=r"notional must be >= 0; got -1.0"):
        table.bracket_for(-1)
    with pytest.raises(InvalidInputError, match=r"notional must be below the table's last cap 1,800,000,000"):
        table.maintenance_margin(2e9)
    with pytest.raises(InvalidInputError, match=r"got nan \(at index 1\)"):
        table.max_leverage([1.0, float("nan")])
    with pytest.raises(InvalidInputError, match="symbol must be one of the shipped snapshots"):
        BracketTable.load("DOGEUSDT")


# --------------------------------------------------------------------------- a notional of 0
def test_zero_notional_is_tier_one_with_no_maintenance_margin():
    """0 is bracket 1's floor: MM 0 and the first tier's maximum leverage (BTCUSDT: 150x)."""
    table = BracketTable.load("BTCUSDT")
    assert table.bracket_for(0).bracket == 1
    assert table.bracket_for(0) == table.tier_at(0) == table.brackets[0]
    mm = table.maintenance_margin(0)
    assert mm == 0.0 and type(mm) is float and math.copysign(1.0, mm) == 1.0
    assert math.copysign(1.0, table.maintenance_margin(-0.0)) == 1.0  # -0.0 counts as 0, gives +0.0
    lev = table.max_leverage(0)
    assert lev == 150.0 and type(lev) is float
    assert table.check_leverage(0, 150).bracket == 1
    with pytest.raises(
        InvalidInputError, match=r"leverage must be at most 150x for a 0 USDT BTCUSDT position"
    ):
        table.check_leverage(0, 151)


def test_zero_notional_in_arrays():
    table = BracketTable.load("BTCUSDT")
    n = np.array([0.0, 1_000.0, 300_000.0])
    assert table.bracket_for(n).bracket.tolist() == [1, 1, 2]
    assert table.maintenance_margin(n).tolist() == [0.0, 4.0, 1_200.0]
    assert table.max_leverage(n).tolist() == [150.0, 150.0, 100.0]
    assert table.maintenance_margin([[0, 0], [0, 0]]).tolist() == [[0.0, 0.0], [0.0, 0.0]]


@pytest.mark.parametrize("method", ["bracket_for", "maintenance_margin", "max_leverage"])
@pytest.mark.parametrize(
    "notional, message",
    [
        (-1, "notional must be >= 0; got -1.0"),
        (-1e-9, "notional must be >= 0; got -1e-09"),
        (float("nan"), "notional must be a finite number >= 0; got nan"),
        (float("inf"), "notional must be a finite number >= 0; got inf"),
        ([0.0, -1.0], "notional must be >= 0; got -1.0 (at index 1)"),
        ([0.0, float("nan")], "notional must be a finite number >= 0; got nan (at index 1)"),
    ],
)
def test_negative_or_non_finite_notional_is_still_refused(method, notional, message):
    table = BracketTable.load("BTCUSDT")
    with pytest.raises(InvalidInputError) as info:
        getattr(table, method)(notional)
    assert type(info.value) is InvalidInputError
    assert str(info.value) == message


@pytest.mark.parametrize(
    "notional, message",
    [(-1, "notional must be >= 0; got -1.0"), (float("nan"), "notional must be a finite number >= 0")],
)
def test_check_leverage_refuses_negative_or_nan_notional(notional, message):
    with pytest.raises(InvalidInputError) as info:
        BracketTable.load("BTCUSDT").check_leverage(notional, 10)
    assert type(info.value) is InvalidInputError
    assert str(info.value).startswith(message)


# --------------------------------------------------------------------------- loading files
def _exchange_rows(table, quoted=False):
    """The table's rows in the exchange's leverage-bracket format (numbers quoted if asked)."""

    def num(x):
        if not quoted:
            return int(x) if float(x).is_integer() else x
        return str(int(x)) if float(x).is_integer() else repr(x)

    return [
        {
            "bracket": b.bracket,
            "initialLeverage": num(b.max_leverage),
            "notionalCap": num(b.notional_cap),
            "notionalFloor": num(b.notional_floor),
            "maintMarginRatio": num(b.mmr),
            "cum": num(b.maintenance_amount),
        }
        for b in table
    ]


@pytest.mark.parametrize("quoted", [False, True])
@pytest.mark.parametrize("wrapped", [True, False])
def test_load_file_accepts_the_endpoint_response(tmp_path, quoted, wrapped):
    """GET /fapi/v1/leverageBracket?symbol=BTCUSDT returns a one-element list; its element alone
    loads too, with numbers as numbers or as quoted strings."""
    shipped = BracketTable.load("BTCUSDT")
    doc = {"symbol": "BTCUSDT", "brackets": _exchange_rows(shipped, quoted)}
    path = tmp_path / "BTCUSDT-exchange.json"
    path.write_text(json.dumps([doc] if wrapped else doc))
    table = BracketTable.load_file(path)
    assert table.brackets == shipped.brackets
    assert table == shipped
    assert table.symbol == "BTCUSDT"
    assert BracketTable.load_file(str(path)) == shipped
    assert BracketTable.from_exchange([doc] if wrapped else doc) == shipped


def test_load_file_keeps_an_infinite_last_cap(tmp_path):
    """A flat table's cap is inf; json writes it as Infinity and reads it back."""
    flat = BracketTable.flat(0.005, 100, symbol="FLAT")
    path = tmp_path / "flat.json"
    path.write_text(json.dumps({"symbol": "FLAT", "brackets": flat.records()}))
    assert "Infinity" in path.read_text()
    assert BracketTable.load_file(path) == flat


def test_load_file_accepts_a_utf8_byte_order_mark(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"symbol": "OLD", "brackets": OLD}).encode())
    assert BracketTable.load_file(path) == BracketTable.from_records(OLD)


_ROWS = BracketTable.load("BTCUSDT").records()
_EX_ROWS = _exchange_rows(BracketTable.load("BTCUSDT"))
_BIG = "1" + "0" * 400  # 10**400: Python's json reads an int that float() cannot convert


def _ours(**last):
    """The shipped BTCUSDT table in the package's format, the last row changed as raw JSON text."""
    rows = json.dumps(_ROWS[:-1])[:-1]
    fields = ", ".join(f'"{k}": {last.get(k, json.dumps(_ROWS[-1][k]))}' for k in _ROWS[-1])
    return f'{{"symbol": "BTCUSDT", "brackets": {rows}, {{{fields}}}]}}'


def _theirs(**first):
    """BTCUSDT in the exchange's format (a one-element list), the first row changed as raw JSON."""
    row = ", ".join(f'"{k}": {first.get(k, json.dumps(_EX_ROWS[0][k]))}' for k in _EX_ROWS[0])
    rest = json.dumps(_EX_ROWS[1:])[1:]
    return f'[{{"symbol": "BTCUSDT", "brackets": [{{{row}}}, {rest}}}]'


def test_raw_json_helpers_build_loadable_tables(tmp_path):
    for i, text in enumerate([_ours(), _theirs()]):
        path = tmp_path / f"{i}.json"
        path.write_text(text)
        assert BracketTable.load_file(path) == BracketTable.load("BTCUSDT")


@pytest.mark.parametrize(
    "content, words",
    [
        ("null", "expected a JSON object with a 'brackets' list"),
        ("null", "got None (JSON null)"),
        ("3", "got the number 3"),
        ("1e400", "got the number 1e400"),
        ('"BTCUSDT"', "got the string 'BTCUSDT'"),
        ("true", "got True (a boolean)"),
        ("[1, 2]", "must hold the leverage brackets of one symbol"),
        ("[1, 2]", "got a list of 2 items: [1, 2]"),
        ("[]", "got an empty list"),
        ("[3]", "document[0] must be the exchange's leverage-bracket JSON for one symbol"),
        (
            json.dumps([{"symbol": s, "brackets": _EX_ROWS} for s in ("BTCUSDT", "ETHUSDT")]),
            "must hold the leverage brackets of one symbol; got a list of 2 symbols ('BTCUSDT', 'ETHUSDT')",
        ),
        (
            json.dumps([{"symbol": f"S{i}USDT", "brackets": _EX_ROWS} for i in range(300)]),
            "got a list of 300 symbols ('S0USDT', 'S1USDT', 'S2USDT', 'S3USDT', 'S4USDT', 'S5USDT', "
            "'S6USDT', 'S7USDT', ... and 292 more)",
        ),
        ('{"code": -1121, "msg": "Invalid symbol."}', "an error response from the exchange (code -1121"),
        ('{"symbol": "BTCUSDT"}', "got an object with the keys ['symbol']"),
        ('{"brackets": null}', "'brackets' must be a list of bracket objects; got None (JSON null)"),
        ('{"brackets": 3}', "'brackets' must be a list of bracket objects; got the number 3"),
        ('{"brackets": {"bracket": 1}}', "'brackets' must be a list of bracket objects; got an object"),
        ('{"brackets": []}', "'brackets' must hold at least one bracket; got an empty list"),
        ('[{"symbol": "BTCUSDT", "brackets": []}]', "must hold at least one bracket; got an empty list"),
        ('{"brackets": [1, 2]}', "records[0] must be a dict with keys bracket, notional_floor"),
        ('{"brackets": [null]}', "records[0] must be a dict with keys bracket, notional_floor"),
        (
            json.dumps([{"symbol": "BTCUSDT", "brackets": [*_EX_ROWS[:2], 7]}]),
            "brackets[2] must be an object with the exchange's keys bracket, notionalFloor",
        ),
        (
            json.dumps({"symbol": "BTCUSDT", "brackets": [7, *_EX_ROWS[:2]]}),
            "brackets[0] must be an object with the exchange's keys bracket, notionalFloor",
        ),
        (json.dumps({"brackets": [{k: v for k, v in OLD[0].items() if k != "mmr"}]}), "missing ['mmr']"),
        (
            json.dumps([{"symbol": "X", "brackets": [{k: v for k, v in _EX_ROWS[0].items() if k != "cum"}]}]),
            "brackets[0] lacks the exchange's keys ['cum']",
        ),
        (
            _ours(notional_cap=_BIG),
            "records[11].notional_cap must be a number a float can hold; got 1000...0 (401 digits)",
        ),
        (_ours(notional_cap="1" + "0" * 5000), "got 1000...0 (5001 digits)"),
        (
            _ours(notional_cap="1e400"),
            "records[11].notional_cap must be a number a float can hold; got 1e400",
        ),
        (
            _ours(maintenance_amount="-1e400"),
            "records[11].maintenance_amount must be a number a float can hold",
        ),
        (_ours(mmr='"abc"'), "records[11].mmr must be a number; got 'abc'"),
        (_ours(mmr="NaN"), "records[11].mmr must be finite; got nan"),
        (_ours(bracket="12.5"), "records[11].bracket must be a whole number"),
        (
            _theirs(notionalCap=_BIG),
            "brackets[0].notionalCap must be a number a float can hold; got 1000...0 (401 digits)",
        ),
        (
            _theirs(notionalCap='"1e400"'),
            "brackets[0].notionalCap must be a number a float can hold; got '1e400'",
        ),
        (_theirs(cum="1e400"), "brackets[0].cum must be a number a float can hold; got 1e400"),
        (_theirs(maintMarginRatio='"0.4 %"'), "brackets[0].maintMarginRatio must be a number; got '0.4 %'"),
        (json.dumps({"symbol": 3, "brackets": OLD}), "'symbol' must be a string; got the number 3"),
        (json.dumps({"symbol": "X", "as_of": 2021, "brackets": OLD}), "'as_of' must be a string"),
        (json.dumps([{"symbol": None, "brackets": _EX_ROWS}]), "ok"),
        ("{", "must be valid JSON; Expecting property name enclosed in double quotes at line 1, column 2"),
        ('{"brackets": [1,]}', "must be valid JSON"),
        ("", "must be valid JSON (the file is empty)"),
        ("[" * 100_000, "must be valid JSON"),
    ],
)
def test_load_file_refuses_malformed_tables_by_name(tmp_path, content, words):
    path = tmp_path / "table.json"
    path.write_text(content)
    if words == "ok":  # a null symbol is allowed: the table has no name
        assert BracketTable.load_file(path).symbol is None
        return
    with pytest.raises(BracketTableError) as info:
        BracketTable.load_file(path)
    message = str(info.value)
    assert type(info.value) is BracketTableError
    assert message.startswith(f"{path}: ")
    assert words in message
    assert len(message) < 600  # no 400-digit numbers or whole documents


def _refusal(call):
    with pytest.raises(BracketTableError) as info:
        call()
    assert type(info.value) is BracketTableError
    return str(info.value)


def test_load_file_refuses_files_it_cannot_read_naming_the_path(tmp_path):
    latin = tmp_path / "latin-1.json"
    latin.write_bytes('{"symbol": "BTCUSDT", "source": "Börse"}'.encode("latin-1"))
    message = _refusal(lambda: BracketTable.load_file(latin))
    assert str(latin) in message and "must hold UTF-8 text" in message and "byte 0xf6" in message

    missing = tmp_path / "missing.json"
    message = _refusal(lambda: BracketTable.load_file(missing))
    assert str(missing) in message and "does not exist" in message
    message = _refusal(lambda: BracketTable.load_file(str(missing)))
    assert str(missing) in message

    message = _refusal(lambda: BracketTable.load_file(tmp_path))
    assert str(tmp_path) in message and "is a directory" in message


@pytest.mark.parametrize(
    "path, shown", [(None, "None"), (3, "3"), (b"table.json", "b'table.json'"), ([], "[]")]
)
def test_load_file_refuses_a_path_that_is_not_a_str_or_path(path, shown):
    message = _refusal(lambda: BracketTable.load_file(path))
    assert message == f"path must be a str or pathlib.Path naming a JSON file; got {shown}"


@pytest.mark.parametrize(
    "payload, words",
    [
        (None, "payload must be the exchange's leverage-bracket JSON for one symbol"),
        (3, "got the number 3"),
        ("BTCUSDT", "got the string 'BTCUSDT'"),
        ([1, 2], "payload must hold the leverage brackets of one symbol"),
        ([], "got an empty list"),
        ([None], "payload[0] must be the exchange's leverage-bracket JSON for one symbol (a dict"),
        (
            [{"symbol": "BTCUSDT", "brackets": _EX_ROWS}, {"symbol": "ETHUSDT", "brackets": _EX_ROWS}],
            "one symbol; got a list of 2 symbols ('BTCUSDT', 'ETHUSDT')",
        ),
        (
            {"symbol": "X", "brackets": None},
            "payload['brackets'] must be a list of bracket objects; got None",
        ),
        ({"symbol": "X", "brackets": [None]}, "brackets[0] must be an object with the exchange's keys"),
        ({"symbol": "X", "brackets": "abc"}, "payload['brackets'] must be a list of bracket objects"),
        ({"symbol": 3, "brackets": _EX_ROWS}, "payload['symbol'] must be a string; got the number 3"),
        (
            {"symbol": "X", "brackets": [{**_EX_ROWS[0], "notionalCap": 10**400}]},
            "brackets[0].notionalCap must be a number a float can hold; got 1000...0 (401 digits)",
        ),
        (
            {"symbol": "X", "brackets": [{**_EX_ROWS[0], "notionalCap": 10**5000}]},
            "brackets[0].notionalCap must be a number a float can hold; got an integer of about 5001 digits",
        ),
        (
            {"symbol": "X", "brackets": [{**_EX_ROWS[0], "cum": float("inf")}]},
            "brackets[0].cum must be finite",
        ),
    ],
)
def test_from_exchange_refuses_malformed_payloads(payload, words):
    message = _refusal(lambda: BracketTable.from_exchange(payload))
    assert words in message
    assert len(message) < 600


@pytest.mark.parametrize(
    "records, words",
    [
        (None, "records must be a list of dicts with keys bracket, notional_floor"),
        (3, "records must be a list of dicts"),
        (5.0, "records must be a list of dicts"),
        ([None], "records[0] must be a dict with keys bracket"),
        ([3], "records[0] must be a dict with keys bracket"),
        (
            _with(2, notional_cap=10**400),
            "records[2].notional_cap must be a number a float can hold; got 1000...0 (401 digits)",
        ),
        (_with(2, notional_cap=-(10**400)), "got -1000...0 (401 digits)"),
        (
            _with(2, notional_cap="1e400"),
            "records[2].notional_cap must be a number a float can hold; got '1e400'",
        ),
        (
            _with(2, maintenance_amount=10**400),
            "records[2].maintenance_amount must be a number a float can hold",
        ),
        (_with(1, bracket=2.5), "records[1].bracket must be a whole number (1, 2, 3, ...); got 2.5"),
        (_with(1, mmr=None), "records[1].mmr must be a number; got None"),
        (_with(1, mmr=True), "records[1].mmr must be a number; got True"),
    ],
)
def test_from_records_refuses_malformed_records(records, words):
    message = _refusal(lambda: BracketTable.from_records(records))
    assert words in message
    assert len(message) < 600


def test_from_records_accepts_an_infinite_last_cap_and_quoted_numbers():
    rows = _with(2, notional_cap=float("inf"))
    assert BracketTable.from_records(rows).brackets[-1].notional_cap == math.inf
    quoted = [{k: str(val) for k, val in row.items()} for row in _with(2, notional_cap="Infinity")]
    assert BracketTable.from_records(quoted) == BracketTable.from_records(rows)


@pytest.mark.parametrize(
    "doc, words",
    [
        (None, "snapshot: expected a JSON object with a 'brackets' list"),
        (3, "got the number 3"),
        ("x", "got the string 'x'"),
        ([1], "got a list of 1 item: [1]"),
        ({"brackets": None}, "snapshot: 'brackets' must be a list of bracket objects; got None"),
        ({"brackets": 3}, "'brackets' must be a list of bracket objects; got the number 3"),
        ({"brackets": [3]}, "snapshot: records[0] must be a dict"),
        ({"brackets": OLD, "source": 7}, "snapshot: 'source' must be a string; got the number 7"),
    ],
)
def test_documents_in_the_package_format_are_refused_by_name(doc, words):
    message = _refusal(lambda: BracketTable._from_document(doc, origin="snapshot"))
    assert message.startswith("snapshot: ")
    assert words in message


@pytest.mark.parametrize("symbol", [None, 3, ["BTCUSDT"], b"BTCUSDT"])
def test_load_refuses_a_symbol_that_is_not_a_string(symbol):
    with pytest.raises(InvalidInputError) as info:
        BracketTable.load(symbol)
    assert type(info.value) is InvalidInputError
    assert str(info.value).startswith("symbol must be a string naming a shipped snapshot ('BTCUSDT', ")
    assert str(info.value).endswith(f"got {symbol!r}")


def test_shipped_snapshots_load_through_load_file():
    import margin_lib

    folder = Path(margin_lib.__file__).parent / "data" / "brackets"
    for name in BracketTable.available():
        table = BracketTable.load_file(folder / f"{name}.json")
        assert table == BracketTable.load(name)
        assert table.as_of == BracketTable.load(name).as_of
