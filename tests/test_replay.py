"""The vectorised path replay (margin_lib.replay) checked against the account itself.

The oracle steps a copy of the account (``Account.copy``) through the same marks with
``Account.mark``, one step and one path at a time, and reads off when each position disappears
and the final ``report().equity``. The replay must agree on every path: the liquidation step of
each position (-1 when never), the cross liquidation step and the final equity. Seeded random
small cases cover isolated, cross, mixed, hedge mode and bracket tables whose tiers the notional
crosses along the path.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from margin_lib import BracketTable, InvalidInputError
from margin_lib.account import Account
from margin_lib.brackets import FIELDS
from margin_lib.replay import ReplayResult, replay

BTC, ETH, XYZ = "BTCUSDT", "ETHUSDT", "XYZUSDT"
START = {BTC: 100_000.0, ETH: 4_000.0, XYZ: 10.0}
BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_engine.py"

# A made-up table with low tier floors, so that small positions cross tiers along a path.
SMALL_TIERS = BracketTable.from_records(
    [
        dict(zip(FIELDS, row, strict=True))
        for row in [
            # bracket, floor, cap, max leverage, MMR, cum
            (1, 0, 1_000, 50, 0.01, 0),
            (2, 1_000, 5_000, 25, 0.02, 10),
            (3, 5_000, 20_000, 10, 0.05, 160),
            (4, 20_000, 1e9, 5, 0.10, 1_160),
        ]
    ],
    symbol=XYZ,
)


# ---------------------------------------------------------------------------------- oracle
def step_by_step(account: Account, paths: dict) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """(liquidation step per position, cross liquidation step, final equity), per path, from
    ``Account.mark`` on a copy of the account, one step at a time."""
    arrays = {s: np.atleast_2d(np.asarray(a, dtype=float)) for s, a in paths.items()}
    shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    arrays = {s: np.broadcast_to(a, shape) for s, a in arrays.items()}
    n_paths, n_steps = shape
    legs = [(p.symbol, p.side_name) for p in account.positions]
    cross_legs = [(p.symbol, p.side_name) for p in account.positions if p.margin_mode == "cross"]
    steps = {f"{s} {side}": np.full(n_paths, -1) for s, side in legs}
    cross_step = np.full(n_paths, -1)
    equity = np.empty(n_paths)
    for i in range(n_paths):
        acct = account.copy()
        for t in range(n_steps):
            acct.mark({s: float(a[i, t]) for s, a in arrays.items()})
            for s, side in legs:
                if steps[f"{s} {side}"][i] < 0 and not acct.has_position(s, side):
                    steps[f"{s} {side}"][i] = t
            if cross_step[i] < 0 and any(not acct.has_position(s, side) for s, side in cross_legs):
                cross_step[i] = t
            if not acct.positions:  # nothing left that a later mark could change
                break
        equity[i] = acct.report().equity
    return steps, cross_step, equity


def assert_agrees(account: Account, paths: dict, result: ReplayResult) -> None:
    steps, cross_step, equity = step_by_step(account, paths)
    assert sorted(result.liquidation_step) == sorted(steps)
    for label, expected in steps.items():
        np.testing.assert_array_equal(result.liquidation_step[label], expected, err_msg=label)
    np.testing.assert_array_equal(result.cross_liquidation_step, cross_step, err_msg="cross step")
    np.testing.assert_allclose(result.final_equity, equity, rtol=1e-9, atol=1e-6, err_msg="final equity")
    assert result.initial_equity == pytest.approx(account.report().equity, rel=1e-12)
    assert (result.n_paths, result.n_steps) == np.broadcast_shapes(
        *(np.atleast_2d(np.asarray(a)).shape for a in paths.values())
    )


# ------------------------------------------------------------------------------ random cases
def random_walks(
    rng: np.random.Generator, n_paths: int, n_steps: int, start: float, sigma: float
) -> np.ndarray:
    return start * np.exp(np.cumsum(rng.normal(0.0, sigma, (n_paths, n_steps)), axis=1))


def near_a_floor(rng: np.random.Generator, table: BracketTable, lowest: float, highest: float) -> float:
    """A notional within ±8 % of a tier floor in [lowest, highest], so a path crosses it."""
    floors = [f for f in table.tier_arrays()["floor"] if lowest <= f <= highest]
    return float(rng.choice(floors)) * rng.uniform(0.92, 1.08)


def build_case(kind: str, seed: int) -> tuple[Account, dict, dict]:
    """A random account of the given kind, random-walk paths for its symbols, and facts about
    the case (which tables were crossed) for the coverage checks."""
    rng = np.random.default_rng([seed, KINDS.index(kind)])
    tables: dict[str, BracketTable] = {}
    hedge = False
    if kind == "isolated":
        legs = {BTC: [(rng.choice([1, -1]), rng.uniform(200, 20_000))]}
        if rng.random() < 0.7:
            legs[ETH] = [(rng.choice([1, -1]), rng.uniform(200, 20_000))]
        modes = dict.fromkeys(legs, "isolated")
    elif kind == "cross":
        legs = {BTC: [(rng.choice([1, -1]), rng.uniform(200, 20_000))]}
        if rng.random() < 0.8:
            legs[ETH] = [(rng.choice([1, -1]), rng.uniform(200, 20_000))]
        modes = dict.fromkeys(legs, "cross")
    elif kind == "mixed":
        iso, crs = (BTC, ETH) if rng.random() < 0.5 else (ETH, BTC)
        legs = {
            iso: [(rng.choice([1, -1]), rng.uniform(200, 20_000))],
            crs: [(rng.choice([1, -1]), rng.uniform(200, 20_000))],
        }
        modes = {iso: "isolated", crs: "cross"}
        if rng.random() < 0.5:  # a third symbol, cross, with its own table
            tables[XYZ] = SMALL_TIERS
            legs[XYZ] = [(rng.choice([1, -1]), rng.uniform(100, 3_000))]
            modes[XYZ] = "cross"
    elif kind == "hedge":
        hedge = True
        small, big = sorted(rng.uniform(500, 20_000, 2))
        big *= rng.uniform(1.5, 4)  # unbalanced legs, so the net position can be liquidated
        long_first = rng.random() < 0.5
        legs = {BTC: [(1, big if long_first else small), (-1, small if long_first else big)]}
        modes = {BTC: "cross"}
        if rng.random() < 0.5:
            legs[ETH] = [(rng.choice([1, -1]), rng.uniform(200, 20_000))]
            modes[ETH] = "cross"
        if rng.random() < 0.5:  # both legs of another symbol, isolated
            legs[XYZ] = [(1, rng.uniform(100, 3_000)), (-1, rng.uniform(100, 3_000))]
            tables[XYZ] = SMALL_TIERS
            modes[XYZ] = "isolated"
    elif kind == "tiers":
        tables[ETH] = BracketTable.load("ETHUSDT")
        if rng.random() < 0.5:
            tables[BTC] = BracketTable.load("BTCUSDT-2021")
        tables[XYZ] = SMALL_TIERS
        btc_table = tables.get(BTC) or BracketTable.load(BTC)
        legs = {
            BTC: [(rng.choice([1, -1]), near_a_floor(rng, btc_table, 250_000, 15_000_000))],
            XYZ: [(rng.choice([1, -1]), near_a_floor(rng, SMALL_TIERS, 1_000, 20_000))],
        }
        if rng.random() < 0.6:
            legs[ETH] = [(rng.choice([1, -1]), near_a_floor(rng, tables[ETH], 300_000, 12_000_000))]
        modes = {s: rng.choice(["isolated", "cross"]) for s in legs}
    else:
        raise ValueError(kind)

    # Leverage per symbol: at most the tier maximum of the largest leg (and 50x).
    lookup = Account(1, brackets=tables)
    leverage = {}
    for sym, sym_legs in legs.items():
        top = float(lookup.brackets(sym).max_leverage(max(n for _, n in sym_legs)))
        leverage[sym] = float(rng.integers(2, int(min(top, 50)) + 1))
    needed = sum(n / leverage[s] for s, sym_legs in legs.items() for _, n in sym_legs)
    acct = Account(
        needed * rng.uniform(1.05, 2.5),
        brackets=tables,
        fee_rate=float(rng.choice([0.0, 0.0005])),
        position_mode="hedge" if hedge else "one-way",
    )
    # Fees are paid from the wallet too: add them (and some slack) before opening.
    acct.deposit(needed * 0.01 + 1.0)
    for sym, sym_legs in legs.items():
        acct.set_margin_mode(sym, str(modes[sym]))
        for side, notional in sym_legs:
            acct.open_position(
                sym, int(side), notional=float(notional), price=START[sym], leverage=leverage[sym]
            )

    # Some history, so the state is not a fresh one: a move of the marks, margin added.
    if rng.random() < 0.5:
        acct.mark({s: START[s] * rng.uniform(0.995, 1.005) for s in legs})
    for p in acct.positions:
        if p.margin_mode == "isolated" and rng.random() < 0.3:
            room = acct.report().available_balance
            if room > 1:
                acct.add_margin(p.symbol, room * 0.3, side=p.side_name)

    n_paths, n_steps = int(rng.integers(1, 7)), int(rng.integers(1, 50))
    sigma = rng.uniform(0.002, 0.03)
    paths = {s: random_walks(rng, n_paths, n_steps, START[s], sigma) for s in legs}
    if rng.random() < 0.2:  # an unused symbol in the paths is allowed
        other = next(s for s in START if s not in legs) if len(legs) < 3 else None
        if other:
            paths[other] = random_walks(rng, n_paths, n_steps, START[other], sigma)
    crossed = False
    for p in acct.positions:
        table = acct.brackets(p.symbol)
        floors = table.tier_arrays()["floor"]
        tiers = np.searchsorted(floors, p.quantity * paths[p.symbol], side="right")
        crossed |= bool((tiers != np.searchsorted(floors, p.notional, side="right")).any())
    return acct, paths, {"crossed_tiers": crossed}


KINDS = ["isolated", "cross", "mixed", "hedge", "tiers"]
SEEDS = range(40)


@pytest.mark.parametrize("kind", KINDS)
def test_replay_agrees_with_marking_a_copy_step_by_step(kind):
    seen = {"liquidated": 0, "survived": 0, "cross_liquidated": 0, "crossed_tiers": 0}
    for seed in SEEDS:
        acct, paths, facts = build_case(kind, seed)
        result = acct.replay(paths)
        assert_agrees(acct, paths, result)
        steps = np.concatenate(list(result.liquidation_step.values()))
        seen["liquidated"] += int((steps >= 0).sum())
        seen["survived"] += int((steps < 0).sum())
        seen["cross_liquidated"] += int((result.cross_liquidation_step >= 0).sum())
        seen["crossed_tiers"] += facts["crossed_tiers"]
    # The random cases must exercise both outcomes (else the comparison proves little).
    assert seen["liquidated"] >= 10 and seen["survived"] >= 10, seen
    if kind in ("cross", "mixed", "hedge"):
        assert seen["cross_liquidated"] >= 5, seen
    if kind == "tiers":
        assert seen["crossed_tiers"] >= 10, seen


def test_hedge_mode_cross_legs_are_liquidated_together_at_the_oracle_step():
    acct = Account(2_000, fee_rate=0, position_mode="hedge")
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(BTC, "long", notional=30_000, price=100_000, leverage=20)
    acct.open_position(BTC, "short", notional=10_000, price=100_000, leverage=20)
    marks = np.array([[100_000, 95_000, 91_000, 90_000, 97_000], [100_000, 101_000, 103_000, 99_000, 98_000]])
    result = acct.replay({BTC: marks})
    assert_agrees(acct, {BTC: marks}, result)
    # Net long 0.2 BTC on 2,000 USDT: at 91,000 the balance is 200 > MM 145.6; at 90,000 it is 0.
    np.testing.assert_array_equal(result.cross_liquidation_step, [3, -1])
    np.testing.assert_array_equal(result.liquidation_step["BTCUSDT long"], [3, -1])
    np.testing.assert_array_equal(result.liquidation_step["BTCUSDT short"], [3, -1])
    assert result.final_equity.tolist() == pytest.approx([0.0, 2_000 + 0.2 * -2_000])


# ------------------------------------------------------------------------------- chunk size
def test_results_do_not_depend_on_chunk_size():
    rng = np.random.default_rng(7)
    acct = Account(3_000, fee_rate=0)
    acct.set_margin_mode(ETH, "cross")
    acct.open_position(BTC, "short", notional=8_000, price=100_000, leverage=20)
    acct.open_position(ETH, "long", notional=20_000, price=4_000, leverage=25)
    paths = {BTC: random_walks(rng, 23, 60, 100_000, 0.01), ETH: random_walks(rng, 23, 60, 4_000, 0.01)}
    results = [acct.replay(paths, chunk_size=c) for c in (1, 7, None, 23, 1_000)]
    first = results[0]
    assert first.any_liquidation.any() and not first.any_liquidation.all()
    for other in results[1:]:
        np.testing.assert_array_equal(other.final_equity, first.final_equity)
        np.testing.assert_array_equal(other.cross_liquidation_step, first.cross_liquidation_step)
        assert other.liquidation_step.keys() == first.liquidation_step.keys()
        for label, steps in first.liquidation_step.items():
            np.testing.assert_array_equal(other.liquidation_step[label], steps)
    assert_agrees(acct, paths, first)


# ------------------------------------------------------------------------- shapes, broadcasting
def mixed_account() -> Account:
    acct = Account(2_000, fee_rate=0)
    acct.set_margin_mode(ETH, "cross")
    acct.open_position(BTC, "long", notional=5_000, price=100_000, leverage=20)
    acct.open_position(ETH, "short", notional=10_000, price=4_000, leverage=20)
    return acct


def same_result(a: ReplayResult, b: ReplayResult) -> None:
    assert (a.n_paths, a.n_steps, a.initial_equity) == (b.n_paths, b.n_steps, b.initial_equity)
    np.testing.assert_array_equal(a.final_equity, b.final_equity)
    np.testing.assert_array_equal(a.cross_liquidation_step, b.cross_liquidation_step)
    assert a.liquidation_step.keys() == b.liquidation_step.keys()
    for label in a.liquidation_step:
        np.testing.assert_array_equal(a.liquidation_step[label], b.liquidation_step[label])


def test_a_1d_path_is_a_single_row_2d_path():
    acct = mixed_account()
    btc = np.array([100_000, 97_000, 94_000, 96_000])
    eth = np.array([4_000, 4_100, 4_300, 4_200])
    flat = acct.replay({BTC: btc, ETH: eth})
    assert flat.n_paths == 1 and flat.final_equity.shape == (1,)
    assert flat.liquidation_step["BTCUSDT long"].tolist() == [2]
    same_result(flat, acct.replay({BTC: btc[None, :], ETH: eth[None, :]}))
    same_result(flat, replay(acct, {BTC: btc.tolist(), ETH: eth.tolist()}))
    assert_agrees(acct, {BTC: btc, ETH: eth}, flat)


def test_a_1d_path_broadcasts_against_2d_paths_of_another_symbol():
    rng = np.random.default_rng(11)
    acct = mixed_account()
    btc = random_walks(rng, 1, 40, 100_000, 0.01)[0]
    eth = random_walks(rng, 9, 40, 4_000, 0.01)
    result = acct.replay({BTC: btc, ETH: eth})
    assert result.n_paths == 9 and result.n_steps == 40
    assert result.liquidation_step["BTCUSDT long"].shape == (9,)
    # The BTC outcome is the same on every path, the ETH (cross) one is not.
    assert len(set(result.liquidation_step["BTCUSDT long"].tolist())) == 1
    same_result(result, acct.replay({BTC: np.tile(btc, (9, 1)), ETH: eth}))
    assert_agrees(acct, {BTC: btc, ETH: eth}, result)


def test_replay_does_not_change_the_account():
    acct = mixed_account()
    acct.mark({BTC: 99_500, ETH: 4_010})
    before = acct.state()
    events = len(acct.events)
    paths = {
        BTC: np.array([[99_000, 90_000, 80_000], [101_000, 102_000, 103_000]]),
        ETH: 4_800.0 * np.ones(3),
    }
    result = acct.replay(paths)
    assert result.any_liquidation.all()  # liquidations happened in the replay, not in the account
    assert acct.state() == before
    assert len(acct.events) == events and acct.has_position(BTC) and acct.has_position(ETH)
    assert_agrees(acct, paths, result)


# ---------------------------------------------------------------------------------- bad input
GOOD_BTC = np.array([[100_000.0, 99_000.0, 98_000.0]] * 2)
GOOD_ETH = np.array([[4_000.0, 4_100.0, 4_050.0]] * 2)
ZERO_PATHS = r"n_paths|empty|no path|at least one path"


def bad(paths, words, ident, **kwargs):
    """A bad-input case: ``paths``, keyword arguments, a regular expression for the message."""
    return pytest.param(paths, kwargs, words, id=ident)


BAD_INPUT = [
    bad({BTC: GOOD_BTC}, r"missing \['ETHUSDT'\]", "missing-symbol"),
    bad({ETH: GOOD_ETH}, r"missing \['BTCUSDT'\]", "missing-other-symbol"),
    bad({}, r"paths must be a non-empty dict of symbol -> array of marks", "empty-dict"),
    bad(
        {BTC: GOOD_BTC, ETH: GOOD_ETH * [1, 0, 1]},
        r"paths\['ETHUSDT'\] must be > 0; got 0.0 \(at index \(0, 1\)\)",
        "zero-price",
    ),
    bad({BTC: -GOOD_BTC, ETH: GOOD_ETH}, r"paths\['BTCUSDT'\] must be > 0; got -\d", "negative-price"),
    bad(
        {BTC: GOOD_BTC, ETH: GOOD_ETH * [1, np.nan, 1]},
        r"paths\['ETHUSDT'\] must be a finite number > 0; got nan \(at index \(0, 1\)\)",
        "nan-price",
    ),
    bad(
        {BTC: GOOD_BTC * [1, np.inf, 1], ETH: GOOD_ETH},
        r"paths\['BTCUSDT'\] must be a finite number > 0; got inf",
        "inf-price",
    ),
    bad({BTC: GOOD_BTC, ETH: GOOD_ETH[:, :2]}, r"matching shapes.*\(2, 3\).*\(2, 2\)", "steps-differ"),
    bad(
        {BTC: GOOD_BTC[:1].repeat(3, 0), ETH: GOOD_ETH},
        r"matching shapes.*\(3, 3\).*\(2, 3\)",
        "paths-differ",
    ),
    bad({BTC: GOOD_BTC[0], ETH: GOOD_ETH[0, :2]}, r"matching shapes", "1d-steps-differ"),
    bad({BTC: [[1e5, 99e3], [1e5]], ETH: GOOD_ETH}, r"paths\['BTCUSDT'\].*shape", "ragged-rows"),
    bad({BTC: GOOD_BTC[None], ETH: GOOD_ETH}, r"paths\['BTCUSDT'\] must have shape.*\(1, 2, 3\)", "3d"),
    bad({BTC: 100_000.0, ETH: GOOD_ETH}, r"paths\['BTCUSDT'\] must have shape.*got shape \(\)", "scalar"),
    bad(
        {BTC: np.empty(0), ETH: GOOD_ETH}, r"paths\['BTCUSDT'\] must have shape.*n_steps >= 1", "no-steps-1d"
    ),
    bad({BTC: np.empty((2, 0)), ETH: np.empty((2, 0))}, r"n_steps >= 1", "no-steps-2d"),
    bad({BTC: np.empty((0, 3)), ETH: np.empty((0, 3))}, ZERO_PATHS, "no-paths"),
    bad({BTC: np.empty((0, 3)), ETH: GOOD_ETH[:1]}, ZERO_PATHS, "no-paths-broadcast"),
    bad({BTC: [["a", "b", "c"]], ETH: GOOD_ETH}, r"paths\['BTCUSDT'\].*number", "not-numbers"),
    bad(
        {BTC: GOOD_BTC, ETH: GOOD_ETH},
        r"chunk_size must be a whole number >= 1; got 0",
        "chunk-0",
        chunk_size=0,
    ),
    bad(
        {BTC: GOOD_BTC, ETH: GOOD_ETH}, r"chunk_size must be .* >= 1; got -3", "chunk-negative", chunk_size=-3
    ),
    bad([GOOD_BTC, GOOD_ETH], r"paths must be a non-empty dict", "not-a-dict"),
]


@pytest.mark.parametrize("paths, kwargs, words", BAD_INPUT)
def test_bad_input_is_refused_with_a_message_naming_the_problem(paths, kwargs, words):
    acct = mixed_account()
    before = acct.state()
    with pytest.raises(InvalidInputError, match=words):
        acct.replay(paths, **kwargs)
    assert acct.state() == before


# ---------------------------------------------------------------------------------- benchmark
def test_benchmark_script_runs_quickly_with_quick_flag():
    """The benchmark must keep working; ``--quick`` must stay under 15 s (a timeout fails it)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=15,
        cwd=BENCH.parents[1],
    )
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for words in ("[a] liquidation_price", "EXTRAPOLATED", "identical", "speed-up", "[b] Account.replay"):
        assert words in out, out
    for words in ("wall time", "peak memory of the replay call", "max RSS", "paths with a liquidation"):
        assert words in out, out
    assert elapsed < 15


def test_symbol_keys_are_normalised_and_duplicates_refused():
    account = mixed_account()
    spaced = {f" {s.lower()} ": p for s, p in {BTC: GOOD_BTC, ETH: GOOD_ETH}.items()}
    same_result(account.replay(spaced), account.replay({BTC: GOOD_BTC, ETH: GOOD_ETH}))
    with pytest.raises(InvalidInputError, match="paths names BTCUSDT twice"):
        account.replay({BTC: GOOD_BTC, "btcusdt": GOOD_BTC, ETH: GOOD_ETH})
    for chunk in (2.7, "x", True):
        with pytest.raises(InvalidInputError, match=r"chunk_size must be a whole number >= 1"):
            account.replay({BTC: GOOD_BTC, ETH: GOOD_ETH}, chunk_size=chunk)
