"""The calculator's five tabs as functions (margin_lib.calculator) and the engine functions added for
them: the exchange's published figures (the FAQ's cross example, lesson 2's tier figures), a few
hundred seeded random inputs per tab against checks that do not use the tab's own formula (an
Account opened and marked, a brute-force search, the arithmetic by hand), and bad input of every
type refused with a sentence naming the field as the page labels it."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from margin_lib import BracketTable, InvalidInputError, OrderRefusedError, return_on_equity, unrealized_pnl
from margin_lib.account import MIN_QUANTITY, Account, _hedge_price_with_tiers
from margin_lib.calculator import (
    LABELS,
    calc_liquidation_price,
    calc_max_open,
    calc_open_price,
    calc_pnl,
    calc_target_price,
    parse_number,
)
from margin_lib.examples import FAQ_CROSS_EXAMPLE, FAQ_CROSS_WALLET
from margin_lib.liquidation import hedge_liquidation_prices
from margin_lib.margin import (
    average_entry_price,
    max_open_quantity,
    target_price,
    target_price_for_pnl,
)

NAN, INF = float("nan"), float("inf")
TABLES = {name: BracketTable.load(name) for name in ("BTCUSDT", "ETHUSDT", "BTCUSDT-2021")}
BTC = TABLES["BTCUSDT"]
EPS = 1e-7  # relative step either side of a liquidation price
N = 300  # random cases per tab


def symbol_of(tiers: str) -> str:
    return tiers.split("-")[0]


def account(wallet: float, tiers: str, **kw) -> Account:
    return Account(wallet, brackets={symbol_of(tiers): TABLES[tiers]}, fee_rate=0, **kw)


def liquidated(acct: Account, symbol: str, mark: float, side: str | None = None) -> bool:
    events = acct.copy().mark({symbol: mark})
    return any(e.kind == "liquidation" and (side is None or e.side == side) for e in events)


#: A flat maintenance rate typed in: 0.5 % and no maintenance amount (the article's rate).
FLAT = dict(tiers="flat", mmr_pct=0.5, maintenance_amount=0)
#: The article's position: 1,000 USDT of BTC long at 10x, 0.01 BTC at 100,000 on 100 USDT.
ARTICLE_LONG = dict(side="long", quantity=0.01, entry_price=100_000, wallet_balance=100)


def hedge(long: tuple[object, object], short: tuple[object, object], **kw) -> dict:
    """calc_liquidation_price's arguments for a hedge-mode pair, each leg given as (quantity, entry
    price), then ``kw``."""
    (ql, epl), (qs, eps) = long, short
    legs = dict(long_quantity=ql, long_entry_price=epl, short_quantity=qs, short_entry_price=eps)
    return dict(position_mode="hedge", **legs, **kw)


# -- the exchange's published figures --------------------------------------------------------------
FAQ_WALLET = FAQ_CROSS_WALLET
#: position, the other position's MM and PnL, the FAQ's tier (MMR %, cum), as the calculator takes them
FAQ = {
    coin: dict(quantity=f.quantity, entry_price=f.entry_price, mmr_pct=f.mmr * 100,
               maintenance_amount=f.maintenance_amount, other_maintenance_margin=f.other_maintenance_margin,
               other_unrealized_pnl=f.other_unrealized_pnl)
    for coin, f in FAQ_CROSS_EXAMPLE.items()
}  # fmt: skip
#: The answers as the FAQ prints them (typed here from the FAQ's page, not read from the data).
FAQ_ANSWERS = {"ETH": 1_153.26, "BTC": 26_316.89}


def test_the_faq_example_is_stored_as_the_faq_gives_it():
    assert FAQ_CROSS_WALLET == 1_535_443.01
    assert {c: f.stated_liquidation_price for c, f in FAQ_CROSS_EXAMPLE.items()} == FAQ_ANSWERS
    eth, btc = FAQ_CROSS_EXAMPLE["ETH"], FAQ_CROSS_EXAMPLE["BTC"]
    assert (eth.quantity, eth.entry_price, eth.mmr, eth.maintenance_amount) == (
        3_683.979, 1_456.84, 0.1, 135_365
    )
    assert (btc.quantity, btc.entry_price, btc.mmr, btc.maintenance_amount) == (
        109.488, 32_481.98, 0.025, 16_300
    )


@pytest.mark.parametrize("coin", FAQ)
def test_the_faqs_cross_example_to_the_cent(coin):
    case, answer = FAQ[coin], FAQ_ANSWERS[coin]
    r = calc_liquidation_price(
        position_mode="one-way",
        margin_mode="cross",
        tiers="flat",
        side="long",
        wallet_balance=FAQ_WALLET,
        **case,
    )
    ((what, lp),) = r.prices
    assert round(lp, 2) == answer and what == "liquidation price"
    text = r.working.text()
    assert f"= {answer:,.2f}" in text
    assert "WB' = WB − TMM₁ + UPNL₁" in text and "LP = (WB' + cum − Q × EP) / (Q × (MMR − 1))" in text
    assert f"{case['maintenance_amount']:,}" in text and "flat rate typed in" in text


def test_the_faqs_btc_figure_from_the_shipped_2021_tiers():
    case = {k: v for k, v in FAQ["BTC"].items() if k not in ("mmr_pct", "maintenance_amount")}
    r = calc_liquidation_price(
        margin_mode="cross", tiers="BTCUSDT-2021", side="long", wallet_balance=FAQ_WALLET, **case
    )
    assert round(r.prices[0][1], 2) == 26_316.89
    assert "BTCUSDT tier 4 of the 2021 table" in r.working.tier and "cum 16,300" in r.working.tier


# lesson 2 (and the rule book it cites): isolated BTCUSDT longs at 100,000 on the 2026-09 tiers:
# (quantity, isolated margin) -> liquidation price, MM at entry, the tier that holds the entry
LESSON_2 = [
    (0.01, 100, "90,361.45", "4.00 USDT (tier 1)"),  # the article's 1,000 USDT at 10x, on the real tiers
    (0.01, 200, "80,321.29", "4.00 USDT (tier 1)"),  # section 8: 1,000 USDT at 5x
    (0.01, 20, "98,393.57", "4.00 USDT (tier 1)"),  # at 50x
    (10, 200_000, "80,372.42", "5,000.00 USDT (tier 3)"),  # 1,000,000 USDT at 5x
    (10, 20_000, "98,490.19", "5,000.00 USDT (tier 3)"),  # at 50x
    (5, 10_000, "98,432.16", "2,200.00 USDT (tier 2)"),  # exercise 2c (a 1.568 % fall); rule book 3.1's 2,200
    (50, 100_000, "98,747.47", "38,000.00 USDT (tier 4)"),  # exercise 2b's 38,000 at 5,000,000 USDT
]


@pytest.mark.parametrize("q, margin, lp, mm", LESSON_2)
def test_lesson_2s_tier_figures(q, margin, lp, mm):
    r = calc_liquidation_price(side="long", quantity=q, entry_price=100_000, wallet_balance=margin)
    lines = [step.lines[-1] for step in r.working.steps]
    assert lines == [lp, mm]


def test_lesson_2s_exact_moves_and_the_articles_rate():
    def fall(q, margin):
        r = calc_liquidation_price(side="long", quantity=q, entry_price=100_000, wallet_balance=margin)
        return f"{(1 - r.prices[0][1] / 100_000) * 100:.3f} %"

    assert fall(5, 10_000) == "1.568 %" and fall(10, 20_000) == "1.510 %" and fall(0.01, 100) == "9.639 %"
    flat = calc_liquidation_price(**FLAT, **ARTICLE_LONG)
    assert [s.lines[-1] for s in flat.working.steps] == ["90,452.26", "5.00 USDT"]
    short = calc_liquidation_price(side="short", quantity=0.01, entry_price=100_000, wallet_balance=100)
    assert f"{short.prices[0][1]:,.2f}" == "109,561.75"


@pytest.mark.parametrize(
    "lev, cap, tier, up",
    [
        (150, 300_000, 1, "tier 2 allows at most 100x"),
        (100, 800_000, 2, "tier 3 allows at most 75x"),
        (75, 3_000_000, 3, "tier 4 allows at most 50x"),
        (50, 12_000_000, 4, "tier 5 allows at most 25x"),
    ],
)
def test_lesson_2s_tier_table_caps_the_leverage_in_max_open(lev, cap, tier, up):
    r = calc_max_open(symbol="BTCUSDT", balance=1e9, entry_price=100_000, leverage=lev, fee_pct=0)
    assert (r.notional_limit, r.tier, r.binding) == (cap, tier, "tier")
    assert r.quantity == pytest.approx(cap / 100_000 - 0.001)
    assert (
        f"tier {tier} of the 2026-09 table is the last that allows {lev}x: notional below C = {cap:,} USDT"
        in (r.working.tier)
    )
    assert up in r.working.tier


def test_worked_examples_of_the_other_tabs():
    pnl = calc_pnl(side="long", quantity=0.01, entry_price=100_000, exit_price=92_000, leverage=10)
    assert (pnl.pnl, pnl.roe_pct, pnl.initial_margin) == (-80.0, -80.0, 100.0)  # the rule book, section 2
    assert calc_target_price(side="long", entry_price=100_000, leverage=10, roe_pct=50).price == 105_000
    assert calc_target_price(side="short", entry_price=100_000, leverage=10, roe_pct=50).price == 95_000
    r = calc_max_open(symbol="BTCUSDT", balance=1_000, entry_price=100_000, leverage=10, fee_pct=0.05)
    assert (r.quantity, r.binding, round(r.initial_margin + r.fee, 2)) == (0.099, "balance", 994.95)
    assert calc_open_price([(100_000, 0.5), (110_000, 0.5)]).price == 105_000
    pair = calc_liquidation_price(**hedge((2, 100), (1, 100), margin_mode="cross", **FLAT, wallet_balance=10))
    assert [(w, round(x, 2) if x == x else x) for w, x in pair.prices][0] == (
        "on a fall",
        91.37,
    )  # rule book 5.3


# -- random inputs against independent checks ------------------------------------------------------
def test_pnl_and_roe_against_an_account():
    rng = np.random.default_rng(1)
    for _ in range(N):
        side = str(rng.choice(["long", "short"]))
        q, ep = round(10 ** rng.uniform(-3, 1.5), 3), 10 ** rng.uniform(2, 5.3)
        xp, lev = ep * rng.uniform(0.3, 2.0), int(rng.integers(1, 126))
        lev = min(lev, int(BTC.max_leverage(q * ep)))
        r = calc_pnl(side=side, quantity=q, entry_price=ep, exit_price=xp, leverage=lev)
        s = 1 if side == "long" else -1
        assert r.pnl == pytest.approx(s * q * (xp - ep), rel=1e-12)
        assert r.initial_margin == pytest.approx(q * ep / lev, rel=1e-12)
        acct = Account(10 * q * ep + 1_000, fee_rate=0)
        acct.set_margin_mode("BTCUSDT", "cross")
        acct.open_position("BTCUSDT", side, quantity=q, price=ep, leverage=lev)
        acct.mark({"BTCUSDT": xp})
        pos = acct.report().position("BTCUSDT")
        assert r.pnl == pytest.approx(pos.unrealized_pnl, rel=1e-9, abs=1e-9)
        assert r.roe_pct == pytest.approx(pos.roe * 100, rel=1e-9, abs=1e-9)
        assert r.working.steps[-1].lines[-1] == f"{r.roe_pct:,.2f} %"


def test_target_price_gives_the_roe_or_pnl_asked_in_an_account():
    rng = np.random.default_rng(2)
    checked = 0
    for i in range(N):
        side, lev = str(rng.choice(["long", "short"])), int(rng.integers(1, 101))
        q, ep = round(10 ** rng.uniform(-3, 1), 3), 10 ** rng.uniform(2, 5.3)
        lev = min(lev, int(BTC.max_leverage(q * ep)))
        if i % 2:
            roe = rng.uniform(-150, 400)
            r = calc_target_price(side=side, entry_price=ep, leverage=lev, roe_pct=roe)
        else:
            gain = rng.uniform(-1.5, 3) * q * ep / lev
            r = calc_target_price(side=side, entry_price=ep, leverage=lev, aim="PnL", quantity=q, pnl=gain)
        if math.isnan(r.price):  # only where no positive price can give it
            move = roe / 100 / lev if i % 2 else gain / (q * ep)
            assert (1 if side == "long" else -1) * move <= -1
            assert "No price gives this" in r.working.text()
            continue
        acct = Account(10 * q * ep + 1_000, fee_rate=0)
        acct.set_margin_mode("BTCUSDT", "cross")
        acct.open_position("BTCUSDT", side, quantity=q, price=ep, leverage=lev)
        acct.mark({"BTCUSDT": r.price})
        pos = acct.report().position("BTCUSDT")
        if i % 2:
            assert pos.roe * 100 == pytest.approx(roe, rel=1e-9, abs=1e-9)
        else:
            assert pos.unrealized_pnl == pytest.approx(gain, rel=1e-9, abs=1e-9)
        checked += 1
    assert checked > N * 0.8


def _one_way_case(rng, tiers):
    table = TABLES[tiers]
    side = str(rng.choice(["long", "short"]))
    q, ep = round(10 ** rng.uniform(-2, 1.7), 3), 10 ** rng.uniform(3, 5)
    lev = int(rng.integers(1, int(table.max_leverage(q * ep)) + 1))
    return side, q, ep, lev


@pytest.mark.parametrize("tiers", ["BTCUSDT", "ETHUSDT", "BTCUSDT-2021"])
def test_isolated_one_way_liquidation_price_liquidates_just_past_it(tiers):
    rng = np.random.default_rng(3)
    sym = symbol_of(tiers)
    for _ in range(N // 3):
        side, q, ep, lev = _one_way_case(rng, tiers)
        if q * ep >= TABLES[tiers].brackets[-1].notional_cap:
            continue
        extra = float(rng.choice([0.0, rng.uniform(0, 2) * q * ep / lev]))
        acct = account(3 * q * ep / lev + extra + 10, tiers)
        acct.open_position(sym, side, quantity=q, price=ep, leverage=lev)
        if extra:
            acct.add_margin(sym, extra)
        wallet = acct.report().position(sym).isolated_wallet
        r = calc_liquidation_price(tiers=tiers, side=side, quantity=q, entry_price=ep, wallet_balance=wallet)
        lp = r.prices[0][1]
        s = 1 if side == "long" else -1
        if math.isnan(lp):  # a long backed in full: no price liquidates it
            assert side == "long" and not liquidated(acct, sym, ep * 1e-6)
            continue
        assert liquidated(acct, sym, lp * (1 - s * EPS)) and not liquidated(acct, sym, lp * (1 + s * EPS))
        step = r.working.steps[0]
        num, den = (float(x.replace(",", "")) for x in step.lines[1].split(" / "))
        assert num / den == pytest.approx(lp, rel=2e-6)  # the substituted formula gives the price


def test_cross_one_way_with_another_position_liquidates_just_past_it():
    rng = np.random.default_rng(4)
    for _ in range(N // 2):
        side, q, ep, lev = _one_way_case(rng, "BTCUSDT")
        wallet = q * ep / lev * rng.uniform(1.2, 3) + 50
        acct = Account(wallet, fee_rate=0)
        for sym in ("BTCUSDT", "ETHUSDT"):
            acct.set_margin_mode(sym, "cross")
        acct.open_position("BTCUSDT", side, quantity=q, price=ep, leverage=lev)
        other, omm, oupnl = rng.random() < 0.7, 0.0, 0.0
        if other:
            eth_q, eth_p = round(10 ** rng.uniform(-2, 0.5), 3), 10 ** rng.uniform(3, 3.7)
            try:
                acct.open_position(
                    "ETHUSDT",
                    str(rng.choice(["long", "short"])),
                    quantity=eth_q,
                    price=eth_p,
                    leverage=int(rng.integers(5, 50)),
                )
                acct.mark({"ETHUSDT": eth_p * rng.uniform(0.9, 1.1)})
            except OrderRefusedError:
                continue
            if not acct.has_position("ETHUSDT") or not acct.has_position("BTCUSDT"):
                continue
            eth = acct.report().position("ETHUSDT")
            omm, oupnl = eth.maintenance_margin, eth.unrealized_pnl
        r = calc_liquidation_price(
            margin_mode="cross",
            side=side,
            quantity=q,
            entry_price=ep,
            wallet_balance=acct.report().cross_wallet_balance,
            other_maintenance_margin=omm,
            other_unrealized_pnl=oupnl,
        )
        lp, s = r.prices[0][1], (1 if side == "long" else -1)
        assert lp == pytest.approx(
            acct.report().position("BTCUSDT").liquidation_price, rel=1e-12, nan_ok=True
        )
        if not math.isnan(lp):
            assert liquidated(acct, "BTCUSDT", lp * (1 - s * EPS))
            assert not liquidated(acct, "BTCUSDT", lp * (1 + s * EPS))


def test_cross_hedge_pair_is_liquidated_just_past_both_prices():
    rng = np.random.default_rng(5)
    checked = 0
    for _ in range(N // 2):
        ql, qs = round(10 ** rng.uniform(-2, 1.5), 3), round(10 ** rng.uniform(-2, 1.5), 3)
        epl, eps = 10 ** rng.uniform(4, 5), 0.0
        eps = epl * rng.uniform(0.9, 1.1)
        lev = int(rng.integers(1, int(BTC.max_leverage(max(ql, qs) * max(epl, eps) * 1.01)) + 1))
        acct = Account(
            (ql * epl + qs * eps) / lev * rng.uniform(1.05, 2) + 20, fee_rate=0, position_mode="hedge"
        )
        acct.set_margin_mode("BTCUSDT", "cross")
        try:
            acct.open_position("BTCUSDT", "long", quantity=ql, price=epl, leverage=lev)
            acct.open_position("BTCUSDT", "short", quantity=qs, price=eps, leverage=lev)
        except OrderRefusedError:
            continue
        wallet = acct.report().cross_wallet_balance
        r = calc_liquidation_price(**hedge((ql, epl), (qs, eps), margin_mode="cross", wallet_balance=wallet))
        (_, low), (_, high) = r.prices
        if not math.isnan(low):
            assert liquidated(acct, "BTCUSDT", low * (1 - EPS))
            assert not liquidated(acct, "BTCUSDT", low * (1 + EPS)) or high <= low * (1 + EPS)
        if not math.isnan(high):
            assert liquidated(acct, "BTCUSDT", high * (1 + EPS))
            assert not liquidated(acct, "BTCUSDT", high * (1 - EPS)) or low >= high * (1 - EPS)
        near = _hedge_price_with_tiers(
            *(p for p in sorted(acct.positions, key=lambda p: -p.side)), BTC, wallet, 0, 0
        )
        found = [x for x in (low, high) if not math.isnan(x)]
        assert (math.isnan(near) and not found) or any(x == pytest.approx(near, rel=1e-12) for x in found)
        checked += 1
    assert checked > N // 4


def test_a_cross_pair_already_past_its_price_at_the_entry_says_so():
    """2 BTC long and 1 BTC short at 100,000 carry 800 + 400 = 1,200 USDT of maintenance margin
    (tier 1, 0.4 %): a 1,000 USDT wallet is below it on opening, 30,000 is not."""
    args = hedge((2, 100_000), (1, 100_000), margin_mode="cross")
    thin = calc_liquidation_price(**args, wallet_balance=1_000)
    low = thin.prices[0][1]
    assert low > 100_000  # the fall price lies above the entries: the mark is already past it
    assert "At the long entry price (100,000.00) the mark is already past it" in thin.working.notes[0]
    # at the entries the pair's maintenance margin is more than the wallet
    assert BTC.maintenance_margin(200_000) + BTC.maintenance_margin(100_000) == pytest.approx(1_200)
    wide = calc_liquidation_price(**args, wallet_balance=30_000)
    low, high = (x for _, x in wide.prices)
    assert low < 100_000 < high and "already past" not in " ".join(wide.working.notes)


def test_a_price_that_puts_a_leg_past_the_last_tier_says_so():
    """The BTCUSDT table's last tier ends at 1,800,000,000 USDT; past it the engine extends that
    tier, the exchange would not let the position grow. The working says which leg, and where."""
    args = hedge((2, 100_000), (1, 100_000), margin_mode="cross", wallet_balance=30_000)
    pair = calc_liquidation_price(**args)
    (_, low), (_, high) = pair.prices
    assert 2 * high > 1_800_000_000 > 1 * high  # the long leg is past the table there, the short is not
    notes = [n for n in pair.working.notes if "past the table's last tier" in n]
    assert len(notes) == 1
    assert notes[0].startswith(f"At {high:,.2f} the long leg's notional, {2 * high:,.0f} USDT")
    assert "(up to 1,800,000,000 USDT)" in notes[0]
    short = calc_liquidation_price(side="short", quantity=20_000, entry_price=100_000, wallet_balance=2e9)
    ((_, lp),) = short.prices
    assert 20_000 * lp > 1_800_000_000
    assert any(n.startswith(f"At {lp:,.2f} the position's notional") for n in short.working.notes)
    for q, margin, *_ in LESSON_2:  # the lesson's own positions stay well inside the table
        r = calc_liquidation_price(side="long", quantity=q, entry_price=100_000, wallet_balance=margin)
        assert not any("past the table's last tier" in n for n in r.working.notes)


def test_isolated_hedge_legs_each_liquidate_just_past_their_own_price():
    rng = np.random.default_rng(6)
    for _ in range(N // 3):
        q, ep = round(10 ** rng.uniform(-2, 1), 3), 10 ** rng.uniform(4, 5)
        lev = int(rng.integers(2, 80))
        acct = Account(5 * q * ep + 100, fee_rate=0, position_mode="hedge")
        acct.open_position("BTCUSDT", "long", quantity=q, price=ep, leverage=lev)
        acct.open_position("BTCUSDT", "short", quantity=q, price=ep, leverage=lev)
        margin = q * ep / lev
        r = calc_liquidation_price(
            **hedge((q, ep), (q, ep), margin_mode="isolated", long_margin=margin, short_margin=margin)
        )
        (what_l, lp_l), (what_s, lp_s) = r.prices
        assert (what_l, what_s) == ("long leg", "short leg")
        assert liquidated(acct, "BTCUSDT", lp_l * (1 - EPS), "long")
        assert not liquidated(acct, "BTCUSDT", lp_l * (1 + EPS), "long")
        assert liquidated(acct, "BTCUSDT", lp_s * (1 + EPS), "short")
        assert not liquidated(acct, "BTCUSDT", lp_s * (1 - EPS), "short")


def test_a_flat_rate_typed_in_matches_an_account_on_that_flat_table():
    rng = np.random.default_rng(7)
    for _ in range(N // 3):
        mmr = rng.uniform(0.001, 0.05)
        top = math.floor(1 / mmr * 0.999)
        side, lev = str(rng.choice(["long", "short"])), int(rng.integers(1, top + 1))
        q, ep = round(10 ** rng.uniform(-2, 1), 3), 10 ** rng.uniform(3, 5)
        acct = Account(3 * q * ep, fee_rate=0, brackets={"BTCUSDT": BracketTable.flat(mmr, top)})
        acct.open_position("BTCUSDT", side, quantity=q, price=ep, leverage=lev)
        r = calc_liquidation_price(
            tiers="flat",
            mmr_pct=mmr * 100,
            maintenance_amount=0,
            side=side,
            quantity=q,
            entry_price=ep,
            wallet_balance=q * ep / lev,
        )
        lp, s = r.prices[0][1], (1 if side == "long" else -1)
        if math.isnan(lp):
            continue
        assert liquidated(acct, "BTCUSDT", lp * (1 - s * EPS)) and not liquidated(
            acct, "BTCUSDT", lp * (1 + s * EPS)
        )


def test_max_open_can_be_opened_and_one_step_more_cannot():
    rng = np.random.default_rng(8)
    seen = set()
    for _ in range(N):
        tiers = str(rng.choice(list(TABLES)))
        table, sym = TABLES[tiers], symbol_of(tiers)
        top = int(table.brackets[0].max_leverage)
        balance, ep = 10 ** rng.uniform(1, 8.5), 10 ** rng.uniform(2.5, 5)
        lev = int(rng.choice([rng.integers(1, top + 1), top, 1]))
        fee = float(rng.choice([0, 0.02, 0.05, rng.uniform(0, 0.1)]))
        r = calc_max_open(symbol=tiers, balance=balance, entry_price=ep, leverage=lev, fee_pct=fee)
        step = MIN_QUANTITY[sym]
        seen.add(r.binding)
        assert r.quantity == min(r.balance_quantity, r.tier_quantity)
        if r.quantity >= step:  # the account opens it
            acct = account(balance, tiers)
            acct.fee_rate = fee / 100
            acct.open_position(sym, "long", quantity=r.quantity, price=ep, leverage=lev)
        more = round(r.quantity + step, 9)
        if r.binding in ("balance", "both"):  # one step more: the balance cannot pay
            acct = account(balance, tiers)
            acct.fee_rate = fee / 100
            with pytest.raises(OrderRefusedError):
                acct.open_position(sym, "long", quantity=more, price=ep, leverage=lev)
        if r.binding in ("tier", "both"):  # one step more: no tier allows the leverage
            if r.quantity:
                table.check_leverage(r.quantity * ep, lev)
            with pytest.raises(InvalidInputError):
                table.check_leverage(more * ep, lev)
    assert seen >= {"balance", "tier"}


def test_open_price_is_the_quantity_weighted_mean_and_the_accounts_entry():
    rng = np.random.default_rng(9)
    for _ in range(N):
        n = int(rng.integers(1, 6))
        centre = 10 ** rng.uniform(2, 5)
        ps, qs = centre * rng.uniform(0.8, 1.2, n), np.round(10 ** rng.uniform(-3, 0.5, n), 3)
        rows = [(float(p), float(q)) for p, q in zip(ps, qs, strict=True)]
        holes = [None] * (5 - n)
        r = calc_open_price(rows[:1] + holes + rows[1:])
        assert r.price == pytest.approx(sum(p * q for p, q in rows) / sum(q for _, q in rows), rel=1e-12)
        assert min(ps) * (1 - 1e-12) <= r.price <= max(ps) * (1 + 1e-12)
        acct = Account(10 * float(ps @ qs) + 100, fee_rate=0)
        acct.set_margin_mode("BTCUSDT", "cross")
        for p, q in rows:
            acct.open_position("BTCUSDT", "long", quantity=q, price=p, leverage=1)
        assert acct.positions[0].entry_price == pytest.approx(r.price, rel=1e-12)


# -- bad input ---------------------------------------------------------------------------------------
GOOD = {
    calc_pnl: dict(side="long", quantity=0.01, entry_price=100_000, exit_price=92_000, leverage=10),
    calc_target_price: dict(side="long", entry_price=100_000, leverage=10, roe_pct=50),
    calc_max_open: dict(symbol="BTCUSDT", balance=1_000, entry_price=100_000, leverage=10, fee_pct=0.05),
    calc_liquidation_price: dict(
        margin_mode="cross", **FLAT, **ARTICLE_LONG, other_maintenance_margin=0, other_unrealized_pnl=0
    ),
}
NUMERIC = [(f, k) for f, good in GOOD.items() for k, x in good.items() if not isinstance(x, str)]
BAD = [
    ("abc", "must be a number"),
    (None, "must be a number"),
    (True, "must be a number"),
    (b"5", "must be a number"),
    (1 + 2j, "must be a real number"),
    (NAN, "must be a finite number"),
    (INF, "must be a finite number"),
    (-INF, "must be a finite number"),
    ([1.0, 2.0], "must be a single number"),
    (np.ones(3), "must be a single number"),
]


@pytest.mark.parametrize("func, field", NUMERIC, ids=lambda x: getattr(x, "__name__", x))
@pytest.mark.parametrize("bad, words", BAD, ids=repr)
def test_bad_input_of_every_type_is_refused_naming_the_field(func, field, bad, words):
    label = "Wallet balance (USDT)" if field == "wallet_balance" else LABELS[field]
    with pytest.raises(InvalidInputError) as info:
        func(**(GOOD[func] | {field: bad}))
    assert str(info.value).startswith(f"{label} {words}"), str(info.value)


@pytest.mark.parametrize("func, field", NUMERIC, ids=lambda x: getattr(x, "__name__", x))
def test_out_of_range_numbers_are_refused_in_plain_words(func, field):
    low = {"other_unrealized_pnl": None, "wallet_balance": None, "roe_pct": None}.get(field, -1.0)
    if low is None:
        return  # any finite number is allowed (a cross wallet may be negative)
    with pytest.raises(InvalidInputError) as info:
        func(**(GOOD[func] | {field: low}))
    text = str(info.value)
    label = "Wallet balance (USDT)" if field == "wallet_balance" else LABELS[field]
    assert text.startswith(f"{label} must be ") and text.endswith("got -1")
    assert any(words in text for words in ("more than 0", "at least 0", "at least 1"))


@pytest.mark.parametrize(
    "func, kwargs, message",
    [
        (calc_pnl, dict(side="up"), "Side must be one of 'long', 'short'; got 'up'"),
        (calc_max_open, dict(leverage=200), "Leverage (x) must be at most 150; got 200"),
        (calc_max_open, dict(symbol="ETHUSDT", leverage=151), "Leverage (x) must be at most 150; got 151"),
        (
            calc_max_open,
            dict(symbol="BTCUSDT-2021", leverage=126),
            "Leverage (x) must be at most 125; got 126",
        ),
        (calc_max_open, dict(fee_pct=2), "Opening fee (%) must be at most 1; got 2"),
        (
            calc_max_open,
            dict(symbol="XYZUSDT"),
            "Symbol must be one of 'BTCUSDT', 'ETHUSDT', 'BTCUSDT-2021'; got 'XYZUSDT'",
        ),
        (calc_liquidation_price, dict(mmr_pct=100), "Maintenance rate (%) must be below 100; got 100"),
        (calc_liquidation_price, dict(tiers="BTC"), "Tiers must be one of"),
        (
            calc_liquidation_price,
            dict(position_mode="two-way"),
            "Position mode must be one of 'one-way', 'hedge'",
        ),
        (
            calc_liquidation_price,
            dict(margin_mode="cross", other_maintenance_margin=-5),
            "Other positions' maintenance margin (USDT) must be at least 0; got -5",
        ),
        (
            calc_liquidation_price,
            dict(margin_mode="isolated", wallet_balance=-5),
            "Isolated margin (USDT) must be at least 0; got -5",
        ),
        (
            calc_liquidation_price,
            hedge((1, 1), (1, -1)),
            "Short entry price (USDT) must be more than 0; got -1",
        ),
        (
            calc_liquidation_price,
            hedge((1, 1), (1, 1), margin_mode="isolated", long_margin="x", short_margin=1),
            "Long leg's margin (USDT) must be a number; got 'x'",
        ),
        (calc_target_price, dict(aim="price"), "Aim for must be one of 'ROE', 'PnL'"),
        (
            calc_target_price,
            dict(aim="PnL", quantity=0.01, pnl=None),
            "Wanted PnL (USDT) must be a number; got None",
        ),
    ],
)
def test_choices_and_limits_are_named(func, kwargs, message):
    with pytest.raises(InvalidInputError) as info:
        func(**(GOOD[func] | kwargs))
    assert str(info.value).startswith(message)


def test_open_price_refusals_name_the_fill():
    with pytest.raises(InvalidInputError, match=r"^Fill 2 quantity \(coins\) must be more than 0; got -1"):
        calc_open_price([(100, 1), (100, -1)])
    with pytest.raises(InvalidInputError, match=r"^Fill 3 price \(USDT\) must be a number; got 'x'"):
        calc_open_price([(100, 1), None, ("x", 1)])
    with pytest.raises(InvalidInputError, match="^Fills are empty"):
        calc_open_price([None, None])
    with pytest.raises(InvalidInputError, match="^Fills must be at most 5"):
        calc_open_price([(1, 1)] * 6)
    for bad in ("abc", None, 5, {1: 2}):
        with pytest.raises(InvalidInputError, match="^Fills must be a list"):
            calc_open_price(bad)
    with pytest.raises(InvalidInputError, match=r"^Fill 1 must be a \(price, quantity\) pair"):
        calc_open_price([(1, 2, 3)])


@pytest.mark.parametrize(
    "text, value",
    [
        ("1,234.5", 1234.5),
        (" 100000 ", 100000.0),
        ("-56,354.57", -56354.57),
        ("1e3", 1000.0),
        ("\u22125", -5.0),
        ("1 000", 1000.0),
        ("+.5", 0.5),
        ("7.", 7.0),
    ],
)
def test_typed_numbers_are_read(text, value):
    assert parse_number("Entry price (USDT)", text) == value
    assert parse_number("Wanted ROE (%)", "50 %") == 50


@pytest.mark.parametrize(
    "text, words",
    [
        ("abc", "must be a number such as 1,234.5; got 'abc'"),
        ("", "is empty: type a number"),
        ("   ", "is empty"),
        ("1,5", "must use a point for decimals"),
        ("nan", "must be a number"),
        ("inf", "must be a number"),
        ("1e999", "a float can hold"),
        ("--5", "must be a number"),
        ("5 %", "must be a number"),
        ("1.2.3", "must be a number"),
        ("0x10", "must be a number"),
    ],
)
def test_typed_text_that_is_not_a_number_is_refused_naming_the_box(text, words):
    with pytest.raises(InvalidInputError) as info:
        parse_number("Entry price (USDT)", text)
    assert str(info.value).startswith("Entry price (USDT) ") and words in str(info.value)


@pytest.mark.parametrize("bad", [None, 5, True, b"5"])
def test_parse_number_takes_text_only(bad):
    with pytest.raises(InvalidInputError, match=r"^Leverage \(x\) must be typed text"):
        parse_number("Leverage (x)", bad)


def test_answers_and_workings_are_frozen():
    r = calc_pnl(**GOOD[calc_pnl])
    with pytest.raises(AttributeError):
        r.pnl = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        r.working.steps = ()  # type: ignore[misc]


# -- the engine functions added for the tabs ----------------------------------------------------------
def test_target_price_inverts_roe_and_pnl_vectorised():
    rng = np.random.default_rng(10)
    side = rng.choice([1.0, -1.0], 500)
    ep, lev, roe = 10 ** rng.uniform(1, 5, 500), rng.uniform(1, 125, 500), rng.uniform(-3, 3, 500)
    tp = target_price(side, ep, lev, roe)
    ok = ~np.isnan(tp)
    assert np.all(side[~ok] * roe[~ok] / lev[~ok] <= -1)
    assert np.allclose(
        return_on_equity(side[ok], 1.0, ep[ok], tp[ok], lev[ok]), roe[ok], rtol=1e-9, atol=1e-12
    )
    q, pnl = 10 ** rng.uniform(-3, 2, 500), rng.uniform(-1, 3, 500) * ep
    tp = target_price_for_pnl(side, q, ep, pnl)
    ok = ~np.isnan(tp)
    assert np.allclose(unrealized_pnl(side[ok], q[ok], ep[ok], tp[ok]), pnl[ok], rtol=1e-9, atol=1e-6)
    assert target_price(Fraction(1), 100, 10, 0.5) == 105.0


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: target_price("up", 100, 10, 0.5), "side must be 'long' or 'short'"),
        (lambda: target_price("long", -1, 10, 0.5), "entry_price must be > 0; got -1.0"),
        (lambda: target_price("long", 100, 0.5, 0.5), "leverage must be >= 1; got 0.5"),
        (lambda: target_price("long", 100, 10, NAN), "roe must be a finite number; got nan"),
        (lambda: target_price("long", 100, 10, "1"), "roe must be a number; got '1'"),
        (
            lambda: target_price("long", 1e300, 1, 1e300),
            "the target price entry_price × (1 + roe / leverage) is beyond",
        ),
        (lambda: target_price_for_pnl("long", 0, 100, 5), "quantity must be > 0; got 0.0"),
        (lambda: target_price_for_pnl("long", 1, 100, None), "pnl must be a number; got None"),
        (
            lambda: target_price_for_pnl("long", 1e-300, 1e300, 1e300),
            "the target price entry_price + pnl / quantity",
        ),
        (lambda: average_entry_price([], []), "prices and quantities must hold at least one fill"),
        (lambda: average_entry_price(100, 1), "prices and quantities must be lists of fills"),
        (lambda: average_entry_price([100, -5], [1, 1]), "prices must be > 0; got -5.0 (at index 1)"),
        (lambda: average_entry_price([1, 2, 3], [1, 2]), "must have shapes that broadcast"),
        (
            lambda: max_open_quantity(1_000, 100, 151, brackets=BTC),
            "leverage must be at most 150x, the highest any tier",
        ),
        (lambda: max_open_quantity(1_000, 100, 10, brackets="BTC"), "brackets must be a BracketTable"),
        (lambda: max_open_quantity(-1, 100, 10, brackets=BTC), "balance must be >= 0; got -1.0"),
        (
            lambda: max_open_quantity(1, 100, 10, brackets=BTC, fee_rate=0.5),
            "fee_rate must satisfy 0 <= fee_rate <= 0.01",
        ),
        (
            lambda: max_open_quantity(1, 100, 10, brackets=BTC, step=1e-12),
            "step must be 0 (no rounding) or at least 1e-9",
        ),
        (lambda: BTC.notional_limit(0), "leverage must be >= 1; got 0.0"),
        (
            lambda: hedge_liquidation_prices(1, 100, 1, 100, 10, brackets=None),
            "brackets must be a BracketTable",
        ),
        (
            lambda: hedge_liquidation_prices(1, 100, -1, 100, 10, brackets=BTC),
            "short_quantity must be > 0; got -1.0",
        ),
    ],
)
def test_engine_additions_refuse_bad_input_by_name(call, message):
    with pytest.raises(InvalidInputError) as info:
        call()
    assert message in str(info.value)


def test_average_entry_price_runs_along_the_last_axis():
    p = np.array([[100.0, 110.0, 120.0], [1.0, 2.0, 3.0]])
    q = np.array([[1.0, 1.0, 2.0], [3.0, 0.5, 0.5]])
    assert np.allclose(average_entry_price(p, q), [(100 + 110 + 240) / 4, (3 + 1 + 1.5) / 4])
    assert average_entry_price([1e300, 1e300], [1e300, 1e300]) == 1e300  # no size overflows on the way


def test_max_open_quantity_vectorised_equals_one_at_a_time():
    rng = np.random.default_rng(11)
    bal, p, lev = (
        10 ** rng.uniform(0, 9, 200),
        10 ** rng.uniform(1, 5, 200),
        rng.integers(1, 151, 200).astype(float),
    )
    fee, step = rng.uniform(0, 0.001, 200), rng.choice([0.0, 0.001, 0.01], 200)
    m = max_open_quantity(bal, p, lev, brackets=BTC, fee_rate=fee, step=step)
    for i in range(200):
        one = max_open_quantity(bal[i], p[i], lev[i], brackets=BTC, fee_rate=fee[i], step=step[i])
        assert (m.quantity[i], m.binding[i], m.tier[i]) == (one.quantity, one.binding, one.tier)
        cost = one.quantity * p[i] / lev[i] + one.quantity * p[i] * fee[i]
        assert cost <= bal[i] and one.quantity * p[i] < one.notional_limit
    assert np.all(m.quantity == np.minimum(m.balance_quantity, m.tier_quantity))


def test_notional_limit_is_each_tiers_cap():
    caps = {
        150: 300_000,
        100: 800_000,
        75: 3_000_000,
        50: 12_000_000,
        25: 70_000_000,
        20: 100_000_000,
        10: 230_000_000,
        5: 480_000_000,
        4: 600_000_000,
        3: 800_000_000,
        2: 1_200_000_000,
        1: 1_800_000_000,
    }
    for lev, cap in caps.items():
        assert BTC.notional_limit(lev) == cap
        assert BTC.max_leverage(np.nextafter(cap, 0)) >= lev
        if cap < 1_800_000_000:
            assert BTC.max_leverage(cap) < lev
    assert list(BTC.notional_limit([99.5, 100.5])) == [800_000, 300_000]


def test_hedge_liquidation_prices_by_brute_force():
    rng = np.random.default_rng(12)
    for _ in range(60):
        ql, qs = 10 ** rng.uniform(-1, 1.5, 2)
        epl, eps = 10 ** rng.uniform(4, 5), 10 ** rng.uniform(4, 5)
        wallet = rng.uniform(0.02, 0.5) * (ql * epl + qs * eps)
        low, high = hedge_liquidation_prices(ql, epl, qs, eps, wallet, brackets=BTC)
        grid = np.geomspace(1, 1e13, 300_001)
        gap = (
            wallet
            + ql * (grid - epl)
            - qs * (grid - eps)
            - BTC.maintenance_margin_curve(ql * grid)
            - (BTC.maintenance_margin_curve(qs * grid))
        )
        rises = grid[1:][(gap[:-1] <= 0) & (gap[1:] > 0)]
        falls = grid[1:][(gap[:-1] > 0) & (gap[1:] <= 0)]
        assert len(rises) <= 1 and len(falls) <= 1  # concave: at most one of each
        for found, want in ((low, rises), (high, falls)):
            if len(want):
                assert found == pytest.approx(want[0], rel=2e-4)
            else:
                assert math.isnan(found)
    vec = hedge_liquidation_prices([2, 1], 100_000, [1, 1], 100_000, [10_000, 1_000], brackets=BTC)
    one = [
        hedge_liquidation_prices(a, 100_000, 1, 100_000, w, brackets=BTC)
        for a, w in ((2, 10_000), (1, 1_000))
    ]
    assert np.allclose(vec, np.array(one).T, equal_nan=True)
