"""Lesson 5, isolated against cross: the same trades in both modes, the widget, the plot, the
exercises and the quiz.

The formulas (the isolated liquidation price, the available balance and what may leave the
cross wallet, the fee, the fall that liquidates at a given leverage, the loss of a stop-loss
fill) are computed in the lesson's own cells with the engine; this module holds what a learner
need not read: the layout of the long comparison table, the widget and its plot. The trades are
the article's (:data:`~margin_lib.examples.CASE_A`, :data:`~margin_lib.examples.CASE_B`), run with
the article's maintenance rate and no fees.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import _validate as v
from .._cache import kept
from ..account import MIN_QUANTITY, Account, liquidation_losses
from ..errors import InvalidInputError
from ..examples import (
    ARTICLE_FEE_RATES,
    CASE_A,
    CASE_B,
    ILLUSTRATIVE_PRICES,
    PositionSpec,
    Scenario,
    article_table,
)
from ..exercises import Exercise
from ..format import pct, table, usdt
from ..plots import COLORS, legend_below, new_figure, usdt_ticks
from ..quiz import Question, Quiz
from ..widgets import build_widget, leverage_slider, money_box, move_slider

__all__ = [
    "MODES", "CASE_B_SIZE", "ARTICLE_CONTROLS", "MAX_LEVERAGE", "trades", "outcome", "same_trades_table",
    "view", "plot", "widget", "EXERCISES", "QUIZ",
]  # fmt: skip

BTC, ETH = "BTCUSDT", "ETHUSDT"
MODES = ("isolated", "cross")
#: The highest leverage of the article's table, and the leverage slider's end.
MAX_LEVERAGE = 125
#: The controls as the page labels them (refusals name them so).
LABELS = {"notional": "size per leg (USDT)", "leverage": "leverage (x)", "btc_move": "BTC move (%)",
          "eth_move": "ETH move (%)"}  # fmt: skip
_LEG_A = CASE_A.positions[0]
#: Case B's size per leg (USDT).
CASE_B_SIZE: float = CASE_B.positions[0].notional
#: The widget's controls at the article's Case A: size per leg, leverage, BTC and ETH moves (%).
ARTICLE_CONTROLS: dict[str, float] = {
    "notional": float(_LEG_A.notional),
    "leverage": float(_LEG_A.leverage),
    "btc_move": CASE_A.moves[BTC] * 100,
    "eth_move": CASE_A.moves[ETH] * 100,
}
#: The article's shock, then two deeper BTC falls with the same ETH rise (per cent).
_SHOCKS = tuple((b, ARTICLE_CONTROLS["eth_move"]) for b in (ARTICLE_CONTROLS["btc_move"], -12.0, -25.0))
#: The smallest size per leg: the exchange's minimum quantity of BTC at its illustrative price.
_MIN_SIZE = MIN_QUANTITY[BTC] * ILLUSTRATIVE_PRICES[BTC]


def trades(
    mode: str, notional: float = _LEG_A.notional, leverage: float = _LEG_A.leverage,
    wallet: float = CASE_A.wallet,
) -> Scenario:  # fmt: skip
    """The article's two trades, a BTC long and an ETH long of ``notional`` USDT each at
    ``leverage`` from the article's 1,000 USDT wallet, both in ``mode``. Refused, naming the
    control, when the size is below the exchange's minimum quantity, when the leverage is beyond
    the article's table, or when the two initial margins do not fit in the wallet.

    >>> [(p.symbol, p.notional, p.margin_mode) for p in trades("cross", CASE_B_SIZE).positions]
    [('BTCUSDT', 1000.0, 'cross'), ('ETHUSDT', 1000.0, 'cross')]
    """
    mode_ = v.choice("mode", mode, MODES)
    n = v.scalar(v.positive, LABELS["notional"], notional)
    lev = v.scalar(v.leverage, LABELS["leverage"], leverage)
    w = v.scalar(v.positive, "wallet", wallet)
    if n < _MIN_SIZE:
        raise InvalidInputError(f"{LABELS['notional']} must be at least {_MIN_SIZE:,.0f} (0.001 BTC, the "
                                f"exchange's minimum quantity); got {n:,.2f}")  # fmt: skip
    if lev > MAX_LEVERAGE:
        raise InvalidInputError(f"{LABELS['leverage']} must be at most {MAX_LEVERAGE}, the article's table's "
                                f"last row; got {lev:g}")  # fmt: skip
    if 2 * n / lev > w:
        most = w * lev / 2
        raise InvalidInputError(
            f"{LABELS['notional']}: two legs of {n:,.0f} at {lev:g}x need {2 * n / lev:,.2f} USDT of initial "
            f"margin, more than the {w:,.0f} USDT wallet; at {lev:g}x each leg can be at most {most:,.0f}"
        )
    return Scenario(
        name=f"{mode_}: BTC and ETH longs of {n:,.0f} USDT at {lev:g}x", wallet=w,
        positions=(PositionSpec(BTC, "long", n, lev, mode_), PositionSpec(ETH, "long", n, lev, mode_)),
    )  # fmt: skip


def _percents(btc_move: float, eth_move: float) -> tuple[float, float]:
    b = v.scalar(v.number, LABELS["btc_move"], btc_move, low=-100.0, low_open=True)
    e = v.scalar(v.number, LABELS["eth_move"], eth_move, low=-100.0, low_open=True)
    return b, e


def _moves(btc_move: float, eth_move: float) -> dict[str, float]:
    b, e = _percents(btc_move, eth_move)
    return {BTC: b / 100, ETH: e / 100}


def _size_and_leverage(notional: float, leverage: float) -> tuple[float, float]:
    """The size per leg and the leverage as checked by :func:`trades` (refusals name the control)."""
    leg = trades(MODES[0], notional, leverage).positions[0]
    return leg.notional, leg.leverage


def outcome(scenario: Scenario, btc_move: float, eth_move: float) -> dict[str, object]:
    """What the moves (per cent) do to ``scenario``, run in the engine: the BTC move that
    liquidates BTC (a fraction, ETH where it moved; NaN if none), the equity and the available
    balance after the moves, what was liquidated and the USDT the liquidations took.

    >>> o = outcome(CASE_A, -8, 5)
    >>> o["equity"], o["liquidated"], o["lost"]
    (850.0, [], 0.0)
    """
    acct = scenario.build_account()
    moves = _moves(btc_move, eth_move)
    probe = acct.copy()
    probe.mark({ETH: scenario.marks({ETH: moves[ETH]})[ETH]})
    btc = [p for p in probe.report().positions if p.symbol == BTC]
    lp = btc[0].liquidation_price if btc else float("nan")
    events = acct.mark(scenario.marks(moves))
    end = acct.report()
    return {
        "btc_liquidation_move": lp / ILLUSTRATIVE_PRICES[BTC] - 1,
        "equity": end.equity,
        "available": end.available_balance,
        "liquidated": sorted({e.symbol for e in events if e.kind == "liquidation" and e.symbol}),
        "lost": float(sum(liquidation_losses(events).values())),
    }


def _gone(o: dict[str, object]) -> str:
    return ", ".join(s.removesuffix("USDT") for s in o["liquidated"]) or "nothing"


_HEAD = ["", "BTC liquidated at", "equity after", "available after", "liquidated", "lost"]


def _row(label: str, o: dict[str, object]) -> list[str]:
    return [label, pct(o["btc_liquidation_move"]), usdt(o["equity"]), usdt(o["available"]), _gone(o),
            usdt(o["lost"])]  # fmt: skip


def same_trades_table(
    notional: float = _LEG_A.notional, leverage: float = _LEG_A.leverage,
    shocks: tuple[tuple[float, float], ...] = _SHOCKS,
) -> str:  # fmt: skip
    """The same trades in both modes under each shock (BTC %, ETH %): like against like."""
    rows = [_row(f"{mode}, BTC {b:+g} % ETH {e:+g} %", outcome(trades(mode, notional, leverage), b, e))
            for b, e in shocks for mode in MODES]  # fmt: skip
    return table(rows, _HEAD, align="l")


def view(notional: float, leverage: float, btc_move: float, eth_move: float) -> str:
    """What the widget prints: the two trades, sized and levered as chosen, in both modes after
    the moves (per cent).

    >>> print(view(5_000, 10, -8, 5).splitlines()[0])
    BTC and ETH longs of 5,000 USDT each at 10x, wallet 1,000 USDT; BTC -8 %, ETH +5 %
    """
    b, e = _percents(btc_move, eth_move)
    n, lev = _size_and_leverage(notional, leverage)
    out = {mode: _outcome(mode, n, lev, b, e) for mode in MODES}
    head = (f"BTC and ETH longs of {usdt(n, 0)} each at {lev:g}x, wallet "
            f"{usdt(CASE_A.wallet, 0)}; BTC {b:+g} %, ETH {e:+g} %")  # fmt: skip
    return head.replace("+0 %", "0 %") + "\n\n" + table([_row(m, out[m]) for m in MODES], _HEAD, align="l")


@kept(maxsize=16)
def _outcome(mode: str, notional: float, leverage: float, btc_move: float, eth_move: float) -> dict:
    """:func:`outcome` of the widget's trades in ``mode``, kept: the text and the plot of one
    change, and the changes of the BTC slider, share them (treat the result as read-only)."""
    return outcome(trades(mode, notional, leverage), btc_move, eth_move)


@kept(maxsize=8)
def _equity_curves(notional: float, leverage: float, eth_move: float) -> dict:
    """Equity after each BTC move of :data:`_MOVES` (ETH at ``eth_move``), per mode, in one
    vectorised replay; kept, so that moving the BTC slider replays nothing."""
    curves = {}
    for mode in MODES:
        acct = trades(mode, notional, leverage).build_account()
        paths = {BTC: (ILLUSTRATIVE_PRICES[BTC] * (1 + _MOVES / 100))[:, None],
                 ETH: np.array([[ILLUSTRATIVE_PRICES[ETH] * (1 + eth_move / 100)]])}  # fmt: skip
        curves[mode] = acct.replay(paths).final_equity
        curves[mode].flags.writeable = False
    return curves


_STYLES = {"isolated": ("-", COLORS["balance"]), "cross": ("--", COLORS["other"])}
_RANGE = (-40.0, 20.0)  # the BTC slider's range (per cent)
_MOVES = np.linspace(*_RANGE, 601)  # the plot's BTC moves (per cent)


def plot(notional: float, leverage: float, btc_move: float, eth_move: float) -> Figure:
    """Equity after a BTC move (ETH at ``eth_move``) for the same trades in each mode, each mode's
    BTC liquidation marked and labelled, the chosen move dotted."""
    moves_ = _moves(btc_move, eth_move)
    b_move, e_move = moves_[BTC] * 100, moves_[ETH] * 100
    n, lev = _size_and_leverage(notional, leverage)
    curves = _equity_curves(n, lev, e_move)
    fig, ax = new_figure(figsize=(8.0, 5.2))
    for mode, eq in curves.items():
        ls, color = _STYLES[mode]
        o = _outcome(mode, n, lev, 0.0, e_move)
        x = o["btc_liquidation_move"] * 100
        inside = bool(np.isfinite(x) and _RANGE[0] <= x <= _RANGE[1])
        if mode == "cross" and o["liquidated"]:  # the pool already went at BTC's entry price
            notes = [f"both legs liquidated by ETH {e_move:+g} % alone"]
        else:
            notes = [] if inside else [f"BTC not liquidated above {_RANGE[0]:.0f} %"]
            if ETH in o["liquidated"]:
                notes.append(f"ETH leg liquidated at ETH {e_move:+g} %")
        ax.plot(_MOVES, eq, linestyle=ls, color=color, linewidth=2,
                label=f"{mode} mode" + (f" ({'; '.join(notes)})" if notes else ""))  # fmt: skip
        if inside:
            y = float(np.interp(x, _MOVES, eq))
            ax.plot([x], [y], linestyle="none", marker="X", markersize=9.5, color=color, zorder=5)
            left = x > _RANGE[0] + 14  # the label left of its marker if there is room, else right
            ax.annotate(f"{mode}: BTC liquidated\nat {pct(x / 100)}", xy=(x, y), textcoords="offset points",
                        xytext=(-10, 12) if left else (10, 12), va="bottom", ha="right" if left else "left",
                        fontsize=8.5, color=color, bbox={"facecolor": "white", "edgecolor": "none",
                        "alpha": 0.85, "pad": 1})  # fmt: skip
    ax.axvline(b_move, color="#555555", linestyle=":", linewidth=1.4, label=f"chosen BTC move {b_move:+g} %")
    ax.set_xlim(_RANGE[0] - 1, _RANGE[1] + 1)  # a chosen move at a slider end stays visible
    # the ETH move is said in the title, not the axis label: a label is part of the frame, and a
    # frame that changes with every move of the ETH slider would be drawn in full every time
    ax.set_xlabel("BTC price move from entry (%)")
    ax.set_ylabel("account equity after the move (USDT)")
    usdt_ticks(ax.yaxis)
    held = f"ETH held at {e_move:+g} %".replace("+0 %", "0 %")
    if np.allclose(curves["isolated"], curves["cross"]):
        title = f"Same trades, no liquidation in range ({held}): both modes end with the same equity"
    else:
        title = f"Same trades ({held}): isolated caps each leg's loss, cross risks the whole pool"
    ax.set_title(title, fontsize=11)
    legend_below(fig, ax, ncols=1)
    return fig


def widget():
    """Size, leverage and a price shock → both modes' outcomes side by side, and the plot."""
    c = ARTICLE_CONTROLS
    controls = {
        "notional": money_box(c["notional"], LABELS["notional"]),
        "leverage": leverage_slider(c["leverage"], max=MAX_LEVERAGE, description=LABELS["leverage"]),
        "btc_move": move_slider(c["btc_move"], low=_RANGE[0], high=_RANGE[1], description=LABELS["btc_move"]),
        "eth_move": move_slider(c["eth_move"], low=-40, high=40, description=LABELS["eth_move"]),
    }
    return build_widget(controls, view, plot, height="700px", title="Isolated against cross")


# ----------------------------------------------------------------------- exercises
def _may_leave(eth_move: float) -> float:
    """5a: what may leave the cross wallet, Case B's trades in cross mode, ETH at ``eth_move`` %."""
    acct = trades("cross", CASE_B_SIZE).build_account()
    acct.mark({ETH: ILLUSTRATIVE_PRICES[ETH] * (1 + eth_move / 100)})
    return acct.max_transferable()


def _gap_loss() -> float:
    """5b: an isolated 5x long of 2,000 USDT, stop at −4 %, filled at −7 %: the loss, taker fees in."""
    acct = Account(1_000, fee_rate=ARTICLE_FEE_RATES["taker"], brackets={BTC: article_table(5)})
    acct.open_position(BTC, "long", notional=2_000, price=ILLUSTRATIVE_PRICES[BTC], leverage=5)
    acct.close_position(BTC, ILLUSTRATIVE_PRICES[BTC] * (1 - 0.07))
    return 1_000 - acct.report().wallet_balance


def _flip_wallet() -> float:
    """5c: 5,000 USDT, one-way, buy 0.5 BTC at 100,000 (10x), sell 0.8 at 96,000: the wallet."""
    acct = Account(5_000, fee_rate=0)
    acct.place_order(BTC, "buy", quantity=0.5, price=100_000, leverage=10)
    acct.place_order(BTC, "sell", quantity=0.8, price=96_000)
    return acct.report().wallet_balance


def _equity_gap() -> float:
    """5d: Case A's trades after BTC −20 % and ETH +5 %: isolated equity minus cross equity."""
    return outcome(trades("isolated"), -20, 5)["equity"] - outcome(trades("cross"), -20, 5)["equity"]


EXERCISES = {
    "5a": Exercise(
        "5a", "Section 3's cell with eth_move = 30: how much may leave the cross wallet (USDT)?",
        lambda: _may_leave(30), unit="USDT", rel_tol=0.0, abs_tol=0.5,
        hint="Two limits apply and the lower one binds: the cross wallet less the cross maintenance margin, "
        "and the available balance. Unrealised profit counts in the second only.",
    ),
    "5b": Exercise(
        "5b", "Isolated 5x long of 2,000 USDT, stop at −4 %, filled at −7 % in a gap: the loss with taker "
        "fees (USDT)?",
        _gap_loss, unit="USDT", rel_tol=0.0, abs_tol=0.01,
        hint="Use the price the order filled at, not the stop's price, and add the fee on opening and the "
        "fee on closing, each on the size at its own price.",
    ),
    "5c": Exercise(
        "5c", "5,000 USDT, one-way, long 0.5 BTC from 100,000 at 10x, then a sell of 0.8 BTC at 96,000: the "
        "wallet balance (USDT)?",
        _flip_wallet, unit="USDT",
        hint="The sell first closes the whole long (its PnL is realised), and only the rest opens a short, "
        "which has no PnL yet.",
    ),
    "5d": Exercise(
        "5d", "Case A's trades after BTC −20 % and ETH +5 %: isolated equity minus cross equity (USDT)?",
        _equity_gap, unit="USDT",
        hint="Check in each mode whether BTC has passed its own liquidation price at this move; a "
        "liquidated isolated leg loses its margin and no more.",
    ),
}  # fmt: skip

QUIZ = Quiz([
    Question("q1", "Case B's trades in isolated mode, ETH up 20 %. What can a new order use?", {
        "a": ("the whole 1,000 USDT: isolated margin locks nothing", "Each isolated position's margin has "
              "moved into its own wallet; only the rest of the cross wallet is available."),
        "b": ("800 USDT: the two margins and ETH's profit stay with their positions", "The rest of the "
              "wallet is free, but ETH's profit sits in ETH's isolated wallet until the position closes."),
        "c": ("1,000 USDT plus ETH's 200 of profit", "Profit backs new orders only in cross mode, and even "
              "there the initial margin of the open positions is taken off first."),
    }, answer="b"),
    Question("q2", "An isolated 5x long of 1,000 USDT has a stop-loss at −5 %. The most it can lose is ...", {
        "a": ("50.98 USDT, the stop's loss with fees", "Only if the stop fills at its price. In a gap the "
              "close fills lower."),
        "b": ("the whole 200 USDT of margin (and the fees), if the price jumps past the liquidation price",
              "A stop-loss closes at the market; when the market jumps, liquidation can come first."),
        "c": ("nothing: a stop-loss guarantees the exit", "A stop-loss is an order, not a guarantee: the "
              "market decides the fill."),
    }, answer="b"),
    Question("q3", "The same 1,000 USDT long at 20x risks 50 USDT of margin, at 5x 200 USDT. So 20x is ...", {
        "a": ("safer, because it can lose less", "It loses all of its 50 after a fall of 4.523 %, where 5x "
              "needs 19.598 %: less at stake, lost far more easily."),
        "b": ("a different bet: less at stake, lost after a fall over four times smaller",
              "With the same position, leverage trades how much a liquidation costs against how likely "
              "it is."),
        "c": ("the same bet, since the position is the same", "The position is, the margin behind it is "
              "not: the fall that takes the margin shrinks with the leverage."),
    }, answer="b"),
    Question("q4", "One-way mode: you hold a long of 1 BTC and send a sell order of 1.5 BTC. The order ...", {
        "a": ("is refused: a short cannot sit on a long", "One-way mode does not refuse it; it nets the "
              "order against the position."),
        "b": ("opens a 1.5 BTC short beside the long", "That is hedge mode; one-way mode keeps one net "
              "position per symbol."),
        "c": ("closes the long and opens a short of 0.5 BTC", "The order first closes the long (its PnL "
              "realised), and the rest flips the position."),
    }, answer="c"),
    Question("q5", "Your cross ETH long shows 500 USDT of unrealised profit. Can you move that profit to "
             "your spot wallet?", {
        "a": ("yes: it is part of the available balance", "It counts toward new cross orders, but a "
              "transfer out is capped at the cross wallet less the maintenance margin."),
        "b": ("no, not until it is realised; it can only back new cross orders", "Unrealised profit "
              "counts for new orders, never for money leaving the cross wallet."),
        "c": ("no, and it backs nothing until the position is closed", "In cross mode unrealised profit "
              "already backs new cross orders through the available balance."),
    }, answer="b"),
])  # fmt: skip
