"""Lesson 9, the stress lab: how often does a leverage get wiped out, in each margin mode?

Everything here runs on **simulated** price paths (a seeded random walk with occasional crashes)
or on a few **historical** crash moves typed in as facts. The same paths serve every leverage and
both modes, so the comparison is fair. The engine's vectorised replay
(:meth:`~margin_lib.account.Account.replay`) does the work: ten thousand paths of a week in
15-minute steps take well under a second per configuration.

The set-up follows the article's Case B: a 1,000 USDT wallet, a BTC long and an ETH long with
100 USDT of margin each at the chosen leverage (notional ``100 × L`` per leg), either both
isolated or both cross. No fees (lesson 7 covers them).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator

from .. import _validate as v
from ..account import Account
from ..examples import ILLUSTRATIVE_PRICES
from ..exercises import Exercise
from ..format import pct, table, usdt
from ..klines import KLINE_COLUMNS, Klines, load_klines
from ..plots import COLORS, legend_below, mark_price_line, new_figure, usdt_ticks
from ..widgets import build_widget, choice_buttons, leverage_slider, move_slider

__all__ = [
    "SimParams",
    "HISTORICAL_MOVES",
    "simulate",
    "build_account",
    "stress",
    "lab_table",
    "historical_table",
    "black_swan",
    "historical_loss",
    "kline_demo",
    "view",
    "plot",
    "widget",
    "EXERCISES",
]

BTC, ETH = "BTCUSDT", "ETHUSDT"
WALLET = 1_000.0
MARGIN_EACH = 100.0
MODES = ("isolated", "cross")
LEVERAGES = (2, 5, 10, 20, 50)
STEPS_PER_DAY = 96  # 15-minute steps
DAYS = 7


@dataclass(frozen=True)
class SimParams:
    """Parameters of the simulated market (all made up for teaching, not estimated from data).

    Daily volatilities are standard deviations of one day's log return; a crash day happens with
    probability ``crash_per_day`` and moves both coins by ``crash_size`` (a fraction, negative =
    fall) give or take ``crash_spread``.
    """

    btc_daily_vol: float = 0.035
    eth_daily_vol: float = 0.045
    correlation: float = 0.8
    crash_per_day: float = 0.02
    crash_size: float = -0.12
    crash_spread: float = 0.05

    def checked(self) -> SimParams:
        v.number("btc_daily_vol", self.btc_daily_vol, low=0.0, high=0.5)
        v.number("eth_daily_vol", self.eth_daily_vol, low=0.0, high=0.5)
        v.number("correlation", self.correlation, low=-1.0, high=1.0)
        v.number("crash_per_day", self.crash_per_day, low=0.0, high=1.0)
        v.number("crash_size", self.crash_size, low=-0.9, high=0.9)
        v.number("crash_spread", self.crash_spread, low=0.0, high=0.5)
        return self


#: Well-known crash moves of BTC, rounded, typed in as facts (close before the fall to the low).
HISTORICAL_MOVES = (
    ("2020-03-12/13", "'Black Thursday', Covid sell-off", -0.50),
    ("2021-05-19", "China mining and trading crackdown", -0.30),
    ("2022-11-08/09", "FTX collapse", -0.25),
)


#: The widget's market: fewer paths in hourly steps, so a slider change re-runs in milliseconds.
WIDGET_PATHS = 1_000
WIDGET_STEPS_PER_DAY = 24


def _draw(n: int, steps: int, seed: int) -> tuple[np.ndarray, ...]:
    """The random numbers behind a simulation (independent of the market's parameters):
    two normals for the returns, a uniform for crash days, a normal for crash sizes."""
    rng = np.random.default_rng(seed)
    draws = (
        rng.standard_normal((n, steps)),
        rng.standard_normal((n, steps)),
        rng.random((n, steps)),
        rng.standard_normal((n, steps)),
    )
    for a in draws:
        a.setflags(write=False)
    return draws


_draw_small = lru_cache(maxsize=2)(_draw)


@lru_cache(maxsize=4)
def simulate(
    params: SimParams = SimParams(),
    n_paths: int = 10_000,
    seed: int = 2026,
    steps_per_day: int = STEPS_PER_DAY,
) -> dict[str, np.ndarray]:
    """Seeded simulated mark-price paths for BTC and ETH, shape ``(n_paths, 7 × steps_per_day)``
    (15-minute steps by default).

    Correlated Gaussian log returns plus common crash jumps. The same seed gives the same random
    numbers whatever the parameters, so changing a parameter changes the market, not the luck.
    The arrays are read-only (results are cached).

    >>> paths = simulate(n_paths=4)
    >>> paths["BTCUSDT"].shape
    (4, 672)
    """
    p = params.checked()
    n = int(v.scalar(v.number, "n_paths", n_paths, low=1, high=200_000))
    per_day = int(v.scalar(v.number, "steps_per_day", steps_per_day, low=1, high=1_440))
    steps = per_day * DAYS
    # the widget's small draws are kept, so moving a slider only redoes the arithmetic below
    z1, z2, u, zc = (_draw_small if n * steps <= 1_000_000 else _draw)(n, steps, seed)
    scale = 1 / np.sqrt(per_day)
    r_btc = p.btc_daily_vol * scale * z1
    r_eth = p.eth_daily_vol * scale * (p.correlation * z1 + np.sqrt(1 - p.correlation**2) * z2)
    crash = u < p.crash_per_day / per_day
    size = np.clip(p.crash_size + p.crash_spread * zc, -0.95, 3.0)
    jump = np.where(crash, np.log1p(size), 0.0)
    out = {}
    for sym, r in ((BTC, r_btc), (ETH, r_eth)):
        path = ILLUSTRATIVE_PRICES[sym] * np.exp(np.cumsum(r + jump, axis=1))
        path.setflags(write=False)
        out[sym] = path
    return out


def build_account(leverage: float, mode: str) -> Account:
    """The lab's account: 1,000 USDT, BTC and ETH longs with 100 USDT of margin each."""
    lev = v.scalar(v.leverage, "leverage", leverage)
    mode_ = v.choice("mode", mode, MODES)
    acct = Account(WALLET, fee_rate=0)
    for sym in (BTC, ETH):
        acct.brackets(sym).check_leverage(MARGIN_EACH * lev, lev)
        acct.set_margin_mode(sym, mode_)
        acct.open_position(
            sym, "long", notional=MARGIN_EACH * lev, price=ILLUSTRATIVE_PRICES[sym], leverage=lev
        )
    return acct


@lru_cache(maxsize=32)
def _lab_account(leverage: float, mode: str) -> Account:
    """:func:`build_account`, kept for :func:`stress` (a replay does not change the account)."""
    return build_account(leverage, mode)


@dataclass(frozen=True)
class Stress:
    """One configuration's outcome on all paths (probabilities as fractions, money in USDT)."""

    leverage: float
    mode: str
    liquidated_day: float
    liquidated_week: float
    expected_loss: float
    worst_loss: float
    wiped_out: float  # share of paths that lose at least 90 % of the wallet


def stress(leverage: float, mode: str, paths: dict[str, np.ndarray]) -> Stress:
    """Replay ``paths`` (a week each, as from :func:`simulate`) through the lab's account at
    ``leverage`` in ``mode``."""
    per_day = paths[BTC].shape[1] // DAYS
    r = _lab_account(float(leverage), mode).replay(paths)
    first = np.min(
        np.stack([np.where(s >= 0, s, np.iinfo(np.int64).max) for s in r.liquidation_step.values()]), 0
    )
    hit = first < np.iinfo(np.int64).max
    loss = -r.pnl
    return Stress(
        leverage=float(leverage),
        mode=mode,
        liquidated_day=float(np.mean(hit & (first < per_day))),
        liquidated_week=float(np.mean(hit)),
        expected_loss=float(np.mean(np.maximum(loss, 0.0))),
        worst_loss=float(np.max(loss)),
        wiped_out=float(np.mean(loss >= 0.9 * WALLET)),
    )


def lab_table(params: SimParams = SimParams(), n_paths: int = 10_000, leverages=LEVERAGES) -> str:
    """Every leverage in both modes on the same simulated paths."""
    paths = simulate(params, n_paths)
    rows = []
    for lev in leverages:
        for mode in MODES:
            s = stress(lev, mode, paths)
            rows.append([f"{lev:g}x", mode, pct(s.liquidated_day, 1), pct(s.liquidated_week, 1),
                         usdt(s.expected_loss), usdt(s.worst_loss), pct(s.wiped_out, 2)])  # fmt: skip
    head = (f"{n_paths:,} simulated paths of {DAYS} days; 1,000 USDT wallet, BTC and ETH longs, "
            "100 USDT margin each")  # fmt: skip
    headers = [
        "leverage",
        "mode",
        "liquidated in a day",
        "in a week",
        "average loss",
        "worst loss",
        "lost >= 90 %",
    ]
    return head + "\n" + table(rows, headers, align="ll")


def historical_table(leverages=LEVERAGES) -> str:
    """Each historical BTC crash applied at once to both coins, at each leverage and mode."""
    rows = []
    for date, what, move in HISTORICAL_MOVES:
        shock = {s: np.array([[ILLUSTRATIVE_PRICES[s] * (1 + move)]]) for s in (BTC, ETH)}
        cells = [date, what, pct(move, 0)]
        for lev in leverages:
            lost = {m: -build_account(lev, m).replay(shock).pnl[0] for m in MODES}
            cells.append(f"{lost['isolated']:,.0f} / {lost['cross']:,.0f}")
        rows.append(cells)
    return table(
        rows, ["date", "event", "move", *(f"{lev:g}x iso / cross" for lev in leverages)], align="lll"
    )


def black_swan(leverage: float = 10, move: float = -0.5) -> str:
    """The article's black swan in numbers: one crash, both modes."""
    shock = {s: np.array([[ILLUSTRATIVE_PRICES[s] * (1 + move)]]) for s in (BTC, ETH)}
    lines = [f"both coins {pct(move, 0)} at once, {leverage:g}x, 1,000 USDT wallet:"]
    for mode in MODES:
        acct = build_account(leverage, mode)
        r = acct.replay(shock)
        gone = [k for k, s in r.liquidation_step.items() if s[0] >= 0]
        lines.append(f"  {mode:8}: liquidated {', '.join(gone) or 'nothing'}; lost {usdt(-r.pnl[0])}, "
                     f"left {usdt(r.final_equity[0])}")  # fmt: skip
    return "\n".join(lines)


def kline_demo(leverage: float = 10, mode: str = "cross") -> str:
    """Replaying kline data: a tiny kline CSV (made from one simulated path, standing in for a
    file you downloaded) is loaded, cut into one-day windows and replayed."""
    path = simulate(SimParams(), n_paths=1)[BTC][0]
    t0 = 1_764_547_200_000  # 2025-12-01 00:00 UTC
    buf = io.StringIO()
    buf.write(",".join(KLINE_COLUMNS) + "\n")
    for i, p in enumerate(path):
        t = t0 + i * 900_000
        buf.write(f"{t},{p:.2f},{p:.2f},{p:.2f},{p:.2f},1,{t + 899_999},0,0,0,0,0\n")
    buf.seek(0)
    k: Klines = load_klines(buf)
    windows = k.windows(STEPS_PER_DAY)
    marks = {s: ILLUSTRATIVE_PRICES[s] * windows for s in (BTC, ETH)}
    r = build_account(leverage, mode).replay(marks)
    return (f"{len(k)} candles from {k.open_time[0]} to {k.open_time[-1]} -> {windows.shape[0]} one-day "
            f"windows; {mode} at {leverage:g}x liquidated in {int(r.any_liquidation.sum())} of them; "
            f"worst day {usdt(-r.pnl.min() if r.pnl.min() < 0 else 0.0)} lost")  # fmt: skip


def _market(daily_vol: float, crash_size: float) -> SimParams:
    """The widget's market from its controls (per cent): ETH's volatility is 9/7 of BTC's."""
    vol = v.scalar(v.number, "daily_vol", daily_vol, low=0.0, high=50.0) / 100
    crash = v.scalar(v.number, "crash_size", crash_size, low=-90.0, high=0.0) / 100
    return SimParams(btc_daily_vol=vol, eth_daily_vol=vol * 9 / 7, crash_size=crash)


def _widget_paths(params: SimParams) -> dict[str, np.ndarray]:
    return simulate(params, WIDGET_PATHS, steps_per_day=WIDGET_STEPS_PER_DAY)


@lru_cache(maxsize=8)
def _widget_curves(params: SimParams) -> dict[str, tuple[Stress, ...]]:
    """Every leverage of :data:`LEVERAGES` in both modes on the widget's market (the plot's
    curves; the view reads the chosen leverage from them when it is one of these)."""
    paths = _widget_paths(params)
    return {m: tuple(stress(lev, m, paths) for lev in LEVERAGES) for m in MODES}


def _widget_stress(leverage: float, mode: str, params: SimParams) -> Stress:
    curves = _widget_curves(params)
    if float(leverage) in LEVERAGES:
        return curves[mode][LEVERAGES.index(float(leverage))]
    return stress(leverage, mode, _widget_paths(params))


def view(leverage: float, mode: str, daily_vol: float, crash_size: float) -> str:
    """What the widget prints: the chosen leverage in both modes on the widget's market
    (:data:`WIDGET_PATHS` paths of a week in hourly steps).

    ``daily_vol`` and ``crash_size`` are in per cent (BTC's daily volatility; ETH's is 9/7 of it).
    """
    mode = v.choice("mode", mode, MODES)
    params = _market(daily_vol, crash_size)
    rows = []
    for m in MODES:
        s = _widget_stress(leverage, m, params)
        rows.append([m, pct(s.liquidated_day, 1), pct(s.liquidated_week, 1), usdt(s.expected_loss),
                     usdt(s.worst_loss)])  # fmt: skip
    head = (f"{float(leverage):g}x, BTC daily volatility {pct(params.btc_daily_vol, 1)}, crash days move "
            f"{pct(params.crash_size, 0)} ({WIDGET_PATHS:,} simulated paths in hourly steps; "
            f"chosen mode: {mode})")  # fmt: skip
    headers = ["mode", "liquidated in a day", "in a week", "average loss", "worst loss"]
    return head + "\n" + table(rows, headers, align="l")


def plot(
    leverage: float = 10, mode: str = "cross", daily_vol: float = 3.5, crash_size: float = -12.0
) -> Figure:
    """Left: share of paths liquidated within a week by leverage, both modes. Right: worst loss by
    leverage, both modes, with the wallet as a labelled line. Fixed axes (0-100 %, 0-1,100 USDT)
    so the curves can be compared as the market changes."""
    mode = v.choice("mode", mode, MODES)
    curves = _widget_curves(_market(daily_vol, crash_size))
    fig, (left, right) = new_figure(2, figsize=(10.0, 4.2))
    # the leverages sit evenly spaced, as on a log scale (2, 5, 10, 20, 50 is roughly geometric)
    x = np.arange(len(LEVERAGES), dtype=float)
    styles = {"isolated": ("-", "o", COLORS["balance"]), "cross": ("--", "s", COLORS["other"])}
    for m in MODES:
        res = curves[m]
        ls, mk, color = styles[m]
        left.plot(x, [r.liquidated_week * 100 for r in res], linestyle=ls, marker=mk, color=color,
                  label=m + (" (chosen)" if m == mode else ""))  # fmt: skip
        right.plot(x, [r.worst_loss for r in res], linestyle=ls, marker=mk, color=color, label=m)
    logs = np.log(LEVERAGES)
    lev = np.log(float(leverage))
    # below 2x, extend the first gap's spacing so 1x sits left of 2x
    chosen = float(np.interp(lev, logs, x)) if lev >= logs[0] else (lev - logs[0]) / (logs[1] - logs[0])
    mark_price_line(left, chosen, f"chosen {float(leverage):g}x", kind="grey", y_text=0.6)
    right.axhline(WALLET, color=COLORS["liquidation"], linestyle="--", linewidth=1)
    right.annotate("the whole wallet", xy=(0, WALLET), xytext=(0, 4), textcoords="offset points",
                   fontsize=8.5)  # fmt: skip
    for ax in (left, right):
        # a fixed locator and formatter rather than set_xticks: no tick objects are made until a
        # draw needs them, which a fast redraw does not
        ax.xaxis.set_major_locator(FixedLocator(x))
        ax.xaxis.set_major_formatter(FixedFormatter([f"{lev}x" for lev in LEVERAGES]))
        ax.set_xlim(-0.8, len(LEVERAGES) - 0.7)
        ax.set_xlabel("leverage (x, log spacing)")
    legend_below(fig, left, ncols=2)
    left.set_ylim(0, 100)
    right.set_ylim(0, 1.1 * WALLET)
    left.set_ylabel("paths liquidated within a week (%)")
    right.set_ylabel("worst loss on any path (USDT)")
    usdt_ticks(right.yaxis)
    left.set_title("Cross is liquidated less often ...")
    right.set_title("... but when it is, it takes the wallet")
    return fig


def widget():
    """Leverage, mode, volatility and crash size → both modes' odds and losses, and the plot."""
    controls = {
        "leverage": leverage_slider(10, max=50),
        "mode": choice_buttons(list(MODES), "cross", "mode"),
        "daily_vol": move_slider(3.5, low=0.5, high=10.0, step=0.5, description="BTC daily vol. (%)"),
        "crash_size": move_slider(-12.0, low=-60.0, high=0.0, step=1.0, description="crash day move (%)"),
    }
    return build_widget(controls, view, plot, height="620px", title="Stress lab (simulated paths)")


def _stress_default(leverage: float, mode: str) -> Stress:
    return stress(leverage, mode, simulate(SimParams(), 10_000))


def historical_loss(leverage: float, mode: str, move: float) -> float:
    """USDT lost by the lab's account when both coins move by ``move`` (a fraction) at once."""
    shock = {s: np.array([[ILLUSTRATIVE_PRICES[s] * (1 + move)]]) for s in (BTC, ETH)}
    return float(-build_account(leverage, mode).replay(shock).pnl[0])


EXERCISES = {
    "9a": Exercise(
        "9a", "At 10x in ISOLATED mode, what is the worst loss on any simulated path (USDT)?",
        lambda: _stress_default(10, "isolated").worst_loss, unit="USDT",
        hint="An isolated position can lose its own margin and nothing more; there are two of them.",
    ),
    "9b": Exercise(
        "9b", "At 20x in CROSS mode, what share of the simulated paths is liquidated within a week "
        "(in per cent)?",
        lambda: _stress_default(20, "cross").liquidated_week * 100, unit="%", rel_tol=0.01,
        hint="Read it from the lab's table, or run stress(20, 'cross', simulate()).",
    ),
    "9c": Exercise(
        "9c", "Apply the March 2020 move (-50 %) to both coins at 5x in CROSS mode: how much is lost (USDT)?",
        lambda: historical_loss(5, "cross", -0.50), unit="USDT",
        hint="At 5x each leg is 500 USDT; is the 1,000 USDT pool exhausted by a 50 % fall of both?",
    ),
}  # fmt: skip
