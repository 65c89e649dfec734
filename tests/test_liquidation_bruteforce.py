"""Liquidation and bankruptcy prices checked against an independent brute force.

The brute force is written from the rule book (docs/margin-rules.md, sections 2 to 5), not from the library:

- margin balance ``MB(P) = WB + other_UPNL − other_MM + s·Q·(P − EP)``;
- maintenance margin ``MM(P) = Q·P·MMR − cum``, with (MMR, cum) either flat or those of the
  tier holding ``Q·P`` (found by a plain loop over ``table.records()``: the tier with
  floor ≤ Q·P, the last tier extended past its cap);
- the liquidation price is the positive ``P`` with ``MB(P) = MM(P)``, found by bisection over
  a very wide price range; where the difference does not change sign there, no positive root
  exists and the library must answer ``nan``.

Thousands of seeded random positions per case: long and short, isolated and cross, flat MMR
with and without a maintenance amount, the three shipped tables, hedge-mode pairs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from margin_lib import BracketTable, bankruptcy_price, hedge_liquidation_price, liquidation_price

N_POSITIONS = 10_000
RTOL = 1e-7
TABLE_NAMES = ("BTCUSDT", "ETHUSDT", "BTCUSDT-2021")
TABLES = {name: BracketTable.load(name) for name in TABLE_NAMES}

# The search range for the bisection, as multiples of the entry price. Roots outside it would
# need a wallet within 1e-12 of the notional (long) or 1e6 times the notional (short).
LOW, HIGH = 1e-12, 1e6
ITERATIONS = 80  # halvings of log(HIGH / LOW) ≈ 41: the bracket ends ~1e-22 apart, relatively


# ----------------------------------------------------------------------------- brute force
def tier_of(records: list[dict], notional: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tier index, MMR, cum) of each notional: the last tier whose floor ≤ notional.

    A plain loop over the records (vectorised over the notionals only); the last tier is used
    for every notional beyond its cap.
    """
    notional = np.asarray(notional, dtype=float)
    index = np.zeros(notional.shape, dtype=int)
    mmr = np.full(notional.shape, float(records[0]["mmr"]))
    cum = np.full(notional.shape, float(records[0]["maintenance_amount"]))
    for i, rec in enumerate(records):
        inside = notional >= rec["notional_floor"]
        index = np.where(inside, i, index)
        mmr = np.where(inside, rec["mmr"], mmr)
        cum = np.where(inside, rec["maintenance_amount"], cum)
    return index, mmr, cum


def bisect_root(f, entry: np.ndarray) -> np.ndarray:
    """The root of the monotone (or constant) ``f`` in ``[LOW·entry, HIGH·entry]``, else nan.

    Bisection on the logarithm of the price, so the answer is relatively precise however small
    or large the root is.
    """
    lo = entry * LOW
    hi = entry * HIGH
    f_lo = f(lo)
    f_hi = f(hi)
    has_root = np.sign(f_lo) * np.sign(f_hi) < 0
    for _ in range(ITERATIONS):
        mid = np.sqrt(lo * hi)
        f_mid = f(mid)
        keep_lo = np.sign(f_mid) == np.sign(f_lo)
        lo = np.where(keep_lo, mid, lo)
        f_lo = np.where(keep_lo, f_mid, f_lo)
        hi = np.where(keep_lo, hi, mid)
    return np.where(has_root, 0.5 * (lo + hi), np.nan)


def brute_liquidation_price(
    side, qty, entry, wallet, *, table=None, mmr=None, cum=0.0, other_mm=0.0, other_upnl=0.0
):
    """``P > 0`` with ``MB(P) = MM(P)`` (nan if none), for one-way positions."""
    records = table.records() if table is not None else None

    def excess(price):
        margin_balance = wallet + other_upnl - other_mm + side * qty * (price - entry)
        if records is None:
            rate, amount = mmr, cum
        else:
            _, rate, amount = tier_of(records, qty * price)
        return margin_balance - (qty * price * rate - amount)

    return bisect_root(excess, entry)


def brute_hedge_liquidation_price(q_l, ep_l, q_s, ep_s, wallet, r_l, r_s, c_l, c_s, other_mm, other_upnl):
    """``P > 0`` with ``MB_L(P) + MB_S(P) = MM_L(P) + MM_S(P)`` for a cross hedge pair (nan if none)."""

    def excess(price):
        margin_balance = wallet + other_upnl - other_mm + q_l * (price - ep_l) - q_s * (price - ep_s)
        maintenance = (q_l * price * r_l - c_l) + (q_s * price * r_s - c_s)
        return margin_balance - maintenance

    return bisect_root(excess, np.maximum(ep_l, ep_s))


def brute_bankruptcy_price(side, qty, entry, wallet):
    """``P > 0`` with ``MB(P) = WB + s·Q·(P − EP) = 0`` (nan if none)."""
    return bisect_root(lambda price: wallet + side * qty * (price - entry), entry)


def assert_same_prices(got, expected, what: str) -> None:
    """Equal within RTOL where the brute force found a root, nan exactly where it found none."""
    got = np.asarray(got, dtype=float)
    nan_mismatch = np.isnan(got) != np.isnan(expected)
    both = ~np.isnan(got) & ~np.isnan(expected)
    far = np.zeros(got.shape, dtype=bool)
    far[both] = ~np.isclose(got[both], expected[both], rtol=RTOL, atol=0.0)
    bad = np.flatnonzero(nan_mismatch | far)
    if bad.size:
        i = bad[0]
        raise AssertionError(
            f"{what}: {bad.size} of {got.size} prices disagree with the brute force; first at index "
            f"{i}: library {got[i]!r}, brute force {expected[i]!r}"
        )


def assert_both_outcomes(prices: np.ndarray, minimum: int = 20) -> None:
    """The case exercised both answers: some positions with a price and some without."""
    roots = int(np.sum(~np.isnan(prices)))
    missing = int(np.sum(np.isnan(prices)))
    assert roots >= minimum, f"only {roots} positions have a liquidation price"
    assert missing >= minimum, f"only {missing} positions have no liquidation price"


# ----------------------------------------------------------------------------- random positions
def random_positions(rng: np.random.Generator, n: int, *, top_notional: float, cross: bool) -> dict:
    """Random one-way positions: mixed sides, log-uniform notionals up to ``top_notional``,
    wallets mostly between 0.5 % and 100 % of the notional (1 in 10 above it)."""
    side = rng.choice([-1.0, 1.0], size=n)
    entry = 10 ** rng.uniform(-2, 5, size=n)
    notional = 10 ** rng.uniform(1, math.log10(top_notional), size=n)
    qty = notional / entry
    fraction = 10 ** rng.uniform(math.log10(0.005), 0, size=n)
    rich = rng.random(n) < 0.1
    fraction[rich] = rng.uniform(1, 3, size=rich.sum())
    wallet = fraction * notional
    if cross:
        other_mm = rng.uniform(0, 0.05, size=n) * notional * (rng.random(n) < 0.8)
        other_upnl = rng.normal(0, 0.3, size=n) * notional
    else:
        other_mm = np.zeros(n)
        other_upnl = np.zeros(n)
    return dict(side=side, qty=qty, entry=entry, wallet=wallet, other_mm=other_mm, other_upnl=other_upnl)


def library_kwargs(pos: dict) -> dict:
    return dict(other_maintenance_margin=pos["other_mm"], other_unrealized_pnl=pos["other_upnl"])


def brute_kwargs(pos: dict) -> dict:
    return dict(other_mm=pos["other_mm"], other_upnl=pos["other_upnl"])


# ----------------------------------------------------------------------------- one-way, tables
@pytest.mark.parametrize("mode", ["isolated", "cross"])
@pytest.mark.parametrize("name", TABLE_NAMES)
def test_liquidation_price_with_brackets_matches_brute_force(name, mode):
    """With a tier table, the library's LP is the brute-force root of MB = MM (tier taken at the
    liquidation price), or nan where none exists; many roots lie in a tier other than the entry's."""
    table = TABLES[name]
    rng = np.random.default_rng([11, TABLE_NAMES.index(name), mode == "cross"])
    last_floor = table.records()[-1]["notional_floor"]
    pos = random_positions(rng, N_POSITIONS, top_notional=5 * last_floor, cross=mode == "cross")
    got = liquidation_price(
        pos["side"], pos["qty"], pos["entry"], pos["wallet"], brackets=table, **library_kwargs(pos)
    )
    expected = brute_liquidation_price(
        pos["side"], pos["qty"], pos["entry"], pos["wallet"], table=table, **brute_kwargs(pos)
    )
    assert_same_prices(got, expected, f"{name} {mode}")
    assert_both_outcomes(expected)
    # the tier at the liquidation price differs from the tier at entry for a good share of them
    found = ~np.isnan(expected)
    tier_entry, _, _ = tier_of(table.records(), pos["qty"] * pos["entry"])
    tier_lp, _, _ = tier_of(table.records(), pos["qty"] * np.where(found, expected, 1.0))
    moved = found & (tier_entry != tier_lp)
    assert moved.sum() >= 200, f"only {moved.sum()} roots changed tier"
    assert (moved & (pos["side"] > 0)).sum() >= 50 and (moved & (pos["side"] < 0)).sum() >= 50
    # and beyond the last cap the last tier is extended
    assert (found & (pos["qty"] * np.where(found, expected, 0) > table.records()[-1]["notional_cap"])).any()


def test_large_positions_whose_tier_changes_before_liquidation():
    """Hand-picked big BTCUSDT positions: 1.25x longs whose notional falls through two or more
    tiers before liquidation and over-margined shorts whose notional climbs through two or more;
    the library's prices equal the brute force's."""
    table = TABLES["BTCUSDT"]
    side = np.array([1.0, 1.0, -1.0, -1.0])
    qty = np.array([10_000.0, 2_000.0, 1_000.0, 2_000.0])  # 1e9, 2e8, 1e8 and 2e8 USDT at 100,000
    entry = np.full(4, 100_000.0)
    wallet = np.array([0.8, 0.8, 6.0, 3.0]) * qty * entry
    got = liquidation_price(side, qty, entry, wallet, brackets=table)
    expected = brute_liquidation_price(side, qty, entry, wallet, table=table)
    assert_same_prices(got, expected, "big BTCUSDT positions")
    assert not np.isnan(expected).any()
    tier_entry, _, _ = tier_of(table.records(), qty * entry)
    tier_lp, _, _ = tier_of(table.records(), qty * expected)
    assert (np.abs(tier_entry - tier_lp) >= 2).all(), (tier_entry, tier_lp)


# ----------------------------------------------------------------------------- one-way, flat MMR
@pytest.mark.parametrize("mode", ["isolated", "cross"])
@pytest.mark.parametrize("with_cum", [False, True], ids=["no-cum", "cum"])
def test_liquidation_price_with_flat_mmr_matches_brute_force(with_cum, mode):
    """With ``mmr=`` (and optionally ``maintenance_amount=``) the LP is the brute-force root of
    ``MB(P) = Q·P·MMR − cum``, or nan where none exists."""
    rng = np.random.default_rng([12, with_cum, mode == "cross"])
    pos = random_positions(rng, N_POSITIONS, top_notional=1e8, cross=mode == "cross")
    mmr = rng.uniform(0.001, 0.2, size=N_POSITIONS)
    cum = rng.uniform(0, 0.9, size=N_POSITIONS) * mmr * pos["qty"] * pos["entry"] if with_cum else 0.0
    got = liquidation_price(
        pos["side"],
        pos["qty"],
        pos["entry"],
        pos["wallet"],
        mmr=mmr,
        maintenance_amount=cum,
        **library_kwargs(pos),
    )
    expected = brute_liquidation_price(
        pos["side"], pos["qty"], pos["entry"], pos["wallet"], mmr=mmr, cum=cum, **brute_kwargs(pos)
    )
    assert_same_prices(got, expected, f"flat mmr {mode}")
    assert_both_outcomes(expected)


def test_short_with_negative_effective_wallet_has_no_liquidation_price():
    """A cross short whose other positions already lost more than the wallet (WB' + Q·EP < 0)
    is past liquidation at every positive price: nan, for flat MMR and for every table."""
    args = ("short", 1.0, 100.0, 50.0)
    others = dict(other_maintenance_margin=10.0, other_unrealized_pnl=-200.0)  # WB' = −160
    expected = brute_liquidation_price(-1.0, 1.0, 100.0, 50.0, mmr=0.005, other_mm=10.0, other_upnl=-200.0)
    assert np.isnan(expected)
    assert math.isnan(liquidation_price(*args, mmr=0.005, **others))
    for table in TABLES.values():
        assert np.isnan(
            brute_liquidation_price(-1.0, 1.0, 100.0, 50.0, table=table, other_mm=10.0, other_upnl=-200.0)
        )
        assert math.isnan(liquidation_price(*args, brackets=table, **others))


# ----------------------------------------------------------------------------- hedge mode
def random_hedges(rng: np.random.Generator, n: int) -> dict:
    """Random cross hedge pairs: a third net long, a third net short, a third balanced
    (equal quantities); each leg's (MMR, cum) is that of its BTCUSDT tier at entry, or a flat
    rate with no maintenance amount."""
    kind = rng.integers(0, 3, size=n)  # 0 net long, 1 net short, 2 balanced
    ep_l = 10 ** rng.uniform(-2, 5, size=n)
    ep_s = ep_l * rng.uniform(0.8, 1.2, size=n)
    same_entry = rng.random(n) < 0.2
    ep_s[same_entry] = ep_l[same_entry]
    q_l = 10 ** rng.uniform(1, 7, size=n) / ep_l
    ratio = np.select(
        [kind == 0, kind == 1], [rng.uniform(0.05, 0.98, size=n), rng.uniform(1.02, 3, size=n)], 1.0
    )
    q_s = q_l * ratio
    records = TABLES["BTCUSDT"].records()
    _, tier_r_l, tier_c_l = tier_of(records, q_l * ep_l)  # each leg's tier at entry, as an account does
    _, tier_r_s, tier_c_s = tier_of(records, q_s * ep_s)
    flat = rng.random(n) < 0.5
    r_l = np.where(flat, rng.uniform(0.001, 0.1, size=n), tier_r_l)
    r_s = np.where(flat, rng.uniform(0.001, 0.1, size=n), tier_r_s)
    c_l = np.where(flat, 0.0, tier_c_l)
    c_s = np.where(flat, 0.0, tier_c_s)
    gross = q_l * ep_l + q_s * ep_s
    fraction = 10 ** rng.uniform(math.log10(0.005), 0, size=n)
    wallet = fraction * gross
    cross = rng.random(n) < 0.5
    other_mm = np.where(cross, rng.uniform(0, 0.05, size=n) * gross, 0.0)
    other_upnl = np.where(cross, rng.normal(0, 0.2, size=n) * gross, 0.0)
    return dict(
        kind=kind,
        q_l=q_l,
        ep_l=ep_l,
        q_s=q_s,
        ep_s=ep_s,
        wallet=wallet,
        r_l=r_l,
        r_s=r_s,
        c_l=c_l,
        c_s=c_s,
        other_mm=other_mm,
        other_upnl=other_upnl,
    )


def call_hedge(h: dict):
    return hedge_liquidation_price(
        h["q_l"],
        h["ep_l"],
        h["q_s"],
        h["ep_s"],
        h["wallet"],
        long_mmr=h["r_l"],
        short_mmr=h["r_s"],
        long_maintenance_amount=h["c_l"],
        short_maintenance_amount=h["c_s"],
        other_maintenance_margin=h["other_mm"],
        other_unrealized_pnl=h["other_upnl"],
    )


def brute_hedge(h: dict) -> np.ndarray:
    return brute_hedge_liquidation_price(
        h["q_l"], h["ep_l"], h["q_s"], h["ep_s"], h["wallet"],
        h["r_l"], h["r_s"], h["c_l"], h["c_s"], h["other_mm"], h["other_upnl"],
    )  # fmt: skip


def test_hedge_liquidation_price_matches_brute_force():
    """The shared LP of a cross hedge pair is the brute-force root of MB_L + MB_S = MM_L + MM_S,
    or nan where none exists, for net-long, net-short and balanced pairs."""
    rng = np.random.default_rng(13)
    h = random_hedges(rng, N_POSITIONS)
    got = call_hedge(h)
    expected = brute_hedge(h)
    assert_same_prices(got, expected, "hedge")
    for kind, label in enumerate(("net long", "net short", "balanced")):
        these = h["kind"] == kind
        roots = np.sum(these & ~np.isnan(expected))
        missing = np.sum(these & np.isnan(expected))
        assert roots >= 50 and missing >= 20, f"{label}: {roots} roots, {missing} without"


def test_net_long_hedges_with_negative_denominator_do_have_a_liquidation_price():
    """An earlier rule book said "denominator ≤ 0 means no price"; the brute force says otherwise: a net
    long pair (Q_L·(1 − MMR_L) > Q_S·(1 + MMR_S), a negative denominator) is liquidated when the
    price falls, and the library returns that price (below both entries here)."""
    rng = np.random.default_rng(14)
    h = random_hedges(rng, N_POSITIONS)
    den = h["q_l"] * h["r_l"] + h["q_s"] * h["r_s"] - h["q_l"] + h["q_s"]
    expected = brute_hedge(h)
    got = np.asarray(call_hedge(h))
    negative = (den < 0) & ~np.isnan(expected)
    assert negative.sum() >= 500
    np.testing.assert_allclose(got[negative], expected[negative], rtol=RTOL)
    # a concrete one: 2 long and 1 short at 100, wallet 10, MMR 0.5 %: den = 0.015 − 1 < 0
    assert hedge_liquidation_price(2, 100, 1, 100, 10, long_mmr=0.005, short_mmr=0.005) == pytest.approx(
        float(brute_hedge_liquidation_price(2.0, 100.0, 1.0, 100.0, 10.0, 0.005, 0.005, 0.0, 0.0, 0.0, 0.0)),
        rel=RTOL,
    )


@pytest.mark.parametrize(
    "q_l, r_l, q_s, r_s",
    [(2.0, 0.5, 1.0, 0.0), (1.0, 0.0, 1.0, 0.0), (4.0, 0.25, 3.0, 0.0)],
)
@pytest.mark.parametrize("wallet", [0.0, 10.0, 1_000.0])
def test_hedge_with_zero_denominator_has_no_liquidation_price(q_l, r_l, q_s, r_s, wallet):
    """When MB − MM does not depend on the price (denominator exactly 0) there is no root: nan."""
    assert q_l * r_l + q_s * r_s - q_l + q_s == 0
    got = hedge_liquidation_price(q_l, 100.0, q_s, 90.0, wallet, long_mmr=r_l, short_mmr=r_s)
    expected = brute_hedge_liquidation_price(q_l, 100.0, q_s, 90.0, wallet, r_l, r_s, 0.0, 0.0, 0.0, 0.0)
    assert math.isnan(got)
    assert np.isnan(expected)


# ----------------------------------------------------------------------------- bankruptcy
def test_bankruptcy_price_matches_brute_force():
    """The bankruptcy price is the brute-force root of WB + s·Q·(P − EP) = 0, nan where none."""
    rng = np.random.default_rng(15)
    pos = random_positions(rng, N_POSITIONS, top_notional=1e9, cross=False)
    pos["wallet"][:50] = 0.0  # bankrupt at entry
    got = bankruptcy_price(pos["side"], pos["qty"], pos["entry"], pos["wallet"])
    expected = brute_bankruptcy_price(pos["side"], pos["qty"], pos["entry"], pos["wallet"])
    assert_same_prices(got, expected, "bankruptcy")
    assert_both_outcomes(expected)
    assert np.all(
        np.isnan(expected[pos["side"] > 0]) == (pos["wallet"] >= pos["qty"] * pos["entry"])[pos["side"] > 0]
    )


# ----------------------------------------------------------------------------- vectorised = scalar
N_SCALAR = 2_000


def test_liquidation_price_arrays_equal_scalar_calls():
    """One call on whole arrays gives, element by element, exactly the scalar calls' results
    (brackets and flat MMR, isolated and cross, sides given as words)."""
    rng = np.random.default_rng(16)
    pos = random_positions(rng, N_SCALAR, top_notional=5e9, cross=True)
    words = np.where(pos["side"] > 0, "long", "short")
    mmr = rng.uniform(0.001, 0.2, size=N_SCALAR)
    cum = rng.uniform(0, 0.9, size=N_SCALAR) * mmr * pos["qty"] * pos["entry"]
    for name in TABLE_NAMES:
        table = TABLES[name]
        vector = liquidation_price(
            words, pos["qty"], pos["entry"], pos["wallet"], brackets=table, **library_kwargs(pos)
        )
        scalar = [
            liquidation_price(
                str(words[i]),
                float(pos["qty"][i]),
                float(pos["entry"][i]),
                float(pos["wallet"][i]),
                brackets=table,
                other_maintenance_margin=float(pos["other_mm"][i]),
                other_unrealized_pnl=float(pos["other_upnl"][i]),
            )
            for i in range(N_SCALAR)
        ]
        assert all(isinstance(x, float) for x in scalar)
        np.testing.assert_array_equal(vector, np.array(scalar), err_msg=name)
    vector = liquidation_price(
        pos["side"],
        pos["qty"],
        pos["entry"],
        pos["wallet"],
        mmr=mmr,
        maintenance_amount=cum,
        **library_kwargs(pos),
    )
    scalar = [
        liquidation_price(
            float(pos["side"][i]),
            float(pos["qty"][i]),
            float(pos["entry"][i]),
            float(pos["wallet"][i]),
            mmr=float(mmr[i]),
            maintenance_amount=float(cum[i]),
            other_maintenance_margin=float(pos["other_mm"][i]),
            other_unrealized_pnl=float(pos["other_upnl"][i]),
        )
        for i in range(N_SCALAR)
    ]
    np.testing.assert_array_equal(vector, np.array(scalar), err_msg="flat mmr")
    assert_both_outcomes(np.asarray(vector), minimum=10)


def test_hedge_and_bankruptcy_arrays_equal_scalar_calls():
    """Whole-array calls of hedge_liquidation_price and bankruptcy_price equal the scalar calls
    element by element."""
    rng = np.random.default_rng(17)
    h = random_hedges(rng, N_SCALAR)
    vector = call_hedge(h)
    scalar = [call_hedge({k: float(a[i]) for k, a in h.items()}) for i in range(N_SCALAR)]
    np.testing.assert_array_equal(vector, np.array(scalar))
    assert_both_outcomes(np.asarray(vector), minimum=10)
    pos = random_positions(rng, N_SCALAR, top_notional=1e9, cross=False)
    vector = bankruptcy_price(pos["side"], pos["qty"], pos["entry"], pos["wallet"])
    scalar = [
        bankruptcy_price(
            float(pos["side"][i]), float(pos["qty"][i]), float(pos["entry"][i]), float(pos["wallet"][i])
        )
        for i in range(N_SCALAR)
    ]
    np.testing.assert_array_equal(vector, np.array(scalar))
    assert_both_outcomes(np.asarray(vector), minimum=10)
