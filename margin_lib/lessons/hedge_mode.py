"""Lesson 8, hedge mode: the parts a learner need not read (the maths is in the notebook's cells).

The widget (:func:`view`, :func:`plot`, :func:`widget`), the map of the cross-coin hedge, the
exercises and the quiz. Accounts open at the illustrative BTC price (100,000 USDT), no fees, with
the article's table as one tier (:func:`table_for`): 0.5 % up to 100x, 0.4 % above, to 125x.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from .. import _validate as v
from ..account import Account, liquidation_losses
from ..brackets import BracketTable
from ..examples import CASE_A, ILLUSTRATIVE_PRICES, article_mmr
from ..exercises import Exercise
from ..format import pct, price, usdt
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
from ..widgets import build_widget, choice_buttons, leverage_slider, money_box

__all__ = [
    "ENTRY", "WALLET", "LEVERAGE", "MAX_LEVERAGE", "PAIRS", "table_for", "hedge_account",
    "cross_symbol_account", "cross_symbol_plot", "view", "plot", "widget", "EXERCISES", "QUIZ",
]  # fmt: skip

BTC, ETH = "BTCUSDT", "ETHUSDT"
ENTRY = ILLUSTRATIVE_PRICES[BTC]
WALLET = 2_000.0
LEVERAGE = 50.0
MAX_LEVERAGE = 125  # the article's table's last row
#: The same-coin pairs the lesson compares: (name, long size, short size) in USDT at entry.
PAIRS = (("balanced", 50_000.0, 50_000.0), ("2:1, net long", 50_000.0, 25_000.0),
         ("1:2, net short", 25_000.0, 50_000.0), ("net long 1,500, covered", 50_000.0, 48_500.0))  # fmt: skip
#: The widget's controls as the page labels them.
LABELS = {
    "long_size": "long size (USDT)", "short_size": "short size (USDT)", "long_entry": "long entry (USDT)",
    "short_entry": "short entry (USDT)", "wallet": "wallet (USDT)", "leverage": "leverage (x)",
    "margin_mode": "margin mode", "price_now": "BTC price (USDT)",
}  # fmt: skip


def table_for(leverage: float, symbol: str = BTC) -> BracketTable:
    """The article's table as one tier: the rate of ``leverage``'s row, at most 125x.

    >>> table_for(50).tier_at(50_000).mmr, table_for(125).tier_at(50_000).mmr
    (0.005, 0.004)
    """
    return BracketTable.flat(article_mmr(leverage), MAX_LEVERAGE, symbol=symbol)


def hedge_account(
    long_size: float, short_size: float, *, wallet: float = WALLET, leverage: float = LEVERAGE,
    margin_mode: str = "cross", long_entry: float = ENTRY, short_entry: float = ENTRY,
) -> Account:  # fmt: skip
    """A hedge-mode account holding a BTC long of ``long_size`` and a short of ``short_size``
    (USDT at entry), opened in that order, both legs at ``leverage`` in ``margin_mode``, no fees.

    >>> acct = hedge_account(50_000, 25_000)
    >>> [p.side_name for p in acct.positions], acct.report().available_balance
    (['long', 'short'], 500.0)
    """
    acct = Account(wallet, brackets={BTC: table_for(leverage)}, fee_rate=0.0, position_mode="hedge")
    acct.set_margin_mode(BTC, margin_mode)
    acct.open_position(BTC, "long", notional=long_size, price=long_entry, leverage=leverage)
    acct.open_position(BTC, "short", notional=short_size, price=short_entry, leverage=leverage)
    return acct


# ------------------------------------------------------------------ hedging across coins
def cross_symbol_account() -> Account:
    """Case A's wallet and sizes as a hedge: BTC long and ETH short, both cross, 10x, at the
    illustrative prices, no fees (different symbols need no hedge mode).

    >>> [f"{p.side_name} {p.symbol}" for p in cross_symbol_account().positions]
    ['long BTCUSDT', 'short ETHUSDT']
    """
    acct = Account(CASE_A.wallet, brackets={s: table_for(10, s) for s in (BTC, ETH)}, fee_rate=0.0)
    for spec, side in zip(CASE_A.positions, ("long", "short"), strict=True):
        acct.set_margin_mode(spec.symbol, "cross")
        acct.open_position(spec.symbol, side, notional=spec.notional,
                           price=ILLUSTRATIVE_PRICES[spec.symbol], leverage=spec.leverage)  # fmt: skip
    return acct


def cross_symbol_plot() -> Figure:
    """Map of BTC and ETH moves (%) for the cross-coin hedge: the liquidated region hatched, its
    dashed boundary, the diagonal where the coins move together, two moves labelled in place."""
    moves, eth = np.linspace(-40, 40, 241), ILLUSTRATIVE_PRICES[ETH]
    marks = {BTC: ENTRY * (1 + moves[None, :] / 100), ETH: eth * (1 + moves[:, None] / 100)}
    balance, mm = _balance_and_mm(cross_symbol_account(), marks)
    grid = balance - mm  # zero or below: liquidated
    fig, ax = new_figure(figsize=(8.0, 5.6))
    ax.contourf(moves, moves, grid, levels=[grid.min() - 1, 0], colors="none", hatches=["///"])
    ax.contour(moves, moves, grid, levels=[0], colors=[COLORS["liquidation"]], linewidths=2, linestyles="--")
    ax.plot(moves, moves, color=COLORS["balance"], linewidth=1.5, linestyle="-.")
    for (b, e), text, dy in (((-10, -10), "BTC −10 %, ETH −10 %: open", -6),
                             ((-10, 10), "BTC −10 %, ETH +10 %: liquidated", 6)):  # fmt: skip
        ax.plot([b], [e], marker="o", markersize=8, color=COLORS["other"], zorder=5)
        ax.annotate(text, xy=(b, e), xytext=(b + 4, e + dy), fontsize=9, va="center",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9},
                    arrowprops={"arrowstyle": "-", "color": COLORS["other"]})  # fmt: skip
    ax.text(-38, 33, "BTC down, ETH up:\nliquidated", fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})  # fmt: skip
    ax.text(12, -34, "BTC up, ETH down:\nboth legs gain", fontsize=9)
    handles = [
        Patch(facecolor="none", edgecolor=COLORS["liquidation"], hatch="///", label="liquidated"),
        Line2D([], [], color=COLORS["liquidation"], linestyle="--", lw=2, label="liquidation boundary"),
        Line2D([], [], color=COLORS["balance"], linestyle="-.", linewidth=1.5, label="both coins move alike"),
    ]  # fmt: skip
    fig.legend(handles=handles, loc="outside lower center", ncols=3)
    ax.set(xlabel="BTC price move (%)", ylabel="ETH price move (%)", xlim=(-40, 40), ylim=(-40, 40))
    ax.set_title("Long BTC, short ETH in cross: open while the coins move alike,\nliquidated when they split")
    return fig


# ------------------------------------------------------------------ the widget
def _state(long_size, short_size, long_entry, short_entry, wallet, leverage, margin_mode, price_now):
    """The checked controls, the account and the liquidation events at ``price_now``; a refusal
    names the control as the page labels it."""
    sizes = [v.scalar(v.positive, LABELS[k], x) for k, x in
             (("long_size", long_size), ("short_size", short_size), ("long_entry", long_entry),
              ("short_entry", short_entry), ("wallet", wallet), ("price_now", price_now))]  # fmt: skip
    lev = v.scalar(v.number, LABELS["leverage"], leverage, low=1, high=MAX_LEVERAGE)
    mode = v.choice(LABELS["margin_mode"], margin_mode, ("isolated", "cross"))
    ls, ss, le, se, w, p = sizes
    acct = hedge_account(ls, ss, wallet=w, leverage=lev, margin_mode=mode, long_entry=le, short_entry=se)
    return acct, acct.report(), acct.copy().mark({BTC: p}), lev, w, p


def _balance_and_mm(acct: Account, marks: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Cross margin balance and cross maintenance margin (USDT) at ``marks`` (symbol -> prices)."""
    balance, mm = acct.report().cross_wallet_balance, 0.0
    for pos in acct.positions:
        balance = balance + pos.side * pos.quantity * (marks[pos.symbol] - pos.entry_price)
        mm = mm + acct.brackets(pos.symbol).maintenance_margin_curve(pos.quantity * marks[pos.symbol])
    return balance, mm


def view(
    long_size: float = 50_000.0, short_size: float = 25_000.0, long_entry: float = ENTRY,
    short_entry: float = ENTRY, wallet: float = WALLET, leverage: float = LEVERAGE,
    margin_mode: str = "cross", price_now: float = 95_000.0,
) -> str:  # fmt: skip
    """What the widget prints: the pair (sizes in USDT at entry), each leg's PnL at
    ``price_now``, the shared (cross) or own (isolated) liquidation prices, and what the engine
    liquidates at that price.

    >>> print(view().splitlines()[3])
    at 95,000.00: long PnL -2,500.00 USDT, short PnL 1,250.00 USDT, sum -1,250.00 USDT
    """
    acct, r, events, lev, w, p = _state(long_size, short_size, long_entry, short_entry, wallet, leverage,
                                        margin_mode, price_now)  # fmt: skip
    lg, sh = r.position(BTC, "long"), r.position(BTC, "short")
    pnl_l, pnl_s = lg.quantity * (p - lg.entry_price), sh.quantity * (sh.entry_price - p)
    net_q = lg.quantity - sh.quantity
    lines = [
        f"{lg.margin_mode} hedge, {lev:g}x (maintenance rate {pct(lg.mmr, 1)}), wallet {usdt(w)}:",
        f"long {usdt(lg.quantity * lg.entry_price)} from {price(lg.entry_price)}, "
        f"short {usdt(sh.quantity * sh.entry_price)} from {price(sh.entry_price)}",
        f"net exposure {net_q:+.6g} BTC ({'long' if net_q > 0 else 'short'})" if net_q else "net exposure 0",
        f"at {price(p)}: long PnL {usdt(pnl_l)}, short PnL {usdt(pnl_s)}, sum {usdt(pnl_l + pnl_s)}",
    ]
    if lg.margin_mode == "cross":
        lp = lg.liquidation_price
        if math.isnan(lp):
            lines.append("shared liquidation price of both legs: none (--): at no BTC price")
            lines.append("  does the margin balance fall to the maintenance margin")
        else:
            lines.append(f"shared liquidation price of both legs: {price(lp)} "
                         f"({(lp / p - 1) * 100:+.1f} % from {price(p)})")  # fmt: skip
        balance, mm = _balance_and_mm(acct, {BTC: np.array(p)})
        lines.append(f"margin balance {usdt(float(balance))}, maintenance margin {usdt(float(mm))}")
        lines.append("LIQUIDATED: both legs closed, the cross wallet lost" if events else "not liquidated")
    else:
        for leg in (lg, sh):
            lines.append(f"{leg.side} leg: own liquidation price {price(leg.liquidation_price)}, "
                         f"isolated wallet {usdt(leg.isolated_wallet)}")  # fmt: skip
        lost = liquidation_losses(events)
        lines.append("; ".join(f"{s} leg LIQUIDATED ({usdt(lost[f'{BTC} {s}'])} lost)" if f"{BTC} {s}" in lost
                               else f"{s} leg open" for s in ("long", "short")))  # fmt: skip
    return "\n".join(lines)


def _price_range(points: list[float], top: float) -> tuple[float, float, list[float]]:
    """Limits holding the entries, the price and the liquidation prices up to 3x ``top``; the
    prices beyond are returned as off the chart."""
    near = [x for x in points if not math.isnan(x) and x <= 3 * top]
    far = [x for x in points if not math.isnan(x) and x > 3 * top]
    lo, hi = min(near), max(near)
    pad = max(hi - lo, 0.05 * top) * 0.25
    low, high = stable_limits(max(lo - pad, 0.0), hi + pad, parts=2)  # coarse: a steadier frame
    return max(low, 0.0), high, far


def _label_top(curves: list[float], height: float) -> float:
    """Top of a vertical label of ``height`` clear of the ``curves`` (all in axes fractions)."""
    tops = np.arange(0.97, height + 0.02, -0.05)  # the first clear one, else the least crossed
    gaps = [min(0.0 if t - height <= c <= t else min(abs(c - t), abs(c - t + height)) for c in curves)
            for t in tops]  # fmt: skip
    return float(next((t for t, g in zip(tops, gaps, strict=True) if g > 0.03), tops[int(np.argmax(gaps))]))


def plot(
    long_size: float = 50_000.0, short_size: float = 25_000.0, long_entry: float = ENTRY,
    short_entry: float = ENTRY, wallet: float = WALLET, leverage: float = LEVERAGE,
    margin_mode: str = "cross", price_now: float = 95_000.0,
) -> Figure:  # fmt: skip
    """Cross: the one margin balance of both legs against their summed maintenance margin, the
    shared liquidation price dashed and labelled (or a note where it is off the chart or does
    not exist), the liquidated zone hatched. Isolated: one panel per leg, each with its own
    liquidation price (:func:`margin_lib.plots.plot_margin_balance`)."""
    acct, r, events, _, _, p = _state(long_size, short_size, long_entry, short_entry, wallet, leverage,
                                      margin_mode, price_now)  # fmt: skip
    lg, sh = r.position(BTC, "long"), r.position(BTC, "short")
    top = max(lg.entry_price, sh.entry_price, p)
    if lg.margin_mode == "isolated":
        lo, hi, _ = _price_range([lg.entry_price, sh.entry_price, p, lg.liquidation_price,
                                  sh.liquidation_price], top)  # fmt: skip
        fig, axes = new_figure(2, figsize=(11.0, 4.4))
        for ax, leg in zip(axes, (lg, sh), strict=True):
            plot_margin_balance(leg.side, leg.quantity, leg.entry_price, leg.isolated_wallet,
                                brackets=acct.brackets(BTC), price_range=(lo, hi), mark=p, ax=ax, legend=None,
                                title=f"Isolated {leg.side} leg: its own liquidation price")  # fmt: skip
            ax.xaxis.set_major_locator(MaxNLocator(5))  # two panels side by side: fewer price ticks
        legend_below(fig, *axes)
        fig.suptitle("Isolated hedge: each leg can be liquidated alone")
        return fig
    lp = lg.liquidation_price
    lo, hi, far = _price_range([lg.entry_price, sh.entry_price, p, lp], top)
    prices = np.linspace(lo, hi, 500)
    balance, mm = _balance_and_mm(acct, {BTC: prices})
    fig, ax = new_figure()
    ax.plot(prices, balance, color=COLORS["balance"], linewidth=2, label="margin balance")
    ax.plot(prices, mm, color=COLORS["maintenance"], linewidth=2, linestyle=(0, (6, 2)),
            label="maintenance margin, both legs")  # fmt: skip
    if np.any(balance <= mm):
        ax.fill_between(prices, balance, mm, where=balance <= mm, facecolor="none", hatch="///",
                        edgecolor=COLORS["maintenance"], linewidth=0, label="liquidated zone")  # fmt: skip
    low, high = min(balance.min(), mm.min(), 0.0), max(balance.max(), mm.max())
    y0, y1 = stable_limits(low, high + 0.08 * (high - low), parts=3)  # coarse: a steadier frame
    ax.set_ylim(y0, y1)
    ax.set_xlim(lo, hi)

    def label(x: float, text: str, kind: str, side: str) -> None:
        at = [(float(np.interp(x, prices, c)) - y0) / (y1 - y0) for c in (balance, mm)]
        mark_price_line(ax, x, text, kind=kind, y_text=_label_top(at, len(text) * 0.0235), text_side=side)
        # a white backing above the lines: a curve that cannot be avoided passes behind the label
        ax.texts[-1].set(bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1}, zorder=6)

    lp_below = not math.isnan(lp) and lp < lg.entry_price  # labels point away from each other
    if sh.entry_price == lg.entry_price:
        label(lg.entry_price, f"entry {price(lg.entry_price, 0)}", "entry", "right" if lp_below else "left")
    else:
        label(lg.entry_price, f"long entry {price(lg.entry_price, 0)}", "entry", "right")
        label(sh.entry_price, f"short entry {price(sh.entry_price, 0)}", "entry", "left")
    note = ""
    if far:
        note = f"shared liquidation price {price(lp, 0)}: off the chart →"
    elif math.isnan(lp):
        note = "no shared liquidation price (--)"
    else:
        label(lp, f"liquidation {price(lp, 0)}", "liquidation", "left" if lp_below else "right")
    if note:
        box = {"facecolor": "white", "edgecolor": COLORS["liquidation"], "linestyle": "--"}
        ax.text(0.98, 0.04, note, transform=ax.transAxes, ha="right", va="bottom", fontsize=9, bbox=box)
    now = float(_balance_and_mm(acct, {BTC: np.array(p)})[0])
    ax.scatter([p], [now], color=COLORS["balance"], zorder=5, marker="X" if events else "o", s=50,
               label="chosen price" + (" (liquidated)" if events else ""))  # fmt: skip
    ax.set(xlabel="BTC mark price (USDT)", ylabel="USDT",
           title="Cross hedge: one margin balance, one liquidation price for both legs")  # fmt: skip
    usdt_ticks(ax.xaxis, ax.yaxis)
    legend_below(fig, ax)
    return fig


def widget():
    """Sizes, entries, wallet, leverage, margin mode and a price → the pair's state and plot."""
    boxes = {"long_size": 50_000.0, "short_size": 25_000.0, "long_entry": ENTRY, "short_entry": ENTRY}
    controls = {key: money_box(x, LABELS[key]) for key, x in (boxes | {"wallet": WALLET}).items()}
    controls["leverage"] = leverage_slider(LEVERAGE, max=MAX_LEVERAGE)
    controls["margin_mode"] = choice_buttons(["cross", "isolated"], "cross", LABELS["margin_mode"])
    controls["price_now"] = money_box(95_000.0, LABELS["price_now"])
    return build_widget(controls, view, plot, height="680px", title="A long and a short on BTC")


# ------------------------------------------------------------------ exercises and quiz
def _shared_price(long_size: float, short_size: float, wallet: float) -> float:
    acct = hedge_account(long_size, short_size, wallet=wallet)
    return acct.report().position(BTC, "long").liquidation_price


def _cushion(long_size: float, short_size: float, wallet: float, mark: float) -> float:
    balance, mm = _balance_and_mm(hedge_account(long_size, short_size, wallet=wallet), {BTC: mark})
    return float(balance - mm)


def _smallest_eth_rise(btc_move: float) -> float:
    """The smallest whole-per-cent ETH rise that liquidates the cross-coin hedge."""
    acct = cross_symbol_account()
    for rise in range(0, 101):
        marks = {BTC: ENTRY * (1 + btc_move / 100), ETH: ILLUSTRATIVE_PRICES[ETH] * (1 + rise / 100)}
        if acct.copy().mark(marks):
            return float(rise)
    return math.nan


EXERCISES = {
    "8a": Exercise(
        "8a", "Cross pair at 100,000: long 40,000 and short 20,000 USDT, wallet 1,500 USDT. Shared "
        "liquidation price (USDT)?", lambda: _shared_price(40_000, 20_000, 1_500), unit="USDT", rel_tol=2e-4,
        hint="Set the margin balance (wallet plus both legs' PnL) equal to both legs' maintenance margin, "
        "each valued at the liquidation price itself rather than at the entry, and solve for that price.",
    ),
    "8b": Exercise(
        "8b", "Balanced cross pair, 30,000 USDT each way, wallet 1,500 USDT: shared liquidation price?",
        lambda: _shared_price(30_000, 30_000, 1_500), unit="USDT",
        hint="The legs' PnL cancels, so the balance stays at the wallet; find the price at which the "
        "maintenance margin of both legs, which grows with the price, reaches it.",
    ),
    "8c": Exercise(
        "8c", "The pair of 8b with BTC at 50,000: margin balance minus maintenance margin (USDT)?",
        lambda: _cushion(30_000, 30_000, 1_500, 50_000), unit="USDT",
        hint="The legs' PnL still cancels; value both legs' maintenance margin at the new price, not at "
        "the entry.",
    ),
    "8d": Exercise(
        "8d", "Long BTC / short ETH of section 6 with BTC −6 %: smallest whole-per-cent ETH rise that "
        "liquidates the pair?", lambda: _smallest_eth_rise(-6), unit="%", rel_tol=0.0, abs_tol=0.01,
        hint="Keep btc_move, raise eth_move one whole per cent at a time and rerun the cell until the "
        "engine says LIQUIDATED; the maintenance margin is valued at the new prices.",
    ),
}  # fmt: skip

QUIZ = Quiz([
    Question("q1", "A balanced cross pair, 50,000 USDT long and 50,000 short of BTC, 2,000 USDT wallet:", {
        "a": ("It is safe from any loss: the legs' PnL cancels at every price.",
              "The PnL cancels, but fees and funding are paid on both legs, and the maintenance margin of "
              "both legs grows with the price: the engine liquidates this pair at 400,000."),
        "b": ("It has a liquidation price far above the entry.",
              "The balance stays at the wallet while both legs' maintenance margin grows with the price; "
              "they meet at 400,000, four times the entry."),
        "c": ("It has no liquidation price: its net exposure is zero.",
              "A zero net exposure keeps the balance flat, not the maintenance margin, which still grows "
              "with the price until it meets the balance."),
    }, answer="b"),
    Question("q2", "Long 50,000 and short 25,000 USDT of BTC, both at 50x. Next to the long alone:", {
        "a": ("The pair halves the risk at no cost.",
              "It moves like a 25,000 USDT long, but it locks initial margin on 75,000 USDT of notional "
              "(1,500 USDT, where a plain 25,000 long locks 500) and pays fees and funding on both legs."),
        "b": ("The pair cannot be liquidated below the entry, because the short gains there.",
              "The short gains half what the long loses: net long, the pair's shared price lies below the "
              "entry (93,401 USDT in a 2,000 USDT wallet)."),
        "c": ("The pair moves like a 25,000 USDT long, paying margin and fees on both legs.",
              "Only the net exposure moves the balance; the costs come from both legs."),
    }, answer="c"),
    Question("q3", "The denominator of the shared-price formula comes out negative. What does that say?", {
        "a": ("The pair is net long: its shared price, if it has one, lies below the entry.",
              "The sign tells on which side the price lies."),
        "b": ("There is no liquidation price.",
              "The 2:1 pair has a negative denominator and a price of 93,401 USDT; there is none only when "
              "the formula gives a price at or below 0, or the denominator is exactly 0."),
        "c": ("The price lies above the entry.",
              "A positive denominator (net short or balanced) puts it above; a negative one below."),
    }, answer="a"),
    Question("q4", "The balanced pair with isolated legs, 1,000 USDT each: BTC dips 2 % and comes back.", {
        "a": ("Nothing happens: the legs still cancel.",
              "The long's own wallet runs out at 98,492: the engine liquidates it alone, and back at "
              "100,000 the account holds 1,000 USDT, not 2,000."),
        "b": ("Both legs are liquidated together.",
              "Isolated legs share nothing: only the leg whose own wallet runs out is closed."),
        "c": ("The long leg is liquidated alone and the short is left unhedged.",
              "An isolated leg has its own liquidation price, about 1.5 % from the entry at 50x."),
    }, answer="c"),
    Question("q5", "Long BTC and short ETH, 5,000 USDT each, in one 1,000 USDT cross wallet:", {
        "a": ("It is market-neutral, so it is safe.",
              "It is neutral only to moves the coins share: BTC −10 % with ETH +10 % loses on both legs and "
              "the engine liquidates the pair."),
        "b": ("It offsets moves the coins share and loses on both legs when they split.",
              "The hedge is against the market as a whole, not against the two coins parting ways."),
        "c": ("It needs hedge mode.",
              "Hedge mode lets one symbol hold both sides; two symbols can be long and short in any mode."),
    }, answer="b"),
])  # fmt: skip
