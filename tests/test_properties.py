"""Property tests (hypothesis) for liquidation prices and the account model.

- The liquidation price moves towards the entry as leverage rises and away from it as isolated
  margin is added; a fresh position at an allowed leverage is not liquidated at its entry.
- An isolated position never loses more than its isolated wallet.
- A cross liquidation closes every cross position at once and takes the cross wallet, while
  isolated positions on other symbols follow only their own condition.
- Refused account operations leave the account exactly as it was.
"""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from margin_lib import BracketTable, MarginError, liquidation_price
from margin_lib.account import MIN_QUANTITY, Account

TABLES = {name: BracketTable.load(name) for name in ("BTCUSDT", "ETHUSDT", "BTCUSDT-2021")}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ACCOUNT_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sides = st.sampled_from(["long", "short"])
entry_prices = st.floats(0.01, 200_000, allow_nan=False, allow_infinity=False)
fractions = st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False)


def log_uniform(low: float, high: float):
    """Floats spread evenly over the decades between ``low`` and ``high``."""
    return st.floats(math.log10(low), math.log10(high)).map(lambda x: 10**x)


@st.composite
def tables(draw) -> BracketTable:
    """A shipped snapshot or a flat one-tier table with a random MMR."""
    name = draw(st.sampled_from([*TABLES, "flat"]))
    if name != "flat":
        return TABLES[name]
    mmr = draw(st.floats(0.001, 0.2))
    return BracketTable.flat(mmr, min(125, math.ceil(1 / mmr) - 1))


@st.composite
def maintenance_rules(draw) -> dict:
    """Keyword arguments for :func:`liquidation_price`: a tier table, or a flat ``mmr=`` with or
    without a ``maintenance_amount=``."""
    if draw(st.booleans()):
        return {"brackets": draw(tables())}
    mmr = draw(st.floats(0.001, 0.2))
    cum = draw(st.sampled_from([0.0, None]))
    if cum is None:
        cum = draw(log_uniform(1e-2, 1e8))
    return {"mmr": mmr, "maintenance_amount": cum}


def toward(side: str, before: float, after: float) -> bool:
    """``after`` is not farther from the entry than ``before`` (a long's missing price counts as 0),
    up to rounding."""
    if side == "long":
        before = 0.0 if math.isnan(before) else before
        after = 0.0 if math.isnan(after) else after
        return after >= before - 1e-9 * before
    return after <= before * (1 + 1e-9)


# ----------------------------------------------------------------------------- liquidation price
@SETTINGS
@given(
    side=sides,
    notional=log_uniform(10, 1e10),
    entry=entry_prices,
    rule=maintenance_rules(),
    leverages=st.lists(st.floats(1, 150), min_size=2, max_size=6),
)
def test_raising_leverage_never_moves_liquidation_away_from_entry(side, notional, entry, rule, leverages):
    """With the isolated wallet = notional / leverage, a long's LP never falls and a short's never
    rises as the leverage grows (flat MMR, with or without cum, and tier tables)."""
    qty = notional / entry
    leverages = sorted(leverages)
    prices = [liquidation_price(side, qty, entry, notional / lev, **rule) for lev in leverages]
    if side == "short":
        assert not any(math.isnan(p) for p in prices)
    for (lev_a, lp_a), (lev_b, lp_b) in pairwise(zip(leverages, prices, strict=True)):
        assert toward(side, lp_a, lp_b), f"{side} LP {lp_a} at {lev_a}x, {lp_b} at {lev_b}x"


@SETTINGS
@given(
    side=sides,
    notional=log_uniform(10, 1e10),
    entry=entry_prices,
    rule=maintenance_rules(),
    wallet_fraction=log_uniform(1e-3, 2),
    added_fraction=log_uniform(1e-6, 5),
)
def test_adding_isolated_margin_moves_liquidation_away_from_entry(
    side, notional, entry, rule, wallet_fraction, added_fraction
):
    """More isolated margin gives a strictly lower LP for a long (or none at all) and a strictly
    higher LP for a short."""
    qty = notional / entry
    wallet = wallet_fraction * notional
    before = liquidation_price(side, qty, entry, wallet, **rule)
    after = liquidation_price(side, qty, entry, wallet + added_fraction * notional, **rule)
    if side == "long":
        assert math.isnan(after) or after < before, (before, after)
        if math.isnan(before):
            assert math.isnan(after)
    else:
        assert after > before, (before, after)


@SETTINGS
@given(side=sides, table=tables(), size=fractions, entry=entry_prices, leverage_share=fractions)
def test_fresh_position_at_allowed_leverage_is_not_liquidated_at_entry(
    side, table, size, entry, leverage_share
):
    """A new isolated position (wallet = N / L) at a leverage its tier allows has its LP below the
    entry for a long (or none) and above it for a short; an account reports that same price."""
    cap = table.records()[-1]["notional_cap"]
    top = min(cap, 1e10) * (1 - 1e-9)
    notional = 10 ** (1 + size * (math.log10(top) - 1))
    most = float(table.max_leverage(notional))
    leverage = 1 + leverage_share * (most - 1)
    qty = notional / entry
    lp = liquidation_price(side, qty, entry, qty * entry / leverage, brackets=table)  # as the account does
    if side == "long":
        assert math.isnan(lp) or lp < entry, (lp, entry, leverage)
    else:
        assert lp > entry, (lp, entry, leverage)
    # the same position opened in an account reports the same price
    acct = Account(2 * notional / leverage + 1, brackets={"TESTUSDT": table}, fee_rate=0)
    acct.open_position("TESTUSDT", side, notional=notional, price=entry, leverage=leverage)
    reported = acct.report().position("TESTUSDT").liquidation_price
    assert reported == pytest.approx(lp, rel=1e-12, nan_ok=True)


# ----------------------------------------------------------------------------- independent MM
def maintenance(table: BracketTable, notional: float) -> float:
    """``N × MMR − cum`` with the tier whose floor ≤ N (the last tier extended past its cap)."""
    rate, cum = None, None
    for rec in table.records():
        if notional >= rec["notional_floor"]:
            rate, cum = rec["mmr"], rec["maintenance_amount"]
    return notional * rate - cum


def allowed_leverage(table: BracketTable, notional: float, share: float) -> float:
    """A leverage between 1x and the tier's maximum; the tier is looked up a hair above the
    notional, as ``notional / price × price`` may round up onto the next tier's floor."""
    return 1 + share * (float(table.max_leverage(notional * (1 + 1e-12))) - 1)


# ----------------------------------------------------------------------------- account: isolated
@ACCOUNT_SETTINGS
@given(
    symbol=st.sampled_from(["BTCUSDT", "ETHUSDT"]),
    side=sides,
    notional=log_uniform(10, 5e7),
    entry=entry_prices,
    leverage_share=fractions,
    fee_rate=st.sampled_from([0.0, None]),
    spare=log_uniform(1e-3, 10),
    margin_change=st.sampled_from(["none", "add", "remove"]),
    change_share=st.floats(0.01, 1.0),
    moves=st.lists(log_uniform(0.02, 5), min_size=1, max_size=12),
)
def test_isolated_position_never_loses_more_than_its_wallet(
    symbol, side, notional, entry, leverage_share, fee_rate, spare, margin_change, change_share, moves
):
    """Whatever the marks, equity ≥ starting wallet − isolated wallet − fees paid, the cross
    wallet never moves, and a liquidation takes exactly the isolated wallet (also after margin
    was added to or removed from the position)."""
    entry = min(entry, notional / MIN_QUANTITY[symbol])  # at least the exchange's minimum quantity
    table = TABLES[symbol]
    leverage = allowed_leverage(table, notional, leverage_share)
    rate = 0.0005 if fee_rate is None else fee_rate
    start = (notional / leverage + notional * rate) * (1 + spare)
    acct = Account(start) if fee_rate is None else Account(start, fee_rate=fee_rate)
    acct.open_position(symbol, side, notional=notional, price=entry, leverage=leverage)
    if margin_change == "add":
        acct.add_margin(symbol, change_share * acct.report().available_balance)
    elif margin_change == "remove" and acct.max_removable_margin(symbol) > 0:
        acct.remove_margin(symbol, change_share * acct.max_removable_margin(symbol))
    fees = -sum(e.amount for e in acct.events if e.kind == "fee")
    assert fees == pytest.approx(notional * rate)
    isolated = acct.report().position(symbol).isolated_wallet
    cross = acct.report().cross_wallet_balance
    assert cross == pytest.approx(start - isolated - fees, rel=1e-12, abs=1e-12 * start)
    floor = start - isolated - fees
    liquidated = False
    for move in moves:
        price = entry * move
        events = acct.mark({symbol: price})
        report = acct.report()
        assert report.cross_wallet_balance == cross
        assert report.equity >= floor - 1e-9 * start
        if events:
            assert not liquidated
            liquidated = True
            assert [e.kind for e in events] in (["liquidation", "clearance"], ["liquidation", "insurance"])
            assert sum(e.amount for e in events) == pytest.approx(-isolated, rel=1e-9, abs=1e-9 * start)
            assert report.equity == pytest.approx(floor, rel=1e-12, abs=1e-12 * start)
            assert not report.positions
        elif not liquidated:
            s = 1 if side == "long" else -1
            margin_balance = isolated + s * (notional / entry) * (price - entry)
            assert margin_balance > maintenance(table, notional / entry * price) * (1 - 1e-9) - 1e-9
    event("liquidated" if liquidated else "survived")


# ----------------------------------------------------------------------------- account: cross
CROSS_SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
ISOLATED_SYMBOLS = ("XRPUSDT", "DOGEUSDT")
CUSTOM = {
    "SOLUSDT": BracketTable.flat(0.01, 50),
    "XRPUSDT": BracketTable.load("BTCUSDT-2021"),
    "DOGEUSDT": BracketTable.flat(0.02, 25),
}


def table_of(symbol: str) -> BracketTable:
    return CUSTOM.get(symbol) or TABLES[symbol]


def margin_excess(pos, price: float) -> float:
    """Own wallet + UPNL − MM of a position at ``price`` (the isolated wallet is 0 for cross)."""
    upnl = pos.side * pos.quantity * (price - pos.entry_price)
    return pos.isolated_wallet + upnl - maintenance(table_of(pos.symbol), pos.quantity * price)


@st.composite
def position_specs(draw, symbols):
    """For each symbol: None (no position) or (side, notional, entry, leverage)."""
    specs = {}
    for symbol in symbols:
        if draw(st.booleans()):
            notional = draw(log_uniform(10, 5e6))
            lev = allowed_leverage(table_of(symbol), notional, draw(fractions))
            # entry capped so that the position, and half of it (a hedge's second leg), is at
            # least the exchange's minimum quantity
            entry = draw(entry_prices)
            if symbol in MIN_QUANTITY:
                entry = min(entry, notional / (2 * MIN_QUANTITY[symbol]))
            specs[symbol] = (draw(sides), notional, entry, lev)
    return specs


@ACCOUNT_SETTINGS
@given(
    cross_specs=position_specs(CROSS_SYMBOLS),
    isolated_specs=position_specs(ISOLATED_SYMBOLS),
    spare=log_uniform(1e-3, 1),
    marks=st.lists(
        st.dictionaries(st.sampled_from(CROSS_SYMBOLS + ISOLATED_SYMBOLS), log_uniform(0.05, 4), min_size=1),
        max_size=8,
    ),
)
def test_cross_liquidation_closes_every_cross_position_and_spares_isolated_ones(
    cross_specs, isolated_specs, spare, marks
):
    """In each ``mark``: the cross positions are liquidated together exactly when cross wallet +
    cross UPNL ≤ cross MM (and then the cross wallet becomes 0); an isolated position is
    liquidated exactly when its own wallet + UPNL ≤ its MM, and that never touches the cross
    wallet. A final crash against every cross position is added to the random marks."""
    assume(cross_specs)
    acct_cost = sum(
        n / lev + n * 0.0005 for _, n, _, lev in [*cross_specs.values(), *isolated_specs.values()]
    )
    acct = Account(acct_cost * (1 + spare), brackets=CUSTOM)
    for symbol in cross_specs:
        acct.set_margin_mode(symbol, "cross")
    for symbol, (side, notional, entry, lev) in {**cross_specs, **isolated_specs}.items():
        acct.open_position(symbol, side, notional=notional, price=entry, leverage=lev)
    crash = {s: spec[2] * (1e-4 if spec[0] == "long" else 1e4) for s, spec in cross_specs.items()}
    random_marks = [
        {s: cross_specs.get(s, isolated_specs.get(s, (0, 0, 1.0)))[2] * f for s, f in m.items()}
        for m in marks
    ]
    cross_liquidations = 0
    for prices in [*random_marks, crash]:
        before = {(p.symbol, p.side): p for p in acct.positions}
        marks_now = {p.symbol: p.mark_price for p in before.values()}
        marks_now.update({s: p for s, p in prices.items() if s in marks_now})
        cross_wallet = acct.report().cross_wallet_balance
        excess = {key: margin_excess(p, marks_now[p.symbol]) for key, p in before.items()}
        cross_before = [key for key, p in before.items() if p.margin_mode == "cross"]
        cross_excess = cross_wallet + sum(excess[key] for key in cross_before)
        scale = cross_wallet + sum(p.quantity * marks_now[p.symbol] for p in before.values())

        events = acct.mark(prices)
        after = {(p.symbol, p.side) for p in acct.positions}
        cross_events = [e for e in events if e.margin_mode == "cross"]
        if cross_events:  # all cross positions go together, with the whole cross wallet
            cross_liquidations += 1
            assert not [p for p in acct.positions if p.margin_mode == "cross"]
            assert {(e.symbol, e.side) for e in cross_events if e.symbol} == {
                (s, "long" if side == 1 else "short") for s, side in cross_before
            }
            # closed at the marks, then the rest taken (or covered): the cross wallet, in all
            assert sum(e.amount for e in cross_events) == pytest.approx(-cross_wallet, abs=1e-9 * scale)
            assert acct.report().cross_wallet_balance == 0.0
        else:  # isolated liquidations never touch the cross wallet
            assert acct.report().cross_wallet_balance == cross_wallet
        for key, p in before.items():  # each position follows its own condition
            if abs(excess[key] if p.margin_mode == "isolated" else cross_excess) <= 1e-9 * scale:
                continue  # too close to the line to call
            survives = excess[key] > 0 if p.margin_mode == "isolated" else cross_excess > 0
            assert (key in after) == survives, (p, excess[key], cross_excess)
        if prices is crash:  # it marks only cross symbols: every open isolated position survives
            assert all(key in after for key, p in before.items() if p.margin_mode == "isolated")
    event(f"cross liquidations: {cross_liquidations}")
    assert cross_liquidations <= 1


# ----------------------------------------------------------------------------- refused operations
NAN = float("nan")


def position_operations(acct: Account, p, positions: list, available: float, u: float) -> list:
    """Operations the account must refuse on the open position ``p`` (one function call per
    position, so every lambda keeps its own position)."""
    hedge = acct.position_mode == "hedge"
    sym, side = p.symbol, p.side
    legs = [q for q in positions if q.symbol == sym]
    total = sum(q.quantity * q.mark_price for q in legs)
    table = table_of(sym)
    other_mode = "cross" if p.margin_mode == "isolated" else "isolated"
    lower = p.leverage / 2 if p.leverage >= 2 else 2.0
    ops = [
        ("switch margin mode with a position open", lambda: acct.set_margin_mode(sym, other_mode)),
        (
            "close more than a leg",
            lambda: acct.close_position(sym, p.mark_price, side=side, quantity=p.quantity * (1 + u)),
        ),
        ("close at a NaN price", lambda: acct.close_position(sym, NAN, side=side)),
        (
            "open at another leverage",
            lambda: acct.open_position(sym, side, notional=10, price=p.mark_price, leverage=lower),
        ),
        (
            "raise leverage above its tier's maximum",
            lambda: acct.set_leverage(sym, float(table.max_leverage(total)) * (1 + u) + 1),
        ),
        ("NaN margin to a leg", lambda: acct.add_margin(sym, NAN, side=side)),
        ("negative margin from a leg", lambda: acct.remove_margin(sym, -u, side=side)),
    ]
    if not hedge:
        ops.append(
            (
                "open the other side in one-way mode",
                lambda: acct.open_position(sym, -side, notional=10, price=p.mark_price, leverage=p.leverage),
            )
        )
    elif len(legs) == 2:
        ops.append(("add margin to a hedged symbol without a side", lambda: acct.add_margin(sym, 1.0)))
    if p.margin_mode == "cross":
        ops += [
            ("add margin to a cross position", lambda: acct.add_margin(sym, 1.0, side=side)),
            ("remove margin from a cross position", lambda: acct.remove_margin(sym, 1.0, side=side)),
        ]
        if total * (1 - 1 / p.leverage) > available * (1 + 1e-6) + 1e-6:
            ops.append(
                ("lower cross leverage beyond the available balance", lambda: acct.set_leverage(sym, 1.0))
            )
    else:
        most = acct.max_removable_margin(sym, side)
        ops += [
            (
                "add more than available to a leg",
                lambda: acct.add_margin(sym, (available + 1e-6) * (1 + u), side=side),
            ),
            (
                "remove more than removable from a leg",
                lambda: acct.remove_margin(sym, most * (1 + u) + 1e-6, side=side),
            ),
        ]
        if p.leverage > 1:
            ops.append(("lower an isolated leverage", lambda: acct.set_leverage(sym, 1.0)))
    return ops


def refused_operations(acct: Account, excess: float) -> list:
    """Operations the account must refuse in its current state, as (label, callable) pairs;
    ``excess`` (> 0) sets by how much a limit is overstepped."""
    u = excess
    report = acct.report()
    available = report.available_balance
    hedge = acct.position_mode == "hedge"
    # opening at 3,000 re-marks ETHUSDT first; no available balance at that mark exceeds this
    beyond_any_balance = (
        report.wallet_balance
        + sum(
            p.quantity * (abs(p.mark_price - p.entry_price) + abs(3_000 - p.entry_price))
            for p in acct.positions
        )
        + 1.0
    )
    ops = [
        ("close a symbol with no position", lambda: acct.close_position("SOLUSDT", 100.0)),
        (
            "open an unknown symbol",
            lambda: acct.open_position("FOOUSDT", 1, notional=10, price=1, leverage=1),
        ),
        (
            "open above the tier's maximum leverage",
            lambda: acct.open_position(
                "ETHUSDT", "long", notional=1e6, price=3_000, leverage=75 * (1 + u) + 1
            ),
        ),
        (
            "open more than the available balance",
            lambda: acct.open_position(
                "ETHUSDT", "short", notional=beyond_any_balance * (1 + u), price=3_000, leverage=1
            ),
        ),
        (
            "open at a notional beyond the last tier",
            lambda: acct.open_position("XRPUSDT", 1, notional=2e7, price=1, leverage=1),
        ),
        ("negative deposit", lambda: acct.deposit(-u)),
        ("NaN deposit", lambda: acct.deposit(NAN)),
        ("negative mark", lambda: acct.mark({"BTCUSDT": 100.0, "ETHUSDT": -u})),
        ("NaN mark", lambda: acct.mark({"BTCUSDT": NAN})),
        ("bad side", lambda: acct.open_position("ETHUSDT", "up", notional=10, price=1, leverage=1)),
        (
            "leverage below 1",
            lambda: acct.open_position("ETHUSDT", "long", notional=10, price=1, leverage=0.5),
        ),
        ("NaN price", lambda: acct.open_position("ETHUSDT", "long", notional=10, price=NAN, leverage=1)),
        (
            "negative quantity",
            lambda: acct.open_position("ETHUSDT", "long", quantity=-u, price=1, leverage=1),
        ),
        (
            "quantity and notional",
            lambda: acct.open_position("ETHUSDT", 1, quantity=1, notional=1, price=1, leverage=1),
        ),
        (
            "fee rate too high",
            lambda: acct.open_position("ETHUSDT", 1, notional=10, price=1, leverage=1, fee_rate=0.5),
        ),
        ("funding rate too high", lambda: acct.settle_funding({"BTCUSDT": 0.5})),
        ("unknown margin mode", lambda: acct.set_margin_mode("BTCUSDT", "portfolio")),
        ("unknown position mode", lambda: acct.set_position_mode("both")),
        ("leverage 0", lambda: acct.set_leverage("BTCUSDT", 0)),
    ]
    positions = acct.positions
    if positions:
        other = "one-way" if hedge else "hedge"
        ops.append(("switch position mode with positions open", lambda: acct.set_position_mode(other)))
    for pos in positions:
        ops += position_operations(acct, pos, positions, available, u)
    return ops


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    specs=position_specs(("BTCUSDT", "ETHUSDT", "XRPUSDT")),
    spare=log_uniform(1e-3, 2),
    hedge=st.booleans(),
    excess=log_uniform(1e-3, 10),
)
def test_refused_operations_change_nothing(data, specs, spare, hedge, excess):
    """Every operation the account must refuse raises a MarginError and leaves ``state()``
    exactly as it was (wallet, positions, marks, modes, leverage and events); in one-way and hedge
    mode, with isolated and cross positions whose marks have moved."""
    cost = sum(n / lev + n * 0.0005 for _, n, _, lev in specs.values())
    acct = Account(
        2 * cost * (1 + spare) + 1.0, brackets=CUSTOM, position_mode="hedge" if hedge else "one-way"
    )
    for symbol, (side, notional, entry, lev) in specs.items():
        if data.draw(st.booleans(), label=f"{symbol} cross"):
            acct.set_margin_mode(symbol, "cross")
        acct.open_position(symbol, side, notional=notional, price=entry, leverage=lev)
        if hedge and data.draw(st.booleans(), label=f"{symbol} both legs"):
            other = "short" if side == "long" else "long"
            acct.open_position(symbol, other, notional=notional / 2, price=entry, leverage=lev)
    for symbol, (_, _, entry, _) in specs.items():  # move the marks a little: UPNL is not 0
        acct.mark({symbol: entry * data.draw(st.floats(0.97, 1.03), label=f"{symbol} mark")})
    ops = refused_operations(acct, excess)
    label = data.draw(st.sampled_from(sorted({kind for kind, _ in ops})), label="operation")
    op = data.draw(st.sampled_from([op for kind, op in ops if kind == label]), label="on")
    before = acct.state()
    with pytest.raises(MarginError):
        op()
    assert acct.state() == before, label
    event(label)
