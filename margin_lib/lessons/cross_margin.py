"""Lesson 4, cross margin: one pool behind every cross position.

Pure functions behind the lesson's tables, widget, map and exercises. Accounts are built from
the article's examples (:data:`~margin_lib.examples.CROSS_EXAMPLE`,
:data:`~margin_lib.examples.CASE_A`) with the article's maintenance rate (0.5 % at 10x) and no
fees, as in the article.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import _validate as v
from ..account import Account
from ..examples import CASE_A, CROSS_EXAMPLE, ILLUSTRATIVE_PRICES, PositionSpec, Scenario
from ..exercises import Exercise
from ..format import pct, price, table, usdt
from ..plots import COLORS, new_figure
from ..widgets import build_widget, move_slider

__all__ = [
    "pool_table",
    "bigger_positions_table",
    "case_a_table",
    "ratio_table",
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
    b = float(v.number("btc_move", btc_move, low=-100.0, low_open=True))
    e = float(v.number("eth_move", eth_move, low=-100.0, low_open=True))
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
    rows = [
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


def ratio_table(btc_moves: tuple[float, ...] = (0, -8, -16, -20, -23, -24, -24.5)) -> str:
    """Case A with ETH held at +5 % while BTC falls: both ratio figures side by side."""
    rows = []
    for m in btc_moves:
        acct, events = _after(CASE_A, m, CASE_A.moves[ETH] * 100)
        if events:
            rows.append([pct(m / 100, 1), "--", "--", "--", "LIQUIDATED: every position closed"])
            continue
        r = acct.report()
        rows.append([pct(m / 100, 1), usdt(r.equity), pct(r.account_margin_level, 0),
                     pct(r.margin_ratio, 2), "open"])  # fmt: skip
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


def view(btc_move: float, eth_move: float) -> str:
    """What the widget prints: Case A's cross account after the given per-cent moves.

    >>> print(view(-8, 5).splitlines()[0])
    Case A after BTC -8.0 %, ETH +5.0 %: equity 850.00 USDT
    """
    acct, events = _after(CASE_A, btc_move, eth_move)
    head = f"Case A after BTC {btc_move:+.1f} %, ETH {eth_move:+.1f} %: equity {usdt(acct.report().equity)}"
    if events:
        lost = -sum(e.amount for e in events)
        return f"{head}\nLIQUIDATED: both positions closed together; the cross wallet ({usdt(lost)}) is gone."
    r = acct.report()
    return "\n".join([
        head,
        f"PnL: BTC {usdt(r.position(BTC).unrealized_pnl)}, ETH {usdt(r.position(ETH).unrealized_pnl)}; "
        f"maintenance margin {usdt(r.cross_maintenance_margin)}",
        f"article's ratio (equity / MM): {pct(r.account_margin_level, 0)} (liquidation below 100 %)",
        f"exchange's margin ratio (MM / balance): {pct(r.margin_ratio, 2)} (liquidation at 100 %)",
        "not liquidated",
    ])  # fmt: skip


def _boundary_grid(btc: np.ndarray, eth: np.ndarray) -> np.ndarray:
    """Cross margin balance minus cross maintenance margin (USDT) over a grid of per-cent moves."""
    acct = CASE_A.build_account()
    wallet = acct.report().cross_wallet_balance
    slack = np.full(np.broadcast_shapes(btc.shape, eth.shape), wallet)
    for pos, move in ((p, btc if p.symbol == BTC else eth) for p in acct.positions):
        mark = pos.entry_price * (1 + move / 100)
        slack = slack + pos.side * pos.quantity * (mark - pos.entry_price)
        slack = slack - acct.brackets(pos.symbol).maintenance_margin_curve(pos.quantity * mark)
    return slack


def plot(btc_move: float, eth_move: float) -> Figure:
    """A map of BTC and ETH moves (%) for Case A: the liquidation boundary (solid line, labelled),
    the liquidated region (hatched), the article's moves and the chosen moves marked."""
    moves = _moves(btc_move, eth_move)
    b = np.linspace(-40, 20, 241)
    e = np.linspace(-40, 40, 241)
    grid = _boundary_grid(b[None, :], e[:, None])
    fig, ax = new_figure(figsize=(8.0, 5.2))
    ax.contourf(b, e, grid, levels=[grid.min() - 1, 0], colors="none", hatches=["///"])
    line = ax.contour(b, e, grid, levels=[0], colors=[COLORS["liquidation"]], linewidths=2)
    ax.clabel(line, fmt={0: "liquidation boundary"}, fontsize=9, inline=True)
    ax.text(-38, -36, "liquidated: both positions\nclosed, wallet lost", fontsize=9, va="bottom",
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})  # fmt: skip
    ax.text(5, 30, "safe", fontsize=11, color=COLORS["balance"])
    ax.scatter([CASE_A.moves[BTC] * 100], [CASE_A.moves[ETH] * 100], marker="s", s=110, color=COLORS["other"],
               zorder=5, label="article: BTC -8 %, ETH +5 %")  # fmt: skip
    ax.scatter([moves[BTC] * 100], [moves[ETH] * 100], marker="o", color=COLORS["balance"], zorder=6,
               label=f"chosen: BTC {btc_move:+.1f} %, ETH {eth_move:+.1f} %")  # fmt: skip
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
