"""Lesson 4, cross margin: one pool behind every cross position.

Pure functions behind the lesson's tables, widget, map and exercises. Accounts are built from
the article's examples (:data:`~margin_lib.examples.CROSS_EXAMPLE`,
:data:`~margin_lib.examples.CASE_A`) with the article's maintenance rate (0.5 % at 10x) and no
fees, as in the article.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure

from .. import _validate as v
from ..account import Account
from ..errors import OrderRefusedError
from ..examples import CASE_A, CROSS_EXAMPLE, ILLUSTRATIVE_PRICES, PositionSpec, Scenario
from ..exercises import Exercise
from ..fees import TAKER_FEE_RATE
from ..format import pct, price, table, usdt
from ..margin import account_margin_level, margin_ratio, unrealized_pnl
from ..plots import COLORS, new_figure
from ..widgets import build_widget, move_slider

__all__ = [
    "pool_table",
    "bigger_positions_table",
    "case_a_table",
    "ratio_table",
    "case_a_ratios",
    "case_a_with_fees",
    "case_a_liquidation",
    "all_at_once",
    "hedge_table",
    "case_a_after",
    "btc_move_to_liquidation",
    "view",
    "plot",
    "widget",
    "EXERCISES",
]

BTC, ETH = "BTCUSDT", "ETHUSDT"


def _moves(btc_move: float, eth_move: float) -> dict[str, float]:
    """Per-cent moves (``-8`` = an 8 % fall) as fractions, refusing a fall of 100 % or more."""
    b = v.scalar(v.number, "btc_move", btc_move, low=-100.0, low_open=True)
    e = v.scalar(v.number, "eth_move", eth_move, low=-100.0, low_open=True)
    return {BTC: b / 100, ETH: e / 100}


def _after(scenario: Scenario, btc_move: float, eth_move: float) -> tuple[Account, list]:
    acct = scenario.build_account()
    events = acct.mark(scenario.marks(_moves(btc_move, eth_move)))
    return acct, events


def pool_table() -> str:
    """The article's cross example: 100 USDT of initial margin, the whole 1,000 behind it, and
    no liquidation price at all (the exchange would show "--")."""
    acct = CROSS_EXAMPLE.build_account()
    r = acct.report()
    pos = r.position(BTC)
    rows = [
        ["futures wallet (the cross pool)", usdt(r.wallet_balance), usdt(CROSS_EXAMPLE.wallet)],
        [
            "initial margin of the position",
            usdt(pos.initial_margin),
            usdt(CROSS_EXAMPLE.stated["initial_margin"]),
        ],
        ["margin balance behind the position", usdt(pos.margin_balance), usdt(CROSS_EXAMPLE.stated["pool"])],
        ["available for new orders", usdt(r.available_balance), ""],
        ["liquidation price", price(pos.liquidation_price), ""],
    ]
    return table(rows, ["", "engine", "article"], align="lrr")


def _single_cross(notional: float, wallet: float = 1_000.0) -> Scenario:
    return Scenario(
        name=f"cross {notional:g}", wallet=wallet,
        positions=(PositionSpec(BTC, "long", notional, 10, "cross"),),
    )  # fmt: skip


def bigger_positions_table(notionals: tuple[float, ...] = (1_000, 5_000, 10_000)) -> str:
    """The same 1,000 USDT cross wallet behind 10x BTC longs of growing size: where each is
    liquidated, and what a liquidation takes (found by marking just beyond that price)."""
    rows = []
    for n in notionals:
        acct = _single_cross(n).build_account()
        lp = acct.report().position(BTC).liquidation_price
        if np.isnan(lp):
            rows.append([usdt(n, 0), "--", "--", "cannot be liquidated"])
            continue
        events = acct.mark({BTC: lp * 0.999})
        lost = -sum(e.amount for e in events)
        move = lp / ILLUSTRATIVE_PRICES[BTC] - 1
        rows.append(
            [
                usdt(n, 0),
                price(lp),
                pct(move),
                f"{usdt(lost)} (wallet left {usdt(acct.report().wallet_balance)})",
            ]
        )
    return table(rows, ["position", "liquidation price", "move", "lost when liquidated"])


def case_a_table() -> str:
    """Case A after its moves (BTC −8 %, ETH +5 %): each figure from the engine beside the
    article's."""
    acct, events = _after(CASE_A, CASE_A.moves[BTC] * 100, CASE_A.moves[ETH] * 100)
    r = acct.report()
    stated = CASE_A.stated
    im = usdt(stated["initial_margin_each"])
    rows = [
        ["BTC long, initial margin (at entry)", usdt(r.position(BTC).initial_margin), im],
        ["ETH long, initial margin (at entry)", usdt(r.position(ETH).initial_margin), im],
        ["BTC long, unrealized PnL", usdt(r.position(BTC).unrealized_pnl), usdt(stated["btc_pnl"])],
        ["ETH long, unrealized PnL", usdt(r.position(ETH).unrealized_pnl), usdt(stated["eth_pnl"])],
        ["net PnL", usdt(r.unrealized_pnl), usdt(stated["net_pnl"])],
        ["equity", usdt(r.equity), usdt(stated["equity"])],
        ["liquidated?", "yes" if events else "no", "yes" if stated["liquidated"] else "no"],
        ["maintenance margin (both)", usdt(r.cross_maintenance_margin), ""],
        ["article's ratio: equity / MM", pct(r.account_margin_level, 1), "'healthy'"],
        ["exchange's margin ratio: MM / balance", pct(r.margin_ratio, 2), ""],
    ]
    return table(rows, ["Case A, BTC -8 %, ETH +5 %", "engine", "article"], align="lrr")


def case_a_with_fees() -> str:
    """What the engine says when Case A's orders pay the exchange's regular taker fee: the
    article's example only fits in the wallet because it ignores fees."""
    try:
        CASE_A.build_account(fee_rate=TAKER_FEE_RATE)
    except OrderRefusedError as exc:
        reason = str(exc).split(". ")[0]
        return f"with a {pct(TAKER_FEE_RATE, 2)} taker fee, the second order is refused: {reason}."
    return f"with a {pct(TAKER_FEE_RATE, 2)} taker fee, both orders fit"


def case_a_ratios() -> str:
    """Case A after its moves: the two health figures from :func:`margin_lib.account_margin_level`
    and :func:`margin_lib.margin_ratio`, beside the engine's report, and their product (1: they
    are reciprocals)."""
    r = case_a_after(CASE_A.moves[BTC] * 100, CASE_A.moves[ETH] * 100)
    level = account_margin_level(r.equity, r.cross_maintenance_margin)
    ratio = margin_ratio(r.cross_maintenance_margin, r.equity)
    return "\n".join([
        f"equity {usdt(r.equity)}, total maintenance margin {usdt(r.cross_maintenance_margin)}",
        f"article's account margin ratio  equity / MM = {pct(level, 2)}"
        f"  (report: {pct(r.account_margin_level, 2)}; safe while >= 100 %)",
        f"exchange's margin ratio         MM / equity = {pct(ratio, 2)}"
        f"  (report: {pct(r.margin_ratio, 2)}; liquidation at 100 %)",
        f"product of the two: {level * ratio:.6f}",
    ])  # fmt: skip


def ratio_table(btc_moves: tuple[float, ...] = (0, -8, -16, -20, -23, -24, -24.5)) -> str:
    """Case A with ETH held at +5 % while BTC falls: both ratio figures side by side. On a
    liquidated row the figures are those at that price, just before the engine's forced close."""
    rows = []
    for m in btc_moves:
        acct, events = _after(CASE_A, m, CASE_A.moves[ETH] * 100)
        if events:
            balance, maint, _ = _pool(np.float64(m), np.float64(CASE_A.moves[ETH] * 100))
            equity, mm, state = float(balance), float(maint), "LIQUIDATED: every position closed"
        else:
            r = acct.report()
            equity, mm, state = r.equity, r.cross_maintenance_margin, "open"
        rows.append([pct(m / 100, 1), usdt(equity), pct(account_margin_level(equity, mm), 0),
                     pct(margin_ratio(mm, equity), 2), state])  # fmt: skip
    return table(rows, ["BTC move", "equity", "equity / MM (article)", "MM / balance (exchange)", "state"])


def case_a_liquidation() -> str:
    """Where Case A would be liquidated: BTC's cross liquidation price with ETH where it is."""
    lines = []
    for eth in (CASE_A.moves[ETH] * 100, 0.0):
        acct, _ = _after(CASE_A, CASE_A.moves[BTC] * 100, eth)
        lp = acct.report().position(BTC).liquidation_price
        lines.append(
            f"ETH {eth:+.0f} %: BTC's liquidation price {price(lp)}, a BTC move of "
            f"{pct(lp / ILLUSTRATIVE_PRICES[BTC] - 1)} from its entry"
        )
    return "\n".join(lines)


def all_at_once() -> str:
    """Case A pushed past its liquidation price: what the engine closes and what is left."""
    acct, _ = _after(CASE_A, CASE_A.moves[BTC] * 100, CASE_A.moves[ETH] * 100)
    lp = acct.report().position(BTC).liquidation_price
    before = acct.report()
    events = acct.mark({BTC: lp * 0.999})
    closed = [f"{e.side} {e.symbol}" for e in events if e.kind == "liquidation" and e.symbol]
    lost = -sum(e.amount for e in events)
    after = acct.report()
    eth_pnl = usdt(before.position(ETH).unrealized_pnl)
    return "\n".join([
        f"before: equity {usdt(before.equity)}, ETH still {eth_pnl} in profit",
        f"BTC mark {price(lp * 0.999)}: liquidated {', '.join(closed)}",
        f"cross wallet lost: {usdt(lost)}; wallet left {usdt(after.wallet_balance)}, "
        f"positions left {len(after.positions)}",
    ])  # fmt: skip


HEDGE = Scenario(
    name="Hedge: long BTC, short ETH, cross",
    wallet=1_000,
    positions=(PositionSpec(BTC, "long", 5_000, 10, "cross"), PositionSpec(ETH, "short", 5_000, 10, "cross")),
)


def hedge_table(
    moves: tuple[tuple[float, float], ...] = ((-10, -10), (-20, -18), (10, 12), (-10, 5), (-10, 10)),
) -> str:
    """A BTC long hedged by an ETH short in one cross pool, under moves that go together and
    moves that split."""
    rows = []
    for b, e in moves:
        acct, events = _after(HEDGE, b, e)
        r = acct.report()
        if events:
            state, equity, pnl = "LIQUIDATED", usdt(r.equity), "--"
        else:
            state, equity = "open", usdt(r.equity)
            pnl = f"{usdt(r.position(BTC).unrealized_pnl)} / {usdt(r.position(ETH).unrealized_pnl)}"
        rows.append([f"{b:+.0f} %", f"{e:+.0f} %", pnl, equity, state])
    return table(rows, ["BTC", "ETH", "PnL BTC long / ETH short", "equity", "state"])


def _ratio_lines(equity: float, mm: float) -> list[str]:
    level = account_margin_level(equity, mm)
    ratio = margin_ratio(mm, equity)
    exchange = pct(ratio, 2) if np.isfinite(ratio) else "beyond 100 % (balance at or below zero)"
    return [
        f"article's ratio (equity / MM): {pct(level, 0)} (liquidation below 100 %)",
        f"exchange's margin ratio (MM / balance): {exchange} (liquidation at 100 %)",
    ]


def view(btc_move: float, eth_move: float) -> str:
    """What the widget prints: Case A's cross account after the given per-cent moves.

    Equity, both legs' PnL, the cross maintenance margin, the article's ratio ``equity / MM``
    and the exchange's ``MM / balance``, and whether the engine liquidated the account. In a
    liquidated state the figures are those at the chosen prices, just before the engine closed
    everything.

    >>> print(view(-8, 5).splitlines()[0])
    Case A after BTC -8.0 %, ETH +5.0 %: equity 850.00 USDT
    """
    acct, events = _after(CASE_A, btc_move, eth_move)
    if events:
        balance, maint, pnls = _pool(np.float64(btc_move), np.float64(eth_move))
        mb, mm = float(balance), float(maint)
        btc_pnl, eth_pnl = float(pnls[BTC]), float(pnls[ETH])
    else:
        r = acct.report()
        mb, mm = r.equity, r.cross_maintenance_margin
        btc_pnl, eth_pnl = r.position(BTC).unrealized_pnl, r.position(ETH).unrealized_pnl
    lines = [
        f"Case A after BTC {btc_move:+.1f} %, ETH {eth_move:+.1f} %: equity {usdt(mb)}"
        + (" at these prices, before the forced close" if events else ""),
        f"PnL: BTC {usdt(btc_pnl)}, ETH {usdt(eth_pnl)}; maintenance margin {usdt(mm)}",
        *_ratio_lines(mb, mm),
    ]
    if events:
        lost = -sum(e.amount for e in events)
        left = acct.report().wallet_balance
        lines.append(
            f"LIQUIDATED: both positions closed together; the cross wallet ({usdt(lost)}) is gone, "
            f"{usdt(left)} left."
        )
    else:
        lines.append("not liquidated")
    return "\n".join(lines)


def _pool(btc: np.ndarray, eth: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Case A held open at per-cent moves ``btc`` and ``eth`` (any broadcastable shapes).

    Returns the cross margin balance ``MB = wallet + Σ s × Q × (P − EP)``, the cross maintenance
    margin ``MM = Σ MM_tier(Q × P)`` (both in USDT) and each leg's unrealized PnL, computed with
    NumPy from the engine's pieces (position quantities, :func:`~margin_lib.unrealized_pnl`,
    :meth:`~margin_lib.BracketTable.maintenance_margin_curve`). Liquidation where ``MB <= MM``.

    >>> mb, mm, _ = _pool(np.array(-8.0), np.array(5.0))
    >>> round(float(mb), 2), round(float(mm), 2)
    (850.0, 49.25)
    """
    acct = CASE_A.build_account()
    shape = np.broadcast_shapes(np.shape(btc), np.shape(eth))
    mb = np.full(shape, acct.report().cross_wallet_balance)
    mm = np.zeros(shape)
    pnls = {}
    for pos in acct.positions:
        move = np.asarray(btc if pos.symbol == BTC else eth, dtype=float)
        mark = pos.entry_price * (1 + move / 100)
        pnls[pos.symbol] = np.broadcast_to(
            unrealized_pnl(pos.side, pos.quantity, pos.entry_price, mark), shape
        )
        mb = mb + pnls[pos.symbol]
        mm = mm + acct.brackets(pos.symbol).maintenance_margin_curve(pos.quantity * mark)
    return mb, mm, pnls


def _boundary_grid(btc: np.ndarray, eth: np.ndarray) -> np.ndarray:
    """Cross margin balance minus cross maintenance margin (USDT) over a grid of per-cent moves:
    positive is safe, zero or below is liquidated."""
    mb, mm, _ = _pool(btc, eth)
    return mb - mm


@lru_cache(maxsize=1)
def _map() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The plot's grid of moves (%) and :func:`_boundary_grid` on it (fixed, so computed once)."""
    b = np.linspace(-40, 20, 241)
    e = np.linspace(-40, 40, 241)
    grid = _boundary_grid(b[None, :], e[:, None])
    for a in (b, e, grid):
        a.setflags(write=False)
    return b, e, grid


def plot(btc_move: float, eth_move: float) -> Figure:
    """A map of BTC and ETH moves (%) for Case A: the liquidation boundary (dashed line, labelled),
    the liquidated region (hatched), the article's moves and the chosen moves marked."""
    moves = _moves(btc_move, eth_move)
    b, e, grid = _map()
    fig, ax = new_figure(figsize=(8.0, 5.2))
    ax.contourf(b, e, grid, levels=[grid.min() - 1, 0], colors="none", hatches=["///"])
    line = ax.contour(b, e, grid, levels=[0], colors=[COLORS["liquidation"]], linewidths=2, linestyles="--")
    for label in ax.clabel(line, fmt={0: "liquidation boundary: balance = MM"}, fontsize=9, inline=True):
        label.set_bbox({"facecolor": "white", "edgecolor": "none", "alpha": 0.9, "pad": 1})
    ax.text(-38, -36, "liquidated: both positions\nclosed, wallet lost", fontsize=9, va="bottom",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})  # fmt: skip
    ax.text(5, 30, "safe", fontsize=11, color=COLORS["balance"])
    ax.scatter([CASE_A.moves[BTC] * 100], [CASE_A.moves[ETH] * 100], marker="s", s=110, color=COLORS["other"],
               zorder=5, label="article: BTC -8 %, ETH +5 %")  # fmt: skip
    liquidated = _boundary_grid(np.float64(btc_move), np.float64(eth_move)) <= 0
    ax.scatter([moves[BTC] * 100], [moves[ETH] * 100], marker="X" if liquidated else "o", s=90,
               color=COLORS["balance"], zorder=6,
               label=f"chosen: BTC {btc_move:+.1f} %, ETH {eth_move:+.1f} %"
               + (" (liquidated)" if liquidated else " (safe)"))  # fmt: skip
    ax.axhline(0, color=COLORS["grey"], linewidth=0.8)
    ax.axvline(0, color=COLORS["grey"], linewidth=0.8)
    ax.set_xlabel("BTC price move (%)")
    ax.set_ylabel("ETH price move (%)")
    ax.set_xlim(b[0], b[-1])
    ax.set_ylim(e[0], e[-1])
    ax.set_title("Case A in cross mode: one boundary for the whole account")
    ax.legend(loc="upper left")
    return fig


def widget():
    """BTC and ETH moves → equity, both ratio figures, liquidation, and the map."""
    controls = {
        "btc_move": move_slider(-8.0, low=-40, high=20, description="BTC move (%)"),
        "eth_move": move_slider(5.0, low=-40, high=40, description="ETH move (%)"),
    }
    return build_widget(controls, view, plot, height="640px", title="Case A, cross margin")


def case_a_after(btc_move: float, eth_move: float):
    """Case A's :class:`~margin_lib.account.AccountReport` after the given per-cent moves."""
    acct, _ = _after(CASE_A, btc_move, eth_move)
    return acct.report()


def btc_move_to_liquidation(eth_move: float = 0.0) -> float:
    """The BTC move (per cent) at which Case A is liquidated, ETH held at ``eth_move`` per cent.

    >>> round(btc_move_to_liquidation(5.0), 3)
    -24.095
    """
    lp = case_a_after(0.0, eth_move).position(BTC).liquidation_price
    return (lp / ILLUSTRATIVE_PRICES[BTC] - 1) * 100


EXERCISES = {
    "4a": Exercise(
        "4a",
        "Case A's equity after BTC −12 % and ETH +2 % (USDT)?",
        lambda: case_a_after(-12, 2).equity,
        unit="USDT",
        hint="Add both positions' PnL (size × move) to the 1,000 USDT wallet.",
    ),
    "4b": Exercise(
        "4b",
        "The exchange's margin ratio in that state, in per cent?",
        lambda: case_a_after(-12, 2).margin_ratio * 100,
        unit="%",
        rel_tol=0.01,
        hint="Maintenance margin of both positions at their new marks, divided by the equity.",
    ),
    "4c": Exercise(
        "4c",
        "With ETH flat, by how many per cent must BTC move to liquidate Case A? (negative)",
        lambda: btc_move_to_liquidation(0.0),
        unit="%",
        rel_tol=0.002,
        hint="Find where the pool (wallet + BTC PnL) meets both positions' maintenance margin.",
    ),
}
