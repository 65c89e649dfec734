"""The account model: opening, fees, margin transfers, modes, liquidation, funding, reports."""

from __future__ import annotations

import math

import pytest

from margin_lib import BracketTable, OrderRefusedError, liquidation_price, trading_fee
from margin_lib.account import Account

BTC, ETH = "BTCUSDT", "ETHUSDT"


def isolated_long(wallet=1_000.0, notional=1_000.0, leverage=10, fee_rate=0.0, price=100_000.0):
    acct = Account(wallet, fee_rate=fee_rate)
    acct.open_position(BTC, "long", notional=notional, price=price, leverage=leverage)
    return acct


def test_reference_fee_example_round_trip():
    """Buy 1 BTC at 10,104 as taker (5.052), sell at 11,104 as maker (2.2208)."""
    assert trading_fee(10_104, 0.0005) == pytest.approx(5.052)
    assert trading_fee(11_104, 0.0002) == pytest.approx(2.2208)
    acct = Account(20_000, fee_rate=0.0005)
    acct.open_position(BTC, "long", quantity=1, price=10_104, leverage=10)
    assert acct.report().wallet_balance == pytest.approx(20_000 - 5.052)
    pnl = acct.close_position(BTC, 11_104, fee_rate=0.0002)
    assert pnl == pytest.approx(1_000)
    assert acct.report().wallet_balance == pytest.approx(20_000 + 1_000 - 5.052 - 2.2208)
    fees = [e.amount for e in acct.events if e.kind == "fee"]
    assert fees == pytest.approx([-5.052, -2.2208])


def test_open_by_quantity_or_notional_is_the_same():
    a = isolated_long()
    b = Account(1_000, fee_rate=0.0)
    b.open_position(BTC, "long", quantity=0.01, price=100_000, leverage=10)
    assert a.state() == b.state()


def test_fees_do_not_depend_on_margin_mode():
    paid = {}
    for mode in ("isolated", "cross"):
        acct = Account(1_000)
        acct.set_margin_mode(BTC, mode)
        acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=20)
        acct.close_position(BTC, 100_000)
        paid[mode] = sum(e.amount for e in acct.events if e.kind == "fee")
    assert paid["isolated"] == pytest.approx(paid["cross"]) == pytest.approx(-1.0)


def test_insufficient_balance_names_the_three_ways_out_and_deposit_fixes_it():
    acct = Account(50, fee_rate=0.0005)
    with pytest.raises(OrderRefusedError) as info:
        acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=10)
    msg = str(info.value)
    assert "initial margin 100.00 + opening fee 0.50 = 100.50 USDT" in msg
    assert "only 50.00 USDT is available" in msg
    assert "transfer funds into the futures wallet" in msg
    assert "reduce the position size" in msg
    assert "raise the leverage (up to 150x" in msg
    acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=25)  # raising works
    acct2 = Account(50, fee_rate=0.0005)
    acct2.deposit(100)
    acct2.open_position(BTC, "long", notional=1_000, price=100_000, leverage=10)  # so does a transfer
    assert acct2.report().available_balance == pytest.approx(150 - 100.5)


def test_leverage_above_the_tier_maximum_is_refused():
    acct = Account(100_000, fee_rate=0)
    with pytest.raises(OrderRefusedError, match=r"leverage must be at most 150x .* got 151x"):
        acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=151)
    with pytest.raises(
        OrderRefusedError, match=r"at most 100x for a 500,000 USDT BTCUSDT position \(tier 2's maximum\)"
    ):
        acct.open_position(BTC, "long", notional=500_000, price=100_000, leverage=101)
    acct.open_position(BTC, "long", notional=250_000, price=100_000, leverage=120)
    # adding to the position pushes it into tier 2, where 120x is no longer allowed
    with pytest.raises(OrderRefusedError, match="at most 100x"):
        acct.open_position(BTC, "long", notional=100_000, price=100_000, leverage=120)


def test_add_margin_moves_liquidation_away_and_keeps_mm():
    acct = isolated_long()
    before = acct.report().position(BTC)
    acct.add_margin(BTC, 50)
    after = acct.report().position(BTC)
    assert after.isolated_wallet == 150
    assert after.liquidation_price < before.liquidation_price
    assert after.maintenance_margin == before.maintenance_margin
    assert after.mmr == before.mmr and after.leverage == before.leverage
    assert acct.report().available_balance == pytest.approx(850)


def test_max_removable_margin_follows_the_reference_rule():
    acct = isolated_long()
    acct.add_margin(BTC, 100)  # wallet 200, IM 100, MM 4
    assert acct.max_removable_margin(BTC) == pytest.approx(100)  # 200 + 0 − 1000/10
    acct.mark({BTC: 97_000})  # UPNL −30
    assert acct.max_removable_margin(BTC) == pytest.approx(200 - 30 - 970 / 10)
    acct.remove_margin(BTC, 70)
    with pytest.raises(OrderRefusedError, match=r"amount must not exceed the removable margin 3.00 USDT"):
        acct.remove_margin(BTC, 5)


def test_max_removable_is_limited_by_mm_when_in_profit():
    acct = isolated_long(notional=1_000, leverage=150)  # wallet 6.67, MM 4
    acct.mark({BTC: 150_000})  # big profit: the "WB − MM" term binds
    pos = acct.report().position(BTC)
    assert acct.max_removable_margin(BTC) == pytest.approx(pos.isolated_wallet - pos.maintenance_margin)


def test_margin_transfers_refused_on_cross_empty_or_nonpositive():
    acct = Account(1_000, fee_rate=0)
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=10)
    with pytest.raises(OrderRefusedError, match="cannot add margin to the cross BTCUSDT position"):
        acct.add_margin(BTC, 10)
    with pytest.raises(OrderRefusedError, match="cannot remove margin from the cross"):
        acct.remove_margin(BTC, 10)
    with pytest.raises(OrderRefusedError, match=r"symbol 'ETHUSDT' has no open position \(size 0\)"):
        acct.add_margin(ETH, 10)
    iso = isolated_long()
    for bad in (0, -5):
        with pytest.raises(ValueError, match=rf"amount must be > 0; got {float(bad)!r}"):
            iso.add_margin(BTC, bad)
    with pytest.raises(OrderRefusedError, match="must not exceed the available balance 900.00"):
        iso.add_margin(BTC, 901)


def test_margin_mode_is_per_symbol_and_locked_while_open():
    acct = Account(10_000, fee_rate=0)
    assert acct.margin_mode(BTC) == "isolated"  # the default
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=10)
    acct.open_position(ETH, "long", notional=1_000, price=4_000, leverage=10)
    assert (acct.margin_mode(BTC), acct.margin_mode(ETH)) == ("cross", "isolated")
    with pytest.raises(
        OrderRefusedError, match="cannot switch BTCUSDT to isolated margin while it has an open"
    ):
        acct.set_margin_mode(BTC, "isolated")
    acct.set_margin_mode("SOLUSDT", "cross")  # another symbol is free to change
    acct.close_position(BTC, 100_000)
    acct.set_margin_mode(BTC, "isolated")
    assert acct.margin_mode(BTC) == "isolated"


def test_position_mode_hedge_holds_both_legs():
    acct = Account(10_000, fee_rate=0)
    acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=10)
    with pytest.raises(OrderRefusedError, match="one-way mode holds a long BTCUSDT position"):
        acct.open_position(BTC, "short", notional=1_000, price=100_000, leverage=10)
    with pytest.raises(OrderRefusedError, match="cannot switch to hedge mode while positions are open"):
        acct.set_position_mode("hedge")
    acct.close_position(BTC, 100_000)
    acct.set_position_mode("hedge")
    acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=10)
    acct.open_position(BTC, "short", notional=500, price=100_000, leverage=10)
    assert acct.has_position(BTC, "long") and acct.has_position(BTC, "short")
    with pytest.raises(ValueError, match="side must be given"):
        acct.add_margin(BTC, 10)
    acct.add_margin(BTC, 10, side="short")
    assert acct.report().position(BTC, "short").isolated_wallet == 60


def test_hedge_cross_legs_share_one_liquidation_price():
    acct = Account(1_000, fee_rate=0, position_mode="hedge")
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(BTC, "long", quantity=0.2, price=100_000, leverage=50)
    acct.open_position(BTC, "short", quantity=0.1, price=100_000, leverage=50)
    r = acct.report()
    lp_long = r.position(BTC, "long").liquidation_price
    assert lp_long == r.position(BTC, "short").liquidation_price
    assert lp_long < 100_000  # net long: the shared price is below
    assert acct.mark({BTC: lp_long * 1.001}) == []
    assert {e.side for e in acct.mark({BTC: lp_long * 0.999}) if e.symbol} == {"long", "short"}


def test_cross_liquidation_closes_every_cross_position_and_takes_the_cross_wallet():
    acct = Account(1_000, fee_rate=0)
    for sym in (BTC, ETH):
        acct.set_margin_mode(sym, "cross")
    acct.open_position(BTC, "long", notional=5_000, price=100_000, leverage=10)
    acct.open_position(ETH, "long", notional=5_000, price=4_000, leverage=10)
    acct.set_margin_mode("SOLUSDT", "isolated")
    lp = acct.report().position(BTC).liquidation_price
    events = acct.mark({BTC: lp * 0.999})
    closed = {e.symbol for e in events if e.kind == "liquidation" and e.symbol}
    assert closed == {BTC, ETH}
    assert acct.positions == []
    assert acct.report().wallet_balance == 0
    assert sum(e.amount for e in events) == pytest.approx(-1_000)


def test_cross_lp_holds_while_other_marks_stay():
    acct = Account(1_000, fee_rate=0)
    for sym in (BTC, ETH):
        acct.set_margin_mode(sym, "cross")
    acct.open_position(BTC, "long", notional=5_000, price=100_000, leverage=10)
    acct.open_position(ETH, "short", notional=3_000, price=4_000, leverage=10)
    acct.mark({ETH: 4_100})
    lp = acct.report().position(BTC).liquidation_price
    assert acct.copy().mark({BTC: lp * 1.0001}) == []
    assert acct.copy().mark({BTC: lp * 0.9999}) != []


def test_isolated_liquidation_leaves_the_rest_untouched():
    acct = Account(1_000, fee_rate=0)
    acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=10)
    acct.set_margin_mode(ETH, "cross")
    acct.open_position(ETH, "long", notional=1_000, price=4_000, leverage=10)
    events = acct.mark({BTC: 80_000})
    # closed at the mark (-200 realised), past bankruptcy: the insurance fund covers the other 100
    assert [(e.kind, e.symbol, e.amount) for e in events] == [
        ("liquidation", BTC, -200),
        ("insurance", BTC, 100),
    ]
    assert sum(e.amount for e in events) == -100
    assert acct.report().wallet_balance == 900
    assert acct.has_position(ETH)


def test_funding_long_pays_when_rate_positive_and_drags_isolated_lp_toward_mark():
    acct = isolated_long(notional=10_000, wallet=2_000, leverage=10)
    lp0 = acct.report().position(BTC).liquidation_price
    events = acct.settle_funding({BTC: 0.0001})
    assert [e.amount for e in events] == pytest.approx([-1.0])
    pos = acct.report().position(BTC)
    assert pos.isolated_wallet == pytest.approx(999)
    assert pos.liquidation_price > lp0  # closer to the 100,000 mark
    assert pos.liquidation_price == pytest.approx(
        liquidation_price("long", 0.1, 100_000, 999, brackets=BracketTable.load(BTC))
    )
    short = Account(2_000, fee_rate=0)
    short.set_margin_mode(BTC, "cross")
    short.open_position(BTC, "short", notional=10_000, price=100_000, leverage=10)
    short.settle_funding({BTC: 0.0001})
    assert short.report().cross_wallet_balance == pytest.approx(2_001)


def test_funding_cannot_take_more_than_the_isolated_wallet():
    acct = isolated_long(notional=10_000, wallet=1_000, leverage=150)  # wallet 66.67
    events = acct.settle_funding({BTC: 0.05})  # would be 500 USDT
    paid = [e.amount for e in events if e.kind == "funding"]
    assert paid == pytest.approx([-10_000 / 150])
    assert [e.kind for e in events][-2:] == ["liquidation", "clearance"]
    assert acct.report().wallet_balance == pytest.approx(1_000 - 10_000 / 150)


def test_close_refused_when_the_price_is_past_liquidation():
    acct = isolated_long()
    before = acct.state()
    with pytest.raises(OrderRefusedError, match="would already be liquidated"):
        acct.close_position(BTC, 80_000)
    assert acct.state() == before
    assert acct.close_position(BTC, 95_000) == pytest.approx(-50)
    assert acct.report().wallet_balance == pytest.approx(950)


def test_partial_close_releases_margin_in_proportion():
    acct = isolated_long()
    acct.close_position(BTC, 110_000, quantity=0.004)
    pos = acct.report().position(BTC)
    assert pos.quantity == pytest.approx(0.006)
    assert pos.isolated_wallet == pytest.approx(60)
    assert acct.report().cross_wallet_balance == pytest.approx(900 + 40 + 40)


def test_set_leverage_rules():
    acct = isolated_long()
    acct.set_leverage(BTC, 20)  # raising an isolated position's leverage is allowed
    with pytest.raises(OrderRefusedError, match="must not be lowered below 20x while an isolated"):
        acct.set_leverage(BTC, 5)
    with pytest.raises(OrderRefusedError, match="at most 150x"):
        acct.set_leverage(BTC, 200)
    cross = Account(150, fee_rate=0)
    cross.set_margin_mode(BTC, "cross")
    cross.open_position(BTC, "long", notional=1_000, price=100_000, leverage=10)
    cross.set_leverage(BTC, 20)
    with pytest.raises(
        OrderRefusedError, match="needs 200.00 USDT more initial margin but the available balance is 100.00"
    ):
        cross.set_leverage(BTC, 4)
    cross.set_leverage(BTC, 10)
    assert cross.leverage(BTC) == 10 == cross.report().position(BTC).leverage
    assert cross.report().available_balance == pytest.approx(50)


def test_report_both_ratio_figures_and_unknown_symbol():
    acct = Account(1_000, fee_rate=0)
    assert acct.report().margin_ratio == 0 and math.isinf(acct.report().account_margin_level)
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(BTC, "long", notional=5_000, price=100_000, leverage=10)
    r = acct.report()
    assert r.margin_ratio == pytest.approx(20 / 1_000)  # MM 5,000 × 0.4 %
    assert r.account_margin_level == pytest.approx(50)
    with pytest.raises(OrderRefusedError, match="symbol 'XYZUSDT' has no bracket table"):
        acct.open_position("XYZUSDT", "long", notional=100, price=1, leverage=5)
    custom = Account(1_000, brackets={"XYZUSDT": BracketTable.flat(0.01, 50)}, fee_rate=0)
    custom.open_position("XYZUSDT", "long", notional=100, price=1, leverage=5)
    assert custom.report().position("XYZUSDT").maintenance_margin == pytest.approx(1.0)


def test_notional_just_below_a_tier_floor_stays_in_the_lower_tier():
    acct = Account(10_000_000, fee_rate=0)
    acct.open_position("ETHUSDT", "long", notional=49_999_999.99999999, price=3_000, leverage=25)
    assert acct.leverage("ETHUSDT") == 25


def test_cross_hedge_price_uses_each_legs_tier_at_that_price():
    """A balanced 200,000 / 200,000 hedge: at its liquidation price each leg is worth 560,000
    (tier 2: 0.5 %, cum 300), so 5,000 = 2 × (560,000 × 0.5 % − 300) at a price of 280,000."""
    acct = Account(5_000, fee_rate=0, position_mode="hedge")
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(BTC, "long", notional=200_000, price=100_000, leverage=100)
    acct.open_position(BTC, "short", notional=200_000, price=100_000, leverage=100)
    lp = acct.report().position(BTC, "long").liquidation_price
    assert lp == pytest.approx(280_000)
    assert acct.report().position(BTC, "short").liquidation_price == lp
    assert acct.copy().mark({BTC: lp * 0.999}) == []
    assert acct.copy().mark({BTC: lp * 1.001}) != []


def _pair_slack(price, wallet, ql, qs, table):
    """Cross balance minus both legs' maintenance margin at ``price`` (entries at 100,000)."""
    balance = wallet + ql * (price - 100_000) - qs * (price - 100_000)
    return balance - table.maintenance_margin_curve(ql * price) - table.maintenance_margin_curve(qs * price)


def test_cross_hedge_price_matches_brute_force_with_tiers():
    """Random BTC hedge pairs in cross: the reported shared price is the root of
    balance = MM (legs' tiers looked up at each price) nearest the mark, found by scanning and
    bisection."""
    import numpy as np

    table = BracketTable.load(BTC)
    rng = np.random.default_rng(11)
    checked = 0
    for _ in range(150):
        long_n, short_n = 10 ** rng.uniform(4, 6.3, size=2)
        wallet = float(rng.uniform(0.02, 0.3) * max(long_n, short_n))
        acct = Account(wallet * 3, fee_rate=0, position_mode="hedge")
        acct.set_margin_mode(BTC, "cross")
        try:
            acct.open_position(BTC, "long", notional=long_n, price=100_000, leverage=20)
            acct.open_position(BTC, "short", notional=short_n, price=100_000, leverage=20)
        except OrderRefusedError:
            continue
        cross_wallet = acct.report().cross_wallet_balance
        ql, qs = long_n / 100_000, short_n / 100_000
        grid = np.geomspace(1e-3, 1e12, 60_001)
        slack = _pair_slack(grid, cross_wallet, ql, qs, table)
        roots = []
        for k in np.nonzero(np.sign(slack[:-1]) != np.sign(slack[1:]))[0]:
            lo, hi = grid[k], grid[k + 1]
            for _ in range(100):
                mid = 0.5 * (lo + hi)
                same = np.sign(_pair_slack(mid, cross_wallet, ql, qs, table)) == np.sign(slack[k])
                lo, hi = (mid, hi) if same else (lo, mid)
            roots.append(0.5 * (lo + hi))
        got = acct.report().position(BTC, "long").liquidation_price
        if not roots:
            assert math.isnan(got)
            continue
        expected = min(roots, key=lambda r: abs(r - 100_000))
        assert got == pytest.approx(expected, rel=1e-7)
        checked += 1
    assert checked > 50
