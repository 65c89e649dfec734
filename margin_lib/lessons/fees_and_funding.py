"""Lesson 7, fees and funding: the parts of the lesson a learner need not read.

The maths (fees, a round trip against the margin, funding every 8 hours, the liquidation price's
move per payment, the payment that liquidates) runs in the notebook's cells through the engine.
Here: the engine loop that holds the lesson's isolated long (:data:`QUANTITY` BTC at
:data:`ENTRY`, BTCUSDT tiers) through funding times, its plots, the widget, the exercises and the
quiz. The funding rates are **example rates**, not market data. One meaning per colour and line
style in every plot: the mark price sky blue (solid), the liquidation price with funding black
(dashed), without funding orange (dash-dot), a liquidation vermillion (an X, a dotted line).
"""

from __future__ import annotations

import math
from collections import namedtuple
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from .. import _validate as v
from .._cache import kept
from ..account import Account
from ..errors import InvalidInputError
from ..examples import ILLUSTRATIVE_PRICES
from ..exercises import Exercise
from ..fees import FUNDING_INTERVAL_HOURS, MAKER_FEE_RATE, TAKER_FEE_RATE, funding_payment, trading_fee
from ..format import price, usdt
from ..liquidation import liquidation_price
from ..plots import COLORS, legend_below, new_figure, stable_limits, steady_axes, usdt_ticks
from ..quiz import Question, Quiz
from ..widgets import build_widget, leverage_slider

__all__ = [
    "SYMBOL", "ENTRY", "QUANTITY", "WALLET", "TYPICAL_RATE", "EXTREME_RATE", "Step", "FundingRun",
    "open_position", "run_funding", "POST_MORTEM", "post_mortem", "plot_post_mortem", "view", "plot",
    "widget", "EXERCISES", "QUIZ",
]  # fmt: skip

#: The symbol, its illustrative entry and mark price (USDT), the position (0.1 BTC, 10,000 USDT at
#: the entry) and the futures wallet it is opened from (USDT, enough for 1x plus fees).
SYMBOL, QUANTITY, WALLET = "BTCUSDT", 0.1, 20_000.0
ENTRY = ILLUSTRATIVE_PRICES[SYMBOL]
#: Example funding rates per 8-hour interval (fractions): a calm-market rate and an extreme one.
TYPICAL_RATE, EXTREME_RATE = 0.0001, 0.003
#: The widget's limits: a year of holding, and funding rates of ±1 % per 8 h.
MAX_HOURS, MAX_RATE_PCT, _RATE = 8_760.0, 1.0, "funding rate (% per 8 h)"
_TIERS = Account(WALLET).brackets(SYMBOL)  # the tiers an Account uses, loaded once (the widget reads them)


def _share(x: float) -> str:  # a fraction as per cent, with the decimals it needs: 0.042 → '4.2 %'
    return f"{x * 100:.3f}".rstrip("0").rstrip(".") + " %"


#: One moment of a run: hour since opening, mark (USDT), funding cash flow (USDT, < 0 = paid),
#: isolated wallet and liquidation price after it (nan once liquidated), "open"/"LIQUIDATED"/"gone".
Step = namedtuple("Step", "hour mark funding wallet liquidation_price state")


@dataclass(frozen=True)
class FundingRun:
    """A position held through funding times: ``steps`` (the first is the opening), ``margin``."""

    leverage: float
    rate: float
    margin: float
    steps: tuple[Step, ...]
    liquidated_at: int | None

    @property
    def funding_paid(self) -> float:  # USDT, positive = paid out, negative = received
        return -sum(s.funding for s in self.steps)


def open_position(leverage: float, *, fee_rate: float = TAKER_FEE_RATE) -> Account:
    """An account of :data:`WALLET` USDT with the lesson's isolated long at ``leverage`` (the
    opening fee leaves the cross wallet, not the isolated one).

    >>> open_position(20).report().position("BTCUSDT").isolated_wallet
    500.0
    """
    acct = Account(WALLET, fee_rate=fee_rate)
    acct.set_margin_mode(SYMBOL, "isolated")
    acct.open_position(SYMBOL, "long", quantity=QUANTITY, price=ENTRY, leverage=leverage)
    return acct


def run_funding(leverage: float, rate: float, settlements: int = 21, *,
                path: tuple[tuple[float, float, bool], ...] | None = None) -> FundingRun:  # fmt: skip
    """Hold the lesson's isolated long through funding times with the engine. Without ``path``
    the mark stays at the entry and funding is settled ``settlements`` times, every 8 hours; a
    ``path`` of (hour, mark, funding due?) marks the account at each step, then settles funding
    at ``rate`` (a fraction) where it is due. The steps' liquidation prices are the report's, in one call.

    >>> run = run_funding(20, 0.003)
    >>> run.liquidated_at, run.steps[run.liquidated_at].hour
    (16, 128.0)
    """
    acct = open_position(leverage)
    (pos,) = acct.positions
    if path is None:
        n = int(v.scalar(v.number, "settlements", settlements, low=0))
        path = tuple(((k + 1) * FUNDING_INTERVAL_HOURS, ENTRY, True) for k in range(n))
    rows, liquidated_at, marked = [(0.0, ENTRY, 0.0, pos.isolated_wallet, "open")], None, ENTRY
    for hour, mark, due in path:
        if not acct.has_position(SYMBOL):
            rows.append((hour, mark, 0.0, math.nan, "gone"))
            continue
        # marking again at the same price changes nothing: skipped (it is most of a long hold's cost)
        events, cash, marked = (acct.mark({SYMBOL: mark}) if mark != marked else []), 0.0, mark
        if due and not events:
            events = acct.settle_funding({SYMBOL: rate})
            cash = sum(e.amount for e in events if e.kind == "funding")
        if gone := any(e.kind == "liquidation" for e in events):
            liquidated_at = len(rows)
        rows.append((hour, mark, cash, 0.0 if gone else acct.positions[0].isolated_wallet,
                     "LIQUIDATED" if gone else "open"))  # fmt: skip
    wallets = np.array([w if state == "open" else 0.0 for *_, w, state in rows])
    lps = liquidation_price("long", pos.quantity, pos.entry_price, wallets, brackets=acct.brackets(SYMBOL))
    steps = tuple(Step(h, m, f, w, lp if state == "open" else math.nan, state)  # a price of 0: none ("--")
                  for (h, m, f, w, state), lp in zip(rows, np.nan_to_num(lps), strict=True))  # fmt: skip
    return FundingRun(float(leverage), float(rate), rows[0][3], steps, liquidated_at)


def _lp_steps(run: FundingRun) -> tuple[list[float], list[float]]:
    """Hours and liquidation prices while open, the last one held to the liquidation's hour."""
    pts = [(s.hour, s.liquidation_price) for s in run.steps if s.state == "open"]
    if run.liquidated_at is not None:
        pts.append((run.steps[run.liquidated_at].hour, pts[-1][1]))
    return [h for h, _ in pts], [lp for _, lp in pts]


def _mark_liquidation(ax, hour: float, y: float, text_y: float) -> None:
    """A liquidation: a vermillion X at (hour, y), a dotted vertical line and a label on the side
    of the line with more room."""
    ax.axvline(hour, color=COLORS["maintenance"], linestyle=":", linewidth=1.6)
    ax.scatter([hour], [y], marker="X", s=90, color=COLORS["maintenance"], zorder=5, label="liquidation")
    left = hour > 0.5 * ax.get_xlim()[1]
    ax.annotate(f"LIQUIDATED\nat hour {hour:g}", xy=(hour, text_y), xycoords=("data", "axes fraction"),
                xytext=(-6 if left else 6, 0), textcoords="offset points", ha="right" if left else "left",
                fontsize=9, color=COLORS["maintenance"])  # fmt: skip


def _drift_axes(ax, run: FundingRun, hours: float) -> None:
    """The liquidation price's move toward the mark since opening (USDT), with the funding paid
    on a second scale (``paid = drift × Q × (1 − MMR)``, exact while the tier does not change);
    a liquidation is drawn where the last payment would have put the liquidation price."""
    per_usdt = QUANTITY * (1 - _TIERS.bracket_for(QUANTITY * ENTRY).mmr)
    xs, lps = _lp_steps(run)
    lp0 = run.steps[0].liquidation_price
    drift = [lp - lp0 for lp in lps]
    if run.liquidated_at is not None:  # the payment that crossed the mark
        drift[-1] = run.funding_paid / per_usdt
    gap = ENTRY - lp0  # the move that takes the liquidation price to the mark
    ax.set_xlim(stable_limits(0.0, max(hours, FUNDING_INTERVAL_HOURS) * 1.02, parts=8))  # rounded: kept
    ax.axhline(0, color=COLORS["other"], linestyle="-.", linewidth=1.6, label="liquidation price, no funding")
    ax.step(xs, drift, where="post", color=COLORS["liquidation"], linestyle="--", linewidth=1.8,
            label=f"liquidation price, funding {run.rate * 100:+g} % per 8 h")  # fmt: skip
    low, high = min(0.0, *drift), max(0.0, *drift)
    if run.liquidated_at is not None or high - low >= 0.3 * gap:
        ax.axhline(gap, color=COLORS["neutral"], linewidth=2.2, label="mark price (constant)")
        top = stable_limits(0.0, 1.06 * max(gap, high), parts=10)[1]  # rounded, as below and the hours above
        ax.set_ylim(-stable_limits(0.0, 0.05 * top - low, parts=10)[1], top)
    else:  # the mark far above: a frame for the drift alone (±10 USDT when there is none)
        # the drift's extent up to 1, 2, 2.5 or 5 times a power of ten: most new rates keep the frame
        extent = stable_limits(0.0, 1.03 * max(high, -low), parts=1)[1] if high > low else 10.0
        ax.set_ylim((-0.08 * extent, extent) if high > 0 else (-extent, 0.08 * extent if low else extent))
        where = "the opening liquidation price" if lp0 else "zero (no liquidation price at opening)"
        # in the corner the steps leave empty: top left when they climb, top right (under 0) when they fall
        corner = {"xy": (0.01, 0.97), "ha": "left"} if low == 0 else {"xy": (0.99, 0.88), "ha": "right"}
        ax.annotate(f"the mark is {gap:,.2f} USDT above\n{where}, far above this scale",
                    xycoords="axes fraction", va="top", fontsize=8.5, **corner)  # fmt: skip
    if run.liquidated_at is not None:
        _mark_liquidation(ax, xs[-1], drift[-1], 0.5)
    paid = ax.twinx()  # the same scale in funding paid: a twin axes is part of the frame, drawn once
    paid.set(ylim=[y * per_usdt for y in ax.get_ylim()], ylabel="funding paid so far (USDT)")
    paid.grid(False)
    usdt_ticks(paid.yaxis)
    ax.set_xlabel("hours since opening")
    ax.set_ylabel("liquidation price moved\ntoward the mark (USDT)")
    usdt_ticks(ax.xaxis, ax.yaxis)


#: The post-mortem scenario: an isolated 20x long held overnight at an elevated (example) funding
#: rate of 0.2 % per 8 h while BTC drifts lower and dips 4 % below the entry at hour 36.
#: Steps are (hour, mark, funding due?).
POST_MORTEM = {
    "leverage": 20.0,
    "rate": 0.002,
    "path": ((8.0, 99_000.0, True), (16.0, 98_500.0, True), (24.0, 98_000.0, True), (32.0, 97_500.0, True),
             (36.0, 96_000.0, False)),
}  # fmt: skip


def post_mortem(with_funding: bool = True) -> FundingRun:
    """The scenario with the funding settled, or at a zero rate (what the price alone did).

    >>> post_mortem(False).liquidated_at is None, post_mortem(True).liquidated_at
    (True, 5)
    """
    rate = POST_MORTEM["rate"] if with_funding else 0.0
    return run_funding(POST_MORTEM["leverage"], rate, path=POST_MORTEM["path"])


def plot_post_mortem() -> Figure:
    """The mark along the scenario's path (sky blue), the liquidation price with the funding paid
    (black dashed) and without it (orange dash-dot), the liquidation where the low crosses the
    first only."""
    real, alone = post_mortem(True), post_mortem(False)
    fig, ax = new_figure()
    ax.plot([s.hour for s in real.steps], [s.mark for s in real.steps], color=COLORS["neutral"], lw=2.2,
            marker="o", ms=4, label="mark price")  # fmt: skip
    ax.step(*_lp_steps(alone), where="post", color=COLORS["other"], ls="-.", lw=1.8,
            label="liquidation price, no funding")  # fmt: skip
    ax.step(*_lp_steps(real), where="post", color=COLORS["liquidation"], ls="--", lw=1.8,
            label=f"liquidation price, funding {POST_MORTEM['rate'] * 100:+g} % per 8 h")  # fmt: skip
    ax.set_xlim(0, 38)
    ax.set_ylim(95_000, 100_500)
    _mark_liquidation(ax, real.steps[-1].hour, real.steps[-1].mark, 0.8)
    ax.set_xticks([0.0] + [h for h, _, _ in POST_MORTEM["path"]])
    ax.set_xlabel("hours since opening")
    ax.set_ylabel("BTC price (USDT)")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_title("Post-mortem: the dip alone was survivable; four funding payments made it fatal")
    legend_below(fig, ax, ncols=2)
    return fig


def _widget_run(leverage: float, hours: float, rate_pct: float) -> tuple[FundingRun, float]:
    lev = v.scalar(v.leverage, "leverage (x)", leverage)
    try:
        _TIERS.check_leverage(QUANTITY * ENTRY, lev)
    except InvalidInputError as exc:  # name the control as the page labels it
        raise InvalidInputError(str(exc).replace("leverage must", "leverage (x) must", 1)) from None
    h, r = (v.scalar(v.number, name, x) for name, x in (("holding time (hours)", hours), (_RATE, rate_pct)))
    if not 0 <= h <= MAX_HOURS:
        raise InvalidInputError(f"holding time (hours) must be between 0 and {MAX_HOURS:,.0f}; got {h:,.10g}")
    if abs(r) > MAX_RATE_PCT:
        raise InvalidInputError(f"{_RATE} must be between -{MAX_RATE_PCT:g} and +{MAX_RATE_PCT:g}; got {r:g}")
    return _held(lev, r / 100, int(math.floor(h / FUNDING_INTERVAL_HOURS + 1e-9))), h


_held = kept(maxsize=8)(run_funding)  # the widget's runs, kept for the text and plot to share


def view(leverage: float = 20.0, hours: float = 168.0, rate_pct: float = 0.01) -> str:
    """Fees and funding of holding the lesson's isolated long for ``hours`` at ``rate_pct`` per
    cent per 8 h (mark constant at the entry), in USDT and as a share of the margin, and where
    the liquidation price ends (or when funding liquidated the position).

    >>> print(view().splitlines()[1])
    Trading fees (taker 0.05 % of the size, in and out): 10.00 USDT = 2 % of the margin.
    """
    run, h = _widget_run(leverage, hours, rate_pct)
    fee = float(trading_fee(QUANTITY * ENTRY, TAKER_FEE_RATE))
    m, n, lp0 = run.margin, len(run.steps) - 1, run.steps[0].liquidation_price
    who = "longs pay shorts" if run.rate > 0 else ("shorts pay longs" if run.rate < 0 else "nobody pays")
    lines = [
        f"Isolated BTC long: {QUANTITY:g} BTC at {price(ENTRY)} = {usdt(QUANTITY * ENTRY, 0)} at "
        f"{run.leverage:g}x -> margin {usdt(m)}.",
        f"Trading fees (taker {TAKER_FEE_RATE * 100:g} % of the size, in and out): {usdt(2 * fee)} = "
        f"{_share(2 * fee / m)} of the margin.",
        f"Holding {h:,g} h: {n:,} funding time{'' if n == 1 else 's'} at {rate_pct:+g} % per 8 h ({who}).",
    ]
    if run.liquidated_at is not None:
        s = run.steps[run.liquidated_at]
        paid = -sum(x.funding for x in run.steps[: run.liquidated_at + 1])
        lines += [
            f"LIQUIDATED by funding alone at funding time {run.liquidated_at} (hour {s.hour:g}), the mark "
            f"unchanged at {price(s.mark)}: {usdt(paid)} of funding had left the isolated wallet.",
            f"Total cost: the whole margin {usdt(m)} + the opening fee {usdt(fee)} = {usdt(m + fee)}.",
            f"Liquidation price: {price(lp0)} at opening, then up to the mark.",
        ]
        return "\n".join(lines)
    end, paid = run.steps[-1], run.funding_paid
    lp_end = end.liquidation_price
    moved, way = abs(lp_end - lp0), "toward" if paid >= 0 else "away from"
    net = "Total cost (fees + funding)" if paid >= 0 else "Net cost (fees − funding received)"
    lines += [
        f"Funding {'paid' if paid >= 0 else 'received'}: {usdt(abs(paid))} = {_share(abs(paid) / m)} of "
        "the margin.",
        f"{net}: {usdt(2 * fee + paid)} = {_share((2 * fee + paid) / m)} of the margin.",
        f"Liquidation price: {price(lp0 or math.nan)} at opening -> {price(lp_end or math.nan)} after the "
        f"last funding time, {moved:,.2f} USDT {way} the mark (isolated wallet {usdt(end.wallet)}).",
    ]
    if not moved:
        lines[-1] = f"Liquidation price: {price(lp0 or math.nan)}, unchanged (wallet {usdt(end.wallet)})."
    return "\n".join(lines)


def plot(leverage: float = 20.0, hours: float = 168.0, rate_pct: float = 0.01) -> Figure:
    """The liquidation price's move toward the constant mark after each funding time (black
    dashed steps; no funding: orange dash-dot at 0), the mark when it is in reach (sky blue), a
    liquidation by funding (vermillion), and the funding paid on the right-hand scale."""
    run, h = _widget_run(leverage, hours, rate_pct)
    fig, ax = new_figure()
    _drift_axes(ax, run, h)
    head = f"{run.leverage:g}x, {rate_pct:+g} % per 8 h: "
    drift = run.steps[-1].liquidation_price - run.steps[0].liquidation_price
    if run.liquidated_at is not None:
        title = f"funding alone liquidates the long at hour {run.steps[run.liquidated_at].hour:g}"
    elif drift == 0:
        title = f"no funding paid in {h:,g} h, the liquidation price stays put"
    else:
        way = "toward" if drift > 0 else "away from"
        title = f"the liquidation price moves {abs(drift):,.2f} USDT {way} the mark"
    ax.set_title(head + title)
    legend_below(fig, ax, ncols=2)
    return steady_axes(fig)  # the same frame as the widget's (build_widget rounds autoscaled axes)


def widget():
    """Leverage, holding time (hours) and funding rate (% per 8 h) → costs, the LP's drift, plot."""
    import ipywidgets as ipw

    style, layout = {"description_width": "170px"}, ipw.Layout(width="520px")
    controls = {
        "leverage": leverage_slider(20, max=150),  # tier 1's maximum for this 10,000 USDT position
        "hours": ipw.FloatText(value=168.0, description="holding time (hours)", style=style, layout=layout),
        "rate_pct": ipw.FloatSlider(value=0.01, min=-MAX_RATE_PCT, max=MAX_RATE_PCT, step=0.005,
                                    description=_RATE, continuous_update=False,
                                    readout_format=".3f", style=style, layout=layout),
    }  # fmt: skip
    return build_widget(controls, view, plot, title="Fees and funding: the cost of holding, the LP's drift")


#: The exercises' inputs (see each question).
EX_7A = {"margin": 2_000.0, "leverage": 20.0}
EX_7B = {"quantity": 0.5, "hours": 72.0, "rate": TYPICAL_RATE}
EX_7C = {"leverage": 30.0, "rate": 0.001}
EX_7D = {"leverage": 10.0, "rate": 0.0005, "hours": 24.0}


def _ex_7a() -> float:
    n = EX_7A["margin"] * EX_7A["leverage"]
    return 100 * float(trading_fee(n, MAKER_FEE_RATE) + trading_fee(n, TAKER_FEE_RATE)) / EX_7A["margin"]


def _ex_7b() -> float:
    n = math.floor(EX_7B["hours"] / FUNDING_INTERVAL_HOURS)
    return -n * float(funding_payment("long", EX_7B["quantity"], ENTRY, EX_7B["rate"]))


def _ex_7c() -> float:
    return float(run_funding(EX_7C["leverage"], EX_7C["rate"], 200).liquidated_at)


def _ex_7d() -> float:
    n = math.floor(EX_7D["hours"] / FUNDING_INTERVAL_HOURS)
    received = n * float(funding_payment("short", QUANTITY, ENTRY, EX_7D["rate"]))
    wallet = QUANTITY * ENTRY / EX_7D["leverage"] + received
    return float(liquidation_price("short", QUANTITY, ENTRY, wallet, brackets=_TIERS))


EXERCISES = {
    "7a": Exercise("7a", "2,000 USDT of margin behind a 20x BTC long, opened as maker and closed as taker at "
                   "the same price: the fees as a share of the margin, in per cent?", _ex_7a,
                   unit="% of the margin", hint="Both fees are charged on the position's size, each at its "
                   "own rate; then divide their sum by the margin."),  # fmt: skip
    "7b": Exercise("7b", "A 0.5 BTC long held 3 days, mark 100,000 USDT, funding +0.01 % per 8 h: total "
                   "funding paid (USDT, positive)?", _ex_7b, unit="USDT",
                   hint="Count the funding times in the holding period; charge size × mark × rate at each."),
    "7c": Exercise("7c", "The lesson's long at 30x, mark constant, funding 0.1 % per 8 h: at which funding "
                   "time is it liquidated?", _ex_7c, unit="funding times", rel_tol=0.0, abs_tol=0.5,
                   hint="It goes at the first payment after which the isolated wallet is at or below the "
                   "maintenance margin: round the quotient up, not down."),  # fmt: skip
    "7d": Exercise("7d", "An isolated 10x short of 0.1 BTC at 100,000 USDT, mark unchanged, funding +0.05 % "
                   "per 8 h for a day: its liquidation price after the last payment (USDT)?", _ex_7d,
                   unit="USDT", rel_tol=1e-5, hint="Work out which side pays at this sign of the rate, move "
                   "the isolated wallet accordingly, then use the short's formula."),  # fmt: skip
}

QUIZ = Quiz([
    Question("q1", "A 20x long is opened and closed at the same price, taker both ways at 0.05 %. What share "
             "of the margin do the fees take?", {
        "a": ("2 %", "Fees are charged on the size: 0.1 % of the size is 20 × 0.1 % of the margin."),
        "b": ("0.1 %", "That is their share of the position's size; the margin is 20 times smaller."),
        "c": ("0.05 %", "That is one fee's rate, on the size, not the margin."),
    }, answer="a"),
    Question("q2", "Which margin mode pays lower trading fees?", {
        "a": ("Isolated", "The rate and the size are the same in both modes, so the fee is too."),
        "b": ("Cross", "The rate and the size are the same in both modes, so the fee is too."),
        "c": ("Neither", "The fee is the size times the rate, and the mode changes neither."),
    }, answer="c"),
    Question("q3", "At a positive funding rate, who receives what the longs pay?", {
        "a": ("The exchange, as a fee", "The exchange takes no cut of funding; it passes from one side to "
              "the other."),
        "b": ("The shorts holding at the funding time", "Funding is a payment between traders."),
        "c": ("The insurance fund", "The insurance fund is fed by liquidations, not by funding."),
    }, answer="b"),
    Question("q4", "BTC's mark has not moved for five days. Can an isolated long be liquidated meanwhile?", {
        "a": ("No: a liquidation needs an adverse price move", "Funding paid from the isolated wallet lifts "
              "the liquidation price toward the mark even when the price stands still."),
        "b": ("Only in cross mode", "In isolated mode the funding comes out of the position's own wallet, "
              "which is what stands between it and liquidation."),
        "c": ("Yes, if enough funding is paid", "Each payment moves the trigger up; at high leverage and a "
              "high rate it reaches the mark."),
    }, answer="c"),
])  # fmt: skip
