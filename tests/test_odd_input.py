"""Inputs a notebook user types every day, and some nobody should: each is accepted where the value
is sensible, or refused with an :class:`InvalidInputError` (a ``ValueError``) that names the
parameter; never a bare ``TypeError``, ``RecursionError``, ``KeyError`` or ``OverflowError``,
and never an ``inf`` passed off as a price. Every case here raised one of those before."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest

import margin_lib as ml
from margin_lib import InvalidInputError
from margin_lib.account import Account
from margin_lib.examples import CASE_A
from margin_lib.exercises import Exercise
from margin_lib.replay import replay

BTC_TABLE = ml.BracketTable.load("BTCUSDT")

# every public function that takes a side, called with the side given
SIDE_CALLS = {
    "unrealized_pnl": lambda s: ml.unrealized_pnl(s, 1, 100, 90),
    "return_on_equity": lambda s: ml.return_on_equity(s, 1, 100, 90, 10),
    "adverse_move_to_liquidation": lambda s: ml.adverse_move_to_liquidation(s, 10, 0.005),
    "liquidation_price": lambda s: ml.liquidation_price(s, 1, 100, 10, mmr=0.005),
    "liquidation_price (tiers)": lambda s: ml.liquidation_price(s, 0.01, 100_000, 100, brackets=BTC_TABLE),
    "bankruptcy_price": lambda s: ml.bankruptcy_price(s, 1, 100, 10),
    "funding_payment": lambda s: ml.funding_payment(s, 1, 100, 0.0001),
    "Account.open_position": lambda s: _opened(s).report().position("BTCUSDT").side,
    "Account.place_order": lambda s: Account(1_000).place_order(
        "BTCUSDT", s, quantity=0.001, price=100_000, leverage=10
    )[0].side,
    "Account.has_position": lambda s: _opened("long").has_position("BTCUSDT", s),
    "Account.close_position": lambda s: _opened(s).close_position("BTCUSDT", 100_000, side=s),
    "AccountReport.position": lambda s: _opened(s).report().position("BTCUSDT", s).side,
}


def _opened(side) -> Account:
    acct = Account(1_000, fee_rate=0)
    acct.open_position("BTCUSDT", side, quantity=0.001, price=100_000, leverage=10)
    return acct


@pytest.mark.parametrize("call", SIDE_CALLS.values(), ids=SIDE_CALLS.keys())
@pytest.mark.parametrize(
    "same, words",
    [
        (Decimal(1), "long"),
        (Fraction(-1), "short"),
        (np.int64(1), "long"),
        (np.float32(-1), "short"),
        ("BUY", "long"),
        (" sell ", "short"),
    ],
)
def test_sides_written_as_other_numbers_or_order_words_mean_the_same(call, same, words):
    assert call(same) == call(words)


@pytest.mark.parametrize("call", SIDE_CALLS.values(), ids=SIDE_CALLS.keys())
@pytest.mark.parametrize(
    "odd, shown",
    [
        (b"long", "as text, not bytes; got b'long'"),
        (object(), "got <object object at"),
        (1 + 0j, "got the complex number (1+0j)"),
        (np.complex128(-1), "got the complex number"),
        (True, "got True"),
        (Decimal(2), "got Decimal('2')"),
    ],
)
def test_odd_sides_are_refused_by_name_in_every_function(call, odd, shown):
    with pytest.raises(InvalidInputError) as info:
        call(odd)
    assert str(info.value).startswith("side must be 'long' or 'short' (or 'buy' / 'sell'; any case)")
    assert shown in str(info.value)


# ----------------------------------------------------------------- one number, given as an array
def test_numpy_scalars_and_size_one_arrays_count_as_one_number():
    acct = Account(np.array([1_000.0]), fee_rate=np.float64(0))
    acct.open_position(
        "BTCUSDT", "long", quantity=np.array([0.01]), price=np.float64(100_000), leverage=np.int64(10)
    )
    acct.add_margin("BTCUSDT", np.array([[5.0]]))
    acct.remove_margin("BTCUSDT", np.float32(5.0))
    acct.deposit(np.array(10.0))
    acct.set_leverage("BTCUSDT", np.array([20]))
    acct.settle_funding({"BTCUSDT": np.float64(0.0001)})
    acct.mark({"BTCUSDT": np.array([99_000.0])})
    acct.place_order("BTCUSDT", "sell", quantity=np.array([0.005]), price=np.float64(99_000))
    acct.close_position("BTCUSDT", np.array([99_000.0]), quantity=np.float64(0.005))
    assert not acct.positions and isinstance(acct.report().wallet_balance, float)


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: Account(np.array([1_000.0, 2_000.0])), "wallet_balance"),
        (lambda: _opened("long").add_margin("BTCUSDT", [1.0, 2.0]), "amount"),
        (lambda: _opened("long").mark({"BTCUSDT": np.ones(3) * 90_000}), "prices['BTCUSDT']"),
        (lambda: _opened("long").set_leverage("BTCUSDT", [10, 20]), "leverage"),
        (lambda: _opened("long").deposit(np.ones((2, 2))), "amount"),
        (lambda: _opened("long").settle_funding({"BTCUSDT": [0.0001, 0.0002]}), "rates['BTCUSDT']"),
        (
            lambda: Account(1_000).open_position(
                "BTCUSDT", "long", quantity=0.01, price=[1e5, 2e5], leverage=10
            ),
            "price",
        ),
    ],
)
def test_larger_arrays_in_a_one_number_parameter_are_refused_by_name(call, name):
    with pytest.raises(InvalidInputError) as info:
        call()
    assert str(info.value).startswith(f"{name} must be a single number; got an array of shape")


# ----------------------------------------------------------------- other odd values
def test_other_values_that_crashed():
    # a Decimal entry with a float quantity: float × Decimal used to raise TypeError
    assert ml.return_on_equity("long", 0.01, Decimal(100_000), 92_000, 10) == pytest.approx(-0.8)
    assert "must be one finite number" in Exercise("x", "?", lambda: 5.0).check(10**400)
    assert Exercise("x", "?", lambda: 5.0).check(np.array([5.0])).endswith("right!")
    with pytest.raises(InvalidInputError, match="moves must name the example's symbols .* got 'SOLUSDT'"):
        CASE_A.marks({"SOLUSDT": 0.1})
    with pytest.raises(InvalidInputError, match="account must be an Account; got None"):
        replay(None, {"BTCUSDT": [100.0]})
    with pytest.raises(InvalidInputError, match=r"^notional must be a number a float can hold .*401 digits"):
        ml.initial_margin(10**400, 10)


def test_shapes_that_do_not_broadcast_are_named():
    with pytest.raises(InvalidInputError) as info:
        ml.unrealized_pnl("long", [1.0, 2.0], [100.0, 100.0, 100.0], 90.0)
    assert str(info.value) == (
        "the array arguments of unrealized_pnl must have shapes that broadcast together (equal, or 1 "
        "where they differ); got: quantity has shape (2,), entry_price has shape (3,)"
    )
    with pytest.raises(InvalidInputError, match=r"liquidation_price .* side has shape \(2,\), quantity has"):
        ml.liquidation_price(["long", "short"], [1.0, 2.0, 3.0], 100.0, 10.0, brackets=BTC_TABLE)
    # arrays that do broadcast still work and keep their shape
    assert ml.unrealized_pnl("long", [[1.0], [2.0]], [100.0, 110.0], 90.0).shape == (2, 2)


# ----------------------------------------------------------------- extreme magnitudes
def test_a_huge_quantity_gives_the_right_price_not_inf():
    # LP = (WB/Q + cum/Q − EP) / (MMR − 1): with Q = 1e308 the wallet is nothing per coin, so a
    # long sits above its entry (past liquidation at once): EP / (1 − MMR)
    assert ml.liquidation_price("long", 1e308, 100, 10, mmr=0.005) == pytest.approx(100 / 0.995)
    # with the tiers, a notional of 1e310 lies in the last tier extended (MMR 50 %): EP / 0.5
    assert ml.liquidation_price("long", 1e308, 100, 10, brackets=BTC_TABLE) == pytest.approx(200.0)
    assert ml.bankruptcy_price("short", 1e308, 100, 10) == pytest.approx(100.0)


def test_a_tiny_quantity_gives_dashes_or_a_refusal_by_name_never_inf():
    # a long whose wallet covers the whole notional many times over: no liquidation price ("--")
    assert math.isnan(ml.liquidation_price("long", 1e-320, 100, 10, mmr=0.005))
    assert math.isnan(ml.bankruptcy_price("long", 1e-320, 100, 10))
    # a short's price would be 1e322: no float holds it, so the inputs are refused by name
    for call in (
        lambda: ml.liquidation_price("short", 1e-320, 100, 10, mmr=0.005),
        lambda: ml.liquidation_price("short", 1e-320, 100, 10, brackets=BTC_TABLE),
        lambda: ml.bankruptcy_price("short", 1e-320, 100, 10),
    ):
        with pytest.raises(InvalidInputError, match=r"price is beyond the largest number a float can hold"):
            call()


def test_products_that_overflow_are_refused_by_name():
    with pytest.raises(InvalidInputError, match=r"the notional quantity × price .* quantity=1e\+200, price="):
        ml.notional(1e200, 1e200)
    with pytest.raises(InvalidInputError, match=r"the funding payment .* quantity=1e\+300"):
        ml.funding_payment("long", 1e300, 1e10, 0.01)
    with pytest.raises(InvalidInputError, match=r"the PnL .* \(at index 1\)"):
        ml.unrealized_pnl("long", [1.0, 1e300], 1.0, [2.0, 1e300])


def test_a_one_times_long_has_no_liquidation_price_not_a_rounding_crumb():
    # wallet = Q × EP exactly: before, rounding left a "liquidation price" of about 1e-11 USDT
    for q in (0.0012, 0.044247, 0.3):
        wallet = q * 100_000 / 1
        assert math.isnan(ml.liquidation_price("long", q, 100_000, wallet, brackets=BTC_TABLE))
        assert math.isnan(ml.bankruptcy_price("long", q, 100_000, wallet))


def test_a_negative_cross_wallet_is_a_valid_input():
    # cross wallet −1,000 held up by other positions' profit: a long must stay above its entry
    lp = ml.liquidation_price("long", 0.05, 100_000, -1_000, mmr=0.004)
    assert lp == pytest.approx(6_000 / (0.05 * 0.996))
    assert ml.bankruptcy_price("long", 0.05, 100_000, -1_000) == pytest.approx(120_000)


def test_a_hedge_whose_rates_cancel_has_no_liquidation_price_not_one_of_1e27():
    # 3 long to 1 short at MMR 50 %: Q_L·MMR_L + Q_S·MMR_S − Q_L + Q_S = 0.0018 + 0.0006 − 0.0036
    # + 0.0012 = 0; divided through by the larger leg it leaves ~1e-17 of rounding, which gave a
    # "price" of about 1e27 (found by the long ledger search, benchmarks/fuzz_ledger.py)
    def lp(short_mmr):
        return ml.hedge_liquidation_price(0.0036, 4e3, 0.0012, 4e3, 791, long_mmr=0.5, short_mmr=short_mmr)

    assert math.isnan(lp(0.5))
    # a denominator that is small but real keeps its price: (791 − 14.4 + 4.8) / 0.000012
    assert lp(0.51) == pytest.approx(781.4 / 0.000012)


def test_the_widgets_kept_results_take_arrays_and_keep_true_apart_from_one():
    """The lessons keep their last results (margin_lib._cache.kept): an unhashable size-1 array
    is worked out directly (the same text as the plain number), and True, which equals 1 to a
    plain cache, is still refused by name after 1 was kept."""
    from margin_lib.lessons import comparison, isolated_margin, stress_lab

    assert isolated_margin.view(move_pct=np.array(-5.0)) == isolated_margin.view(move_pct=-5.0)
    assert comparison.view(1_000.0, np.array([10.0]), -8.0, 5.0) == comparison.view(1_000.0, 10.0, -8.0, 5.0)
    rescue = isolated_margin.rescue_run
    assert rescue(final_move=np.array(-0.8)) == rescue(final_move=-0.8)
    assert stress_lab.simulate(n_paths=np.array(3), days=1)["BTCUSDT"].shape[0] == 3
    isolated_margin.view(leverage=1)
    with pytest.raises(InvalidInputError, match=r"leverage \(x\) must be a number; got True"):
        isolated_margin.view(leverage=True)
