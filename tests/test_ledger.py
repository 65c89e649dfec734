"""The account's ledger: money is conserved, orders trade like the exchange's in one-way mode.

Each reproduction of the ledger issue is a test here; every one failed on the code before it
(money created by a cross liquidation, a liquidation price that disagreed with ``mark``, a
closing fee that left a position open below maintenance, dust positions, short orders refused
on a long). Expected figures come from hand arithmetic, written beside them.
"""

from __future__ import annotations

import math

import pytest

from margin_lib import OrderRefusedError
from margin_lib.account import MIN_QUANTITY, Account, liquidation_losses

BTC, ETH = "BTCUSDT", "ETHUSDT"


def wallet(acct: Account) -> float:
    return acct.report().wallet_balance


# ----------------------------------------------------------------- 1. money that leaves cross
def eth_cross_long_in_profit() -> Account:
    """1,000 USDT; cross ETH long of 10,000 at 4,000 (2.5 ETH, 10x), marked at 4,800: +2,000
    unrealised, cross MM = 12,000 × 0.4 % = 48."""
    acct = Account(1_000, fee_rate=0)
    acct.set_margin_mode(ETH, "cross")
    acct.open_position(ETH, "long", notional=10_000, price=4_000, leverage=10)
    acct.mark({ETH: 4_800})
    return acct


def test_unrealised_profit_cannot_leave_the_cross_wallet():
    acct = eth_cross_long_in_profit()
    r = acct.report()
    assert r.available_balance == pytest.approx(1_000 + 2_000 - 12_000 / 10)  # 1,800: cross orders may use it
    assert r.max_transferable == pytest.approx(1_000 - 48)  # 952: only realised money may leave
    # the reproduction opened an isolated 1,000 at 1x from this profit; now it is refused
    before = acct.state()
    with pytest.raises(OrderRefusedError, match="only 952.00 USDT is available to move into an isolated"):
        acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=1)
    assert acct.state() == before
    acct.open_position(BTC, "long", notional=500, price=100_000, leverage=1)
    # ... and add_margin of the available balance (1,300) is refused: at most 452 may leave
    with pytest.raises(OrderRefusedError, match=r"must not exceed 452.00 USDT, what may leave the cross"):
        acct.add_margin(BTC, acct.report().available_balance)
    with pytest.raises(OrderRefusedError, match="must not exceed 452.00 USDT"):
        acct.withdraw(453)
    acct.add_margin(BTC, acct.max_transferable())
    assert acct.report().cross_wallet_balance == pytest.approx(48)  # never below the cross MM
    # every price back where it started: nothing liquidated, and no money made from nothing
    assert acct.mark({ETH: 4_000}) == []
    acct.close_position(BTC, 100_000)
    acct.close_position(ETH, 4_000)
    assert wallet(acct) == pytest.approx(1_000)


def test_a_cross_liquidation_never_raises_what_the_account_is_worth():
    """The cross wallet goes negative the legitimate way (a realised loss while another cross
    position is in profit); the liquidation then takes the margin balance that is left, and the
    realised profit that held the wallet up is booked, so equity only falls."""
    acct = cross_wallet_minus_1000()
    worth_at_new_mark = 1_500 - 0.05 * (150_000 - 120_000)  # −1,000 wallet + 0.05 BTC × 20,000 = 0
    events = acct.mark({BTC: 120_000})
    assert [e.kind for e in events] == ["liquidation", "clearance"]
    assert events[0].amount == pytest.approx(0.05 * 20_000)  # 1,000 of profit realised at the mark
    assert events[1].amount == pytest.approx(-worth_at_new_mark)
    assert wallet(acct) == pytest.approx(0.0) and acct.report().equity <= worth_at_new_mark + 1e-9


def test_a_gap_past_bankruptcy_is_absorbed_by_the_insurance_fund_and_said_so():
    acct = Account(1_000, fee_rate=0)
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(BTC, "long", notional=10_000, price=100_000, leverage=10)  # 0.1 BTC
    events = acct.mark({BTC: 80_000})  # UPNL −2,000 against a 1,000 wallet: −1,000 below zero
    assert [(e.kind, e.amount) for e in events] == [("liquidation", -2_000), ("insurance", 1_000)]
    assert "insurance fund absorbs" in events[1].note
    assert liquidation_losses(events) == {"cross": 1_000}  # the deposit, and not a cent more
    assert wallet(acct) == 0.0


# ----------------------------------------------------------------- 2. LP with a negative wallet
def cross_wallet_minus_1000() -> Account:
    """1,000 USDT; cross BTC long 0.05 at 100,000 and cross ETH short 1.25 at 4,000 (10x each).
    BTC to 150,000 (+2,500), ETH to 5,600 (−2,000); the ETH short is closed at a loss of 2,000,
    so the cross wallet is −1,000, held up by BTC's +2,500."""
    acct = Account(1_000, fee_rate=0)
    for sym in (BTC, ETH):
        acct.set_margin_mode(sym, "cross")
    acct.open_position(BTC, "long", notional=5_000, price=100_000, leverage=10)
    acct.open_position(ETH, "short", notional=5_000, price=4_000, leverage=10)
    acct.mark({BTC: 150_000, ETH: 5_600})
    assert acct.close_position(ETH, 5_600) == pytest.approx(-2_000)
    assert acct.report().cross_wallet_balance == pytest.approx(-1_000)
    return acct


def test_cross_liquidation_price_with_a_negative_wallet_agrees_with_mark():
    acct = cross_wallet_minus_1000()
    lp = acct.report().position(BTC).liquidation_price
    # MB = MM: −1,000 + 0.05 (LP − 100,000) = 0.004 × 0.05 LP  =>  LP = 6,000 / (0.05 × 0.996)
    assert lp == pytest.approx(6_000 / (0.05 * 0.996))  # 120,481.93; the clamped wallet gave 100,401.61
    assert acct.copy().mark({BTC: lp * (1 + 1e-9)}) == []
    assert acct.copy().mark({BTC: lp * (1 - 1e-9)}) != []


# ----------------------------------------------------------------- 3. a fee that crosses the line
def test_a_closing_fee_that_crosses_maintenance_liquidates_at_once():
    acct = Account(1_000, fee_rate=0)
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(BTC, "long", notional=100_000, price=100_000, leverage=100)  # 1 BTC, IM 1,000
    lp = acct.report().position(BTC).liquidation_price
    assert lp == pytest.approx(99_000 / 0.996)  # (Q·EP − WB) / (Q (1 − 0.4 %))
    mark = lp * 1.0005
    acct.mark({BTC: mark})
    # half closed at a 1 % fee: −276.4 realised, −497.2 fee; the other half would hold MB −49.95
    # against MM 198.89, so it goes too, in the same call
    acct.close_position(BTC, mark, quantity=0.5, fee_rate=0.01)
    assert not acct.positions
    *_, close, fee, liquidation, insurance = acct.events
    kinds = (close.kind, fee.kind, liquidation.kind, insurance.kind)
    assert kinds == ("close", "fee", "liquidation", "insurance")
    assert fee.amount == pytest.approx(-0.5 * mark * 0.01)
    assert insurance.amount == pytest.approx(-(1_000 + 2 * close.amount + fee.amount))  # MB was −49.95
    assert insurance.amount == pytest.approx(49.95, abs=0.01)
    assert wallet(acct) == 0.0


# ----------------------------------------------------------------- 4. dust
def test_a_close_within_rounding_of_the_whole_position_closes_it():
    acct = Account(100_000, fee_rate=0)
    acct.open_position(BTC, "long", quantity=0.1, price=100_000, leverage=10)
    acct.open_position(BTC, "long", quantity=0.2, price=100_000, leverage=10)
    acct.close_position(BTC, 100_000, quantity=0.3)  # 0.1 + 0.2 − 0.3 = 5.55e-17 in floats
    assert not acct.positions
    acct.set_margin_mode(BTC, "cross")  # nothing blocks it
    assert wallet(acct) == pytest.approx(100_000)


def test_no_operation_leaves_less_than_the_exchanges_minimum_quantity():
    assert MIN_QUANTITY[BTC] == 0.001
    acct = Account(100_000, fee_rate=0)
    acct.open_position(BTC, "long", quantity=0.01, price=100_000, leverage=10)
    before = acct.state()
    with pytest.raises(OrderRefusedError, match="would leave 0.0005 BTC open, less than the exchange's"):
        acct.close_position(BTC, 100_000, quantity=0.0095)
    with pytest.raises(OrderRefusedError, match="into a short of 0.0005 BTC, less than the exchange's"):
        acct.place_order(BTC, "sell", quantity=0.0105, price=100_000)  # a flip to a 0.0005 short
    with pytest.raises(OrderRefusedError, match="quantity must be at least 0.001 ETH"):
        acct.open_position(ETH, "long", quantity=0.0005, price=4_000, leverage=10)
    assert acct.state() == before


# ----------------------------------------------------------------- 6. one-way orders
def test_a_short_order_reduces_then_flips_a_long_the_issue_example():
    acct = Account(10_000, fee_rate=0)
    acct.place_order(BTC, "long", quantity=1, price=100_000, leverage=10)  # isolated: 10,000 locked
    events = acct.place_order(BTC, "short", quantity=0.4, price=110_000)
    assert [(e.kind, e.amount) for e in events] == [("close", pytest.approx(4_000))]  # 0.4 × 10,000
    (pos,) = acct.positions
    assert (pos.side_name, pos.quantity) == ("long", pytest.approx(0.6))
    assert pos.isolated_wallet == pytest.approx(6_000)  # 0.4 of the 10,000 released
    assert wallet(acct) == pytest.approx(14_000)
    events = acct.place_order(BTC, "short", quantity=1.0, price=110_000)
    assert [e.kind for e in events] == ["close", "open"]
    (pos,) = acct.positions
    assert (pos.side_name, pos.quantity, pos.entry_price) == ("short", pytest.approx(0.4), 110_000)
    assert pos.isolated_wallet == pytest.approx(0.4 * 110_000 / 10)  # its own margin, 4,400
    assert wallet(acct) == pytest.approx(20_000)


def test_an_order_equal_to_the_position_closes_it_with_fees_on_each_fill():
    acct = Account(10_000, fee_rate=0.0005)
    acct.place_order(BTC, "buy", quantity=0.1, price=100_000, leverage=10)  # fee 5
    acct.place_order(BTC, "sell", quantity=0.1, price=101_000)  # +100 PnL, fee 5.05
    assert not acct.positions
    assert wallet(acct) == pytest.approx(10_000 - 5 + 100 - 5.05)


def test_reduce_only_refuses_growing_or_flipping_and_changes_nothing():
    acct = Account(10_000, fee_rate=0)
    with pytest.raises(OrderRefusedError, match="reduce_only: there is no short BTCUSDT position"):
        acct.place_order(BTC, "long", quantity=0.1, price=100_000, leverage=10, reduce_only=True)
    acct.place_order(BTC, "long", quantity=0.1, price=100_000, leverage=10)
    before = acct.state()
    with pytest.raises(OrderRefusedError, match="it would add to the long"):
        acct.place_order(BTC, "long", quantity=0.1, price=100_000, reduce_only=True)
    with pytest.raises(OrderRefusedError, match="so it would flip the position"):
        acct.place_order(BTC, "short", quantity=0.2, price=100_000, reduce_only=True)
    assert acct.state() == before
    acct.place_order(BTC, "short", quantity=0.1, price=100_000, reduce_only=True)
    assert not acct.positions


def test_a_flip_whose_new_side_cannot_be_paid_is_refused_whole():
    acct = Account(1_000, fee_rate=0)
    acct.place_order(BTC, "long", quantity=0.01, price=100_000, leverage=10)  # 100 locked
    before = acct.state()
    # closing 0.01 frees 100 (1,000 in all); the short of 1 BTC at 10x needs 10,000
    with pytest.raises(OrderRefusedError, match="insufficient available balance"):
        acct.place_order(BTC, "short", quantity=1.01, price=100_000)
    assert acct.state() == before


def test_hedge_mode_orders_open_the_leg_of_their_side():
    acct = Account(10_000, fee_rate=0, position_mode="hedge")
    acct.place_order(BTC, "long", quantity=0.1, price=100_000, leverage=10)
    acct.place_order(BTC, "short", quantity=0.05, price=100_000)
    assert sorted((p.side_name, p.quantity) for p in acct.positions) == [("long", 0.1), ("short", 0.05)]
    with pytest.raises(OrderRefusedError, match="reduce_only applies in one-way mode"):
        acct.place_order(BTC, "short", quantity=0.05, price=100_000, reduce_only=True)


def test_open_position_against_the_other_side_points_to_place_order():
    acct = Account(10_000, fee_rate=0)
    acct.open_position(BTC, "long", quantity=0.1, price=100_000, leverage=10)
    with pytest.raises(OrderRefusedError, match=r"reduces, closes or flips it rather than opening"):
        acct.open_position(BTC, "short", quantity=0.1, price=100_000, leverage=10)


def test_order_leverage_defaults_to_the_setting_and_must_match_an_open_position():
    acct = Account(10_000, fee_rate=0)
    acct.place_order(BTC, "long", quantity=0.1, price=100_000)  # the exchange's default, 20x
    assert acct.report().position(BTC).isolated_wallet == pytest.approx(10_000 / 20)
    with pytest.raises(OrderRefusedError, match="leverage must match the 20x set"):
        acct.place_order(BTC, "long", quantity=0.1, price=100_000, leverage=10)


# ----------------------------------------------------------------- 12. leverage settings
def test_set_leverage_is_checked_even_with_no_position_open():
    acct = Account(1_000)
    with pytest.raises(OrderRefusedError, match=r"leverage must be at most 150x .*got 200x"):
        acct.set_leverage(BTC, 200)
    with pytest.raises(OrderRefusedError, match="symbol 'SOLUSDT' has no bracket table"):
        acct.set_leverage("SOLUSDT", 10)
    acct.set_leverage(BTC, 125)
    assert acct.leverage(BTC) == 125


def test_withdraw_takes_only_what_may_leave():
    acct = Account(1_000, fee_rate=0)
    acct.withdraw(400)
    assert wallet(acct) == 600 and [e.kind for e in acct.events] == ["withdraw"]
    acct.open_position(BTC, "long", notional=1_000, price=100_000, leverage=10)
    with pytest.raises(OrderRefusedError, match="must not exceed the available balance 500.00 USDT"):
        acct.withdraw(501)
    assert math.isclose(acct.max_transferable(), 500)


def test_no_slack_on_what_may_leave_the_cross_wallet():
    # found by the state machine: a 1e-9 allowance let add_margin leave the cross wallet at −1e-9
    acct = Account(200, fee_rate=0)
    acct.open_position(BTC, "long", quantity=0.001, price=100_000, leverage=2)  # 50 locked
    most = acct.max_transferable()
    with pytest.raises(OrderRefusedError):
        acct.add_margin(BTC, most + 1e-10)
    acct.add_margin(BTC, most)
    assert acct.report().cross_wallet_balance == 0.0
