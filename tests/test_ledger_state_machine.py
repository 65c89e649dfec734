"""Random sequences of account operations (a hypothesis state machine), invariants after each.

Operations: deposits and withdrawals, market orders (open, add, reduce, close, flip; reduce-only),
partial closes, margin added to and removed from isolated positions, leverage and margin-mode
changes, new marks (small moves and crashes) and funding, on an isolated and a cross symbol, in
one-way or hedge mode, with and without fees. After every step:

- **money is conserved**: the wallet equals the deposits plus the sum of the wallet events (an
  independent ledger of the events), and the equity moved only by what the test computes itself
  (fees, funding, transfers) and by what liquidations took; a liquidation takes exactly the
  margin balance left (or, below zero, the insurance fund covers exactly the shortfall), so it
  never raises what the account is worth beyond that cover;
- **a refused operation leaves the state exactly unchanged**;
- **no isolated wallet is negative**, and no position is smaller than the exchange allows;
- **the reported liquidation price agrees with** ``mark()``: a mark just beyond it liquidates,
  one just short of it does not;
- **nothing stays open at or below maintenance**.

``make test`` runs a few hundred sequences; ``LEDGER_EXAMPLES=20000`` (see
``benchmarks/fuzz_ledger.py``) runs a long search.
"""

from __future__ import annotations

import math
import os

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from margin_lib import MarginError
from margin_lib.account import MIN_QUANTITY, Account, liquidation_losses
from margin_lib.account_records import WALLET_KINDS

ISO, CROSS = "BTCUSDT", "ETHUSDT"
START = {ISO: 100_000.0, CROSS: 4_000.0}
EXAMPLES = int(os.environ.get("LEDGER_EXAMPLES", "300"))
# how close to the line a state may be and still be judged (float rounding of MB − MM)
REL = 1e-9
# how far beyond / short of a reported liquidation price the check marks
NUDGE = 1e-7

fractions = st.floats(0.0, 1.0)
# mostly small moves (liquidations near the line), some large ones and crashes (gaps past bankruptcy)
moves = st.one_of(
    st.floats(0.97, 1.03), st.floats(0.97, 1.03), st.floats(0.8, 1.25), st.floats(0.3, 3.0),
    st.sampled_from([0.01, 50.0]),
)  # fmt: skip


def mm(acct: Account, pos) -> float:
    return float(acct.brackets(pos.symbol).maintenance_margin_curve(pos.quantity * pos.mark_price))


def revalued_equity(acct: Account, marks: dict[str, float]) -> float:
    """The account's equity with its current positions valued at ``marks`` (test's own sum)."""
    r = acct.report()
    upnl = sum(
        p.side * p.quantity * (marks.get(p.symbol, p.mark_price) - p.entry_price) for p in acct.positions
    )
    return r.wallet_balance + upnl


class Ledger(RuleBasedStateMachine):
    @initialize(
        wallet=st.floats(200, 50_000),
        hedge=st.booleans(),
        fee_rate=st.sampled_from([0.0, 0.0005, 0.01]),
        both_cross=st.booleans(),
        opening=st.lists(
            st.tuples(st.sampled_from([ISO, CROSS]), st.sampled_from(["long", "short"]), st.floats(0.05, 0.6),
                      st.sampled_from([2, 10, 20, 50, 100])),
            max_size=3,
        ),  # fmt: skip
    )
    def start(self, wallet, hedge, fee_rate, both_cross, opening):
        self.acct = Account(wallet, fee_rate=fee_rate, position_mode="hedge" if hedge else "one-way")
        self.initial = self.deposited = wallet
        self.acct.set_margin_mode(CROSS, "cross")
        if both_cross:  # two cross symbols: a realised loss on one can drive the cross wallet negative
            self.acct.set_margin_mode(ISO, "cross")
        for sym, side, fraction, lev in opening:  # positions to start from (refusals are fine)
            q = self.order_size(sym, fraction, START[sym], lev)
            self.attempt(
                lambda sym=sym, side=side, q=q, lev=lev: self.acct.place_order(
                    sym, side, price=START[sym], quantity=q, leverage=lev
                ),
                flows=-q * START[sym] * fee_rate,
                marks={sym: START[sym]},
            )

    # ---------------------------------------------------------------- helpers
    def attempt(self, operation, *, flows=0.0, marks=None):
        """Run ``operation``; a refusal must change nothing; an accepted one must move equity by
        ``flows`` (computed by the test) plus the liquidations' takings and cover."""
        before = self.acct.state()
        events_before = len(self.acct.events)
        expected = revalued_equity(self.acct, marks or {})
        try:
            operation()
        except MarginError as exc:
            assert self.acct.state() == before
            event(f"refused: {str(exc)[:28]}")
            return None
        new = self.acct.events[events_before:]
        for kind in sorted({e.kind for e in new}):
            event(f"event: {kind}")
        if any(e.kind == "close" for e in new) and any(e.kind == "open" for e in new):
            event("an order flipped a position")
        if self.acct.report().cross_wallet_balance < 0:
            event("cross wallet negative")
        taken = -sum(e.amount for e in new if e.kind == "clearance")
        covered = sum(e.amount for e in new if e.kind == "insurance")
        assert taken >= 0 and covered >= 0
        equity = self.acct.report().equity
        scale = 1.0 + abs(self.deposited) + sum(p.quantity * p.mark_price for p in self.acct.positions)
        scale += sum(abs(e.amount) for e in new)
        assert equity == pytest.approx(expected + flows - taken + covered, rel=1e-9, abs=1e-9 * scale)
        return new

    def check_liquidations(self, new, before, marks, cross_wallet, isolated_wallets):
        """On a mark or funding step, each liquidation against the test's own arithmetic: it took
        the wallet behind it, and what it took beyond the PnL realised at the mark is the margin
        balance the test computes (wallet + the closed positions' PnL at the new marks), or the
        insurance fund covered exactly that balance's shortfall."""
        if new is None:
            return

        def upnl(p):
            return p.side * p.quantity * (marks.get(p.symbol, p.mark_price) - p.entry_price)

        size = 1 + sum(abs(e.amount) for e in new)
        for key, lost in liquidation_losses(new).items():
            if key == "cross":
                backing = cross_wallet
                balance = cross_wallet + sum(upnl(p) for p in before if p.margin_mode == "cross")
                last = [e for e in new if e.kind in ("clearance", "insurance") and e.margin_mode == "cross"]
            else:
                sym, side = key.split()
                s = 1 if side == "long" else -1
                backing = isolated_wallets[(sym, s)]
                (pos,) = [p for p in before if (p.symbol, p.side) == (sym, s)]
                balance = backing + upnl(pos)
                ends = [e for e in new if e.kind in ("clearance", "insurance")]
                last = [e for e in ends if e.symbol == sym and e.side == side]
            assert lost == pytest.approx(backing, rel=1e-9, abs=1e-9 * size)
            (taken,) = last
            assert taken.kind == ("clearance" if balance >= 0 else "insurance") or abs(balance) < 1e-9 * size
            assert taken.amount == pytest.approx(-balance, rel=1e-9, abs=1e-9 * size)

    def order_size(self, sym: str, fraction: float, price: float, lev: float) -> float:
        """A quantity between the exchange's minimum and a bit more than the balance allows."""
        budget = max(self.acct.report().available_balance, 1.0)
        q = fraction * 1.2 * budget * lev / price
        return max(q, MIN_QUANTITY[sym])

    # ---------------------------------------------------------------- rules
    @rule(amount=st.floats(1, 5_000))
    def deposit(self, amount):
        if self.attempt(lambda: self.acct.deposit(amount), flows=amount) is not None:
            self.deposited += amount

    @rule(share=st.floats(0.0, 1.2))
    def withdraw(self, share):
        most = self.acct.max_transferable()
        amount = share * most
        if amount <= 0:
            return
        new = self.attempt(lambda: self.acct.withdraw(amount), flows=-amount)
        assert (new is None) == (amount > most)
        if new is not None:
            self.deposited -= amount

    @rule(
        sym=st.sampled_from([ISO, CROSS]),
        side=st.sampled_from(["long", "short"]),
        fraction=fractions,
        slip=st.floats(-0.02, 0.02),
        lev=st.sampled_from([None, None, None, 1, 5, 10, 20, 50, 125]),
        reduce_only=st.sampled_from([False, False, False, True]),
    )
    def order(self, sym, side, fraction, slip, lev, reduce_only):
        price = self.mark_of(sym) * (1 + slip)
        q = self.order_size(sym, fraction, price, lev or self.acct.leverage(sym) or 20)
        fee = q * price * self.acct.fee_rate
        self.attempt(
            lambda: self.acct.place_order(
                sym, side, price=price, quantity=q, leverage=lev, reduce_only=reduce_only
            ),
            flows=-fee,
            marks={sym: price},
        )

    @precondition(lambda self: self.acct.positions)
    @rule(pick=fractions, factor=st.floats(0.1, 3.0), slip=st.floats(-0.02, 0.02))
    def order_against(self, pick, factor, slip):
        """An order on the other side of an open position: it reduces, closes or flips it in
        one-way mode, and opens the other leg in hedge mode."""
        pos = self.pick(pick)
        price = pos.mark_price * (1 + slip)
        q = max(pos.quantity * factor, MIN_QUANTITY[pos.symbol])
        self.attempt(
            lambda: self.acct.place_order(pos.symbol, -pos.side, price=price, quantity=q),
            flows=-q * price * self.acct.fee_rate,
            marks={pos.symbol: price},
        )

    @precondition(lambda self: self.acct.positions)
    @rule(pick=fractions, share=st.floats(0.05, 1.0), slip=st.floats(-0.02, 0.02))
    def close(self, pick, share, slip):
        pos = self.pick(pick)
        price = pos.mark_price * (1 + slip)
        q = pos.quantity * share
        fee = q * price * self.acct.fee_rate
        self.attempt(
            lambda: self.acct.close_position(pos.symbol, price, side=pos.side, quantity=q),
            flows=-fee,
            marks={pos.symbol: price},
        )

    @precondition(lambda self: any(p.margin_mode == "isolated" for p in self.acct.positions))
    @rule(pick=fractions, share=st.floats(0.0, 1.3))
    def add_margin(self, pick, share):
        pos = self.pick(pick, mode="isolated")
        most = self.acct.max_transferable()
        if share * most > 0:
            new = self.attempt(lambda: self.acct.add_margin(pos.symbol, share * most, side=pos.side))
            assert (new is None) == (share * most > most)

    @precondition(lambda self: any(p.margin_mode == "isolated" for p in self.acct.positions))
    @rule(pick=fractions, share=st.floats(0.0, 1.3))
    def remove_margin(self, pick, share):
        pos = self.pick(pick, mode="isolated")
        most = self.acct.max_removable_margin(pos.symbol, pos.side)
        if share * most > 0:
            new = self.attempt(lambda: self.acct.remove_margin(pos.symbol, share * most, side=pos.side))
            assert (new is None) == (share * most > most)

    @rule(iso=moves, cross=moves)
    def mark_moves(self, iso, cross):
        self.mark(iso, cross)

    def mark(self, iso: float, cross: float) -> None:
        marks = {ISO: self.mark_of(ISO) * iso, CROSS: self.mark_of(CROSS) * cross}
        cross_wallet = self.acct.report().cross_wallet_balance
        before = self.acct.positions
        wallets = {(p.symbol, p.side): p.isolated_wallet for p in before}
        new = self.attempt(lambda: self.acct.mark(marks), marks=marks)
        self.check_liquidations(new, before, marks, cross_wallet, wallets)

    @precondition(lambda self: self.acct.positions)
    @rule(pick=fractions, nudge=st.floats(-0.01, 0.01))
    def mark_near_liquidation(self, pick, nudge):
        """A mark within 1 % of a position's reported liquidation price: the line itself."""
        pos = self.pick(pick)
        lp = self.acct.report().position(pos.symbol, pos.side).liquidation_price
        if not math.isnan(lp):
            move = lp * (1 + nudge) / pos.mark_price
            self.mark(move if pos.symbol == ISO else 1.0, move if pos.symbol == CROSS else 1.0)

    @rule(rate=st.floats(-0.05, 0.05))
    def funding(self, rate):
        cash, wallets = 0.0, {}
        cross_wallet = self.acct.report().cross_wallet_balance
        for p in self.acct.positions:
            pay = -p.side * p.quantity * p.mark_price * rate
            if p.margin_mode == "isolated":
                pay = max(pay, -p.isolated_wallet)
                wallets[(p.symbol, p.side)] = p.isolated_wallet + pay
            else:
                cross_wallet += pay
            cash += pay
        before = self.acct.positions
        new = self.attempt(lambda: self.acct.settle_funding({ISO: rate, CROSS: rate}), flows=cash)
        self.check_liquidations(new, before, {}, cross_wallet, wallets)

    @rule(sym=st.sampled_from([ISO, CROSS]), lev=st.sampled_from([1, 2, 10, 50, 100, 150, 151, 300]))
    def set_leverage(self, sym, lev):
        self.attempt(lambda: self.acct.set_leverage(sym, lev))

    @rule(sym=st.sampled_from([ISO, CROSS]), mode=st.sampled_from(["isolated", "cross"]))
    def set_margin_mode(self, sym, mode):
        self.attempt(lambda: self.acct.set_margin_mode(sym, mode))

    def mark_of(self, sym: str) -> float:
        return self.acct.state()["marks"].get(sym, START[sym])

    def pick(self, u: float, mode: str | None = None):
        positions = [p for p in self.acct.positions if mode is None or p.margin_mode == mode]
        return positions[min(int(u * len(positions)), len(positions) - 1)]

    # ---------------------------------------------------------------- invariants
    @invariant()
    def wallet_matches_the_events(self):
        r = self.acct.report()
        ledger = sum(e.amount for e in self.acct.events if e.kind in WALLET_KINDS)
        scale = 1 + abs(self.deposited) + sum(abs(e.amount) for e in self.acct.events)
        assert r.wallet_balance == pytest.approx(self.initial + ledger, rel=1e-9, abs=1e-9 * scale)
        assert r.wallet_balance == pytest.approx(
            r.cross_wallet_balance + sum(p.isolated_wallet for p in self.acct.positions), rel=1e-12, abs=1e-9
        )

    @invariant()
    def positions_are_ones_the_exchange_could_hold(self):
        for p in self.acct.positions:
            assert p.isolated_wallet >= 0
            assert p.quantity >= MIN_QUANTITY[p.symbol] * (1 - 1e-9)
            assert p.margin_mode == self.acct.margin_mode(p.symbol)

    @invariant()
    def nothing_open_at_or_below_maintenance(self):
        positions = self.acct.positions
        for p in positions:
            if p.margin_mode == "isolated":
                excess = p.isolated_wallet + p.unrealized_pnl - mm(self.acct, p)
                assert excess > -REL * (1 + p.quantity * p.mark_price), p
        cross = [p for p in positions if p.margin_mode == "cross"]
        if cross:
            r = self.acct.report()
            excess = r.cross_margin_balance - r.cross_maintenance_margin
            assert excess > -REL * (1 + sum(p.quantity * p.mark_price for p in cross))
        else:
            assert self.acct.report().cross_wallet_balance >= 0

    @invariant()
    def reported_liquidation_price_agrees_with_mark(self):
        r = self.acct.report()
        for p in r.positions:
            lp = p.liquidation_price
            if math.isnan(lp):
                if p.side == "long" and not self.hedged(p.symbol):  # no price above 0 liquidates it
                    assert not self.acct.copy().mark({p.symbol: p.mark_price * 1e-6})
                continue
            if abs(lp / p.mark_price - 1) < 10 * NUDGE:
                continue  # too close to the mark to tell the sides apart
            away = 1 if lp > p.mark_price else -1
            assert self.acct.copy().mark({p.symbol: lp * (1 + away * NUDGE)}), (p, "beyond the LP")
            assert not self.acct.copy().mark({p.symbol: lp * (1 - away * NUDGE)}), (p, "short of the LP")

    def hedged(self, sym: str) -> bool:
        return sum(p.symbol == sym for p in self.acct.positions) == 2


Ledger.TestCase.settings = settings(
    max_examples=EXAMPLES,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_ledger_state_machine = Ledger.TestCase
