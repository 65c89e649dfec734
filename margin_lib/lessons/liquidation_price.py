"""Lesson 6, the exact liquidation price: the parts of the lesson a learner need not read.

The maths (MB = MM solved for a long and a short, the tier fixed point, the bankruptcy price, the
cross wallet ``WB'``) runs in the notebook's own cells through the engine. Here: the illustrative
mark/last price series and their plot, the position-ticket widget (:func:`view`, :func:`plot`,
:func:`widget`), the exercises and the quiz. The running example is the article's isolated trade
(:data:`~margin_lib.examples.ISOLATED_EXAMPLE`) at the illustrative entry :data:`ENTRY`, with the
shipped BTCUSDT tiers and no fees, as in the article.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from matplotlib.figure import Figure

from .. import _validate as v
from ..brackets import BracketTable
from ..errors import InvalidInputError
from ..examples import ILLUSTRATIVE_PRICES, ISOLATED_EXAMPLE
from ..exercises import Exercise
from ..format import price, usdt
from ..liquidation import bankruptcy_price, effective_wallet, liquidation_price
from ..margin import adverse_move_to_liquidation
from ..plots import COLORS, legend_below, new_figure, plot_margin_balance, stable_limits
from ..quiz import Question, Quiz
from ..widgets import build_widget, choice_buttons, leverage_slider, money_box

__all__ = [
    "SYMBOL",
    "ENTRY",
    "WICK_LAST",
    "WICK_MARK",
    "TIER_EXAMPLE",
    "btc_table",
    "wick_lp",
    "wick_run",
    "plot_wick",
    "view",
    "plot",
    "widget",
    "EXERCISES",
    "QUIZ",
]

SYMBOL = "BTCUSDT"
#: The illustrative BTC entry price (USDT); the article names none.
ENTRY = ILLUSTRATIVE_PRICES[SYMBOL]
_POSITION = ISOLATED_EXAMPLE.positions[0]
_TABLE = BracketTable.load(SYMBOL)  # the tiers, loaded once for the widget (each change reads them)

#: The tier example: an isolated 5x BTC short of 750,000 USDT (tier 2 at the entry).
TIER_EXAMPLE = {"side": "short", "size": 750_000.0, "leverage": 5.0}

#: A made-up, illustrative ten-minute series (USDT) for the article's long: the last traded price
#: wicks below the liquidation price for one minute (minute 5), the mark price does not.
WICK_LAST = (99_200.0, 97_800.0, 95_900.0, 93_400.0, 91_900.0, 89_600.0, 92_300.0, 93_500.0, 94_100.0,
             94_800.0)  # fmt: skip
#: The mark price over the same minutes: it follows an index of several exchanges' prices, so a
#: thin book's one-minute wick moves it far less.
WICK_MARK = (99_250.0, 97_900.0, 96_050.0, 93_700.0, 92_400.0, 91_650.0, 92_250.0, 93_400.0, 94_000.0,
             94_750.0)  # fmt: skip


def btc_table() -> BracketTable:
    """The shipped BTCUSDT tier snapshot."""
    return BracketTable.load(SYMBOL)


# --------------------------------------------------------------------------------- mark vs last
def wick_lp() -> float:
    """The liquidation price of the article's long with the BTCUSDT tiers (USDT).

    >>> round(wick_lp(), 2)
    90361.45
    """
    q = _POSITION.notional / ENTRY
    wb = _POSITION.notional / _POSITION.leverage
    return float(liquidation_price(_POSITION.side, q, ENTRY, wb, brackets=btc_table()))


def wick_run(series: tuple[float, ...]) -> list[str]:
    """Mark the article's long (an :class:`~margin_lib.account.Account`, exchange tiers) minute by
    minute with ``series``: "open", "LIQUIDATED" (the minute it happens) or "gone" after.

    >>> wick_run((95_000.0, 90_000.0, 95_000.0))
    ['open', 'LIQUIDATED', 'gone']
    """
    acct = ISOLATED_EXAMPLE.build_account(tiers="exchange")
    status = []
    for p in series:
        if not acct.has_position(SYMBOL):
            status.append("gone")
        else:
            status.append("LIQUIDATED" if acct.mark({SYMBOL: p}) else "open")
    return status


def plot_wick() -> Figure:
    """The two illustrative series against the liquidation price (black dashed, labelled): the
    last price orange with dots, the mark price sky blue (blue is the margin balance elsewhere in
    the lesson)."""
    lp = wick_lp()
    fig, ax = new_figure()
    minutes = np.arange(len(WICK_LAST))
    ax.plot(minutes, WICK_LAST, color=COLORS["other"], marker="o", linewidth=1.5, label="last traded price")
    ax.plot(minutes, WICK_MARK, color=COLORS["neutral"], linewidth=2.4, label="mark price")
    ax.axhline(lp, color=COLORS["liquidation"], linestyle="--", linewidth=1.4)
    ax.annotate(f"liquidation price {price(lp)}", xy=(0.0, lp), xytext=(0, 4), textcoords="offset points",
                fontsize=8.5)  # fmt: skip
    low = int(np.argmin(WICK_LAST))
    ax.annotate(
        f"minute {low}: the last price dips below,\nthe mark does not: no liquidation",
        xy=(low, WICK_LAST[low]),
        xytext=(low + 0.8, lp - 650),
        fontsize=8.5,
        va="center",
        arrowprops={"arrowstyle": "->"},
    )
    ax.set_xlabel("minute (illustrative series, not market data)")
    ax.set_ylabel("BTC price (USDT)")
    ax.set_title("Only the mark price liquidates: a one-minute wick of the last price does not")
    ax.set_ylim(88_000, 100_000)
    ax.set_xticks(minutes)
    ax.legend(loc="upper right")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    return fig


# --------------------------------------------------------------------------------- widget
_MODES = ("isolated", "cross")
_SIDES = ("long", "short")
_LABELS = {"size": "size (USDT)", "entry": "entry price (USDT)", "wallet": "wallet (USDT, 0 = IM)",
           "other_mm": "other cross MM (USDT)", "other_upnl": "other cross UPNL (USDT)"}  # fmt: skip


#: A checked ticket: ``wallet`` as typed (or the initial margin), ``backing`` = WB'.
_Ticket = namedtuple("_Ticket", "side quantity entry leverage wallet backing mode other_mm other_upnl tier")


def _ticket(side, size, entry, leverage, wallet, mode, other_mm, other_upnl) -> _Ticket:
    s = v.choice("side", side, _SIDES)
    n = v.scalar(v.positive, _LABELS["size"], size)
    ep = v.scalar(v.positive, _LABELS["entry"], entry)
    lev = v.scalar(v.leverage, "leverage (x)", leverage)
    try:
        tier = _TABLE.check_leverage(n, lev)
    except InvalidInputError as exc:  # name the control as the page labels it
        text = str(exc).replace("leverage must", "leverage (x) must", 1)
        raise InvalidInputError(text.replace("notional must", f"{_LABELS['size']} must", 1)) from None
    wb = v.scalar(v.nonnegative, _LABELS["wallet"], wallet)
    m = v.choice("margin mode", mode, _MODES)
    omm = v.scalar(v.nonnegative, _LABELS["other_mm"], other_mm)
    oup = v.scalar(v.number, _LABELS["other_upnl"], other_upnl)
    if m == "isolated":
        omm = oup = 0.0  # other positions do not touch an isolated wallet
    if wb == 0:
        wb = n / lev
    backing = float(effective_wallet(wb, omm, oup))
    if backing <= 0:
        raise InvalidInputError(
            f"{_LABELS['other_mm']} and {_LABELS['other_upnl']} must leave money behind this position; got "
            f"wallet {wb:,.2f} − {omm:,.2f} + ({oup:,.2f}) = {backing:,.2f} USDT (already liquidated)"
        )
    return _Ticket(s, n / ep, ep, lev, wb, backing, m, omm, oup, tier)


def _move(p: float, entry: float) -> str:
    """A price's distance from the entry in per cent, with up to three decimals as needed."""
    return f"{(p / entry - 1) * 100:+.3f}".rstrip("0").rstrip(".") + " %"


def _lp(t: _Ticket) -> float:
    others = {"other_maintenance_margin": t.other_mm, "other_unrealized_pnl": t.other_upnl}
    return float(liquidation_price(t.side, t.quantity, t.entry, t.wallet, brackets=_TABLE, **others))


def view(side: str = _POSITION.side, size: float = _POSITION.notional, entry: float = ENTRY,
         leverage: float = _POSITION.leverage, wallet: float = 0.0, mode: str = "isolated",
         other_mm: float = 0.0, other_upnl: float = 0.0) -> str:  # fmt: skip
    """A position ticket → liquidation and bankruptcy prices with the BTCUSDT tiers.

    ``size`` is the notional in USDT at ``entry``; ``wallet`` is the money behind the position
    (the isolated wallet, or the cross wallet), 0 meaning "just the initial margin
    ``size / leverage``". In cross mode ``other_mm`` and ``other_upnl`` are the other cross
    positions' maintenance margin and unrealized PnL (USDT); isolated mode ignores them.

    >>> print(view().splitlines()[-2])
    Liquidation price: 90,361.45 (-9.639 % from the entry), tier 1 (MMR 0.4 %, cum 0 USDT).
    """
    t = _ticket(side, size, entry, leverage, wallet, mode, other_mm, other_upnl)
    lp = _lp(t)
    bp = float(bankruptcy_price(t.side, t.quantity, t.entry, t.backing))
    lines = [
        f"{t.mode.capitalize()} {t.leverage:g}x {t.side}: {usdt(t.quantity * t.entry, 0)} = "
        f"{t.quantity:g} BTC at {price(t.entry)}; tier {t.tier.bracket} at the entry "
        f"(max {t.tier.max_leverage:g}x).",
    ]
    if t.mode == "cross":
        lines.append(f"Money behind it: WB' = cross wallet {usdt(t.wallet)} − other MM {usdt(t.other_mm)} "
                     f"+ other UPNL {usdt(t.other_upnl)} = {usdt(t.backing)}.")  # fmt: skip
    else:
        lines.append(f"Money behind it: the isolated wallet, {usdt(t.backing)}.")
    if math.isnan(lp):
        lines.append("Liquidation price: none (--): the money behind it covers every possible loss.")
    else:
        tier = _TABLE.tier_at(t.quantity * lp)
        rates = f"MMR {tier.mmr * 100:g} %, cum {tier.maintenance_amount:,.0f} USDT"
        where = f"{price(lp)} ({_move(lp, t.entry)} from the entry)"
        lines.append(f"Liquidation price: {where}, tier {tier.bracket} ({rates}).")
    if math.isnan(bp):
        lines.append("Bankruptcy price: none (--).")
    else:
        lines.append(f"Bankruptcy price: {price(bp)} ({_move(bp, t.entry)} from the entry).")
    return "\n".join(lines)


def price_window(side: str, entry: float, lp: float, bp: float) -> tuple[float, float]:
    """The plot's price range: symmetric about the entry, wide enough for the bankruptcy price
    (or the liquidation price) with room to spare, rounded so that small changes keep the frame.

    >>> price_window("long", 100_000, 90_361.45, 90_000)
    (80000.0, 120000.0)
    """
    far = bp if math.isfinite(bp) else lp
    half = 1.5 * abs(entry - far) if math.isfinite(far) else entry  # no price: down to (almost) zero
    half = max(half, 0.01 * entry)
    low, high = stable_limits(max(entry - half, 0.01 * entry), entry + half, parts=4)
    return max(low, 0.01 * entry), high


def plot(side: str = _POSITION.side, size: float = _POSITION.notional, entry: float = ENTRY,
         leverage: float = _POSITION.leverage, wallet: float = 0.0, mode: str = "isolated",
         other_mm: float = 0.0, other_upnl: float = 0.0) -> Figure:  # fmt: skip
    """Margin balance against the mark price for the ticket (:func:`view`'s inputs), with the
    liquidation (dashed) and bankruptcy (dotted) prices, by :func:`plots.plot_margin_balance`."""
    t = _ticket(side, size, entry, leverage, wallet, mode, other_mm, other_upnl)
    lp = _lp(t)
    bp = float(bankruptcy_price(t.side, t.quantity, t.entry, t.backing))
    head = f"{t.mode.capitalize()} {t.leverage:g}x {t.side}: "
    none = "balance never meets maintenance margin (no liquidation price)"  # short enough not to be cut
    title = head + (none if math.isnan(lp) else f"the balance meets the maintenance margin at {price(lp)}")
    window = price_window(t.side, t.entry, lp, bp)
    fig = plot_margin_balance(
        t.side, t.quantity, t.entry, t.wallet, brackets=_TABLE,
        other_maintenance_margin=t.other_mm, other_unrealized_pnl=t.other_upnl,
        price_range=window, title=title, legend=None,
    )  # fmt: skip
    fig.axes[0].set_ylim(balance_window(t, window))
    legend_below(fig, fig.axes[0])  # always below, close-up or not: the same frame, and it covers nothing
    return fig


def balance_window(t: _Ticket, window: tuple[float, float]) -> tuple[float, float]:
    """The plot's USDT range over the price ``window``: the balance's level mid-window rounded to a fifth of
    its rise across the window, ± half that (so small changes keep the frame), ends rounded to a tenth.

    >>> t = _ticket("long", 1_000, ENTRY, 10, 0.0, "isolated", 0.0, 0.0)
    >>> balance_window(t, (80_000.0, 120_000.0))  # the balance runs from -100 to 300
    (-200.0, 400.0)
    """
    lo, hi = window
    rise = t.quantity * (hi - lo)  # the balance's change across the window
    quantum, step = (stable_limits(0.0, rise / n, parts=1)[1] for n in (5, 10))  # 1, 2, 2.5 or 5 × 10^k
    middle = t.backing + t.other_mm + (1 if t.side == "long" else -1) * t.quantity * ((lo + hi) / 2 - t.entry)
    level = math.floor(middle / quantum + 0.5) * quantum
    mm = _TABLE.maintenance_margin_curve(np.array([t.quantity * lo, t.quantity * hi])) + t.other_mm
    reach, room = rise / 2 + quantum / 2 + 0.02 * rise, 0.04 * rise  # level to the balance's ends; room
    low, high = min(level - reach, float(mm.min()) - room), max(level + reach, float(mm.max()) + room)
    return float(math.floor(low / step) * step), float(math.ceil(high / step) * step)


def widget():
    """The position ticket: side, size, entry, leverage, wallet, mode, other cross positions."""
    controls = {
        "side": choice_buttons(list(_SIDES), _POSITION.side, "side"),
        "size": money_box(_POSITION.notional, _LABELS["size"]),
        "entry": money_box(ENTRY, _LABELS["entry"]),
        "leverage": leverage_slider(_POSITION.leverage, max=150),
        "wallet": money_box(0.0, _LABELS["wallet"]),
        "mode": choice_buttons(list(_MODES), "isolated", "margin mode"),
        "other_mm": money_box(0.0, _LABELS["other_mm"]),
        "other_upnl": money_box(0.0, _LABELS["other_upnl"]),
    }
    return build_widget(controls, view, plot, height="600px", title="Liquidation price of a position ticket")


# --------------------------------------------------------------------------------- exercises
#: 6a: a 10x isolated long of 4 BTC at ENTRY. 6b: the tier example grown to 2,600,000 USDT.
#: 6c: a cross long of 0.5 BTC leaning on other positions. 6d: a fresh 20x short at 0.5 %.
EXERCISE_LONG = {"quantity": 4.0, "leverage": 10.0}
EXERCISE_BIG_SHORT = {"size": 2_600_000.0, "leverage": 5.0}
EXERCISE_CROSS = {"quantity": 0.5, "cross_wallet": 10_000.0, "other_mm": 150.0, "other_upnl": -2_000.0}
EXERCISE_SHORT_MOVE = {"leverage": 20.0, "mmr": 0.005}


def _ex_long() -> float:
    q, lev = EXERCISE_LONG["quantity"], EXERCISE_LONG["leverage"]
    return float(liquidation_price("long", q, ENTRY, q * ENTRY / lev, brackets=btc_table()))


def _ex_big_short() -> float:
    n, lev = EXERCISE_BIG_SHORT["size"], EXERCISE_BIG_SHORT["leverage"]
    return float(liquidation_price("short", n / ENTRY, ENTRY, n / lev, brackets=btc_table()))


def _ex_cross() -> float:
    c = EXERCISE_CROSS
    others = {"other_maintenance_margin": c["other_mm"], "other_unrealized_pnl": c["other_upnl"]}
    wb = c["cross_wallet"]
    return float(liquidation_price("long", c["quantity"], ENTRY, wb, brackets=btc_table(), **others))


def _ex_short_move() -> float:
    return 100 * float(adverse_move_to_liquidation("short", **EXERCISE_SHORT_MOVE))


EXERCISES = {
    "6a": Exercise(
        "6a", "A 10x isolated long of 4 BTC at 100,000 USDT, BTCUSDT tiers: its liquidation price (USDT)?",
        _ex_long, unit="USDT", rel_tol=1e-5,
        hint="Take the tier that holds the notional at the liquidation price (check Q × LP against its "
        "floor and cap), use its MMR and its cum in the long's formula, with the initial margin as wallet.",
    ),
    "6b": Exercise(
        "6b", "The tier example's short grown to 2,600,000 USDT at 5x: its liquidation price (USDT)?",
        _ex_big_short, unit="USDT", rel_tol=1e-5,
        hint="Rerun the cell that tries every tier and keep the one whose Q × LP lies inside it; "
        "the entry's tier is not always that one.",
    ),
    "6c": Exercise(
        "6c", "A cross long of 0.5 BTC at 100,000 USDT, cross wallet 10,000 USDT, the other cross positions "
        "needing 150 USDT of maintenance margin and 2,000 USDT in loss: its liquidation price (USDT)?",
        _ex_cross, unit="USDT", rel_tol=1e-5,
        hint="First the money that really backs this position (the cross wallet less what the other "
        "positions need, plus their PnL), then the long's formula with the tier at the liquidation price.",
    ),
    "6d": Exercise(
        "6d", "A fresh isolated 20x short with an MMR of 0.5 % and no cum: how far does the mark rise "
        "before it is liquidated, in per cent of the entry?",
        _ex_short_move, unit="% of the entry", rel_tol=1e-4,
        hint="Solve the short's equation with the wallet equal to the initial margin and divide the "
        "distance by the entry; the MMR's sign in the denominator is the short's, not the long's.",
    ),
}

# --------------------------------------------------------------------------------- quiz
QUIZ = Quiz([
    Question("q1", "A large position opened in tier 2 grows into tier 3 as the price moves against it. "
             "Which tier's MMR and cum give its liquidation price?", {
        "a": ("Tier 2, the tier at the entry",
              "The maintenance margin is computed on the notional at the mark, and at the trigger the mark "
              "is the liquidation price: the entry's tier gives a price the position never reaches alive."),
        "b": ("The tier that holds the notional at the liquidation price, here tier 3",
              "MB = MM must hold with the MM the exchange computes there: Q × LP must lie in the tier used."),
        "c": ("Always tier 1, since cum keeps the maintenance margin continuous",
              "Continuity does not make the tiers equal: past a floor the MM grows at the higher rate."),
    }, answer="b"),  # fmt: skip
    Question("q2", "Where is an isolated long liquidated?", {
        "a": ("At the bankruptcy price, where its margin balance reaches zero",
              "That price lies beyond the trigger: liquidation starts while the balance still equals the "
              "maintenance margin."),
        "b": ("When the last traded price touches the liquidation price",
              "The exchange compares the liquidation price with the mark price, not the last trade."),
        "c": ("When the mark price reaches the liquidation price, where the balance equals the maintenance "
              "margin", "That is the definition the whole lesson solves: MB = MM at the mark."),
    }, answer="c"),  # fmt: skip
    Question("q3", "The chart shows a one-minute wick of the last price below your liquidation price; the "
             "mark price stayed above it. What happened to the position?", {
        "a": ("Nothing: it is still open",
              "The mark, built from an index of several markets, stayed above the trigger."),
        "b": ("It was liquidated at the bottom of the wick",
              "Only the mark price triggers a liquidation, and the mark did not reach the trigger."),
        "c": ("Half of it was closed",
              "Nothing was triggered at all, so nothing was closed; the mark never reached the trigger."),
    }, answer="a"),  # fmt: skip
    Question("q4", "A 10x isolated long of 1,000 USDT with 100 USDT of margin is liquidated just past its "
             "liquidation price. What does the course's model say it loses?", {
        "a": ("Only the few USDT between the liquidation and bankruptcy prices",
              "The loss up to the trigger is realised too, and the margin balance left there is taken."),
        "b": ("The whole 1,000 USDT futures wallet",
              "That is a cross liquidation; an isolated one leaves the rest of the wallet alone."),
        "c": ("The whole 100 USDT isolated wallet, and nothing more",
              "PnL realised at the mark plus the balance left, taken: the isolated wallet ends at zero."),
    }, answer="c"),  # fmt: skip
    Question("q5", "At 10x with an MMR of 0.5 %, how far must the mark move against a fresh isolated "
             "position to liquidate it?", {
        "a": ("9.548 % for a long and 9.453 % for a short",
              "A long's maintenance margin shrinks as the price falls (trigger a little further), a short's "
              "grows as it rises (a little closer)."),
        "b": ("9.5 % either way, as the error tolerance says",
              "IMR − MMR is a first estimate; the exact figure divides it by 1 − MMR for a long and 1 + MMR "
              "for a short."),
        "c": ("9.548 % for both",
              "Dividing by 1 + MMR makes a short's distance smaller than 9.5 %, not larger."),
    }, answer="a"),  # fmt: skip
])
