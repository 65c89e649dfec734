"""Lesson 3, isolated margin: what a learner need not read (the maths runs in the notebook).

The example's account (the article's :data:`~margin_lib.examples.ISOLATED_EXAMPLE`, opened at an
illustrative 100,000 USDT, no fees), one table's layout, the rescue simulation and its plot, the
widget (text, plot, controls), the exercises and the quiz.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from matplotlib.figure import Figure

from .. import _validate as v
from .._cache import kept
from ..account import Account, AccountReport, Event, PositionReport, liquidation_losses
from ..brackets import BracketTable
from ..errors import InvalidInputError, OrderRefusedError
from ..examples import ILLUSTRATIVE_PRICES, ISOLATED_EXAMPLE, article_table
from ..exercises import Exercise
from ..format import pct, price, table, usdt
from ..margin import effective_leverage, margin_ratio
from ..plots import (
    COLORS,
    legend_below,
    mark_price_line,
    new_figure,
    plot_margin_balance,
    stable_limits,
    usdt_ticks,
)
from ..quiz import Question, Quiz
from ..widgets import build_widget, choice_buttons, leverage_slider, money_box, move_slider

__all__ = [
    "SYMBOL", "ENTRY", "WARNING_RATIO", "LABELS", "open_example", "RescueRun",
    "rescue_run", "rescue_table", "plot_rescue", "view", "plot", "widget", "EXERCISES", "QUIZ",
]  # fmt: skip

SYMBOL = "BTCUSDT"
_POSITION = ISOLATED_EXAMPLE.positions[0]
#: The example's entry price (USDT): illustrative, the article names none.
ENTRY = ILLUSTRATIVE_PRICES[SYMBOL]
#: The margin ratio (MM / margin balance) at which the exchange advises acting: 80 %.
WARNING_RATIO = 0.8
_TIERS = ("article", "exchange")
_ARTICLE_MAX_LEVERAGE = 125  # the last row of the article's table
#: The widget's controls as the page labels them (refusals name them so).
LABELS = {"move_pct": "price move (%)", "added": "added margin (USDT)", "leverage": "leverage (x)",
          "tiers": "MMR table"}  # fmt: skip


def open_example(leverage: float | None = None, *, tiers: str = "article", added: float = 0.0) -> Account:
    """The article's isolated example at ``leverage`` (default 10x) with the article's MMR
    (``tiers="article"``) or the BTCUSDT tiers (``"exchange"``), ``added`` USDT moved into it.

    >>> open_example(added=50).report().position("BTCUSDT").isolated_wallet
    150.0
    """
    lev = _POSITION.leverage if leverage is None else v.scalar(v.leverage, "leverage", leverage)
    rule = article_table(lev) if v.choice("tiers", tiers, _TIERS) == "article" else BracketTable.load(SYMBOL)
    acct = Account(ISOLATED_EXAMPLE.wallet, brackets={SYMBOL: rule}, fee_rate=0.0)
    acct.set_margin_mode(SYMBOL, _POSITION.margin_mode)
    acct.open_position(SYMBOL, _POSITION.side, notional=_POSITION.notional, price=ENTRY, leverage=lev)
    if added:
        acct.add_margin(SYMBOL, added)
    return acct


# --------------------------------------------------------------------------------- rescue trap
class RescueRun(NamedTuple):
    """Two traders on one falling path from the example: the marks recorded (USDT, falling), the
    money each has lost so far (1,000 − equity, USDT), the rescuer's margin put in, the marks of
    the top-ups and the margin in the position after each, the example's liquidation price."""

    prices: tuple[float, ...]
    let_go_loss: tuple[float, ...]
    rescue_loss: tuple[float, ...]
    rescue_put_in: tuple[float, ...]
    top_up_prices: tuple[float, ...]
    top_up_totals: tuple[float, ...]
    liquidation_price: float
    rescue_liquidated: bool
    top_up: float
    trigger: float


@kept(maxsize=8)
def rescue_run(
    final_move: float = -0.8,
    *,
    top_up: float = 100.0,
    trigger: float = WARNING_RATIO,
    step: float = 0.0005,
    falls: tuple[float, ...] = (0.1, 0.2, 0.4, 0.6),
) -> RescueRun:
    """A price falling ``step`` (0.05 %) per tick down to ``final_move`` on two copies of the
    example: one left alone, one that adds ``top_up`` USDT whenever its margin ratio reaches
    ``trigger`` (80 %), while the free balance lasts; the marks of ``falls`` (fractions) are on
    the path. Both run on :meth:`Account.mark` and :meth:`Account.add_margin`. Cached.

    >>> run = rescue_run(-0.2)
    >>> run.let_go_loss[-1], len(run.top_up_prices)
    (100.0, 2)
    """
    fm = v.scalar(v.number, "final_move", final_move, low=-0.95, high=0.0, high_open=True)
    amount = v.scalar(v.positive, "top_up", top_up)
    trig = v.scalar(v.number, "trigger", trigger, low=0.0, high=1.0, low_open=True, high_open=True)
    st = v.scalar(v.number, "step", step, low=0.0, high=0.001, low_open=True)
    grid = ENTRY * (1.0 - st) ** np.arange(1, int(math.ceil(math.log1p(fm) / math.log1p(-st))) + 1)
    extra = [ENTRY * (1 - f) for f in (*falls, -fm) if f <= -fm]
    marks = np.unique(np.concatenate([grid[grid > ENTRY * (1 + fm)], extra]))[::-1]
    keep = set(range(0, len(marks), 8)) | {int(np.argmin(np.abs(marks - p))) for p in extra}
    let_go, rescuer = open_example(), open_example()
    start = rescuer.report().position(SYMBOL)
    put_in, tops, totals, liquidated, rec = start.isolated_wallet, [], [], False, []
    for i, mark in enumerate(marks):
        for acct in (let_go, rescuer):
            if acct.has_position(SYMBOL):
                liquidated |= bool(acct.mark({SYMBOL: mark})) and acct is rescuer
        if rescuer.has_position(SYMBOL):
            p, free = rescuer.report().position(SYMBOL), rescuer.report().available_balance
            if margin_ratio(p.maintenance_margin, p.margin_balance) >= trig and free > 0:
                rescuer.add_margin(SYMBOL, min(amount, free))
                put_in += min(amount, free)
                tops.append(float(mark))
                totals.append(put_in)
                keep.add(i)
        if i in keep:
            lost = [ISOLATED_EXAMPLE.wallet - a.report().equity for a in (let_go, rescuer)]
            rec.append((float(mark), *lost, put_in))
    cols = [tuple(c) for c in zip(*rec, strict=True)]
    return RescueRun(*cols, tuple(tops), tuple(totals), start.liquidation_price, liquidated, amount, trig)


def rescue_table(run: RescueRun | None = None, falls: tuple[float, ...] = (0.1, 0.2, 0.4, 0.6, 0.8)) -> str:
    """Where the two traders of :func:`rescue_run` stand at each fall (fractions).

    >>> print(rescue_table(rescue_run(-0.2), (0.2,)).splitlines()[2])
    BTC fall 20 % |  100.00 USDT |       2 |           300.00 USDT |  200.00 USDT
    """
    run = run or rescue_run()
    rows = []
    for fall in falls:
        i = int(np.argmin(np.abs(np.asarray(run.prices) - ENTRY * (1 - fall))))
        tops = str(sum(t >= run.prices[i] for t in run.top_up_prices))
        money = (usdt(x[i]) for x in (run.let_go_loss, run.rescue_put_in, run.rescue_loss))
        rows.append([f"BTC fall {pct(fall, 0)}", next(money), tops, *money])
    heads = ["", "let go: lost", "top-ups", "rescue: margin put in", "rescue: lost"]
    return table(rows, heads, align="lrrrr")


def plot_rescue(run: RescueRun | None = None) -> Figure:
    """Money lost against the fall for the two traders of :func:`rescue_run`: the rescuer's
    loss follows the price, letting go stops it at the first wallet; top-ups as triangles."""
    run = run or rescue_run()
    fall = (1.0 - np.asarray(run.prices) / ENTRY) * 100
    fig, ax = new_figure()
    first = usdt(run.let_go_loss[-1], 0)
    rule = f"rescue, add {run.top_up:g} at a margin ratio of {pct(run.trigger, 0)}: lost"
    ax.plot(fall, run.let_go_loss, color=COLORS["balance"], lw=2.2, label=f"let go: lost {first}, no more")
    ax.plot(fall, run.rescue_loss, color=COLORS["maintenance"], lw=2.2, ls=(0, (6, 2)), label=rule)
    ax.step(fall, run.rescue_put_in, where="post", color=COLORS["grey"], linewidth=1.5, linestyle=":",
            label="rescuer's margin put into the position")  # fmt: skip
    tops = (1.0 - np.asarray(run.top_up_prices) / ENTRY) * 100
    ax.scatter(tops, run.top_up_totals, marker="^", color=COLORS["maintenance"], zorder=5, clip_on=False,
               label="a top-up")  # fmt: skip
    move = 1.0 - run.liquidation_price / ENTRY
    mark_price_line(ax, move * 100, f"first liquidation price: a {pct(move)} fall", y_text=0.97)
    ax.set_xlim(0, math.ceil(fall[-1] / 10) * 10 + 2)
    ax.set_ylim(0, ISOLATED_EXAMPLE.wallet * 1.05)
    ax.set_xlabel("BTC fall from the entry (%)")
    ax.set_ylabel("USDT")
    usdt_ticks(ax.yaxis)
    ax.set_title(f"Rescuing a falling long: the loss follows the price; letting go stops it at {first}")
    legend_below(fig, ax, ncols=2)
    return fig


# --------------------------------------------------------------------------------- the widget
class _State(NamedTuple):
    opened: PositionReport  # right after opening
    topped: PositionReport  # after adding margin, before the move
    free: float  # the free balance after adding margin
    mark: float
    events: list[Event]
    after: AccountReport  # after the move
    brackets: BracketTable
    left: float  # after a liquidation: the margin balance at the close (below zero: the insurance fund's)


@kept(maxsize=8)
def _state(move_pct: float, added: float, leverage: float, tiers: str) -> _State:
    """The example set up by the controls, then marked; refusals name the controls as labelled.
    Kept: the widget's text and plot both read it (neither changes it) after each change."""
    move = v.scalar(v.number, LABELS["move_pct"], move_pct, low=-100.0, low_open=True)
    extra = v.scalar(v.nonnegative, LABELS["added"], added)
    lev = v.scalar(v.leverage, LABELS["leverage"], leverage)
    which = v.choice(LABELS["tiers"], tiers, _TIERS)
    most, where = (_ARTICLE_MAX_LEVERAGE, "the article's MMR table (its last row)")
    if which == "exchange":
        most, where = BracketTable.load(SYMBOL).max_leverage(_POSITION.notional), "the exchange's tier"
    if lev > most:
        raise InvalidInputError(f"{LABELS['leverage']} must be at most {most:g} with {where}; got {lev:g}")
    acct = open_example(lev, tiers=which)
    opened = acct.report()
    if extra > opened.available_balance:
        free = usdt(opened.available_balance)
        raise OrderRefusedError(f"{LABELS['added']} must not exceed the free balance, {free} at {lev:g}x; "
                                f"got {extra:,.2f}")
    if extra:
        acct.add_margin(SYMBOL, extra)
    topped = acct.report()
    mark = ENTRY * (1 + move / 100)
    events = acct.mark({SYMBOL: mark})
    left = topped.position(SYMBOL).isolated_wallet + sum(e.amount for e in events if e.kind == "liquidation")
    return _State(opened.position(SYMBOL), topped.position(SYMBOL), topped.available_balance, mark, events,
                  acct.report(), acct.brackets(SYMBOL), left)  # fmt: skip


def view(move_pct: float = 0.0, added: float = 0.0, leverage: float = 10.0, tiers: str = "article") -> str:
    """What the widget prints: the isolated margin balance, effective leverage, free balance and
    liquidation price; after a liquidation, what it booked and who bears what.

    >>> print(view().splitlines()[-1])
    Liquidation price: 90,452.26 (-9.548 % from the entry).
    """
    s = _state(move_pct, added, leverage, tiers)
    t = s.topped
    upnl = t.quantity * (s.mark - t.entry_price)
    lines = [
        f"Wallet {usdt(ISOLATED_EXAMPLE.wallet)}: {usdt(s.opened.isolated_wallet)} locked in the isolated "
        f"{t.leverage:g}x BTC long ({usdt(t.notional, 0)}), {usdt(s.free + added)} free.",
        f"Added margin: {usdt(added)}, so {usdt(t.isolated_wallet)} stands behind the position.",
        f"BTC {move_pct:+.1f} % -> mark {price(s.mark)}; unrealized PnL {usdt(upnl)}.",
    ]
    if s.events:
        lost = liquidation_losses(s.events)[f"{SYMBOL} long"]
        beyond = (f"the {usdt(-s.left)} below zero falls on the exchange's insurance fund, not on you"
                  if s.left < 0 else f"the {usdt(s.left)} of margin balance left is taken")  # fmt: skip
        return "\n".join([
            *lines,
            f"LIQUIDATED: the mark passed the liquidation price {price(t.liquidation_price)}; the position "
            f"was closed at the mark, {usdt(s.left - t.isolated_wallet)} realised, and {beyond}.",
            f"You lose the isolated wallet, {usdt(lost)}. Free balance {usdt(s.after.available_balance)}, "
            f"untouched; the wallet is now {usdt(s.after.wallet_balance)}.",
        ])  # fmt: skip
    p = s.after.position(SYMBOL)
    lp = p.liquidation_price
    where = ("none (--): the isolated wallet covers the whole position." if math.isnan(lp)
             else f"{price(lp)} ({pct(lp / ENTRY - 1)} from the entry).")  # fmt: skip
    return "\n".join([
        *lines,
        f"Isolated margin balance: {usdt(p.margin_balance)} (maintenance margin "
        f"{usdt(p.maintenance_margin)}, MMR {pct(p.mmr, 1)}, margin ratio {pct(p.margin_ratio, 1)}).",
        f"Effective leverage: {effective_leverage(p.notional, p.margin_balance):.1f}x "
        f"(notional {usdt(p.notional)} / margin balance {usdt(p.margin_balance)}).",
        f"Free balance: {usdt(s.after.available_balance)} (it does not move with BTC).",
        f"Liquidation price: {where}",
    ])  # fmt: skip


def _price_range(mark: float, lp: float) -> tuple[float, float]:
    """75 % to 125 % of the entry, widened in steps of 15 % to hold the mark and the liquidation
    price (so the frame changes only when one of them crosses a step).

    >>> _price_range(ENTRY, 90_452.26), _price_range(0.8 * ENTRY, 90_452.26)
    ((75000.0, 125000.0), (60000.0, 125000.0))
    """
    step = 0.15 * ENTRY
    want = min(0.9 * mark, 0.85 * lp if lp > 0 else math.inf)
    low = 0.75 * ENTRY - step * math.ceil(max(0.0, 0.75 * ENTRY - want) / step)
    high = 1.25 * ENTRY + step * math.ceil(max(0.0, 1.05 * mark - 1.25 * ENTRY) / step)
    return max(round(low, 6), 0.0), round(high, 6)


def plot(move_pct: float = 0.0, added: float = 0.0, leverage: float = 10.0, tiers: str = "article") -> Figure:
    """Margin balance and maintenance margin against the mark (:func:`plot_margin_balance`, with its
    close-up), the liquidation price before margin was added, and after a liquidation what it cost."""
    s = _state(move_pct, added, leverage, tiers)
    t = s.topped
    lp = t.liquidation_price
    low, high = _price_range(s.mark, lp)
    behind = usdt(t.isolated_wallet, 0)
    if s.events:
        title = f"Liquidated: the {behind} behind the position is lost, the {usdt(s.free, 0)} outside is not"
    elif math.isnan(lp):
        title = f"{behind} behind a {usdt(t.notional, 0)} long: no liquidation price"
    else:
        title = f"{behind} behind the position: liquidation {pct(1.0 - lp / ENTRY)} below the entry"
    before = s.opened.liquidation_price
    marks = [(before, f"before adding {price(before, 0)}", "other")] if added and before > 0 else []
    fig = plot_margin_balance("long", t.quantity, t.entry_price, t.isolated_wallet, brackets=s.brackets,
                              mark=s.mark, price_range=(low, high), title=title, legend=None, marks=marks)
    ax = fig.axes[0]
    bottom, top = (t.isolated_wallet + t.quantity * (x - t.entry_price) for x in (low, high))
    bottom = min(bottom, 0.0)
    ax.set_ylim(*stable_limits(bottom - 0.06 * (top - bottom), top + 0.04 * (top - bottom)))
    for dots in ax.collections:  # after a liquidation: closed at the mark (the cross), and what was left
        if dots.get_label() == "liquidated: closed at the mark" and s.left >= 0:
            dots.set_label(f"liquidated: closed at the mark; {usdt(s.left)} left, taken")
    if s.events and s.left < 0:  # below zero: the insurance fund's loss
        ax.vlines(s.mark, s.left, 0.0, color=COLORS["other"], linewidth=5, alpha=0.6,
                  label=f"below zero, the insurance fund's: {usdt(-s.left)}")  # fmt: skip
    legend_below(fig, ax, ncols=3 if s.events else 4)
    return fig


def widget():
    """Price move, added margin, leverage and MMR table → the text of :func:`view` and the plot."""
    controls = {"move_pct": move_slider(0.0, low=-50.0, high=30.0), "added": money_box(0.0, LABELS["added"]),
                "leverage": leverage_slider(_POSITION.leverage, max=150),
                "tiers": choice_buttons(list(_TIERS), "article", LABELS["tiers"])}  # fmt: skip
    title = "Isolated margin: what is locked, what is free, where it ends"
    return build_widget(controls, view, plot, height="640px", title=title)


# --------------------------------------------------------------------------------- exercises
def _marked(acct: Account, move: float) -> Account:
    acct.mark({SYMBOL: ENTRY * (1 + move)})
    return acct


def _short(notional: float, leverage: float) -> Account:
    acct = Account(ISOLATED_EXAMPLE.wallet, brackets={SYMBOL: article_table(leverage)}, fee_rate=0.0)
    acct.set_margin_mode(SYMBOL, "isolated")
    acct.open_position(SYMBOL, "short", notional=notional, price=ENTRY, leverage=leverage)
    return acct


def _top_up_to_setting() -> float:
    p = _marked(open_example(), -0.08).report().position(SYMBOL)
    return p.notional / p.leverage - p.margin_balance


EXERCISES = {
    "3a": Exercise("3a", "Liquidation price of an isolated short of 2,000 USDT at 20x (MMR 0.5 %, cum 0) "
                   "opened at 100,000 USDT (USDT)?", unit="USDT", rel_tol=5e-5,
                   solve=lambda: _short(2_000, 20).report().position(SYMBOL).liquidation_price,
                   hint="Set the short's margin balance at the mark equal to its maintenance margin there "
                   "and solve for the price; the isolated wallet is the initial margin, and a short loses "
                   "as the price rises."),
    "3b": Exercise("3b", "After the 8 % fall, how much margin must be added to bring the effective leverage "
                   "back to the 10x setting (USDT)?", _top_up_to_setting, unit="USDT",
                   hint="Effective leverage is the notional at the mark over the margin balance: find the "
                   "balance that gives the target, then subtract the balance the position already has."),
    "3c": Exercise("3c", "An isolated 10x short of 1,000 USDT (MMR 0.5 %) opened at 100,000 USDT; BTC falls "
                   "4 %. The most margin you can remove (USDT)?", unit="USDT",
                   solve=lambda: _marked(_short(1_000, 10), -0.04).max_removable_margin(SYMBOL),
                   hint="Take the smaller of the two terms of the removal rule, with the notional, the "
                   "maintenance margin and the initial margin all valued at the new mark; a short gains "
                   "when the price falls."),
    "3d": Exercise("3d", "Open the example, add 50 USDT of margin, then BTC gaps 20 % down. What is left in "
                   "the futures wallet (USDT)?", unit="USDT",
                   solve=lambda: _marked(open_example(added=50), -0.2).report().wallet_balance,
                   hint="A liquidation takes the position's whole isolated wallet, whatever was added to it "
                   "included, and nothing outside it; a balance below zero is not the trader's to pay."),
}  # fmt: skip

# --------------------------------------------------------------------------------- quiz
QUIZ = Quiz([
    Question("q1", "You add margin to an isolated position. What happens to its maintenance margin rate?", {
        "a": ("It rises, and that is what pushes the liquidation price away.", "The rate comes from the tier "
              "table by the notional alone; the liquidation price moves as more money stands behind it."),
        "b": ("It stays; the isolated wallet grows and the liquidation price moves away.", "The MMR and the "
              "maintenance margin depend on the notional alone; added margin only widens the cushion."),
        "c": ("It falls, because the effective leverage falls.", "The effective leverage falls, but the rate "
              "does not follow it: the exchange sets it by the notional's tier, not by any leverage."),
    }, answer="b"),
    Question("q2", "An isolated position holds 100 USDT of a 1,000 USDT futures wallet. What can the other "
             "900 USDT do?", {
        "a": ("Back other orders or be transferred out; it reaches this position only if you add it.", "The "
              "free balance is yours to use, and it does not come to this position's rescue by itself."),
        "b": ("Nothing until the position is closed: isolated mode freezes the wallet.",
              "Only the 100 is set aside for the position; the rest stays available."),
        "c": ("It tops the position up by itself when liquidation comes near.", "That is cross mode, where "
              "the whole wallet backs the positions; an isolated position sees only its own wallet."),
    }, answer="a"),
    Question("q3", "Can an isolated position cost more than the margin put behind it?", {
        "a": ("No, never: the isolated wallet caps every cost of the trade.", "It caps what a liquidation "
              "takes, but the fees to open and close are paid on top, and each top-up raises the stake."),
        "b": ("Yes: if the price gaps past the bankruptcy price, the shortfall is taken from the free "
              "balance.", "Below zero the exchange's insurance fund absorbs the shortfall (an insurance "
              "event in the engine); the free balance is not touched."),
        "c": ("Yes: the fees to open and close come on top, and every top-up adds to what a liquidation can "
              "take.", "The wallet is a cap only on the margin in it at the time; fees and later top-ups are "
              "extra money."),
    }, answer="c"),
    Question("q4", "You opened 1,000 USDT of BTC at 10x, isolated; BTC has fallen 8 %. What leverage do you "
             "carry now?", {
        "a": ("10x, the leverage setting.", "The setting fixed the initial margin at the entry; after the "
              "loss, far less money stands behind the same notional."),
        "b": ("9.2x, the notional at the mark over the isolated wallet.", "The isolated wallet leaves out "
              "the 80 USDT loss; what stands behind the position is the margin balance, 20 USDT."),
        "c": ("46x, the notional at the mark over the margin balance.", "Effective leverage is notional / "
              "margin balance, 920 / 20: each further 1 % fall now takes 46 % of what is left."),
    }, answer="c"),
])  # fmt: skip
