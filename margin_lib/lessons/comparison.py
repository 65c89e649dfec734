"""Lesson 5, isolated against cross: the same trades in both modes, with numbers.

Pure functions behind the lesson's tables, myth checks, widget, plot and exercises. The trades
are the article's (:data:`~margin_lib.examples.CASE_A`, :data:`~margin_lib.examples.CASE_B`), run
with the article's maintenance rate and no fees unless a function says otherwise.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import _validate as v
from ..account import Account
from ..errors import MarginError
from ..examples import (
    ARTICLE_FEE_RATES,
    CASE_A,
    CASE_B,
    CLOSING_ADVICE,
    ILLUSTRATIVE_PRICES,
    ISOLATED_EXAMPLE,
    PositionSpec,
    Scenario,
)
from ..exercises import Exercise
from ..fees import trading_fee
from ..format import pct, table, usdt
from ..margin import adverse_move_to_liquidation, initial_margin
from ..plots import COLORS, new_figure, usdt_ticks
from ..widgets import build_widget, leverage_slider, money_box, move_slider

__all__ = [
    "trades",
    "outcome",
    "ARTICLE_CONTROLS",
    "CASE_B_SIZE",
    "article_table",
    "cases_side_by_side",
    "same_trades_table",
    "myth_checks",
    "rules_demo",
    "fees_table",
    "advice_table",
    "view",
    "plot",
    "widget",
    "EXERCISES",
]

BTC, ETH = "BTCUSDT", "ETHUSDT"
MODES = ("isolated", "cross")

_LEG_A, _LEG_B = CASE_A.positions[0], CASE_B.positions[0]
#: Case B's size per leg (USDT): the "like against like" run uses it in both modes.
CASE_B_SIZE: float = _LEG_B.notional
#: The widget's controls at the article's Case A: size per leg, leverage, BTC and ETH moves (%).
ARTICLE_CONTROLS: dict[str, float] = {
    "notional": float(_LEG_A.notional),
    "leverage": float(_LEG_A.leverage),
    "btc_move": CASE_A.moves[BTC] * 100,
    "eth_move": CASE_A.moves[ETH] * 100,
}
#: The article's shock, then two deeper BTC falls with the same ETH rise (per cent).
_SHOCKS = tuple((b, ARTICLE_CONTROLS["eth_move"]) for b in (ARTICLE_CONTROLS["btc_move"], -12.0, -25.0))


def trades(
    mode: str,
    notional: float = _LEG_A.notional,
    leverage: float = _LEG_A.leverage,
    wallet: float = CASE_A.wallet,
) -> Scenario:
    """The article's two trades — a BTC long and an ETH long of ``notional`` USDT each at
    ``leverage`` from the article's 1,000 USDT wallet (Case A's size by default; Case B's with
    :data:`CASE_B_SIZE`) — with both positions in ``mode``.

    >>> [(p.symbol, p.notional, p.margin_mode) for p in trades("cross", CASE_B_SIZE).positions]
    [('BTCUSDT', 1000.0, 'cross'), ('ETHUSDT', 1000.0, 'cross')]
    """
    mode_ = v.choice("mode", mode, MODES)
    n = v.scalar(v.positive, "notional", notional)
    lev = v.scalar(v.leverage, "leverage", leverage)
    return Scenario(
        name=f"{mode_}: BTC and ETH longs of {n:,.0f} USDT at {lev:g}x",
        wallet=v.scalar(v.positive, "wallet", wallet),
        positions=(PositionSpec(BTC, "long", n, lev, mode_), PositionSpec(ETH, "long", n, lev, mode_)),
    )


def _moves(btc_move: float, eth_move: float) -> dict[str, float]:
    b = v.scalar(v.number, "btc_move", btc_move, low=-100.0, low_open=True)
    e = v.scalar(v.number, "eth_move", eth_move, low=-100.0, low_open=True)
    return {BTC: b / 100, ETH: e / 100}


def _build(scenario: Scenario) -> Account:
    try:
        return scenario.build_account()
    except MarginError as exc:  # name the refusal as the learner's choice, not the example's
        raise type(exc)(str(exc)) from None


def outcome(scenario: Scenario, btc_move: float, eth_move: float) -> dict[str, object]:
    """What the moves (per cent) do to ``scenario``: margin reserved (``IM = N / L`` summed),
    capital locked in isolated wallets, balance still free, the BTC move that liquidates BTC
    (a fraction, with ETH where it moved; NaN if none), equity after, what was liquidated and
    the USDT lost to liquidation. No fees, the article's maintenance rate.

    >>> o = outcome(CASE_A, -8, 5)
    >>> o["equity"], o["liquidated"], o["lost"]
    (850.0, [], 0)
    """
    acct = _build(scenario)
    start = acct.report()
    locked = sum(p.isolated_wallet for p in start.positions)
    reserved = sum(p.initial_margin for p in start.positions)
    moves = _moves(btc_move, eth_move)
    probe = acct.copy()
    probe.mark({ETH: scenario.marks({ETH: moves[ETH]})[ETH]})
    btc = [p for p in probe.report().positions if p.symbol == BTC]
    lp = btc[0].liquidation_price if btc else float("nan")
    events = acct.mark(scenario.marks(moves))
    end = acct.report()
    return {
        "locked": locked,
        "reserved": reserved,
        "free": start.available_balance,
        "btc_liquidation_move": lp / ILLUSTRATIVE_PRICES[BTC] - 1,
        "equity": end.equity,
        "liquidated": sorted({e.symbol for e in events if e.kind == "liquidation" and e.symbol}),
        "lost": -sum(e.amount for e in events),
    }


def _gone(o: dict[str, object]) -> str:
    return ", ".join(s.removesuffix("USDT") for s in o["liquidated"]) or "nothing liquidated"


def _row(label: str, o: dict[str, object]) -> list[str]:
    return [label, usdt(o["reserved"]), usdt(o["locked"]), pct(o["btc_liquidation_move"]), usdt(o["equity"]),
            _gone(o), usdt(o["lost"])]  # fmt: skip


_HEAD = [
    "",
    "margin reserved",
    "locked away",
    "BTC move to liquidation",
    "equity after",
    "liquidated",
    "lost",
]


def cases_side_by_side(
    btc_move: float = ARTICLE_CONTROLS["btc_move"], eth_move: float = ARTICLE_CONTROLS["eth_move"]
) -> str:
    """The article's Case A (cross, 5,000 per leg) and Case B (isolated, 1,000 per leg) after the
    same moves (per cent; the article's by default)."""
    rows = [_row("Case A (cross)", outcome(CASE_A, btc_move, eth_move)),
            _row("Case B (isolated)", outcome(CASE_B, btc_move, eth_move))]  # fmt: skip
    return table(rows, _HEAD, align="l")


def same_trades_table(
    notional: float = _LEG_A.notional,
    leverage: float = _LEG_A.leverage,
    shocks: tuple[tuple[float, float], ...] = _SHOCKS,
) -> str:
    """The same trades in both modes under each shock (BTC %, ETH %): like against like."""
    rows = []
    for b, e in shocks:
        for mode in MODES:
            rows.append(
                _row(f"{mode}, BTC {b:+g} % ETH {e:+g} %", outcome(trades(mode, notional, leverage), b, e))
            )
    return table(rows, _HEAD, align="l")


def article_table(notional: float = _LEG_A.notional, leverage: float = _LEG_A.leverage) -> str:
    """The article's comparison table in numbers, for the same two trades in each mode (ETH
    flat): margin used and locked, the BTC fall that liquidates, what that liquidation takes and
    what is left open afterwards. The BTC fall is the engine's liquidation price as a move from
    the entry; the liquidation is taken 0.1 percentage point beyond it."""
    cols = {}
    for mode in MODES:
        scenario = trades(mode, notional, leverage)
        calm = outcome(scenario, 0, 0)
        move = calm["btc_liquidation_move"] * 100
        hit = outcome(scenario, move - 0.1, 0) if np.isfinite(move) else calm
        kept = [s.removesuffix("USDT") for s in (BTC, ETH) if s not in hit["liquidated"]]
        cols[mode] = [
            usdt(calm["locked"]),
            usdt(calm["reserved"]),
            usdt(calm["free"]),
            pct(calm["btc_liquidation_move"]),
            f"{usdt(hit['lost'])} ({_gone(hit)})",
            ", ".join(kept) or "nothing",
            usdt(hit["equity"]),
        ]
    aspects = [
        "margin locking: held in isolated wallets",
        "capital used (initial margin)",
        "balance still available",
        "error tolerance: BTC move to liquidation",
        "liquidation impact: lost at that move",
        "risk isolation: positions left open",
        "equity left",
    ]
    rows = [[a, cols["isolated"][i], cols["cross"][i]] for i, a in enumerate(aspects)]
    return table(rows, ["aspect (ETH flat)", "isolated", "cross"], align="l")


def myth_checks() -> str:
    """The article's four myths, each answered by a computation."""
    iso = outcome(trades("isolated"), -25, 5)
    cross = outcome(trades("cross"), -25, 5)
    far_iso = outcome(trades("isolated"), 0, 0)["btc_liquidation_move"]
    far_cross = outcome(trades("cross"), 0, 0)["btc_liquidation_move"]
    lines = [
        "Myth 1, 'cross is safer' (Case A's trades, 5,000 USDT per leg at 10x):",
        f"  with ETH flat, BTC is liquidated at {pct(far_iso)} in isolated mode, "
        f"at {pct(far_cross)} in cross;",
        f"  after BTC -25 % and ETH +5 %: isolated lost {usdt(iso['lost'])} ({_gone(iso)}), "
        f"equity {usdt(iso['equity'])};",
        f"  cross lost {usdt(cross['lost'])} ({_gone(cross)}), equity {usdt(cross['equity'])}.",
    ]
    spec = ISOLATED_EXAMPLE.positions[0]
    acct = Account(ISOLATED_EXAMPLE.wallet, fee_rate=0)
    acct.open_position(
        BTC, spec.side, notional=spec.notional, price=ILLUSTRATIVE_PRICES[BTC], leverage=spec.leverage
    )
    free = acct.report().available_balance
    acct.open_position(ETH, "long", notional=5_000, price=ILLUSTRATIVE_PRICES[ETH], leverage=10)
    lines += [
        "Myth 2, 'isolated margin locks your funds':",
        f"  after an isolated {usdt(spec.notional, 0)} BTC long at {spec.leverage:g}x, {usdt(free)} is still "
        "available,",
        f"  and a 5,000 USDT ETH position at 10x opens with it "
        f"({usdt(acct.report().available_balance)} left).",
        "Myth 3, 'margin = leverage':",
    ]
    for size, lev in ((500, 5), (1_000, 10), (2_000, 20)):
        lines.append(f"  {usdt(size, 0)} at {lev}x needs {usdt(initial_margin(size, lev))} of margin")
    lines.append("Myth 4, 'modes can be switched at will':")
    try:
        acct.set_margin_mode(BTC, "cross")
        lines.append("  switched")  # pragma: no cover - the engine refuses, as the exchange does
    except MarginError as exc:
        lines.append(f"  the engine refuses: {exc}")
    return "\n".join(lines)


def rules_demo() -> str:
    """Modes are per symbol; one-way mode nets a symbol, hedge mode holds both sides."""
    acct = Account(10_000, fee_rate=0)
    acct.set_margin_mode(BTC, "cross")
    acct.open_position(BTC, "long", notional=1_000, price=ILLUSTRATIVE_PRICES[BTC], leverage=10)
    acct.open_position(ETH, "long", notional=1_000, price=ILLUSTRATIVE_PRICES[ETH], leverage=10)
    lines = [f"one account: BTCUSDT is {acct.margin_mode(BTC)}, ETHUSDT is {acct.margin_mode(ETH)}"]
    try:
        acct.set_margin_mode(ETH, "cross")
    except MarginError as exc:
        lines.append(f"switching ETHUSDT to cross with its position open: {exc}")
    try:
        acct.open_position(BTC, "short", notional=500, price=ILLUSTRATIVE_PRICES[BTC], leverage=10)
    except MarginError as exc:
        lines.append(f"one-way mode, a BTC short on top of the long: {exc}")
    hedge = Account(10_000, fee_rate=0, position_mode="hedge")
    for side in ("long", "short"):
        hedge.open_position(BTC, side, notional=1_000, price=ILLUSTRATIVE_PRICES[BTC], leverage=10)
    legs = ", ".join(f"{p.side} {p.symbol}" for p in hedge.report().positions)
    lines.append(f"hedge mode holds both legs: {legs}")
    return "\n".join(lines)


def fees_table(notional: float = 1_000) -> str:
    """Fees on ``notional`` at the FAQ's rates, and a taker round trip in each mode paid through
    the engine's account (opened and closed at the same price)."""
    rows = [
        [name, pct(rate, 2), usdt(trading_fee(notional, rate))] for name, rate in ARTICLE_FEE_RATES.items()
    ]
    out = table(rows, ["fill", "rate", f"fee on {usdt(notional, 0)}"], align="l")
    paid = []
    for mode in MODES:
        acct = Account(1_000, fee_rate=ARTICLE_FEE_RATES["taker"])
        acct.set_margin_mode(BTC, mode)
        acct.open_position(BTC, "long", notional=notional, price=ILLUSTRATIVE_PRICES[BTC], leverage=20)
        acct.close_position(BTC, ILLUSTRATIVE_PRICES[BTC])
        paid.append(f"{mode}: {usdt(-sum(e.amount for e in acct.events if e.kind == 'fee'))}")
    round_trip = 2 * trading_fee(notional, ARTICLE_FEE_RATES["taker"])
    margin = initial_margin(notional, 20)
    return (out + "\ntaker round trip at 20x, " + "; ".join(paid)
            + f"\nthat is {pct(round_trip / margin)} of the {usdt(margin)} margin at 20x")  # fmt: skip


def advice_table(notional: float = 1_000, stop_loss: float = -5.0) -> str:
    """The article's closing advice with numbers: the room to liquidation at 5x against 20x, the
    most an isolated 5x position can lose, and what a stop-loss costs instead (taker fees in)."""
    lev = CLOSING_ADVICE["leverage"]
    mmr = 0.005
    rows = [[f"{lv}x", pct(adverse_move_to_liquidation("long", lv, mmr)), usdt(initial_margin(notional, lv))]
            for lv in (lev, 20)]  # fmt: skip
    out = table(
        rows, ["leverage", "fall to liquidation (0.5 % MMR)", f"most an isolated {usdt(notional, 0)} loses"]
    )
    acct = Account(1_000, fee_rate=ARTICLE_FEE_RATES["taker"])
    acct.open_position(BTC, "long", notional=notional, price=ILLUSTRATIVE_PRICES[BTC], leverage=lev)
    start = acct.report().wallet_balance + notional * ARTICLE_FEE_RATES["taker"]
    acct.close_position(BTC, ILLUSTRATIVE_PRICES[BTC] * (1 + stop_loss / 100))
    loss = start - acct.report().wallet_balance
    return out + (
        f"\nisolated {lev}x with a stop-loss at {stop_loss:+g} %: closed for a loss of {usdt(loss)} "
        f"(fees included), against {usdt(initial_margin(notional, lev))} at risk without it"
    )


def view(notional: float, leverage: float, btc_move: float, eth_move: float) -> str:
    """What the widget prints: the two trades, sized and levered as chosen, in both modes after
    the shock.

    >>> print(view(5_000, 10, -8, 5).splitlines()[0])
    BTC and ETH longs of 5,000 USDT each at 10x, wallet 1,000 USDT; BTC -8.0 %, ETH +5.0 %
    """
    out = {mode: outcome(trades(mode, notional, leverage), btc_move, eth_move) for mode in MODES}
    head = (f"BTC and ETH longs of {usdt(float(notional), 0)} each at {float(leverage):g}x, "
            f"wallet {usdt(CASE_A.wallet, 0)}; "
            f"BTC {float(btc_move):+.1f} %, ETH {float(eth_move):+.1f} %")  # fmt: skip
    return head + "\n\n" + table([_row(m, out[m]) for m in MODES], _HEAD, align="l")


def _equity_curves(notional: float, leverage: float, eth_move: float, btc_moves: np.ndarray) -> dict:
    """Equity after each BTC move (ETH at ``eth_move``), per mode, in one vectorised replay."""
    curves = {}
    for mode in MODES:
        scenario = trades(mode, notional, leverage)
        acct = _build(scenario)
        paths = {
            BTC: (ILLUSTRATIVE_PRICES[BTC] * (1 + btc_moves / 100))[:, None],
            ETH: np.array([[ILLUSTRATIVE_PRICES[ETH] * (1 + eth_move / 100)]]),
        }
        curves[mode] = acct.replay(paths).final_equity
    return curves


def plot(notional: float, leverage: float, btc_move: float, eth_move: float) -> Figure:
    """Equity after a BTC move (ETH at ``eth_move``) for the same trades in each mode, with each
    mode's BTC liquidation marked by a marker and a label, and the chosen move dashed."""
    _moves(btc_move, eth_move)
    moves = np.linspace(-40, 20, 601)
    curves = _equity_curves(notional, leverage, eth_move, moves)
    fig, ax = new_figure()
    styles = {"isolated": ("-", COLORS["balance"]), "cross": ("--", COLORS["other"])}
    for mode, eq in curves.items():
        ls, color = styles[mode]
        o = outcome(trades(mode, notional, leverage), 0, eth_move)
        x = o["btc_liquidation_move"] * 100
        inside = bool(np.isfinite(x) and moves[0] <= x <= moves[-1])
        notes = [] if inside else [f"BTC not liquidated above {moves[0]:.0f} %"]
        if mode == "isolated" and ETH in o["liquidated"]:
            notes.append(f"ETH leg liquidated at ETH {float(eth_move):+.1f} %")
        label = f"{mode} mode" + (f" ({'; '.join(notes)})" if notes else "")
        ax.plot(moves, eq, linestyle=ls, color=color, linewidth=2, label=label)
        if inside:
            y = np.interp(x, moves, eq)
            ax.scatter([x], [y], marker="X", s=90, color=color, zorder=5)
            left = x > moves[0] + 11  # left of the marker if there is room, else beside it
            ax.annotate(f"{mode}: liquidation\nat BTC {x:.1f} %", xy=(x, y), textcoords="offset points",
                        xytext=(-10, 12) if left else (10, -3), va="bottom" if left else "center",
                        ha="right" if left else "left", fontsize=8.5, color=color)  # fmt: skip
    ax.axvline(float(btc_move), color=COLORS["grey"], linestyle=":", linewidth=1.2)
    ax.annotate(f"chosen BTC move {float(btc_move):+.1f} %", xy=(float(btc_move), 0.02),
                xycoords=("data", "axes fraction"), rotation=90, fontsize=8, color=COLORS["grey"],
                xytext=(3, 0), textcoords="offset points")  # fmt: skip
    ax.text(0.01, 0.98, f"ETH at {float(eth_move):+.1f} %", transform=ax.transAxes, va="top", fontsize=9,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.9})  # fmt: skip
    ax.set_xlabel("BTC price move (%)")
    ax.set_ylabel("account equity after the move (USDT)")
    usdt_ticks(ax.yaxis)
    ax.set_title("Same trades: isolated caps each leg's loss, cross puts the whole pool at risk")
    ax.legend(loc="lower right")
    return fig


def widget():
    """Size, leverage and a price shock → both modes' outcomes side by side, and the plot."""
    c = ARTICLE_CONTROLS
    controls = {
        "notional": money_box(c["notional"], "size per leg (USDT)"),
        "leverage": leverage_slider(c["leverage"], max=125),
        "btc_move": move_slider(c["btc_move"], low=-40, high=20, description="BTC move (%)"),
        "eth_move": move_slider(c["eth_move"], low=-40, high=40, description="ETH move (%)"),
    }
    return build_widget(controls, view, plot, height="640px", title="Isolated against cross")


def _case_moves(case: Scenario) -> tuple[float, float]:
    """A case's BTC and ETH moves in per cent."""
    return case.moves[BTC] * 100, case.moves[ETH] * 100


def _round_trip_fee(notional: float = CASE_B_SIZE) -> float:
    """Taker fee on opening and on closing ``notional`` at the same price (USDT)."""
    return 2 * trading_fee(notional, ARTICLE_FEE_RATES["taker"])


EXERCISES = {
    "5a": Exercise(
        "5a", "Case B's trades in CROSS mode: the equity after BTC −8 % and ETH +5 % (USDT)?",
        lambda: outcome(trades("cross", CASE_B_SIZE), *_case_moves(CASE_B))["equity"], unit="USDT",
        hint="In cross mode both PnLs land in the same 1,000 USDT wallet.",
    ),
    "5b": Exercise(
        "5b", "With the article's 0.5 % rate, by how many per cent must BTC fall to liquidate the "
        "isolated BTC leg? (negative, two decimals)",
        lambda: outcome(trades("isolated", CASE_B_SIZE), 0, 0)["btc_liquidation_move"] * 100,
        unit="%", rel_tol=0.001,
        hint="The tolerance IMR − MMR divided by (1 − MMR).",
    ),
    "5c": Exercise(
        "5c", "The fee for opening and closing a 1,000 USDT position as a taker, at the same price (USDT)?",
        _round_trip_fee, unit="USDT",
        hint="The taker rate applies to the size, once on opening and once on closing.",
    ),
}  # fmt: skip
