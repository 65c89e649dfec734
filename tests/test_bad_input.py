"""Bad input: every public function refuses it with a ValueError subclass whose message names the
parameter, the value given and what is allowed; refused account operations change nothing."""

from __future__ import annotations

import math

import numpy as np
import pytest

import margin_lib as ml
from margin_lib import InvalidInputError, MarginError
from margin_lib.account import Account
from margin_lib.examples import CASE_A, article_mmr

NAN, INF = float("nan"), float("inf")
BTC = ml.BracketTable.load("BTCUSDT")

CASES = [
    # (call, expected message fragment)
    (lambda: ml.initial_margin(-1_000, 10), "notional must be > 0; got -1000.0"),
    (lambda: ml.initial_margin(0, 10), "notional must be > 0; got 0.0"),
    (lambda: ml.initial_margin(1_000, 0), "leverage must be >= 1; got 0.0"),
    (lambda: ml.initial_margin(1_000, -5), "leverage must be >= 1; got -5.0"),
    (lambda: ml.initial_margin(1_000, NAN), "leverage must be a finite number >= 1; got nan"),
    (lambda: ml.initial_margin(INF, 10), "notional must be a finite number > 0; got inf"),
    (lambda: ml.initial_margin("100", 10), "notional must be a number; got '100'"),
    (lambda: ml.initial_margin([100, -1], 10), "notional must be > 0; got -1.0 (at index 1)"),
    (
        lambda: ml.unrealized_pnl("up", 1, 100, 90),
        "side must be 'long' or 'short' (or 'buy' / 'sell'; any case), +1 or -1; got 'up'",
    ),
    (
        lambda: ml.unrealized_pnl(2, 1, 100, 90),
        "side must be 'long' or 'short' (or 'buy' / 'sell'; any case), +1 or -1; got 2.0",
    ),
    (lambda: ml.unrealized_pnl(True, 1, 100, 90), "side must be 'long' or 'short'"),
    (lambda: ml.unrealized_pnl("long", -1, 100, 90), "quantity must be > 0; got -1.0"),
    (lambda: ml.unrealized_pnl("long", 1, -100, 90), "entry_price must be > 0; got -100.0"),
    (lambda: ml.unrealized_pnl("long", 1, 100, NAN), "mark_price must be a finite number > 0; got nan"),
    (lambda: ml.maintenance_margin(1_000, 1.5), "mmr must satisfy 0 <= mmr < 1; got 1.5"),
    (lambda: ml.maintenance_margin(1_000, 0.005, -1), "maintenance_amount must be >= 0; got -1.0"),
    (lambda: ml.maintenance_margin(1_000, 0.005, 300), "maintenance_amount must not exceed notional × mmr"),
    (
        lambda: ml.liquidation_price("long", 1, 100, 10),
        "give exactly one of mmr= (with maintenance_amount=) or",
    ),
    (
        lambda: ml.liquidation_price("long", 1, 100, 10, mmr=0.005, brackets=BTC),
        "give exactly one of mmr=",
    ),
    (
        lambda: ml.liquidation_price("long", 1, 100, 10, brackets=BTC, maintenance_amount=5),
        "maintenance_amount comes from the bracket table",
    ),
    (lambda: ml.liquidation_price("long", 1, 100, 10, brackets={"a": 1}), "brackets must be a BracketTable"),
    (lambda: ml.liquidation_price("long", 0, 100, 10, mmr=0.005), "quantity must be > 0; got 0.0"),
    # a cross wallet can be negative, so only a non-finite wallet is bad input
    (
        lambda: ml.liquidation_price("long", 1, 100, NAN, mmr=0.005),
        "wallet_balance must be a finite number; got nan",
    ),
    (
        lambda: ml.liquidation_price("long", 1, 100, 10, mmr=0.005, other_maintenance_margin=-1),
        "other_maintenance_margin must be >= 0; got -1.0",
    ),
    (
        lambda: ml.liquidation_price("long", 1, 100, 10, mmr=0.005, other_unrealized_pnl=NAN),
        "other_unrealized_pnl must be a finite number; got nan",
    ),
    (
        lambda: ml.hedge_liquidation_price(1, 100, 0, 100, 10, long_mmr=0.005, short_mmr=0.005),
        "short_quantity must be > 0; got 0.0",
    ),
    (
        lambda: ml.hedge_liquidation_price(1, 100, 1, 100, 10, long_mmr=-0.1, short_mmr=0.005),
        "long_mmr must satisfy 0 <= long_mmr < 1; got -0.1",
    ),
    (lambda: ml.bankruptcy_price("sideways", 1, 100, 10), "side must be 'long' or 'short'"),
    (lambda: ml.bankruptcy_price("long", 1, 100, INF), "wallet_balance must be a finite number; got inf"),
    (lambda: ml.margin_ratio(-1, 100), "maintenance_margin must be >= 0; got -1.0"),
    (lambda: ml.margin_ratio(1, NAN), "margin_balance must be a finite number; got nan"),
    (lambda: ml.account_margin_level(INF, 1), "equity must be a finite number; got inf"),
    (lambda: ml.error_tolerance(0.5, 0.005), "leverage must be >= 1; got 0.5"),
    (lambda: ml.adverse_move_to_liquidation("long", 10, 1.0), "mmr must satisfy 0 <= mmr < 1; got 1.0"),
    (lambda: ml.trading_fee(1_000, 0.5), "rate must satisfy 0 <= rate <= 0.01; got 0.5"),
    (lambda: ml.trading_fee(1_000, -0.001), "rate must satisfy 0 <= rate <= 0.01; got -0.001"),
    (lambda: ml.funding_payment("long", 1, 100, 0.2), "rate must satisfy -0.05 <= rate <= 0.05; got 0.2"),
    (lambda: ml.funding_payment("long", 1, -100, 0.0001), "mark_price must be > 0; got -100.0"),
    (lambda: ml.notional(1, 0), "price must be > 0; got 0.0"),
    (lambda: ml.return_on_equity("long", 1, 100, 90, 0), "leverage must be >= 1; got 0.0"),
    (lambda: ml.BracketTable.flat(0, 10), "mmr must satisfy 0 < mmr < 1; got 0.0"),
    (lambda: ml.BracketTable.flat(0.2, 10), "mmr must be below the initial margin rate"),
    (lambda: article_mmr(200), "leverage must be at most 125 in the article's table; got 200"),
    (lambda: CASE_A.build_account(tiers="real"), "tiers must be one of 'article', 'exchange'; got 'real'"),
    (lambda: CASE_A.marks({"BTCUSDT": -1.5}), "moves['BTCUSDT'] must be > -1; got -1.5"),
    (lambda: Account(0), "wallet_balance must be > 0; got 0.0"),
    (lambda: Account(100, fee_rate=0.5), "fee_rate must satisfy 0 <= fee_rate <= 0.01; got 0.5"),
    (
        lambda: Account(100, position_mode="both"),
        "position_mode must be one of 'one-way', 'hedge'; got 'both'",
    ),
    (lambda: Account(100, brackets={"BTCUSDT": "x"}), "brackets['BTCUSDT'] must be a BracketTable"),
]


@pytest.mark.parametrize("call, words", CASES, ids=[w[:50] for _, w in CASES])
def test_bad_input_is_refused_with_a_clear_message(call, words):
    with pytest.raises(MarginError) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert words in str(info.value)


def test_arrays_name_the_first_bad_element():
    with pytest.raises(InvalidInputError, match=r"leverage must be >= 1; got 0.0 \(at index \(1, 0\)\)"):
        ml.initial_margin(100.0, np.array([[5.0, 10.0], [0.0, 20.0]]))
    with pytest.raises(InvalidInputError, match=r"side must be .*; got 'flat' \(at index 2\)"):
        ml.unrealized_pnl(np.array(["long", "SHORT", "flat"]), 1, 100, 90)


def test_good_arrays_broadcast_and_scalars_return_floats():
    sides = np.array(["long", "Short", "LONG"])
    out = ml.unrealized_pnl(sides, 1.0, 100.0, np.array([[90.0], [110.0]]))
    assert out.shape == (2, 3)
    assert out.tolist() == [[-10, 10, -10], [10, -10, 10]]
    assert isinstance(ml.initial_margin(1_000, 10), float)
    assert ml.unrealized_pnl([1, -1], 1, 100, 90).tolist() == [-10, 10]


def test_nan_only_where_the_exchange_shows_dashes():
    # a 1x long cannot be liquidated above zero
    assert math.isnan(ml.liquidation_price("long", 1, 100, 100, mmr=0.005))
    assert math.isnan(ml.bankruptcy_price("long", 1, 100, 100))
    assert not math.isnan(ml.liquidation_price("short", 1, 100, 100, mmr=0.005))


# ----------------------------------------------------------------- account operations
def _account():
    acct = Account(1_000, fee_rate=0.0005)
    acct.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=10)
    acct.set_margin_mode("ETHUSDT", "cross")
    acct.open_position("ETHUSDT", "short", notional=1_000, price=4_000, leverage=10)
    return acct


ACCOUNT_CASES = [
    (
        lambda a: a.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=0),
        "leverage must be >= 1",
    ),
    (
        lambda a: a.open_position("SOLUSDT", "long", notional=1_000, price=100, leverage=5),
        "symbol 'SOLUSDT' has no bracket table",
    ),
    (
        lambda a: a.open_position("BTCUSDT", "long", notional=-1_000, price=100_000, leverage=10),
        "notional must be > 0; got -1000.0",
    ),
    (
        lambda a: a.open_position("BTCUSDT", "long", price=100_000, leverage=10),
        "give exactly one of quantity= (coins) or notional= (USDT)",
    ),
    (
        lambda a: a.open_position("BTCUSDT", "long", quantity=1, notional=1, price=100_000, leverage=10),
        "give exactly one of quantity=",
    ),
    (
        lambda a: a.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=20),
        "leverage must match the 10x set for the open BTCUSDT position; got 20x",
    ),
    (
        lambda a: a.open_position("BTCUSDT", "long", notional=9_000, price=100_000, leverage=10),
        "insufficient available balance",
    ),
    (
        lambda a: a.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=151),
        "leverage must be at most 150x",
    ),
    (
        lambda a: a.open_position("", "long", notional=1, price=1, leverage=1),
        "symbol must be a non-empty string",
    ),
    (lambda a: a.add_margin("BTCUSDT", NAN), "amount must be a finite number > 0; got nan"),
    (lambda a: a.add_margin("BTCUSDT", 10_000), "amount must not exceed the available balance"),
    (lambda a: a.add_margin("ETHUSDT", 10), "cannot add margin to the cross ETHUSDT position"),
    (lambda a: a.remove_margin("BTCUSDT", 0), "amount must be > 0; got 0.0"),
    (lambda a: a.remove_margin("BTCUSDT", 50), "amount must not exceed the removable margin"),
    (lambda a: a.remove_margin("SOLUSDT", 5), "symbol 'SOLUSDT' has no open position (size 0)"),
    (lambda a: a.set_margin_mode("BTCUSDT", "cross"), "cannot switch BTCUSDT to cross margin while"),
    (
        lambda a: a.set_margin_mode("BTCUSDT", "portfolio"),
        "mode must be one of 'isolated', 'cross'; got 'portfolio'",
    ),
    (lambda a: a.set_position_mode("hedge"), "cannot switch to hedge mode while positions are open"),
    (lambda a: a.set_leverage("BTCUSDT", 5), "must not be lowered below 10x"),
    (lambda a: a.close_position("BTCUSDT", 100_000, quantity=1), "quantity must not exceed the open 0.01"),
    (lambda a: a.close_position("BTCUSDT", 50_000), "would already be liquidated"),
    (lambda a: a.close_position("BTCUSDT", 100_000, side="short"), "has no open short position"),
    (lambda a: a.mark({"BTCUSDT": -1}), "prices['BTCUSDT'] must be > 0; got -1.0"),
    (lambda a: a.mark([("BTCUSDT", 1)]), "prices must be a dict of symbol -> mark price"),
    (
        lambda a: a.settle_funding({"BTCUSDT": 1.0}),
        "rates['BTCUSDT'] must satisfy -0.05 <= rates['BTCUSDT'] <= 0.05; got 1.0",
    ),
    (lambda a: a.deposit(-5), "amount must be > 0; got -5.0"),
    (lambda a: a.report().position("SOLUSDT"), "must name exactly one open position"),
]


@pytest.mark.parametrize("op, words", ACCOUNT_CASES, ids=[w[:50] for _, w in ACCOUNT_CASES])
def test_refused_account_operations_name_the_problem_and_change_nothing(op, words):
    acct = _account()
    before = acct.state()
    with pytest.raises(MarginError) as info:
        op(acct)
    assert words in str(info.value)
    assert acct.state() == before
