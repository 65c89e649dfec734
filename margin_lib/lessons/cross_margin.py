"""Lesson 4, cross margin: the map of Case A, the widget, the exercises and the quiz.

The formulas (the cross margin balance, the available balance, the two ratio figures, the cross
liquidation price with the other positions' maintenance margin and PnL) are computed in the
lesson's own cells with the engine; this module holds only what a learner need not read. Case A
(:data:`~margin_lib.examples.CASE_A`) is run as in the article: its maintenance rate (0.5 % at
10x) and no fees.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import _validate as v
from .._cache import kept
from ..account import Account, liquidation_losses
from ..examples import CASE_A, ILLUSTRATIVE_PRICES, article_mmr, article_table
from ..exercises import Exercise
from ..format import pct, usdt
from ..liquidation import liquidation_price
from ..margin import account_margin_level, maintenance_margin, margin_ratio, unrealized_pnl
from ..plots import COLORS, new_figure
from ..quiz import Question, Quiz
from ..widgets import build_widget, move_slider

__all__ = [
    "BTC_RANGE", "ETH_RANGE", "move_text", "btc_trigger", "mixed_account", "view", "plot", "widget",
    "EXERCISES", "QUIZ",
]  # fmt: skip

BTC, ETH = "BTCUSDT", "ETHUSDT"
MMR = article_mmr(10)  # the article's rate at 10x
#: The sliders' and the map's ranges (per cent): both 60 points wide, so the map is square.
BTC_RANGE = (-40.0, 20.0)
ETH_RANGE = (-30.0, 30.0)
_PAD = 1.5  # points of margin around the sliders' ranges on the map
_LABELS = {BTC: "BTC move (%)", ETH: "ETH move (%)"}


def move_text(move: float) -> str:
    """A move in per cent with its sign and only the decimals it needs (at most three).

    >>> move_text(-8), move_text(5.0), move_text(-24.0955), move_text(0)
    ('-8 %', '+5 %', '-24.096 %', '0 %')
    """
    text = f"{float(move):+.3f}".rstrip("0").rstrip(".")
    return f"{'0' if text in ('+0', '-0') else text} %"


def _checked(btc_move: float, eth_move: float) -> tuple[float, float]:
    """The two moves (per cent), each above −100 (a fall of 100 % would put the price at zero)."""
    b = v.scalar(v.number, _LABELS[BTC], btc_move, low=-100.0, low_open=True)
    e = v.scalar(v.number, _LABELS[ETH], eth_move, low=-100.0, low_open=True)
    return b, e


def _legs():
    """(symbol, side, quantity, entry) of Case A's two legs."""
    return [(p.symbol, p.side, p.notional / ILLUSTRATIVE_PRICES[p.symbol], ILLUSTRATIVE_PRICES[p.symbol])
            for p in CASE_A.positions]  # fmt: skip


def _pool(btc: np.ndarray, eth: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Case A held open at per-cent moves ``btc`` and ``eth`` (any broadcastable shapes): the cross
    margin balance ``MB = WB + Σ UPNL``, the cross maintenance margin ``MM = Σ N × MMR`` (USDT) and
    each leg's unrealised PnL, from the engine's :func:`unrealized_pnl` and
    :func:`maintenance_margin`.

    >>> mb, mm, _ = _pool(np.array(-8.0), np.array(5.0))
    >>> round(float(mb), 2), round(float(mm), 2)
    (850.0, 49.25)
    """
    moves = {BTC: np.asarray(btc, dtype=float), ETH: np.asarray(eth, dtype=float)}
    shape = np.broadcast_shapes(moves[BTC].shape, moves[ETH].shape)
    mb, mm, pnls = np.full(shape, float(CASE_A.wallet)), np.zeros(shape), {}
    for sym, side, qty, entry in _legs():
        mark = entry * (1 + moves[sym] / 100)
        pnls[sym] = np.broadcast_to(unrealized_pnl(side, qty, entry, mark), shape)
        mb = mb + pnls[sym]
        mm = mm + maintenance_margin(qty * mark, MMR)
    return mb, mm, pnls


def btc_trigger(eth_move: float) -> float:
    """The BTC move (per cent) at which Case A's pool is liquidated, ETH held at ``eth_move``
    per cent: BTC's cross liquidation price with ETH as the other position (NaN where none).

    >>> round(btc_trigger(5.0), 3), round(btc_trigger(0.0), 3)
    (-24.095, -19.095)
    """
    _, e = _checked(0.0, eth_move)
    (_, b_side, b_qty, b_entry), (_, e_side, e_qty, e_entry) = _legs()
    eth_mark = e_entry * (1 + e / 100)
    lp = liquidation_price(
        b_side, b_qty, b_entry, CASE_A.wallet, mmr=MMR,
        other_maintenance_margin=maintenance_margin(e_qty * eth_mark, MMR),
        other_unrealized_pnl=unrealized_pnl(e_side, e_qty, e_entry, eth_mark),
    )  # fmt: skip
    return (lp / b_entry - 1) * 100


def view(btc_move: float, eth_move: float) -> str:
    """What the widget prints: Case A's cross account after the given per-cent moves.

    The wallet, both legs' PnL, the cross margin balance (the equity: nothing is isolated), the
    cross maintenance margin, the article's ratio MB / MM and the exchange's MM / MB, the balance
    available for new orders, and BTC's trigger at this ETH move. Past the trigger the engine has
    liquidated the pool; the view then says where the trigger was and what the liquidation took.

    >>> print(view(-8, 5).splitlines()[0])
    Case A after BTC -8 %, ETH +5 %: wallet 1,000.00 USDT
    """
    b, e = _checked(btc_move, eth_move)
    acct = CASE_A.build_account()
    events = acct.mark(CASE_A.marks({BTC: b / 100, ETH: e / 100}))
    trigger = btc_trigger(e)
    if np.isfinite(trigger):
        where = f"the pool is liquidated once BTC is at or below {move_text(trigger)} (ETH at {move_text(e)})"
    else:
        where = f"no BTC price liquidates the pool with ETH at {move_text(e)}"
    head = f"Case A after BTC {move_text(b)}, ETH {move_text(e)}: "
    if events:
        taken = liquidation_losses(events)["cross"]
        return "\n".join([
            head + "past the trigger",
            where + ";",
            f"LIQUIDATED: both positions closed together, the cross wallet taken ({usdt(taken)} lost);",
            f"wallet left {usdt(acct.report().wallet_balance)}.",
        ])  # fmt: skip
    r = acct.report()
    mb, mm = r.cross_margin_balance, r.cross_maintenance_margin
    return "\n".join([
        head + f"wallet {usdt(r.wallet_balance)}",
        f"PnL: BTC {usdt(r.position(BTC).unrealized_pnl)}, ETH {usdt(r.position(ETH).unrealized_pnl)}",
        f"margin balance MB {usdt(mb)} (the equity: nothing is isolated), maintenance margin MM {usdt(mm)}",
        f"article's ratio MB / MM: {pct(account_margin_level(mb, mm), 0)} (liquidation at 100 % or below)",
        f"exchange's margin ratio MM / MB: {pct(margin_ratio(mm, mb), 2)} (liquidation at 100 %)",
        f"available for new orders: {usdt(r.available_balance)}",
        f"not liquidated: {where}",
    ])  # fmt: skip


@kept(maxsize=1)
def _map() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The map's grid of moves (%) and MB − MM on it (USDT; at or below 0 is liquidated)."""
    b = np.linspace(BTC_RANGE[0] - _PAD, BTC_RANGE[1] + _PAD, 253)
    e = np.linspace(ETH_RANGE[0] - _PAD, ETH_RANGE[1] + _PAD, 253)
    mb, mm, _ = _pool(b[None, :], e[:, None])
    grid = mb - mm
    for a in (b, e, grid):
        a.setflags(write=False)
    return b, e, grid


def plot(btc_move: float, eth_move: float) -> Figure:
    """A square map of BTC and ETH moves (%) for Case A, equal scales on both axes: the
    liquidation boundary (dashed, labelled), the liquidated region (hatched), the article's
    moves, the chosen moves, and BTC's trigger at the chosen ETH move (marked and labelled)."""
    b_move, e_move = _checked(btc_move, eth_move)
    b, e, grid = _map()
    fig, ax = new_figure(figsize=(8.0, 5.6))
    ax.contourf(b, e, grid, levels=[grid.min() - 1, 0], colors="none", hatches=["///"])
    line = ax.contour(b, e, grid, levels=[0], colors=[COLORS["liquidation"]], linewidths=2, linestyles="--")
    labels = ax.clabel(line, fmt={0: "boundary: MB = MM"}, fontsize=9, inline=True, manual=[(-12.0, -7.0)])
    for label in labels:
        label.set_bbox({"facecolor": "white", "edgecolor": "none", "alpha": 0.9, "pad": 1})
    ax.text(-38.5, -28.5, "liquidated together:\nboth positions closed,\ncross wallet taken", fontsize=9,
            va="bottom", bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})  # fmt: skip
    ax.text(8, 24, "open", fontsize=11, color=COLORS["balance"],
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})  # fmt: skip
    ax.axhline(0, color=COLORS["grey"], linewidth=0.8)
    ax.axvline(0, color=COLORS["grey"], linewidth=0.8)
    ax.scatter([CASE_A.moves[BTC] * 100], [CASE_A.moves[ETH] * 100], marker="s", s=110,
               color=COLORS["other"], zorder=5, label="article: BTC -8 %,\nETH +5 %")  # fmt: skip
    trigger = btc_trigger(e_move)
    if np.isfinite(trigger):
        inside = BTC_RANGE[0] <= trigger <= BTC_RANGE[1]
        if inside:
            ax.plot([trigger, b_move], [e_move, e_move], color=COLORS["grey"], linestyle=":", lw=1.2)
        ax.scatter([trigger if inside else np.nan], [e_move], marker="|", s=260, linewidths=2.5, zorder=6,
                   color=COLORS["liquidation"], label=f"trigger at this ETH move:\nBTC {move_text(trigger)}"
                   + ("" if inside else "\n(off the map)"))  # fmt: skip
    mb, mm, _ = _pool(np.float64(b_move), np.float64(e_move))
    liquidated = bool(mb <= mm)
    ax.scatter([b_move], [e_move], marker="X" if liquidated else "o", s=90, color=COLORS["balance"], zorder=7,
               label=f"chosen: BTC {move_text(b_move)},\nETH {move_text(e_move)}"
               + (" (liquidated)" if liquidated else " (open)"))  # fmt: skip
    ax.set_xlim(BTC_RANGE[0] - _PAD, BTC_RANGE[1] + _PAD)  # a marker at a slider's end shows whole
    ax.set_ylim(ETH_RANGE[0] - _PAD, ETH_RANGE[1] + _PAD)
    ax.set_aspect("equal")  # one point of BTC as long as one point of ETH: the boundary runs at 45°
    ax.set_xlabel("BTC price move from entry (%)")
    ax.set_ylabel("ETH price move from entry (%)")
    ax.set_title("Case A: the pool fails where BTC move + ETH move = -19.095 points", fontsize=11)
    fig.legend(loc="outside right upper")
    return fig


def widget():
    """BTC and ETH moves → Case A's cross figures, and the map."""
    controls = {
        "btc_move": move_slider(-8.0, low=BTC_RANGE[0], high=BTC_RANGE[1], description=_LABELS[BTC]),
        "eth_move": move_slider(5.0, low=ETH_RANGE[0], high=ETH_RANGE[1], description=_LABELS[ETH]),
    }
    return build_widget(controls, view, plot, height="760px", title="Case A, cross margin")


# ----------------------------------------------------------------------- exercises
def _eth_down_trigger() -> float:
    """4a: BTC's trigger (per cent) with ETH at −5 %."""
    return btc_trigger(-5.0)


def _ratio_after(btc_move: float, eth_move: float) -> float:
    """4b: the exchange's margin ratio (per cent) of Case A after the moves, from the engine."""
    acct = CASE_A.build_account()
    acct.mark(CASE_A.marks({BTC: btc_move / 100, ETH: eth_move / 100}))
    return acct.report().margin_ratio * 100


def mixed_account(wallet: float, cross_btc: float, isolated_eth: float) -> Account:
    """A wallet with a cross BTC long and an isolated ETH long (sizes in USDT), both at 10x, the
    article's rate, no fees (the account of exercise 4c)."""
    acct = Account(wallet, fee_rate=0, brackets={s: article_table(10) for s in (BTC, ETH)})
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(ETH, "long", notional=isolated_eth, price=ILLUSTRATIVE_PRICES[ETH], leverage=10)
    acct.open_position(BTC, "long", notional=cross_btc, price=ILLUSTRATIVE_PRICES[BTC], leverage=10)
    return acct


def _equity_after_cross_liquidation() -> float:
    """4c: 3,000 USDT, cross BTC 10,000, isolated ETH 2,000; ETH +10 %, BTC just past its trigger."""
    acct = mixed_account(3_000, 10_000, 2_000)
    acct.mark({ETH: ILLUSTRATIVE_PRICES[ETH] * 1.10})
    lp = acct.report().position(BTC).liquidation_price
    acct.mark({BTC: lp * 0.999})
    return acct.report().equity


def _hedge_eth_trigger() -> float:
    """4d: the hedge (BTC long, ETH short, 5,000 each, 1,000 wallet) with BTC −5 %: the ETH rise
    (per cent) that liquidates the pool, from ETH's cross liquidation price."""
    b_qty, e_qty = 5_000 / ILLUSTRATIVE_PRICES[BTC], 5_000 / ILLUSTRATIVE_PRICES[ETH]
    btc_mark = ILLUSTRATIVE_PRICES[BTC] * 0.95
    lp = liquidation_price(
        "short", e_qty, ILLUSTRATIVE_PRICES[ETH], 1_000, mmr=MMR,
        other_maintenance_margin=maintenance_margin(b_qty * btc_mark, MMR),
        other_unrealized_pnl=unrealized_pnl("long", b_qty, ILLUSTRATIVE_PRICES[BTC], btc_mark),
    )  # fmt: skip
    return (lp / ILLUSTRATIVE_PRICES[ETH] - 1) * 100


EXERCISES = {
    "4a": Exercise(
        "4a", "Section 4's cell with eth_move = -5: the BTC move (per cent) that liquidates Case A?",
        _eth_down_trigger, unit="%", rel_tol=0.0, abs_tol=0.01,
        hint="ETH now lowers the effective wallet: its PnL has the other sign, and its maintenance "
        "margin is taken at its new mark. Turn the liquidation price into a move from BTC's entry.",
    ),
    "4b": Exercise(
        "4b", "Case A after BTC −12 % and ETH +2 %: the exchange's margin ratio, in per cent?",
        lambda: _ratio_after(-12, 2), unit="%", rel_tol=0.01,
        hint="Value each leg at its new mark for the maintenance margin, and divide by the cross "
        "margin balance (wallet plus both PnLs), not by the wallet.",
    ),
    "4c": Exercise(
        "4c", "Cross BTC 10,000 and isolated ETH 2,000 (10x) from 3,000 USDT; ETH +10 %, then BTC "
        "falls past its trigger: the equity left (USDT)?",
        _equity_after_cross_liquidation, unit="USDT",
        hint="List what is not cross: the liquidation closes the cross positions and takes the "
        "cross wallet, and nothing else. Count the survivor's own wallet and its PnL.",
    ),
    "4d": Exercise(
        "4d", "The hedge of section 7 after BTC −5 %: how far must ETH rise (per cent) to liquidate it?",
        _hedge_eth_trigger, unit="%", rel_tol=0.0, abs_tol=0.01,
        hint="Solve for ETH's cross liquidation price with ETH as a short (a negative side), and BTC "
        "as the other position, its loss and its maintenance margin taken at the new mark.",
    ),
}  # fmt: skip

QUIZ = Quiz([
    Question("q1", "Case A survives a BTC fall that would liquidate the same BTC long in isolated mode. "
             "So cross mode is ...", {
        "a": ("safer: liquidation is further away", "Further away, yes, but when it comes it takes the "
              "whole cross wallet and every cross position, not one position's margin."),
        "b": ("a trade-off: more room before the trigger, a bigger loss at it", "Cross mode lends each "
              "position the whole pool; the price of that room is that a liquidation takes the pool."),
        "c": ("riskier: liquidation always comes sooner", "It comes later, not sooner: the pool and the "
              "other positions' profit stand behind each position."),
    }, answer="b"),
    Question("q2", "On the exchange's screen your margin ratio has risen from 6 % to 60 %. This means ...", {
        "a": ("the account is healthier", "That is the article's figure (equity over maintenance margin), "
              "which falls as the account weakens. The exchange shows the inverse."),
        "b": ("nothing: the liquidation level moved", "The trigger stays at 100 %; only the ratio moved."),
        "c": ("the pool is being used up: at 100 % every cross position is liquidated", "The exchange's "
              "ratio is maintenance margin over margin balance; it climbs as losses eat the balance."),
    }, answer="c"),
    Question("q3", "In a cross account your ETH long is 250 USDT in profit while BTC sinks. It ...", {
        "a": ("is safe: a profitable position is never liquidated", "A cross liquidation closes every "
              "cross position at once, profitable or not, and its profit goes with the pool."),
        "b": ("helps hold BTC up, and is closed with it if the pool runs out", "Its profit sits in the "
              "pool behind BTC; at the trigger both positions close together."),
        "c": ("is closed first to save BTC", "The engine, like the exchange, closes all cross positions "
              "together; there is no order of sacrifice."),
    }, answer="b"),
    Question("q4", "BTC is cross, ETH is isolated, and the cross side is liquidated. What is taken?", {
        "a": ("only BTC's initial margin", "The whole cross wallet stands behind a cross position, and "
              "the liquidation takes all of it, not the share the leverage reserved."),
        "b": ("the whole futures account, ETH included", "An isolated position has its own wallet; a "
              "cross liquidation does not touch it, nor the spot wallet."),
        "c": ("the cross positions and the cross wallet; isolated ETH and the spot wallet survive",
              "A cross liquidation takes what is cross and nothing else."),
    }, answer="c"),
    Question("q5", "Case A after BTC −8 % and ETH +5 %: the article's balance of 850 USDT is ...", {
        "a": ("the wallet balance", "The wallet is still 1,000 USDT: unrealised PnL changes it only "
              "when a position is closed."),
        "b": ("the margin balance, equal to the equity here", "Wallet plus unrealised PnL; it equals the "
              "equity only because nothing is isolated."),
        "c": ("the available balance", "What a new order could use is 0 here: the initial margin at the "
              "marks is more than the 850 USDT of margin balance."),
    }, answer="b"),
])  # fmt: skip
