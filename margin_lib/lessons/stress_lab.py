"""Lesson 9, the stress lab: the parts a learner need not read (the model and the replay are
written out in the notebook's cells).

:func:`simulate` is the notebook's recipe for the simulated market, kept for the widget and the
tests; :func:`stress` replays paths through one of :data:`SETUPS` (Case B's two 100 USDT longs)
with the engine's :meth:`~margin_lib.account.Account.replay`; then the tables, a stand-in kline
file (:func:`demo_klines`), the widget, the exercises and the quiz.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FixedFormatter, FixedLocator

from .. import _validate as v
from .._cache import kept
from ..account import Account
from ..examples import ILLUSTRATIVE_PRICES
from ..exercises import Exercise
from ..format import pct, table, usdt
from ..klines import KLINE_COLUMNS
from ..plots import COLORS, legend_below, new_figure, usdt_ticks
from ..quiz import Question, Quiz
from ..widgets import build_widget, choice_buttons, leverage_slider, move_slider

__all__ = [
    "SETUPS", "LEVERAGES", "SimParams", "simulate", "build_account", "capital_at_risk", "Stress", "stress",
    "lab_table", "HISTORICAL_MOVES", "shock_loss", "historical_table", "demo_klines", "view", "plot",
    "widget", "EXERCISES", "QUIZ",
]  # fmt: skip

BTC, ETH = "BTCUSDT", "ETHUSDT"
MARGIN_EACH = 100.0
#: The set-ups compared: key -> (label, futures wallet in USDT, margin mode of both legs).
SETUPS = {"isolated": ("isolated 2 × 100", 1_000.0, "isolated"), "cross 200": ("cross 200", 200.0, "cross"),
          "cross 1,000": ("cross 1,000", 1_000.0, "cross")}  # fmt: skip
LEVERAGES = (2, 5, 10, 20, 50)
STEPS_PER_DAY, DAYS, SEED, N_PATHS = 96, 7, 2026, 10_000  # a week of 15-minute steps
WIDGET_PATHS, WIDGET_STEPS = 1_000, 24  # the widget's market: 1,000 weeks in hourly steps (fast)
#: Well-known BTC crashes, rounded, typed in as facts (the close before the fall to the low).
HISTORICAL_MOVES = (("2020-03-12/13", "Covid sell-off", -0.50), ("2021-05-19", "China crackdown", -0.30),
                    ("2022-11-08/09", "FTX collapse", -0.25))  # fmt: skip


@dataclass(frozen=True)
class SimParams:
    """The simulated market's parameters (made up for teaching, not estimated from data).

    ``*_daily_vol``: σ, the daily volatility of each coin's normal moves; ``correlation``: ρ;
    ``jumps_per_day``: λ, the expected number of jumps a day; a jump moves both coins by
    ``±(jump_size + jump_spread × ξ)``, up or down with even odds (fractions).
    """

    btc_daily_vol: float = 0.035
    eth_daily_vol: float = 0.045
    correlation: float = 0.8
    jumps_per_day: float = 0.02
    jump_size: float = 0.12
    jump_spread: float = 0.05

    def checked(self) -> SimParams:
        for name, high in (("btc_daily_vol", 0.5), ("eth_daily_vol", 0.5), ("jumps_per_day", 10.0),
                           ("jump_size", 0.9), ("jump_spread", 0.5)):  # fmt: skip
            v.number(name, getattr(self, name), low=0.0, high=high)
        v.number("correlation", self.correlation, low=-1.0, high=1.0)
        return self


@kept(maxsize=4)
def _draws(n: int, steps: int, seed: int) -> tuple[np.ndarray, ...]:
    """ε₁, ε₂, ξ (normal) and two uniforms, one row per path, so that the first ``k`` paths are
    the same whatever ``n`` is (read-only: they are cached)."""
    normal, uniform = (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(2))
    eps1, eps2, xi = np.moveaxis(normal.standard_normal((n, steps, 3)), -1, 0)
    u_jump, u_sign = np.moveaxis(uniform.random((n, steps, 2)), -1, 0)
    for a in (eps1, eps2, xi, u_jump, u_sign):
        a.flags.writeable = False
    return eps1, eps2, xi, u_jump, u_sign


@kept(maxsize=4)
def simulate(params: SimParams = SimParams(), n_paths: int = N_PATHS, seed: int = SEED,
             steps_per_day: int = STEPS_PER_DAY, days: int = DAYS) -> dict[str, np.ndarray]:  # fmt: skip
    """Seeded mark-price paths for BTC and ETH, shape ``(n_paths, days × steps_per_day)``:
    ``ln(P_{t+Δt}/P_t) = −σ²Δt/2 + σ√Δt·Z + N·ln(1 + S·K)``, the notebook's recipe.

    The same seed gives the same random numbers whatever the parameters, so a new parameter
    changes the market, not the luck. The arrays are read-only (results are cached).

    >>> simulate(n_paths=4)["BTCUSDT"].shape
    (4, 672)
    """
    p = params.checked()
    n = int(v.scalar(v.number, "n_paths", n_paths, low=1, high=200_000))
    per_day = int(v.scalar(v.number, "steps_per_day", steps_per_day, low=1, high=1_440))
    steps = per_day * int(v.scalar(v.number, "days", days, low=1, high=366))
    eps1, eps2, xi, u_jump, u_sign = _draws(n, steps, seed)
    dt = 1 / per_day
    jump = u_jump < p.jumps_per_day * dt
    jumps = np.zeros(jump.shape)  # N·ln(1 + S·K), worked out only where a jump falls (a few in 1,000)
    sign = np.where(u_sign[jump] < 0.5, -1.0, 1.0)
    size = np.clip(p.jump_size + p.jump_spread * xi[jump], 0.0, 0.95)
    jumps[jump] = np.log1p(sign * size)
    z = {BTC: eps1, ETH: p.correlation * eps1 + np.sqrt(1 - p.correlation**2) * eps2}
    sigma = {BTC: p.btc_daily_vol, ETH: p.eth_daily_vol}
    paths = {}
    for s in z:  # P₀·exp(cumsum(−σ²Δt/2 + σ√Δt·Z + jumps)), summed and raised in place: the same numbers
        x = np.add(np.multiply(z[s], sigma[s] * np.sqrt(dt)), -0.5 * sigma[s] ** 2 * dt)
        x += jumps
        paths[s] = np.multiply(np.exp(np.cumsum(x, axis=1, out=x), out=x), ILLUSTRATIVE_PRICES[s], out=x)
        x.flags.writeable = False
    return paths


def build_account(leverage: float, setup: str) -> Account:
    """The lab's account in one of :data:`SETUPS`: BTC and ETH longs, 100 USDT of margin each.

    >>> [p.notional for p in build_account(10, "cross 200").positions]
    [1000.0, 1000.0]
    """
    lev = v.scalar(v.leverage, "leverage", leverage)
    _, wallet, mode = SETUPS[v.choice("setup", setup, tuple(SETUPS))]
    acct = Account(wallet, fee_rate=0)
    for sym in (BTC, ETH):
        acct.set_margin_mode(sym, mode)
        acct.open_position(sym, "long", notional=MARGIN_EACH * lev, price=ILLUSTRATIVE_PRICES[sym],
                           leverage=lev)  # fmt: skip
    return acct


def capital_at_risk(account: Account) -> float:
    """What a liquidation of everything can take (USDT): the isolated wallets, plus the cross
    wallet when a cross position is open.

    >>> capital_at_risk(build_account(10, "isolated")), capital_at_risk(build_account(10, "cross 1,000"))
    (200.0, 1000.0)
    """
    r = account.report()
    cross = any(p.margin_mode == "cross" for p in r.positions)
    return sum(p.isolated_wallet for p in r.positions) + (r.cross_wallet_balance if cross else 0.0)


@kept(maxsize=64)
def _account(leverage: float, setup: str) -> Account:
    """:func:`build_account`'s, for :func:`stress`, which only replays it: its report is kept."""
    acct = build_account(leverage, setup)
    report = acct.report()  # where every replay starts: once, not at each of 15 replays a change
    acct.report = lambda: report
    return acct


@dataclass(frozen=True)
class Stress:
    """One set-up's outcome on all paths: shares as fractions, money in USDT (PnL: final minus
    initial equity; average loss: the mean of the losses, a gain counting as 0)."""

    liquidated_day: float
    liquidated_week: float
    mean_pnl: float
    average_loss: float
    worst_loss: float


def stress(leverage: float, setup: str, paths: dict[str, np.ndarray], *, steps_per_day: int = STEPS_PER_DAY
           ) -> Stress:  # fmt: skip
    """Replay ``paths`` through :func:`build_account` (the first liquidation of any position
    counts as the account's)."""
    r = _account(float(leverage), setup).replay(paths)  # a replay leaves the account as it was
    never = np.iinfo(np.int64).max
    first = np.min([np.where(s >= 0, s, never) for s in r.liquidation_step.values()], axis=0)
    day, week, pnl = float(np.mean(first < steps_per_day)), float(np.mean(first < never)), r.pnl
    return Stress(liquidated_day=day, liquidated_week=week, mean_pnl=float(np.mean(pnl)),
                  average_loss=float(np.mean(np.maximum(-pnl, 0.0))), worst_loss=float(np.max(-pnl)))


def lab_table(paths: dict[str, np.ndarray], leverages=LEVERAGES) -> str:
    """Every leverage in every set-up on the same ``paths``."""
    rows = []
    for lev in leverages:
        for key, (label, _, _) in SETUPS.items():
            s = stress(lev, key, paths)
            rows.append([f"{lev:g}x", label, usdt(capital_at_risk(build_account(lev, key)), 0),
                         pct(s.liquidated_day, 1), pct(s.liquidated_week, 1), usdt(s.mean_pnl),
                         usdt(s.average_loss), usdt(s.worst_loss)])  # fmt: skip
    head = ["leverage", "set-up", "at risk", "liquidated in a day", "in a week", "mean PnL", "average loss",
            "worst loss"]  # fmt: skip
    return f"{len(paths[BTC]):,} simulated weeks\n" + table(rows, head, align="ll")


def shock_loss(leverage: float, setup: str, btc_move: float, eth_move: float) -> float:
    """USDT lost when BTC and ETH jump at once by ``btc_move`` and ``eth_move`` (fractions).

    >>> shock_loss(10, "cross 1,000", -0.5, -0.5)   # both legs lose 500: the pool is gone
    1000.0
    """
    moves = {BTC: btc_move, ETH: eth_move}
    shock = {s: np.array([[ILLUSTRATIVE_PRICES[s] * (1 + moves[s])]]) for s in moves}
    return float(-build_account(leverage, setup).replay(shock).pnl[0])


def historical_table(leverages=LEVERAGES) -> str:
    """Each historical crash applied at once to both coins: the loss of each set-up."""
    rows = [[f"{lev:g}x", *(" / ".join(f"{shock_loss(lev, key, m, m):,.0f}" for key in SETUPS)
                           for _, _, m in HISTORICAL_MOVES)] for lev in leverages]  # fmt: skip
    head = ["leverage", *(f"{what} {pct(m, 0)}" for _, what, m in HISTORICAL_MOVES)]
    return "loss in USDT: " + " / ".join(label for label, _, _ in SETUPS.values()) + "\n" + table(rows, head)


def demo_klines(symbol: str, days: int = 30, seed: int = 7) -> io.StringIO:
    """A kline CSV of 15-minute candles (the exchange's 12 columns, with a header), made from a
    simulated path in 1-minute steps, standing in for a file you downloaded: each candle's open
    is the previous close, its high and low the extremes of its 15 minutes."""
    minutes = simulate(SimParams(), 1, seed, steps_per_day=1_440, days=days)[symbol][0]
    prices = np.concatenate([[ILLUSTRATIVE_PRICES[symbol]], minutes])
    span = prices[np.arange(len(minutes) // 15)[:, None] * 15 + np.arange(16)]  # 16 marks per candle
    t0 = 1_764_547_200_000  # 2025-12-01 00:00 UTC, in milliseconds
    out = io.StringIO()
    out.write(",".join(KLINE_COLUMNS) + "\n")
    for i, c in enumerate(span):
        t = t0 + i * 900_000
        out.write(f"{t},{c[0]:.2f},{c.max():.2f},{c.min():.2f},{c[-1]:.2f},1,{t + 899_999},0,0,0,0,0\n")
    out.seek(0)
    return out


# ------------------------------------------------------------------ the widget
LABELS = {"leverage": "leverage (x)", "setup": "set-up shown", "daily_vol": "BTC daily vol. (%)",
          "jump_size": "jump size (%)"}  # fmt: skip


def _market(daily_vol: float, jump_size: float) -> SimParams:
    """The widget's market from its controls (per cent); ETH's volatility is 9/7 of BTC's."""
    vol = v.scalar(v.number, LABELS["daily_vol"], daily_vol, low=0.5, high=10.0) / 100
    jump = v.scalar(v.number, LABELS["jump_size"], jump_size, low=0.0, high=60.0) / 100
    return SimParams(btc_daily_vol=vol, eth_daily_vol=vol * 9 / 7, jump_size=jump)


@kept(maxsize=8)
def _curves(params: SimParams) -> dict[str, tuple[Stress, ...]]:
    """Every leverage of :data:`LEVERAGES` in every set-up on the widget's market."""
    return {key: tuple(_widget_stress(lev, key, params) for lev in LEVERAGES) for key in SETUPS}


def _widget_stress(leverage: float, setup: str, params: SimParams) -> Stress:
    paths = simulate(params, WIDGET_PATHS, steps_per_day=WIDGET_STEPS)
    return stress(leverage, setup, paths, steps_per_day=WIDGET_STEPS)


def _checked(leverage, setup, daily_vol, jump_size) -> tuple[float, str, SimParams]:
    lev = v.scalar(v.number, LABELS["leverage"], leverage, low=1, high=50)
    return lev, v.choice(LABELS["setup"], setup, tuple(SETUPS)), _market(daily_vol, jump_size)


def view(leverage: float = 10, setup: str = "cross 200", daily_vol: float = 3.5, jump_size: float = 12.0
         ) -> str:  # fmt: skip
    """What the widget prints: every set-up at ``leverage`` on the widget's market (1,000 weeks
    in hourly steps, the lab's seed); volatility and jump size in per cent."""
    lev, key, params = _checked(leverage, setup, daily_vol, jump_size)
    rows = []
    for k, (label, _, _) in SETUPS.items():
        s = _curves(params)[k][LEVERAGES.index(lev)] if lev in LEVERAGES else _widget_stress(lev, k, params)
        rows.append([label + (" *" if k == key else ""), pct(s.liquidated_day, 1), pct(s.liquidated_week, 1),
                     usdt(s.mean_pnl), usdt(s.average_loss), usdt(s.worst_loss)])  # fmt: skip
    head = (f"{lev:g}x; BTC daily volatility {pct(params.btc_daily_vol, 1)}, jumps of "
            f"{pct(params.jump_size, 0)} ± 5 % up or down; {WIDGET_PATHS:,} weeks, hourly (*: shown)")
    cols = ["set-up", "liquidated in a day", "in a week", "mean PnL", "average loss", "worst loss"]
    return head + "\n" + table(rows, cols, align="l")


def plot(leverage: float = 10, setup: str = "cross 200", daily_vol: float = 3.5, jump_size: float = 12.0
         ) -> Figure:  # fmt: skip
    """Left: share of weeks liquidated by leverage, each set-up. Right: average loss per week
    (log scale) under each set-up's capital at risk. Fixed axes, so the curves can be compared
    as the market changes; the chosen leverage is a grey line named in the legend."""
    lev, key, params = _checked(leverage, setup, daily_vol, jump_size)
    fig, (left, right) = new_figure(2, figsize=(10.0, 4.4))
    x = np.arange(len(LEVERAGES), dtype=float)  # 2, 5, 10, 20, 50: about evenly spaced in log
    styles = {"isolated": ("-", "o", COLORS["balance"]), "cross 200": ("--", "s", COLORS["other"]),
              "cross 1,000": (":", "^", COLORS["entry"])}  # fmt: skip
    for k, res in _curves(params).items():
        ls, mk, color = styles[k]
        style = {"linestyle": ls, "marker": mk, "color": color, "lw": 2.6 if k == key else 1.4}
        left.plot(x, [r.liquidated_week * 100 for r in res], label=SETUPS[k][0] + (" (shown)" * (k == key)),
                  **style)  # fmt: skip
        right.plot(x, [max(r.average_loss, 1.0) for r in res], **style)
    for risk, text in ((200.0, "at risk: 200 (isolated, cross 200)"), (1e3, "at risk: 1,000 (cross 1,000)")):
        right.axhline(risk, color=COLORS["grey"], linestyle=(0, (1, 3)), linewidth=1)
        right.annotate(text, xy=(0.02, risk), xycoords=("axes fraction", "data"), xytext=(0, 3),
                       textcoords="offset points", fontsize=8.5, color="#555555")  # fmt: skip
    logs = np.log(LEVERAGES)  # below 2x, the first gap's spacing continues to the left
    at = float(np.interp(np.log(lev), logs, x)) if lev >= 2 else (np.log(lev) - logs[0]) / (logs[1] - logs[0])
    for ax in (left, right):
        ax.axvline(at, color=COLORS["grey"], linestyle="-.", linewidth=1.2, zorder=0)
        ax.xaxis.set_major_locator(FixedLocator(x))  # no tick objects until a draw needs them
        ax.xaxis.set_major_formatter(FixedFormatter([f"{n}x" for n in LEVERAGES]))
        ax.set(xlim=(-1.0, len(LEVERAGES) - 0.6), xlabel="leverage (log spacing)")
    left.plot([], [], color=COLORS["grey"], linestyle="-.", label=f"chosen leverage, {lev:g}x")
    left.set(ylim=(0, 100), ylabel="weeks liquidated (%)", title="Pooled margin is liquidated less often ...")
    right.set_yscale("log")
    right.set(ylim=(1, 2_000), ylabel="average loss per week (USDT, log scale)",
              title="... but loses about as much on average")  # fmt: skip
    usdt_ticks(right.yaxis)
    legend_below(fig, left, ncols=4)
    return fig


def widget():
    """Leverage, the set-up to highlight, volatility and jump size → every set-up's odds and
    losses, and the plot."""
    controls = {
        "leverage": leverage_slider(10, max=50),
        "setup": choice_buttons(list(SETUPS), "cross 200", LABELS["setup"]),
        "daily_vol": move_slider(3.5, low=0.5, high=10.0, step=0.5, description=LABELS["daily_vol"]),
        "jump_size": move_slider(12.0, low=0.0, high=60.0, step=1.0, description=LABELS["jump_size"]),
    }
    return build_widget(controls, view, plot, height="640px", title="Stress lab (simulated weeks)")


# ------------------------------------------------------------------ exercises and quiz
def _share_without_jumps() -> float:
    return stress(20, "cross 1,000", simulate(SimParams(jumps_per_day=0.0))).liquidated_week * 100


def _standard_error() -> float:
    p = stress(20, "cross 200", simulate()).liquidated_week
    return float(np.sqrt(p * (1 - p) / N_PATHS)) * 100


EXERCISES = {
    "9a": Exercise(
        "9a", "Lab without jumps: share of weeks liquidated at 20x, cross with 1,000 in the wallet (%)?",
        _share_without_jumps, unit="%", rel_tol=0.0, abs_tol=0.06,
        hint="Set the expected number of jumps a day to zero in the parameters cell, rerun every cell "
        "from there down to the lab's table, and read the row again.",
    ),
    "9b": Exercise(
        "9b", "BTC −12 % and ETH +4 % at once, 10x: loss of the isolated set-up (USDT)?",
        lambda: shock_loss(10, "isolated", -0.12, 0.04), unit="USDT",
        hint="Check each leg against its own margin: a leg whose loss exceeds its isolated wallet is "
        "liquidated and loses that wallet, no more; the other leg keeps its profit.",
    ),
    "9c": Exercise(
        "9c", "Standard error of the share of weeks liquidated at 20x, cross with 200 in the wallet "
        "(percentage points)?", _standard_error, unit="percentage points", rel_tol=0.02,
        hint="A share estimated from independent paths is a binomial proportion: its standard error "
        "depends on the share itself and on the number of paths.",
    ),
    "9d": Exercise(
        "9d", "The move of 9b at 10x: loss of the cross set-up with 200 in the wallet (USDT)?",
        lambda: shock_loss(10, "cross 200", -0.12, 0.04), unit="USDT",
        hint="Add both legs' PnL to the cross wallet and compare the result with both legs' maintenance "
        "margin: liquidated only if it is at or below.",
    ),
}  # fmt: skip

QUIZ = Quiz([
    Question("q1", "From the lab's first 1,000 weeks to all 10,000 (the same model and seed):", {
        "a": ("Every figure changes a lot: 1,000 weeks say nothing.",
              "Shares and means move within their sampling error, which shrinks as one over the square "
              "root of the number of weeks: about 1.6 points for a share near 50 % on 1,000 weeks."),
        "b": ("Nothing changes, because the seed is fixed.",
              "The seed fixes the random numbers, not how many are drawn: 9,000 new weeks come in."),
        "c": ("Shares and means settle within their sampling error, while the worst loss can only grow.",
              "The worst of 10,000 weeks includes the worst of the first 1,000; an extreme keeps growing "
              "with the sample, up to the capital at risk."),
    }, answer="c"),
    Question("q2", "A long's liquidation replayed on the closes of 15-minute candles is:", {
        "a": ("pessimistic, because last prices swing more than the mark.",
              "That holds for the lows: the closes hide the wick, where the last price may have crossed "
              "the liquidation price inside the candle."),
        "b": ("optimistic: the closes hide each candle's low.",
              "A low below the liquidation price, inside a candle that closes above it, goes unseen; "
              "replayed on the lows, the check turns pessimistic, as the mark moves less in a wick."),
        "c": ("exact, since the exchange itself publishes the candles.",
              "Liquidation follows the mark price, which no candle file records."),
    }, answer="b"),
    Question("q3", "Isolated 2 × 100 USDT against a 200 USDT cross wallet, same legs, same leverage:", {
        "a": ("Cross loses the whole futures wallet, so it always loses more.",
              "It loses what is in its futures wallet: here 200 USDT, the same as the two isolated "
              "margins. On average the two lose about as much."),
        "b": ("The isolated pair is liquidated less often, each leg being protected.",
              "Each isolated leg has only its own 100 USDT: a fall of one coin liquidates it even while "
              "the other coin gains."),
        "c": ("Cross is liquidated less often, and it can lose no more than the isolated pair.",
              "Pooled margin needs a larger combined loss to be liquidated; with the same capital at "
              "risk the ceiling is the same."),
    }, answer="c"),
    Question("q4", "The cross account keeps all 1,000 USDT in the futures wallet instead of 200:", {
        "a": ("It is liquidated less often, and a liquidation then takes 1,000 USDT.",
              "The other 800 USDT now backs the legs, and is lost with them."),
        "b": ("Nothing changes: the legs are the same.",
              "The extra 800 USDT backs the legs: liquidations become rare, and each one takes it all."),
        "c": ("It is safer in every way.",
              "Both coins 50 % down at 10x cost it 1,000 USDT, against 200 for the other set-ups."),
    }, answer="a"),
])  # fmt: skip
