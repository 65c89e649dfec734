"""Bracket tables: the shipped snapshots, lookups, the cum recurrence, refusing bad tables."""

from __future__ import annotations

import json

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
    with pytest.raises(InvalidInputError, match=r"notional must be > 0; got -1.0"):
        table.bracket_for(-1)
    with pytest.raises(InvalidInputError, match=r"notional must be below the table's last cap 1,800,000,000"):
        table.maintenance_margin(2e9)
    with pytest.raises(InvalidInputError, match=r"got nan \(at index 1\)"):
        table.max_leverage([1.0, float("nan")])
    with pytest.raises(InvalidInputError, match="symbol must be one of the shipped snapshots"):
        BracketTable.load("DOGEUSDT")
