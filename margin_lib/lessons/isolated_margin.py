"""Lesson 3, isolated margin: a fence around one position.

Pure functions behind the lesson's tables, plots, widget and exercises. The lesson's example is
the article's (:data:`margin_lib.examples.ISOLATED_EXAMPLE`): a 1,000 USDT futures wallet and an
isolated 10x BTC long of 1,000 USDT, which locks 100 USDT and leaves 900 free. Everything here
is computed by :class:`~margin_lib.account.Account`; fees are left out, as in the article.

The widget takes a price move (%), an amount of margin added (USDT), the leverage and the
maintenance-rate table ("article": the article's 0.5 % at 10x; "exchange": the shipped BTCUSDT
tiers, 0.4 % at this size) and shows the isolated margin balance, the free balance and the
liquidation price, with a plot of the balance against the mark price.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from .. import _validate as v
from ..account import Account, AccountReport, PositionReport, liquidation_losses
from ..brackets import BracketTable
from ..examples import CASE_B, ILLUSTRATIVE_PRICES, ISOLATED_EXAMPLE, article_table
from ..exercises import Exercise
from ..format import pct, price, usdt
from ..margin import adverse_move_to_liquidation, error_tolerance, margin_ratio
from ..plots import COLORS, legend_below, mark_price_line, new_figure, plot_margin_balance, stable_limits
from ..widgets import build_widget, choice_buttons, leverage_slider, money_box, move_slider

__all__ = [
    "SYMBOL",
    "ENTRY",
    "WARNING_RATIO",
    "open_example",
    "wallet_split",
    "free_balance_table",
    "liquidation_demo",
    "add_margin_comparison",
    "removable_table",
    "RescueRun",
    "rescue_run",
    "rescue_table",
    "plot_rescue",
    "case_b_account",
    "case_b_table",
    "case_b_independence",
    "case_b_tiers_table",
    "case_b_at",
    "case_b_manual_transfer",
    "view",
    "plot",
    "widget",
    "EXERCISES",
]

#: The example's symbol, its position and its (illustrative) entry price in USDT.
SYMBOL = "BTCUSDT"
_POSITION = ISOLATED_EXAMPLE.positions[0]
ENTRY = ILLUSTRATIVE_PRICES[SYMBOL]
#: The margin ratio (MM / margin balance) above which the exchange advises acting: 80 %.
WARNING_RATIO = 0.8
#: The rescue simulation's price step: a 0.05 % fall per tick.
_STEP = 0.0005
_TIERS = ("article", "exchange")


# --------------------------------------------------------------------------------- the example
def _grid(rows: list[list[str]], headers: list[str], *, labels: bool = True) -> str:
    """A monospace table, numbers right-aligned; with ``labels`` the first column (row names)
    is left-aligned.

    >>> print(_grid([["wallet", "1 USDT"]], ["", "engine"]))
           | engine
    ------ | ------
    wallet | 1 USDT
    """
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        first = cells[0].ljust(widths[0]) if labels else cells[0].rjust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return " | ".join([first, *rest]).rstrip()

    return "\n".join([line(headers), " | ".join("-" * w for w in widths), *(line(r) for r in rows)])


def _table(leverage: float, tiers: str) -> BracketTable:
    if v.choice("tiers", tiers, _TIERS) == "article":
        return article_table(leverage)
    return BracketTable.load(SYMBOL)


def open_example(leverage: float | None = None, *, tiers: str = "article", added: float = 0.0) -> Account:
    """The article's isolated example as an account: 1,000 USDT wallet, an isolated BTC long of
    1,000 USDT at ``leverage`` (default: the example's 10x), opened at :data:`ENTRY` with no fee,
    then ``added`` USDT of margin moved into it (0 = none; anything else goes through
    :meth:`Account.add_margin`, which refuses a negative amount or one above the free balance).

    ``tiers="article"`` uses the article's MMR for the leverage (0.5 % at 10x), ``"exchange"``
    the shipped BTCUSDT tier table.

    >>> open_example(added=50).report().position("BTCUSDT").isolated_wallet
    150.0
    """
    lev = _POSITION.leverage if leverage is None else v.scalar(v.leverage, "leverage", leverage)
    acct = Account(ISOLATED_EXAMPLE.wallet, brackets={SYMBOL: _table(lev, tiers)}, fee_rate=0.0)
    acct.set_margin_mode(SYMBOL, _POSITION.margin_mode)
    acct.open_position(SYMBOL, _POSITION.side, notional=_POSITION.notional, price=ENTRY, leverage=lev)
    if added != 0:
        acct.add_margin(SYMBOL, added)
    return acct


def _mark(move: float) -> float:
    """Mark price after a move given as a fraction (−0.08 = an 8 % fall)."""
    m = v.scalar(v.number, "move", move, low=-1.0, low_open=True)
    return ENTRY * (1.0 + m)


def _pos(acct: Account) -> PositionReport:
    return acct.report().position(SYMBOL)


def _signed(x: float, digits: int = 3) -> str:
    """A fraction as a signed percentage: ``0.05`` → ``+5.000 %`` (``0`` has no sign)."""
    return ("+" if x > 0 else "") + pct(x, digits)


def _move_to(p: float) -> str:
    """A price as a move from the entry, e.g. ``-9.548 %`` (``--`` for nan)."""
    return pct(p / ENTRY - 1.0)


def wallet_split(acct: Account) -> str:
    """How the example's wallet is split once the position is open, beside the article's figures.

    >>> print(wallet_split(ISOLATED_EXAMPLE.build_account()).splitlines()[4])
    free (available balance)        |   900.00 USDT |   900.00 USDT
    """
    r = acct.report()
    locked = r.position(SYMBOL).isolated_wallet
    stated = ISOLATED_EXAMPLE.stated
    rows = [
        ["futures wallet", usdt(r.wallet_balance), usdt(ISOLATED_EXAMPLE.wallet)],
        ["locked in the isolated position", usdt(locked), usdt(stated["initial_margin"])],
        ["free (available balance)", usdt(r.available_balance), usdt(stated["free"])],
    ]
    return _grid(rows, ["", "engine", "article"])


def free_balance_table(moves: tuple[float, ...] = (-0.08, -0.04, 0.0, 0.05)) -> str:
    """The position's margin balance and the free balance at several BTC moves (fractions).

    >>> print(free_balance_table((0.0,)))
    BTC move | position's balance | free balance
    -------- | ------------------ | ------------
     0.000 % |        100.00 USDT |  900.00 USDT
    """
    rows = []
    for move in moves:
        acct = open_example()
        acct.mark({SYMBOL: _mark(move)})
        r = acct.report()
        rows.append([_signed(move), usdt(r.position(SYMBOL).margin_balance), usdt(r.available_balance)])
    return _grid(rows, ["BTC move", "position's balance", "free balance"], labels=False)


# --------------------------------------------------------------------------------- liquidation
def liquidation_demo(moves: tuple[float, ...] = (-0.095, -0.096)) -> str:
    """Mark the example at each move (fractions) with :meth:`Account.mark` and say what happened:
    still open (margin balance, maintenance margin, margin ratio) or liquidated (the event's
    loss and the wallet left).

    >>> print(liquidation_demo((-0.096,)).splitlines()[2])
      closed at the mark: -96.00 USDT realised; margin balance left, 4.00 USDT, taken
    """
    p0 = _pos(open_example())
    lp = p0.liquidation_price
    lines = [
        f"MMR {pct(p0.mmr)}; liquidation price {price(lp)}, {_move_to(lp)} from the entry "
        f"(the article's rounded error tolerance 1/L − MMR: {pct(error_tolerance(p0.leverage, p0.mmr))})"
    ]
    for move in moves:
        acct = open_example()
        mark = _mark(move)
        events = acct.mark({SYMBOL: mark})
        head = f"BTC {pct(move)}, mark {price(mark)}:"
        if not events:
            p = _pos(acct)
            lines.append(
                f"{head} still open; margin balance {usdt(p.margin_balance)}, maintenance margin "
                f"{usdt(p.maintenance_margin)}, margin ratio {pct(p.margin_ratio, 1)}"
            )
            continue
        r = acct.report()
        realised, taken = (e.amount for e in events)
        lines += [
            f"{head} LIQUIDATED",
            f"  closed at the mark: {usdt(realised)} realised; margin balance left, {usdt(-taken)}, taken",
            f"  lost in all: {usdt(liquidation_losses(events)[f'{SYMBOL} long'])}, the whole isolated wallet",
            f"  wallet left: {usdt(r.wallet_balance)}, of which free: {usdt(r.available_balance)}",
        ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------- add / remove
def _state_rows(p: PositionReport) -> list[tuple[str, str]]:
    return [
        ("isolated wallet (margin behind it)", usdt(p.isolated_wallet)),
        ("leverage setting", f"{p.leverage:g}x"),
        ("maintenance margin rate (MMR)", pct(p.mmr)),
        ("maintenance margin (MM)", usdt(p.maintenance_margin)),
        ("margin balance", usdt(p.margin_balance)),
        ("margin ratio (MM / balance)", pct(p.margin_ratio, 1)),
        ("notional / isolated wallet", f"{p.notional / p.isolated_wallet:.2f}x"),
        ("liquidation price", price(p.liquidation_price)),
        ("room from the mark to it", pct(p.liquidation_price / p.mark_price - 1.0)),
    ]


def add_margin_comparison(amount: float = 100.0, move: float = CASE_B.moves[SYMBOL]) -> str:
    """The example after a ``move`` (default: Case B's −8 %), before and after
    ``Account.add_margin(amount)``: the MMR, the MM and the leverage setting stay, the isolated
    wallet and the liquidation price change.

    >>> [c.strip() for c in add_margin_comparison(100).splitlines()[4].split("|")]
    ['maintenance margin rate (MMR)', '0.500 %', '0.500 %']
    """
    acct = open_example()
    acct.mark({SYMBOL: _mark(move)})
    before = _state_rows(_pos(acct))
    acct.add_margin(SYMBOL, amount)
    after = _state_rows(_pos(acct))
    rows = [[name, b, a] for (name, b), (_, a) in zip(before, after, strict=True)]
    return _grid(rows, [f"BTC {pct(move, 1)}", "before", f"after adding {usdt(amount, 0)}"])


#: (move, added) states for :func:`removable_table`.
REMOVABLE_STATES = ((0.0, 0.0), (0.0, 50.0), (-0.05, 50.0), (0.10, 0.0), (0.20, 0.0))


def removable_table(states: tuple[tuple[float, float], ...] = REMOVABLE_STATES) -> str:
    """The most margin that can leave the isolated position, ``max(0, min(WB − MM,
    WB + UPNL − P × Q / L))``, term by term, beside :meth:`Account.max_removable_margin`.

    Each state is (price move as a fraction, USDT added at entry).

    >>> [c.strip() for c in removable_table(((0.10, 0.0),)).splitlines()[2].split("|")][3:]
    ['94.50 USDT', '90.00 USDT', '90.00 USDT']
    """
    rows = []
    for move, added in states:
        acct = open_example(added=added)
        acct.mark({SYMBOL: _mark(move)})
        p = _pos(acct)
        keep_mm = p.isolated_wallet - p.maintenance_margin
        keep_im = p.margin_balance - p.notional / p.leverage
        rows.append(
            [
                _signed(move),
                usdt(added, 0),
                usdt(p.isolated_wallet),
                usdt(keep_mm),
                usdt(keep_im),
                usdt(acct.max_removable_margin(SYMBOL)),
            ]
        )
    return _grid(
        rows, ["BTC move", "added", "wallet WB", "WB − MM", "WB + UPNL − P·Q/L", "removable"], labels=False
    )


# --------------------------------------------------------------------------------- rescue trap
@dataclass(frozen=True)
class RescueRun:
    """Two traders on the same falling price path, both starting from the example.

    ``prices`` are the recorded marks (USDT, falling); for each, ``let_go_loss`` and
    ``rescue_loss`` are the money lost so far (1,000 − equity, USDT: realised plus unrealised)
    and ``rescue_put_in`` the margin the rescuer has put into the position (USDT).
    ``top_up_prices`` are the marks where the rescuer added margin and ``top_up_totals`` the
    margin in the position right after each top-up; ``liquidation_price`` is the example's
    liquidation price and ``first_liquidation`` the tick where the trader who lets go is
    liquidated (the first tick past it).
    """

    prices: tuple[float, ...]
    let_go_loss: tuple[float, ...]
    rescue_loss: tuple[float, ...]
    rescue_put_in: tuple[float, ...]
    top_up_prices: tuple[float, ...]
    top_up_totals: tuple[float, ...]
    liquidation_price: float
    first_liquidation: float
    rescue_liquidated: bool
    top_up: float
    trigger: float


def _path(final_move: float, step: float, checkpoints: tuple[float, ...]) -> np.ndarray:
    """A steadily falling path: −``step`` per tick (geometric), plus the checkpoint prices."""
    ticks = int(math.ceil(math.log1p(final_move) / math.log1p(-step)))
    grid = ENTRY * (1.0 - step) ** np.arange(1, ticks + 1)
    end = _mark(final_move)
    marks = np.concatenate([grid[grid > end], [end], [_mark(c) for c in checkpoints]])
    return np.unique(marks)[::-1]


@functools.lru_cache(maxsize=8)
def rescue_run(
    final_move: float = -0.8,
    *,
    top_up: float = 100.0,
    trigger: float = WARNING_RATIO,
    step: float = _STEP,
    checkpoints: tuple[float, ...] = (-0.1, -0.2, -0.4, -0.6),
) -> RescueRun:
    """Replay a price falling ``step`` (0.05 %) per tick down to ``final_move`` on two copies of
    the example: one left alone, one that adds ``top_up`` USDT of margin each time the margin
    ratio (MM / margin balance) reaches ``trigger`` (80 %), while the free balance lasts.

    Both use :meth:`Account.mark` and :meth:`Account.add_margin`; the rule reads the margin
    ratio after each tick. Cached: the result is immutable.

    >>> run = rescue_run(-0.2)
    >>> run.let_go_loss[-1], len(run.top_up_prices)
    (100.0, 2)
    """
    fm = v.scalar(v.number, "final_move", final_move, low=-0.95, high=0.0, high_open=True)
    amount = v.scalar(v.positive, "top_up", top_up)
    trig = v.scalar(v.number, "trigger", trigger, low=0.0, high=1.0, low_open=True, high_open=True)
    st = v.scalar(v.number, "step", step, low=0.0, high=0.001, low_open=True)
    marks = _path(fm, st, tuple(c for c in checkpoints if c > fm))
    keep = set(range(0, len(marks), 8)) | {len(marks) - 1}
    keep |= {int(np.argmin(np.abs(marks - _mark(c)))) for c in checkpoints if c > fm}

    let_go, rescuer = open_example(), open_example()
    tbl = rescuer.brackets(SYMBOL)
    put_in = _pos(rescuer).isolated_wallet
    first_liq, tops, totals = math.nan, [], []
    start_lp = _pos(rescuer).liquidation_price
    rec: dict[str, list[float]] = {"p": [], "let_go": [], "rescue": [], "put_in": []}
    rescue_liquidated = False
    for i, mark in enumerate(marks):
        if let_go.has_position(SYMBOL) and let_go.mark({SYMBOL: mark}):
            first_liq = float(mark)
        if rescuer.has_position(SYMBOL):
            rescue_liquidated |= bool(rescuer.mark({SYMBOL: mark}))
        if rescuer.has_position(SYMBOL):
            pos = rescuer.positions[0]
            mm = float(tbl.maintenance_margin(pos.notional))
            if margin_ratio(mm, pos.isolated_wallet + pos.unrealized_pnl) >= trig:
                free = rescuer.report().available_balance
                if free > 0:
                    rescuer.add_margin(SYMBOL, min(amount, free))
                    put_in += min(amount, free)
                    tops.append(float(mark))
                    totals.append(put_in)
                    keep.add(i)
        if i in keep:
            rec["p"].append(float(mark))
            rec["let_go"].append(ISOLATED_EXAMPLE.wallet - let_go.report().equity)
            rec["rescue"].append(ISOLATED_EXAMPLE.wallet - rescuer.report().equity)
            rec["put_in"].append(put_in)
    return RescueRun(
        prices=tuple(rec["p"]),
        let_go_loss=tuple(rec["let_go"]),
        rescue_loss=tuple(rec["rescue"]),
        rescue_put_in=tuple(rec["put_in"]),
        top_up_prices=tuple(tops),
        top_up_totals=tuple(totals),
        liquidation_price=start_lp,
        first_liquidation=first_liq,
        rescue_liquidated=rescue_liquidated,
        top_up=amount,
        trigger=trig,
    )


def rescue_table(final_move: float = -0.8, checkpoints: tuple[float, ...] = (-0.1, -0.2, -0.4, -0.6)) -> str:
    """Where the two traders of :func:`rescue_run` stand as the fall deepens.

    >>> [c.strip() for c in rescue_table(-0.2, checkpoints=()).splitlines()[3].split("|")]
    ['-20.000 %', '100.00 USDT', '2', '300.00 USDT', '200.00 USDT']
    """
    run = rescue_run(final_move, checkpoints=checkpoints)
    rows = []
    for c in (*sorted((c for c in checkpoints if c > final_move), reverse=True), final_move):
        i = int(np.argmin(np.abs(np.asarray(run.prices) - _mark(c))))
        n_tops = sum(1 for t in run.top_up_prices if t >= run.prices[i])
        rows.append(
            [
                pct(c),
                usdt(run.let_go_loss[i]),
                str(n_tops),
                usdt(run.rescue_put_in[i]),
                usdt(run.rescue_loss[i]),
            ]
        )
    rule = (
        f"BTC falls {pct(_STEP, 2)} per tick; the rescuer adds {usdt(run.top_up, 0)} whenever the "
        f"margin ratio reaches {pct(run.trigger, 0)}"
    )
    grid = _grid(
        rows, ["BTC fall", "let go: lost", "top-ups", "rescue: margin put in", "rescue: lost"], labels=False
    )
    return f"{rule}\n{grid}"


def plot_rescue(final_move: float = -0.8) -> Figure:
    """Money lost against the fall for the two traders of :func:`rescue_run`, with the first
    liquidation (dashed, labelled) and the rescuer's top-ups (triangles)."""
    run = rescue_run(final_move)
    fall = (1.0 - np.asarray(run.prices) / ENTRY) * 100
    fig, ax = new_figure()
    ax.plot(fall, run.let_go_loss, color=COLORS["balance"], linewidth=2.2, label="let the first 100 go: lost")
    ax.plot(
        fall,
        run.rescue_loss,
        color=COLORS["maintenance"],
        linewidth=2.2,
        linestyle=(0, (6, 2)),
        label=f"add {run.top_up:g} at {run.trigger:.0%} margin ratio: lost",
    )
    ax.step(
        fall,
        run.rescue_put_in,
        where="post",
        color=COLORS["grey"],
        linewidth=1.5,
        linestyle=":",
        label="rescuer's margin put into the position",
    )
    tops = (1.0 - np.asarray(run.top_up_prices) / ENTRY) * 100
    ax.scatter(
        tops,
        run.top_up_totals,
        marker="^",
        color=COLORS["maintenance"],
        zorder=5,
        label="a top-up",
    )
    first = (1.0 - run.liquidation_price / ENTRY) * 100
    mark_price_line(ax, first, f"liquidation price {_move_to(run.liquidation_price)}", y_text=0.97)
    ax.set_xlim(0, fall[-1])
    ax.set_ylim(0, ISOLATED_EXAMPLE.wallet)
    ax.set_xlabel("BTC fall from the entry (%)")
    ax.set_ylabel("USDT")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_title("Rescuing a falling long: the loss follows the price; letting go stops it at 100 USDT")
    ax.legend(loc="upper left", bbox_to_anchor=(0.12, 1.0))
    return fig


# --------------------------------------------------------------------------------- Case B
def case_b_account(tiers: str = "article", moves: dict[str, float] | None = None) -> Account:
    """Case B's account (two isolated 10x longs of 1,000 USDT) marked after ``moves`` (default:
    the article's BTC −8 %, ETH +5 %)."""
    acct = CASE_B.build_account(tiers=tiers)
    acct.mark(CASE_B.marks(moves))
    return acct


def case_b_table(tiers: str = "article") -> str:
    """Case B after the moves: each position's PnL and what is left behind it, beside the
    article's figures, and the move that would liquidate it.

    >>> [c.strip() for c in case_b_table().splitlines()[2].split("|")][2:6]
    ['-80.00 USDT', '-80.00 USDT', '20.00 USDT', '20.00 USDT']
    """
    r = case_b_account(tiers).report()
    stated = CASE_B.stated
    article = {
        "BTCUSDT": (stated["btc_pnl"], stated["btc_left"]),
        "ETHUSDT": (stated["eth_pnl"], None),
    }
    rows = []
    for p in r.positions:
        pnl, left = article[p.symbol]
        rows.append(
            [
                p.symbol,
                _signed(CASE_B.moves[p.symbol]),
                usdt(p.unrealized_pnl),
                usdt(pnl),
                usdt(p.margin_balance),
                usdt(left) if left is not None else "(not given)",
                pct(p.liquidation_price / p.entry_price - 1.0),
            ]
        )
    return _grid(rows, ["", "move", "PnL", "article", "left behind it", "article", "liquidated at"])


def case_b_independence(tiers: str = "article") -> str:
    """BTC's liquidation price and margin balance with ETH flat and with ETH +5 %: identical,
    because an isolated position sees only its own wallet.

    >>> print(case_b_independence().splitlines()[0])
    ETH flat: BTC margin balance 20.00 USDT, liquidation price 90,452.26
    """
    lines = []
    for label, eth in (("ETH flat", 0.0), (f"ETH {_signed(CASE_B.moves['ETHUSDT'], 0)}", None)):
        moves = dict(CASE_B.moves) if eth is None else {**CASE_B.moves, "ETHUSDT": eth}
        p = case_b_account(tiers, moves).report().position(SYMBOL)
        lines.append(
            f"{label}: BTC margin balance {usdt(p.margin_balance)}, "
            f"liquidation price {price(p.liquidation_price)}"
        )
    return "\n".join(lines)


def case_b_tiers_table() -> str:
    """BTC's liquidation point in Case B with the article's table and with the exchange's tiers:
    the MMR, the price, the move, and the closed form ``(1/L − MMR) / (1 − MMR)``.

    >>> [c.strip() for c in case_b_tiers_table().splitlines()[3].split("|")][1:4]
    ['0.400 %', '90,361.45', '-9.639 %']
    """
    rows = []
    for tiers, label in (("article", "article (0.5 % at 10x)"), ("exchange", "exchange tier (BTCUSDT)")):
        p = case_b_account(tiers).report().position(SYMBOL)
        closed = adverse_move_to_liquidation("long", p.leverage, p.mmr)
        rows.append(
            [label, pct(p.mmr), price(p.liquidation_price), _move_to(p.liquidation_price), pct(closed)]
        )
    return _grid(rows, ["table", "MMR", "BTC liq. price", "move", "(1/L − MMR) / (1 − MMR)"])


def case_b_at(btc_move: float, tiers: str = "article") -> str:
    """Case B with BTC moved ``btc_move`` (ETH at +5 %): what is left of each position and of
    the wallet.

    >>> print(case_b_at(-0.097).splitlines()[1])
      BTCUSDT: LIQUIDATED, lost 100.00 USDT
    """
    acct = CASE_B.build_account(tiers=tiers)
    events = acct.mark(CASE_B.marks({**CASE_B.moves, SYMBOL: btc_move}))
    lost = {key.split()[0]: amount for key, amount in liquidation_losses(events).items()}
    r = acct.report()
    lines = [f"BTC {pct(btc_move)}, {tiers} table:"]
    for spec in CASE_B.positions:
        if spec.symbol in lost:
            lines.append(f"  {spec.symbol}: LIQUIDATED, lost {usdt(lost[spec.symbol])}")
        else:
            p = r.position(spec.symbol)
            lines.append(
                f"  {spec.symbol}: open, margin balance {usdt(p.margin_balance)}, "
                f"maintenance margin {usdt(p.maintenance_margin)}"
            )
    lines.append(
        f"  wallet {usdt(r.wallet_balance)}, equity {usdt(r.equity)}, free {usdt(r.available_balance)}"
    )
    return "\n".join(lines)


def case_b_manual_transfer(tiers: str = "article") -> str:
    """ETH's profit cannot reach BTC by itself, but part of it can be moved by hand: remove the
    most ETH allows and add it to BTC. Shows the amount and BTC's liquidation price before/after.

    >>> print(case_b_manual_transfer().splitlines()[0])
    ETH's isolated wallet can give up at most 45.00 USDT
    """
    acct = case_b_account(tiers)
    most = acct.max_removable_margin("ETHUSDT")
    before = acct.report().position(SYMBOL).liquidation_price
    acct.remove_margin("ETHUSDT", most)
    acct.add_margin(SYMBOL, most)
    after = acct.report().position(SYMBOL).liquidation_price
    return "\n".join(
        [
            f"ETH's isolated wallet can give up at most {usdt(most)}",
            f"BTC liquidation price before the transfer: {price(before)} ({_move_to(before)})",
            f"BTC liquidation price after the transfer:  {price(after)} ({_move_to(after)})",
        ]
    )


# --------------------------------------------------------------------------------- widget
def _widget_state(move_pct: float, added: float, leverage: float, tiers: str):
    """Open the example at ``leverage``, add ``added``, mark at ``move_pct`` %. Returns the
    account, the mark, the liquidation events, and the position's report right after opening
    and right after adding (both before the mark), plus the free balance right after opening."""
    move = v.scalar(v.number, "move_pct", move_pct, low=-100.0, low_open=True) / 100.0
    acct = open_example(leverage, tiers=tiers)
    opened = acct.report()
    if added != 0:
        acct.add_margin(SYMBOL, added)
    topped = _pos(acct)
    mark = _mark(move)
    events = acct.mark({SYMBOL: mark})
    return acct, mark, events, opened, topped


def view(move_pct: float = 0.0, added: float = 0.0, leverage: float = 10.0, tiers: str = "article") -> str:
    """What the widget prints for the example with ``added`` USDT of margin moved into the
    position and BTC moved by ``move_pct`` per cent: the isolated margin balance, the free
    balance and the liquidation price (or what a liquidation took).

    >>> print(view())
    Wallet 1,000.00 USDT: 100.00 USDT locked in the isolated 10x BTC long (1,000 USDT), 900.00 USDT free.
    Added margin: 0.00 USDT, so 100.00 USDT stands behind the position.
    BTC +0.0 % -> mark 100,000.00; unrealized PnL 0.00 USDT.
    Isolated margin balance: 100.00 USDT (maintenance margin 5.00 USDT, MMR 0.500 %, margin ratio 5.0 %).
    Free balance: 900.00 USDT (it does not move with BTC).
    Liquidation price: 90,452.26 (-9.548 % from the entry).
    """
    acct, mark, events, opened, topped = _widget_state(move_pct, added, leverage, tiers)
    r: AccountReport = acct.report()
    first = opened.position(SYMBOL)
    lines = [
        f"Wallet {usdt(opened.wallet_balance)}: {usdt(first.isolated_wallet)} locked in the isolated "
        f"{first.leverage:g}x BTC long ({usdt(first.notional, 0)}), {usdt(opened.available_balance)} free.",
        f"Added margin: {usdt(added)}, so {usdt(topped.isolated_wallet)} stands behind the position.",
        f"BTC {move_pct:+.1f} % -> mark {price(mark)}; "
        f"unrealized PnL {usdt(topped.quantity * (mark - topped.entry_price))}.",
    ]
    if events:
        return "\n".join(
            [
                *lines,
                f"LIQUIDATED: the mark passed the liquidation price {price(topped.liquidation_price)}; "
                f"the isolated wallet of {usdt(liquidation_losses(events)[f'{SYMBOL} long'])} is lost.",
                f"Free balance: {usdt(r.available_balance)}, untouched; the wallet is now "
                f"{usdt(r.wallet_balance)}.",
            ]
        )
    p = r.position(SYMBOL)
    if math.isnan(p.liquidation_price):
        lp = "none (--): the isolated wallet covers the whole position, it cannot be liquidated."
    else:
        lp = f"{price(p.liquidation_price)} ({_move_to(p.liquidation_price)} from the entry)."
    return "\n".join(
        [
            *lines,
            f"Isolated margin balance: {usdt(p.margin_balance)} (maintenance margin "
            f"{usdt(p.maintenance_margin)}, MMR {pct(p.mmr)}, margin ratio {pct(p.margin_ratio, 1)}).",
            f"Free balance: {usdt(r.available_balance)} (it does not move with BTC).",
            f"Liquidation price: {lp}",
        ]
    )


#: The plot's price axis grows by this much at a time (so the frame stays put as the mark moves).
_RANGE_STEP = 0.15 * ENTRY


def _price_range(mark: float, lp: float) -> tuple[float, float]:
    """The plot's mark-price range: 75 % to 125 % of the entry, widened in steps of 15 % of the
    entry to show the mark and the liquidation price with some room, so the frame changes only
    when one of them crosses a step.

    >>> _price_range(ENTRY, 90_452.26)
    (75000.0, 125000.0)
    >>> _price_range(0.8 * ENTRY, 90_452.26)
    (60000.0, 125000.0)
    """
    want_low = min(0.9 * mark, 0.85 * lp if lp > 0 else math.inf)
    low = 0.75 * ENTRY - _RANGE_STEP * math.ceil(max(0.0, 0.75 * ENTRY - want_low) / _RANGE_STEP)
    high = 1.25 * ENTRY + _RANGE_STEP * math.ceil(max(0.0, 1.05 * mark - 1.25 * ENTRY) / _RANGE_STEP)
    return max(round(low, 6), 0.0), round(high, 6)


def _usdt_limits(
    topped: PositionReport, brackets: BracketTable, prices: tuple[float, float]
) -> tuple[float, float]:
    """Round y limits holding the balance and maintenance lines over ``prices`` (both are
    monotonic in the price), with room below zero for the liquidation point's note."""
    q, wallet = topped.quantity, topped.isolated_wallet
    ends = np.asarray(prices, dtype=float)
    balance = wallet + q * (ends - topped.entry_price)
    mm = brackets.maintenance_margin_curve(q * ends)
    low, high = float(min(balance.min(), mm.min())), float(max(balance.max(), mm.max()))
    if prices[0] < topped.liquidation_price:  # the note sits below the liquidation point
        low = min(low, -0.4 * high)
    else:  # the maintenance line is the lowest: keep it off the frame's edge
        low -= 0.03 * (high - low)
    return stable_limits(low, high)


def _note_liquidation_point(ax: Axes, lp: float, mm_at_lp: float) -> None:
    """An arrow to the point where the balance meets the maintenance line, from a note just
    under the zero line beside the entry: a place that depends on the axes' limits only (the
    region right of the entry and below zero stays empty for a long), so the note's text is
    drawn once per frame and only the arrow follows the liquidation price."""
    (low, high), (ylo, yhi) = ax.get_xlim(), ax.get_ylim()
    right = (high - ENTRY) / (high - low) >= 0.3  # room for the note right of the entry line
    ax.annotate(
        "liquidation point:\nbalance = maintenance margin",
        xy=(lp, mm_at_lp),
        xytext=(ENTRY + (0.01 if right else -0.01) * (high - low), -0.04 * (yhi - ylo)),
        ha="left" if right else "right",
        va="top",
        fontsize=8.5,
        arrowprops={"arrowstyle": "->", "color": COLORS["liquidation"], "relpos": (0.0, 0.75)},
    )


def plot(move_pct: float = 0.0, added: float = 0.0, leverage: float = 10.0, tiers: str = "article") -> Figure:
    """The isolated position's margin balance and maintenance margin against the BTC mark, the
    liquidation price where they meet (dashed, labelled, the point annotated), the current mark
    (a dot) and, when margin was added, the liquidation price without it (dotted).

    The axes' limits change only in steps (:func:`_price_range`, :func:`stable_limits`), so the
    widget redraws only the lines and labels as the controls move."""
    acct, mark, events, opened, topped = _widget_state(move_pct, added, leverage, tiers)
    lp = topped.liquidation_price
    brackets = acct.brackets(SYMBOL)
    prices = _price_range(mark, lp)
    behind = usdt(topped.isolated_wallet, 0)
    if events:
        title = f"Liquidated: the {behind} behind the position is lost, the rest of the wallet is not"
    elif math.isnan(lp):
        title = f"{behind} behind a {usdt(topped.notional, 0)} long: no liquidation price"
    else:
        title = f"{behind} behind the position: liquidation {pct(1.0 - lp / ENTRY)} below the entry"
    fig = plot_margin_balance(
        "long",
        topped.quantity,
        topped.entry_price,
        topped.isolated_wallet,
        brackets=brackets,
        price_range=prices,
        mark=mark,
        title=title,
        legend=None,
    )
    ax = fig.axes[0]
    ax.set_ylim(*_usdt_limits(topped, brackets, prices))
    if lp > 0:  # nan (no liquidation price) is not
        _note_liquidation_point(ax, lp, float(brackets.maintenance_margin(topped.quantity * lp)))
    if added > 0:
        base = opened.position(SYMBOL).liquidation_price
        mark_price_line(ax, base, f"before adding {price(base, 0)}", kind="other", y_text=0.95)
    legend_below(fig, ax, ncols=4)
    if events:
        ax.text(
            0.98,
            0.05,
            f"liquidated: {usdt(liquidation_losses(events)[f'{SYMBOL} long'])} lost",
            transform=ax.transAxes,
            ha="right",
            fontsize=9,
            bbox={"facecolor": "white", "edgecolor": COLORS["liquidation"]},
        )
    return fig


def widget():
    """Price move, added margin, leverage and tier table → balances, liquidation price, plot."""
    controls = {
        "move_pct": move_slider(0.0, low=-50.0, high=30.0),
        "added": money_box(0.0, "added margin (USDT)"),
        "leverage": leverage_slider(_POSITION.leverage, max=150),
        "tiers": choice_buttons(list(_TIERS), "article", "MMR table"),
    }
    return build_widget(
        controls, view, plot, title="Isolated margin: what is locked, what is free, where it ends"
    )


# --------------------------------------------------------------------------------- exercises
def _lp_after_adding_50() -> float:
    return open_example(added=50).report().position(SYMBOL).liquidation_price


def _removable_after_up_5() -> float:
    acct = open_example()
    acct.mark({SYMBOL: _mark(0.05)})
    return acct.max_removable_margin(SYMBOL)


def _wallet_after_liquidation_with_50_added() -> float:
    acct = open_example(added=50)
    acct.mark({SYMBOL: _mark(-0.20)})
    return acct.report().wallet_balance


EXERCISES = {
    "3a": Exercise(
        "3a",
        "Right after opening the example you add 50 USDT of margin. What is the liquidation price "
        "now (USDT)?",
        _lp_after_adding_50,
        unit="USDT",
        hint="Only the isolated wallet changes; put the new wallet into the long's liquidation "
        "formula with the same MMR.",
        rel_tol=1e-4,
    ),
    "3b": Exercise(
        "3b",
        "BTC rises 5 % after you open the example. What is the most margin you can remove (USDT)?",
        _removable_after_up_5,
        unit="USDT",
        hint="Take the smaller of WB − MM and WB + UPNL − notional at the mark / leverage.",
    ),
    "3c": Exercise(
        "3c",
        "You add 50 USDT to the example, and BTC then falls 20 %. How much is left in the futures "
        "wallet (USDT)?",
        _wallet_after_liquidation_with_50_added,
        unit="USDT",
        hint="A liquidation takes the position's whole isolated wallet, the added margin "
        "included, and nothing outside it.",
    ),
}
