"""Lesson 8, hedge mode: a long and a short on the same symbol, and hedges across symbols.

Pure functions behind the lesson's tables, plots, widget and exercises. Every account is a
:class:`~margin_lib.account.Account` in hedge mode (``position_mode="hedge"``), opened at the
course's illustrative BTC price (:data:`~margin_lib.examples.ILLUSTRATIVE_PRICES`) with the
article's maintenance rate (0.5 %, one tier up to 100x, :func:`~margin_lib.examples.article_mmr`)
and no fees, as in the article, so every figure can be checked by hand.

The shared liquidation price of a cross hedge pair (both legs on one symbol) solves
``WB + Q_L·(P − EP_L) − Q_S·(P − EP_S) = MMR_L·Q_L·P + MMR_S·Q_S·P`` for ``P``; it is
:func:`margin_lib.hedge_liquidation_price`. The sign of its denominator
``Q_L·MMR_L + Q_S·MMR_S − Q_L + Q_S`` only tells on which side the price lies (negative: below,
net long; positive: above, net short or balanced); there is no price when the denominator is
exactly 0 or the result is not positive ("--").
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from .. import _validate as v
from ..account import Account, liquidation_losses
from ..brackets import BracketTable
from ..errors import OrderRefusedError
from ..examples import CASE_A, ILLUSTRATIVE_PRICES, article_mmr
from ..exercises import Exercise
from ..format import pct, price, table, usdt
from ..liquidation import hedge_liquidation_price
from ..margin import unrealized_pnl
from ..plots import (
    COLORS,
    legend_below,
    mark_price_line,
    new_figure,
    plot_margin_balance,
    stable_limits,
    steady_axes,
)
from ..widgets import build_widget, choice_buttons, leverage_slider, money_box

__all__ = [
    "BTC",
    "ETH",
    "ENTRY",
    "MMR",
    "WALLET",
    "LEVERAGE",
    "table_for",
    "hedge_account",
    "mode_rules",
    "legs_table",
    "shared_price",
    "shared_prices_table",
    "report_table",
    "balanced_probe",
    "isolated_legs",
    "cross_symbol_account",
    "cross_symbol_after",
    "cross_symbol_table",
    "cross_symbol_plot",
    "view",
    "plot",
    "widget",
    "EXERCISES",
]

BTC, ETH = "BTCUSDT", "ETHUSDT"
#: Entry price of every BTC example (USDT).
ENTRY = ILLUSTRATIVE_PRICES[BTC]
#: The article's maintenance rate (0.5 %), one tier, up to 100x.
MMR = article_mmr(10)
#: Wallet (USDT) and leverage of the same-symbol examples.
WALLET = 2_000.0
LEVERAGE = 50.0
#: The same-symbol pairs the lesson compares: (name, long size, short size) in USDT.
PAIRS = (
    ("balanced", 50_000.0, 50_000.0),
    ("2:1, net long", 50_000.0, 25_000.0),
    ("1:2, net short", 25_000.0, 50_000.0),
    ("net long 1,500, covered", 50_000.0, 48_500.0),
)


def table_for(symbol: str) -> BracketTable:
    """The one-tier table of the article (MMR 0.5 %, at most 100x) for ``symbol``.

    >>> table_for("BTCUSDT").tier_at(50_000).mmr
    0.005
    """
    return BracketTable.flat(MMR, 100, symbol=symbol)


def hedge_account(
    long_size: float,
    short_size: float,
    *,
    wallet: float = WALLET,
    leverage: float = LEVERAGE,
    margin_mode: str = "cross",
    long_entry: float = ENTRY,
    short_entry: float = ENTRY,
) -> Account:
    """A hedge-mode account holding a BTC long of ``long_size`` and a short of ``short_size``
    (USDT notional at entry), opened in that order, no fees.

    Refused input raises :class:`~margin_lib.errors.InvalidInputError` (zero or negative size,
    leverage below 1 or above the tier's maximum) or
    :class:`~margin_lib.errors.OrderRefusedError` (the wallet cannot pay the initial margin).

    >>> acct = hedge_account(50_000, 25_000)
    >>> [p.side_name for p in acct.positions], acct.report().available_balance
    (['long', 'short'], 500.0)
    """
    long_n = v.scalar(v.positive, "long_size", long_size)
    short_n = v.scalar(v.positive, "short_size", short_size)
    lev = v.scalar(v.leverage, "leverage", leverage)
    tbl = table_for(BTC)
    tbl.check_leverage(max(long_n, short_n), lev)
    acct = Account(wallet, brackets={BTC: tbl}, fee_rate=0.0, position_mode="hedge")
    acct.set_margin_mode(BTC, margin_mode)
    acct.open_position(BTC, "long", notional=long_n, price=long_entry, leverage=lev)
    acct.open_position(BTC, "short", notional=short_n, price=short_entry, leverage=lev)
    return acct


def _refusal(action) -> str:
    try:
        action()
    except OrderRefusedError as exc:
        return f"refused: {exc}"
    return "accepted"


def mode_rules() -> str:
    """One-way against hedge mode, each rule shown by the engine's own answer."""
    one_way = Account(WALLET, brackets={BTC: table_for(BTC)}, fee_rate=0.0)
    one_way.open_position(BTC, "long", notional=10_000, price=ENTRY, leverage=10)
    hedge = Account(WALLET, brackets={BTC: table_for(BTC)}, fee_rate=0.0, position_mode="hedge")
    hedge.open_position(BTC, "long", notional=10_000, price=ENTRY, leverage=10)
    lines = [
        f"one-way account ({one_way.position_mode}), long 10,000 USDT of BTC open:",
        "  open a short as well -> "
        + _refusal(lambda: one_way.open_position(BTC, "short", notional=5_000, price=ENTRY, leverage=10)),
        "  switch to hedge mode -> " + _refusal(lambda: one_way.set_position_mode("hedge")),
        f"hedge account ({hedge.position_mode}), long 10,000 USDT of BTC open:",
        "  open a short as well -> "
        + _refusal(lambda: hedge.open_position(BTC, "short", notional=5_000, price=ENTRY, leverage=10)),
        "  legs now open: " + ", ".join(f"{p.side_name} {p.symbol}" for p in hedge.positions),
    ]
    return "\n".join(lines)


def legs_table(
    long_size: float = PAIRS[1][1], short_size: float = PAIRS[1][2], moves=(-10, -5, 0, 5, 10)
) -> str:
    """Each leg's unrealized PnL, their sum and the net exposure of a hedge pair at BTC moves in
    per cent; the net PnL is the net exposure times the move."""
    acct = hedge_account(long_size, short_size)
    r = acct.report()
    lg, sh = r.position(BTC, "long"), r.position(BTC, "short")
    net_q = lg.quantity - sh.quantity
    rows = []
    for m in moves:
        mark = ENTRY * (1 + m / 100)
        pnl_l = float(unrealized_pnl("long", lg.quantity, lg.entry_price, mark))
        pnl_s = float(unrealized_pnl("short", sh.quantity, sh.entry_price, mark))
        state = "LIQUIDATED" if acct.copy().mark({BTC: mark}) else "open"
        pnl_l, pnl_s = pnl_l + 0.0, pnl_s + 0.0  # no "-0.00"
        rows.append([f"{m:+d} %", price(mark), usdt(pnl_l), usdt(pnl_s), usdt(pnl_l + pnl_s),
                     f"{net_q:+g} BTC = {usdt(net_q * mark)}", state])  # fmt: skip
    return table(rows, ["BTC move", "mark", "long PnL", "short PnL", "sum", "net exposure", "state"])


def shared_price(long_size: float, short_size: float, wallet: float = WALLET) -> float:
    """The shared liquidation price (USDT) of a cross pair opened at :data:`ENTRY`, from
    :func:`margin_lib.hedge_liquidation_price`; ``nan`` where none exists.

    >>> round(shared_price(50_000, 50_000), 2)     # balanced: 2,000 / (2 × 0.5 × 0.005)
    400000.0
    """
    q_l = v.scalar(v.positive, "long_size", long_size) / ENTRY
    q_s = v.scalar(v.positive, "short_size", short_size) / ENTRY
    return float(hedge_liquidation_price(q_l, ENTRY, q_s, ENTRY, wallet, long_mmr=MMR, short_mmr=MMR))


def _denominator(q_l: float, q_s: float) -> float:
    return q_l * MMR + q_s * MMR - q_l + q_s


def _side_of(lp: float, mark: float) -> str:
    if math.isnan(lp):
        return "none (--)"
    return "above" if lp > mark else "below"


def shared_prices_table() -> str:
    """The four pairs of :data:`PAIRS` in a cross wallet of :data:`WALLET`: the denominator's
    sign, the shared price and where it lies."""
    rows = []
    for name, lg, sh in PAIRS:
        lp = shared_price(lg, sh)
        den = _denominator(lg / ENTRY, sh / ENTRY)
        move = pct(lp / ENTRY - 1, 2) if not math.isnan(lp) else "--"
        rows.append([name, usdt(lg, 0), usdt(sh, 0), f"{den:+.6f}", price(lp), move, _side_of(lp, ENTRY)])
    return table(
        rows, ["pair", "long", "short", "denominator", "shared LP", "from entry", "side"], align="lrrrrrl"
    )


def report_table(long_size: float = PAIRS[0][1], short_size: float = PAIRS[0][2]) -> str:
    """What ``Account.report()`` shows for each leg of a cross hedge pair: both legs carry the
    same liquidation price and the same (shared) margin balance."""
    r = hedge_account(long_size, short_size).report()
    rows = [
        [p.side, usdt(p.notional), usdt(p.initial_margin), usdt(p.maintenance_margin),
         usdt(p.margin_balance), price(p.liquidation_price)]
        for p in r.positions
    ]  # fmt: skip
    return table(rows, ["leg", "notional", "initial margin", "maint. margin", "margin balance", "liq. price"])


def balanced_probe(long_size: float = PAIRS[0][1], short_size: float = PAIRS[0][2]) -> str:
    """Mark a cross pair at prices far below, just below and just above its shared price and
    let :meth:`~margin_lib.account.Account.mark` decide: the brute-force check of the formula."""
    acct = hedge_account(long_size, short_size)
    lp = acct.report().position(BTC, "long").liquidation_price
    lines = []
    for label, mark in (("BTC at 1 USDT", 1.0), ("BTC at entry / 2", ENTRY / 2),
                        ("0.1 % below the LP", lp * 0.999), ("0.1 % above the LP", lp * 1.001)):  # fmt: skip
        trial = acct.copy()
        events = trial.mark({BTC: mark})
        state = "LIQUIDATED" if events else "open"
        lines.append(f"{label:<20} mark {price(mark):>12}: {state}")
    return "\n".join(lines)


def isolated_legs(
    mark: float = 98_000.0, long_size: float = PAIRS[0][1], short_size: float = PAIRS[0][2]
) -> str:
    """The balanced pair in isolated hedge mode: each leg's own liquidation price, then the
    engine's verdict at ``mark`` (USDT), beside the same pair in cross mode."""
    acct = hedge_account(long_size, short_size, margin_mode="isolated")
    r = acct.report()
    lines = [
        f"isolated {p.side:<5}: isolated wallet {usdt(p.isolated_wallet)}, liquidation price "
        f"{price(p.liquidation_price)} ({pct(p.liquidation_price / ENTRY - 1, 2)})"
        for p in r.positions
    ]
    events = acct.mark({BTC: mark})
    after = acct.report()
    lost = liquidation_losses(events)
    gone = [
        f"{e.side} leg (lost {usdt(lost[f'{e.symbol} {e.side}'])})" for e in events if e.kind == "liquidation"
    ]
    lines.append(f"BTC marked at {price(mark)}: liquidated {', '.join(gone) or 'nothing'}")
    for p in after.positions:
        lines.append(f"  still open: {p.side} leg, unrealized PnL {usdt(p.unrealized_pnl)}")
    lines.append(f"  wallet {usdt(after.wallet_balance)}, equity {usdt(after.equity)}")
    acct.mark({BTC: ENTRY})
    lines.append(f"BTC back at {price(ENTRY)}: equity {usdt(acct.report().equity)} (the hedge is gone)")
    cross = hedge_account(long_size, short_size)
    cross_events = cross.mark({BTC: mark})
    lines.append(
        f"same pair in cross mode at {price(mark)}: {'LIQUIDATED' if cross_events else 'both legs open'}, "
        f"equity {usdt(cross.report().equity)}"
    )
    cross.mark({BTC: ENTRY})
    lines.append(f"  and back at {price(ENTRY)}: equity {usdt(cross.report().equity)}")
    return "\n".join(lines)


# ------------------------------------------------------------------ hedging across symbols
def cross_symbol_account() -> Account:
    """The article's account (Case A's wallet and sizes) as a hedge: BTC long and ETH short, both
    cross, 10x, at the illustrative prices, no fees. Different symbols need no hedge mode.

    >>> [f"{p.side_name} {p.symbol}" for p in cross_symbol_account().positions]
    ['long BTCUSDT', 'short ETHUSDT']
    """
    acct = Account(CASE_A.wallet, brackets={BTC: table_for(BTC), ETH: table_for(ETH)}, fee_rate=0.0)
    for spec, side in zip(CASE_A.positions, ("long", "short"), strict=True):
        acct.set_margin_mode(spec.symbol, "cross")
        acct.open_position(spec.symbol, side, notional=spec.notional,
                           price=ILLUSTRATIVE_PRICES[spec.symbol], leverage=spec.leverage)  # fmt: skip
    return acct


def _moves(btc_move: float, eth_move: float) -> dict[str, float]:
    b = v.scalar(v.number, "btc_move", btc_move, low=-100.0, low_open=True)
    e = v.scalar(v.number, "eth_move", eth_move, low=-100.0, low_open=True)
    return {BTC: ILLUSTRATIVE_PRICES[BTC] * (1 + b / 100), ETH: ILLUSTRATIVE_PRICES[ETH] * (1 + e / 100)}


def cross_symbol_after(btc_move: float, eth_move: float) -> tuple[float, float, float, bool]:
    """(BTC long PnL, ETH short PnL, equity, liquidated?) after per-cent moves, in USDT. The PnL
    and equity are those at the new prices, before any forced close.

    >>> cross_symbol_after(-10, -10)
    (-500.0, 500.0, 1000.0, False)
    """
    acct = cross_symbol_account()
    marks = _moves(btc_move, eth_move)
    pnl = {p.symbol: p.side * p.quantity * (marks[p.symbol] - p.entry_price) for p in acct.positions}
    equity = acct.report().wallet_balance + pnl[BTC] + pnl[ETH]
    events = acct.mark(marks)
    return pnl[BTC], pnl[ETH], equity, bool(events)


def cross_symbol_table(
    moves: tuple[tuple[float, float], ...] = (
        (-10, -10),
        (10, 10),
        (-30, -30),
        (-10, 10),
        (10, -10),
        (-5, 5),
    ),
) -> str:
    """The BTC-long / ETH-short hedge under moves that go together and moves that split."""
    rows = []
    for b, e in moves:
        btc, eth, equity, liquidated = cross_symbol_after(b, e)
        kind = "together" if b == e else "split"
        rows.append([f"{b:+.0f} %", f"{e:+.0f} %", kind, usdt(btc), usdt(eth), usdt(btc + eth),
                     usdt(equity), "LIQUIDATED" if liquidated else "open"])  # fmt: skip
    return table(rows, ["BTC", "ETH", "moves", "BTC long PnL", "ETH short PnL", "sum", "equity", "state"])


def _cross_symbol_excess(btc: np.ndarray, eth: np.ndarray) -> np.ndarray:
    """Cross margin balance minus cross maintenance margin (USDT) of the cross-symbol hedge over
    per-cent moves (any broadcastable shapes): positive is safe, zero or below is liquidated."""
    acct = cross_symbol_account()
    shape = np.broadcast_shapes(np.shape(btc), np.shape(eth))
    excess = np.full(shape, acct.report().cross_wallet_balance)
    for pos in acct.positions:
        move = np.asarray(btc if pos.symbol == BTC else eth, dtype=float)
        mark = pos.entry_price * (1 + move / 100)
        excess = excess + pos.side * pos.quantity * (mark - pos.entry_price)
        excess = excess - acct.brackets(pos.symbol).maintenance_margin_curve(pos.quantity * mark)
    return excess


def cross_symbol_plot() -> Figure:
    """Map of BTC and ETH moves (%) for the cross-symbol hedge: the liquidation boundary (dashed,
    labelled), the liquidated regions (hatched), the diagonal where the coins move together."""
    b = np.linspace(-40, 40, 241)
    e = np.linspace(-40, 40, 241)
    grid = _cross_symbol_excess(b[None, :], e[:, None])
    fig, ax = new_figure(figsize=(8.0, 5.2))
    ax.contourf(b, e, grid, levels=[grid.min() - 1, 0], colors="none", hatches=["///"])
    line = ax.contour(b, e, grid, levels=[0], colors=[COLORS["liquidation"]], linewidths=2, linestyles="--")
    ax.clabel(line, fmt={0: "liquidation boundary"}, fontsize=9, inline=True, manual=[(-28, -7)])
    ax.plot(b, b, color=COLORS["balance"], linewidth=1.5, linestyle="-.", label="moving together (offset)")
    ax.text(-38, 30, "liquidated:\nBTC down, ETH up", fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})  # fmt: skip
    ax.text(18, -36, "BTC up, ETH down:\nboth legs win", fontsize=9)
    ax.scatter([-10, -10], [-10, 10], marker="o", s=70, color=COLORS["other"], zorder=5,
               label="BTC -10 % with ETH -10 % / +10 %")  # fmt: skip
    ax.set_xlabel("BTC price move (%)")
    ax.set_ylabel("ETH price move (%)")
    ax.set_xlim(b[0], b[-1])
    ax.set_ylim(e[0], e[-1])
    ax.set_title("Long BTC, short ETH in cross: safe along the diagonal, liquidated when they split")
    ax.legend(loc="lower left")
    return fig


# ------------------------------------------------------------------ the widget
def _pair_state(long_size, short_size, long_entry, short_entry, wallet, leverage, margin_mode, mark):
    """The account, its report before ``mark`` and the liquidation events at ``mark``."""
    mode = v.choice("margin_mode", margin_mode, ("isolated", "cross"))
    le = v.scalar(v.positive, "long_entry", long_entry)
    se = v.scalar(v.positive, "short_entry", short_entry)
    w = v.scalar(v.positive, "wallet", wallet)
    p = v.scalar(v.positive, "price", mark)
    acct = hedge_account(long_size, short_size, wallet=w, leverage=leverage, margin_mode=mode,
                         long_entry=le, short_entry=se)  # fmt: skip
    report = acct.report()
    events = acct.copy().mark({BTC: p})
    return acct, report, events, p


def view(
    long_size: float = PAIRS[1][1],
    short_size: float = PAIRS[1][2],
    long_entry: float = ENTRY,
    short_entry: float = ENTRY,
    wallet: float = WALLET,
    leverage: float = LEVERAGE,
    margin_mode: str = "cross",
    price_now: float = 95_000.0,
) -> str:
    """What the widget prints: a BTC hedge pair (sizes in USDT at entry), each leg's PnL at
    ``price_now``, the shared (cross) or separate (isolated) liquidation prices, and what the
    engine liquidates at that price.

    >>> print(view().splitlines()[3])
    at 95,000.00: long PnL -2,500.00 USDT, short PnL 1,250.00 USDT, sum -1,250.00 USDT
    """
    acct, r, events, p = _pair_state(long_size, short_size, long_entry, short_entry, wallet, leverage,
                                     margin_mode, price_now)  # fmt: skip
    lg, sh = r.position(BTC, "long"), r.position(BTC, "short")
    pnl_l = lg.quantity * (p - lg.entry_price)
    pnl_s = -sh.quantity * (p - sh.entry_price)
    net_q = lg.quantity - sh.quantity
    lines = [
        f"{r.positions[0].margin_mode} hedge, {leverage:g}x, wallet {usdt(wallet)}:",
        f"long {usdt(lg.notional)} from {price(lg.entry_price)}, short {usdt(sh.notional)} from "
        f"{price(sh.entry_price)}",
        f"net exposure {net_q:+.6g} BTC ({'long' if net_q > 0 else 'short' if net_q < 0 else 'flat'})",
        f"at {price(p)}: long PnL {usdt(pnl_l)}, short PnL {usdt(pnl_s)}, sum {usdt(pnl_l + pnl_s)}",
    ]
    if lg.margin_mode == "cross":
        lp = lg.liquidation_price
        lines.append(f"shared liquidation price of both legs: {price(lp)} ({_side_of(lp, p)} this price)")
        balance = r.cross_wallet_balance + pnl_l + pnl_s
        tbl = acct.brackets(BTC)
        mm = float(tbl.maintenance_margin_curve(np.array([lg.quantity * p, sh.quantity * p])).sum())
        lines.append(f"margin balance {usdt(balance)}, maintenance margin {usdt(mm)}")
        lines.append("LIQUIDATED: both legs closed, cross wallet lost" if events else "not liquidated")
    else:
        for leg in (lg, sh):
            lines.append(f"{leg.side} leg: own liquidation price {price(leg.liquidation_price)}, "
                         f"isolated wallet {usdt(leg.isolated_wallet)}")  # fmt: skip
        gone = {e.side for e in events}
        lines.append("; ".join(f"{s} leg {'LIQUIDATED' if s in gone else 'open'}" for s in ("long", "short")))
    return "\n".join(lines)


def _price_range(points: list[float], entry: float) -> tuple[float, float, list[float]]:
    """A price range holding the entries, the price and the liquidation prices not farther than
    3x the highest of the entries and the price; the others are returned as off-chart."""
    near = [x for x in points if not math.isnan(x) and x <= 3 * entry]
    far = [x for x in points if not math.isnan(x) and x > 3 * entry]
    lo, hi = min(near), max(near)
    pad = max(hi - lo, 0.05 * entry) * 0.25
    low, high = stable_limits(max(lo - pad, 0.0), hi + pad, parts=2)  # coarse round: a steadier frame
    return max(low, 0.0), high, far


def plot(
    long_size: float = PAIRS[1][1],
    short_size: float = PAIRS[1][2],
    long_entry: float = ENTRY,
    short_entry: float = ENTRY,
    wallet: float = WALLET,
    leverage: float = LEVERAGE,
    margin_mode: str = "cross",
    price_now: float = 95_000.0,
) -> Figure:
    """Margin balance and maintenance margin against the BTC price for the pair.

    Cross: one balance ``WB + Q_L·(P − EP_L) − Q_S·(P − EP_S)`` against the two legs' summed
    maintenance margin, the shared liquidation price dashed and labelled (or a note where it is
    off the chart or does not exist), the liquidated zone hatched. Isolated: one panel per leg
    (:func:`margin_lib.plots.plot_margin_balance`), each with its own liquidation price.
    """
    acct, r, events, p = _pair_state(long_size, short_size, long_entry, short_entry, wallet, leverage,
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
        legend_below(fig, *axes)  # one legend for both panels: the same entries twice would crowd them
        fig.suptitle("Isolated hedge: each leg can be liquidated alone")
        return fig
    lp = lg.liquidation_price
    lo, hi, far = _price_range([lg.entry_price, sh.entry_price, p, lp], top)
    prices = np.linspace(lo, hi, 500)
    balance = (
        r.cross_wallet_balance
        + lg.quantity * (prices - lg.entry_price)
        - sh.quantity * (prices - sh.entry_price)
    )
    tbl = acct.brackets(BTC)
    mm = tbl.maintenance_margin_curve(lg.quantity * prices) + tbl.maintenance_margin_curve(
        sh.quantity * prices
    )
    fig, ax = new_figure()
    ax.plot(prices, balance, color=COLORS["balance"], linewidth=2, label="margin balance (both legs)")
    ax.plot(prices, mm, color=COLORS["maintenance"], linewidth=2, linestyle=(0, (6, 2)),
            label="maintenance margin (both legs)")  # fmt: skip
    if np.any(balance <= mm):
        ax.fill_between(prices, balance, mm, where=balance <= mm, facecolor="none", hatch="///",
                        edgecolor=COLORS["maintenance"], linewidth=0, label="liquidated zone")  # fmt: skip
    same = sh.entry_price == lg.entry_price
    entry_label = (
        f"entry {price(lg.entry_price, 0)} (both legs)" if same else f"long entry {price(lg.entry_price, 0)}"
    )
    mark_price_line(ax, lg.entry_price, entry_label, kind="entry", y_text=0.75)
    if sh.entry_price != lg.entry_price:
        mark_price_line(ax, sh.entry_price, f"short entry {price(sh.entry_price, 0)}", kind="entry",
                        text_side="left")  # fmt: skip
    if far:
        note = f"shared liquidation at {price(lp, 0)}, off the chart →"
    elif math.isnan(lp):
        note = "no liquidation price (--)"
    else:
        note = ""
        side = "left" if lp > p else "right"
        mark_price_line(
            ax, lp, f"shared liquidation {price(lp, 0)}", kind="liquidation", y_text=0.6, text_side=side
        )
    if note:
        box = {"facecolor": "white", "edgecolor": COLORS["liquidation"], "linestyle": "--"}
        ax.text(0.98, 0.55, note, transform=ax.transAxes, ha="right", fontsize=9, bbox=box)
    now = r.cross_wallet_balance + lg.quantity * (p - lg.entry_price) - sh.quantity * (p - sh.entry_price)
    ax.scatter([p], [now], color=COLORS["balance"], zorder=5, marker="X" if events else "o",
               label="chosen price" + (" (liquidated)" if events else ""))  # fmt: skip
    ax.set_xlim(lo, hi)
    ax.set_xlabel("BTC mark price (USDT)")
    ax.set_ylabel("USDT")
    ax.set_title("Cross hedge: one balance, one liquidation price for both legs")
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    legend_below(fig, ax)
    return fig


def widget():
    """Sizes, entries, wallet, leverage, margin mode and a price → the pair's state and plot."""
    controls = {
        "long_size": money_box(PAIRS[1][1], "long size (USDT)"),
        "short_size": money_box(PAIRS[1][2], "short size (USDT)"),
        "long_entry": money_box(ENTRY, "long entry (USDT)"),
        "short_entry": money_box(ENTRY, "short entry (USDT)"),
        "wallet": money_box(WALLET, "wallet (USDT)"),
        "leverage": leverage_slider(LEVERAGE, max=125),
        "margin_mode": choice_buttons(["cross", "isolated"], "cross", "margin mode"),
        "price_now": money_box(95_000.0, "BTC price (USDT)"),
    }
    return build_widget(controls, view, widget_plot, height="660px", title="A long and a short on BTC")


def widget_plot(**values) -> Figure:
    """:func:`plot` with its autoscaled axes rounded coarsely, so typing a new entry or size
    usually keeps the widget's frame (and its fast redraw)."""
    return steady_axes(plot(**values), parts=2)


def _split_loss() -> float:
    btc, eth, _, _ = cross_symbol_after(-6, 4)
    return btc + eth


EXERCISES = {
    "8a": Exercise(
        "8a",
        "Cross hedge: long 40,000 and short 20,000 USDT of BTC at 100,000, wallet 1,500 USDT. "
        "Shared liquidation price (USDT)?",
        lambda: shared_price(40_000, 20_000, 1_500),
        unit="USDT",
        hint="Set wallet + both legs' PnL equal to both legs' maintenance margin (0.5 % of each "
        "notional at that price) and solve for the price.",
    ),
    "8b": Exercise(
        "8b",
        "Balanced cross hedge, 30,000 USDT each way, wallet 1,500 USDT: at what price is it liquidated?",
        lambda: shared_price(30_000, 30_000, 1_500),
        unit="USDT",
        hint="The PnL of the legs cancels, so the balance stays at the wallet; find where the "
        "maintenance margin of both legs grows to it.",
    ),
    "8c": Exercise(
        "8c",
        "Long BTC / short ETH (5,000 USDT each, cross): total PnL after BTC −6 % and ETH +4 % (USDT)?",
        _split_loss,
        unit="USDT",
        hint="A long loses when its coin falls, a short loses when its coin rises: add size × move for each.",
    ),
}
