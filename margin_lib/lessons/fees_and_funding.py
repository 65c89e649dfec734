"""Lesson 7, fees and funding: what holding a position costs, and how it moves the liquidation price.

Pure functions behind the lesson's tables, plots, widget and exercises. Two costs are charged on
the position's **size** (its notional), never on its margin, and neither depends on the margin
mode:

- the **trading fee**, ``notional × rate``, on opening and again on closing
  (:func:`margin_lib.trading_fee`, regular rates :data:`~margin_lib.fees.TAKER_FEE_RATE` and
  :data:`~margin_lib.fees.MAKER_FEE_RATE`);
- **funding**, ``−s × Q × mark × rate`` at every funding time, every
  :data:`~margin_lib.fees.FUNDING_INTERVAL_HOURS` hours (:func:`margin_lib.funding_payment`,
  negative = paid). With a positive rate longs pay shorts.

In isolated mode funding settles into the position's own wallet, so paying it drags the
liquidation price toward the mark even when the price does not move. Everything here is computed
by :class:`~margin_lib.account.Account` (``settle_funding``, ``mark``, ``report``) with the shipped
BTCUSDT tier table. The lesson's position is an isolated BTC long of :data:`QUANTITY` BTC opened
at :data:`ENTRY`; the funding rates used are **example rates**, not market data.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from .. import _validate as v
from ..account import Account
from ..errors import InvalidInputError
from ..examples import ARTICLE_FEE_RATES, ILLUSTRATIVE_PRICES
from ..exercises import Exercise
from ..fees import (
    FUNDING_INTERVAL_HOURS,
    MAKER_FEE_RATE,
    MAX_FUNDING_RATE,
    TAKER_FEE_RATE,
    funding_payment,
    trading_fee,
)
from ..format import pct, price, table, usdt
from ..plots import COLORS, legend_below, new_figure
from ..widgets import build_widget, leverage_slider

__all__ = [
    "SYMBOL",
    "ENTRY",
    "QUANTITY",
    "WALLET",
    "TYPICAL_RATE",
    "EXTREME_RATE",
    "WEEK_SETTLEMENTS",
    "FEE_EXAMPLE",
    "fee_example",
    "fee_example_table",
    "round_trip_pct",
    "round_trip_table",
    "fees_by_mode",
    "settlements_in",
    "funding_direction_table",
    "Step",
    "FundingRun",
    "open_position",
    "run_funding",
    "week_table",
    "plot_week",
    "POST_MORTEM",
    "post_mortem",
    "post_mortem_table",
    "post_mortem_verdict",
    "plot_post_mortem",
    "settlements_until_liquidation",
    "view",
    "plot",
    "widget",
    "EXERCISES",
]

#: The lesson's symbol and its (illustrative) entry and mark price, USDT.
SYMBOL = "BTCUSDT"
ENTRY = ILLUSTRATIVE_PRICES[SYMBOL]
#: The lesson's position: 0.1 BTC, i.e. a 10,000 USDT notional at the entry.
QUANTITY = 0.1
#: The futures wallet the position is opened from (large enough for 1x plus fees), USDT.
WALLET = 20_000.0
#: Example funding rates per 8-hour interval (fractions): a typical calm-market rate and an
#: extreme one of the kind seen in a frenzy. Examples, not data.
TYPICAL_RATE = 0.0001
EXTREME_RATE = 0.003
#: Funding settlements in a week at the default interval: 7 days × 24 h / 8 h.
WEEK_SETTLEMENTS = int(7 * 24 / FUNDING_INTERVAL_HOURS)
#: The exchange's fee example (the course's reference, section 7): (action, BTC, price, role).
FEE_EXAMPLE = (("buy", 1.0, 10_104.0, "taker"), ("sell", 1.0, 11_104.0, "maker"))


# --------------------------------------------------------------------------------- fees
def fee_example() -> tuple[float, float]:
    """The two fees of the exchange's example: buy 1 BTC at 10,104 as taker, sell 1 BTC at
    11,104 as maker, ``fee = Q × P × rate`` (USDT).

    >>> [round(f, 6) for f in fee_example()]
    [5.052, 2.2208]
    """
    return tuple(float(trading_fee(q * p, ARTICLE_FEE_RATES[role])) for _, q, p, role in FEE_EXAMPLE)


def fee_example_table() -> str:
    """The exchange's fee example as a table: fill, notional, rate, fee.

    >>> print(fee_example_table().splitlines()[2])
    buy 1 BTC at 10,104.00  | taker | 10,104.00 USDT | 0.050 % | 5.0520 USDT
    """
    rows = []
    for (action, q, p, role), fee in zip(FEE_EXAMPLE, fee_example(), strict=True):
        rows.append(
            [
                f"{action} {q:g} BTC at {price(p)}",
                role,
                usdt(q * p),
                pct(ARTICLE_FEE_RATES[role]),
                usdt(fee, 4),
            ]
        )
    return table(rows, ["fill", "role", "notional", "rate", "fee"], align="llrrr")


def round_trip_pct(
    leverage: float, open_rate: float = TAKER_FEE_RATE, close_rate: float = TAKER_FEE_RATE
) -> float:
    """Fees of opening and closing at an unchanged price, as a fraction of the margin:
    ``(N × r_open + N × r_close) / (N / L) = L × (r_open + r_close)``.

    >>> round(round_trip_pct(20), 10)     # taker both ways at 20x: 2 % of the margin
    0.02
    """
    lev = v.scalar(v.leverage, "leverage", leverage)
    margin = 1_000.0
    notional = margin * lev
    return float(trading_fee(notional, open_rate) + trading_fee(notional, close_rate)) / margin


def round_trip_table(
    leverages: tuple[float, ...] = (1, 5, 10, 20, 50, 100, 125), margin: float = 1_000.0
) -> str:
    """Round-trip fees on ``margin`` USDT of margin at each leverage: the notional ``margin × L``,
    the taker-taker and maker-maker costs in USDT and as a share of the margin.

    >>> print(round_trip_table((20,)).splitlines()[2])
         20x | 20,000 USDT |      20.00 USDT |   2.000 % |       8.00 USDT |   0.800 %
    """
    m = v.scalar(v.positive, "margin", margin)
    rows = []
    for lev in leverages:
        n = m * v.scalar(v.leverage, "leverage", lev)
        taker = 2 * float(trading_fee(n, TAKER_FEE_RATE))
        maker = 2 * float(trading_fee(n, MAKER_FEE_RATE))
        rows.append([f"{lev:g}x", usdt(n, 0), usdt(taker), pct(taker / m), usdt(maker), pct(maker / m)])
    return table(
        rows, ["leverage", "notional", "taker both ways", "of margin", "maker both ways", "of margin"]
    )


def fees_by_mode(leverage: float = 20.0, margin: float = 1_000.0) -> str:
    """Open and close the same BTC long (``margin × leverage`` USDT) at an unchanged price, once
    isolated and once cross, in an :class:`Account` charging the taker rate; the fee events of
    both runs side by side.

    >>> print(fees_by_mode().splitlines()[2])
    isolated | 10.00 USDT  | 10.00 USDT  | 20.00 USDT |   2.000 %
    """
    rows = []
    for mode in ("isolated", "cross"):
        acct = Account(WALLET, fee_rate=TAKER_FEE_RATE)
        acct.set_margin_mode(SYMBOL, mode)
        acct.open_position(SYMBOL, "long", notional=margin * leverage, price=ENTRY, leverage=leverage)
        acct.close_position(SYMBOL, ENTRY)
        fees = [-e.amount for e in acct.events if e.kind == "fee"]
        rows.append([mode, usdt(fees[0]), usdt(fees[1]), usdt(sum(fees)), pct(sum(fees) / margin)])
    return table(rows, ["mode", "opening fee", "closing fee", "total", "of margin"], align="lllrr")


# --------------------------------------------------------------------------------- funding
def settlements_in(hours: float, interval: float = FUNDING_INTERVAL_HOURS) -> int:
    """Funding times inside a holding period that starts just after one: ``floor(hours / interval)``.

    >>> settlements_in(24 * 7), settlements_in(7.9)
    (21, 0)
    """
    h = v.scalar(v.number, "hours", hours, low=0.0)
    return int(math.floor(h / v.scalar(v.positive, "interval", interval) + 1e-9))


def funding_direction_table(rates: tuple[float, ...] = (TYPICAL_RATE, -TYPICAL_RATE)) -> str:
    """One settlement for the lesson's 0.1 BTC at the entry price, long and short, at each rate:
    ``−s × Q × P × rate`` (negative = paid).

    >>> print(funding_direction_table((0.0001,)).splitlines()[2])
       +0.0100 % | -1.00 USDT (pays) | +1.00 USDT (receives)
    """
    rows = []
    for r in rates:
        cells = [f"{r * 100:+.4f} %"]
        for side in ("long", "short"):
            cash = float(funding_payment(side, QUANTITY, ENTRY, r))
            cells.append(f"{cash:+,.2f} USDT ({'pays' if cash < 0 else 'receives'})")
        rows.append(cells)
    return table(rows, ["rate per 8 h", "long 0.1 BTC", "short 0.1 BTC"], align="rll")


@dataclass(frozen=True)
class Step:
    """One moment of a run: ``hour`` since opening, the ``mark`` (USDT), the funding cash flow
    settled then (USDT, negative = paid; 0 when no funding was due), the isolated wallet, the
    maintenance margin and the liquidation price after it (nan once liquidated), and the state
    ("open", "LIQUIDATED" or "gone")."""

    hour: float
    mark: float
    funding: float
    wallet: float
    maintenance_margin: float
    liquidation_price: float
    state: str


@dataclass(frozen=True)
class FundingRun:
    """A position held through funding times: its ``steps`` (the first one is the opening),
    the ``margin`` it started with (USDT), and ``liquidated_at``, the step index where it was
    liquidated (None if it survived)."""

    leverage: float
    rate: float
    margin: float
    steps: tuple[Step, ...]
    liquidated_at: int | None

    @property
    def funding_paid(self) -> float:
        """Total funding paid (USDT, positive = paid out)."""
        return -sum(s.funding for s in self.steps)


def open_position(leverage: float, *, fee_rate: float = TAKER_FEE_RATE) -> Account:
    """An account of :data:`WALLET` USDT with an isolated long of :data:`QUANTITY` BTC at
    :data:`ENTRY` and ``leverage`` (the BTCUSDT tier table; the opening fee leaves the cross
    wallet, not the isolated one).

    >>> open_position(20).report().position("BTCUSDT").isolated_wallet
    500.0
    """
    acct = Account(WALLET, fee_rate=fee_rate)
    acct.set_margin_mode(SYMBOL, "isolated")
    acct.open_position(SYMBOL, "long", quantity=QUANTITY, price=ENTRY, leverage=leverage)
    return acct


def _record(acct: Account, hour: float, mark: float, funding: float, events: list) -> Step:
    if any(e.kind == "liquidation" for e in events):
        return Step(hour, mark, funding, 0.0, math.nan, math.nan, "LIQUIDATED")
    if not acct.has_position(SYMBOL):
        return Step(hour, mark, 0.0, math.nan, math.nan, math.nan, "gone")
    p = acct.report().position(SYMBOL)
    return Step(hour, mark, funding, p.isolated_wallet, p.maintenance_margin, p.liquidation_price, "open")


def run_funding(
    leverage: float,
    rate: float,
    settlements: int = WEEK_SETTLEMENTS,
    *,
    path: tuple[tuple[float, float, bool], ...] | None = None,
) -> FundingRun:
    """Hold the lesson's isolated long through funding times and record every step.

    Without ``path`` the mark stays at the entry and funding is settled ``settlements`` times,
    every 8 hours. A ``path`` is a sequence of (hour, mark, funding due?) steps: the account is
    marked at each, then, if funding is due, ``settle_funding`` runs at ``rate`` (a fraction).
    The engine liquidates the position as soon as its wallet + UPNL reaches its maintenance margin.

    >>> run = run_funding(20, 0.003)
    >>> run.liquidated_at, run.steps[run.liquidated_at].hour
    (16, 128.0)
    """
    acct = open_position(leverage)
    margin = acct.report().position(SYMBOL).isolated_wallet
    if path is None:
        n = int(v.scalar(v.number, "settlements", settlements, low=0))
        path = tuple(((k + 1) * FUNDING_INTERVAL_HOURS, ENTRY, True) for k in range(n))
    steps = [_record(acct, 0.0, ENTRY, 0.0, [])]
    liquidated_at = None
    for hour, mark, due in path:
        if not acct.has_position(SYMBOL):
            steps.append(_record(acct, hour, mark, 0.0, []))
            continue
        events = acct.mark({SYMBOL: mark})
        cash = 0.0
        if due and not events:
            events = acct.settle_funding({SYMBOL: rate})
            cash = sum(e.amount for e in events if e.kind == "funding")
        steps.append(_record(acct, hour, mark, cash, events))
        if steps[-1].state == "LIQUIDATED":
            liquidated_at = len(steps) - 1
    return FundingRun(float(leverage), float(rate), margin, tuple(steps), liquidated_at)


def week_table(leverage: float = 10.0, rates: tuple[float, ...] = (TYPICAL_RATE, EXTREME_RATE)) -> str:
    """A week of funding (21 settlements at a constant mark) at each rate: the isolated wallet
    and the liquidation price after each settlement.

    >>> print(week_table(10).splitlines()[3])
     1 |    8 |     999.00 USDT |   90,371.49 |     970.00 USDT |   90,662.65
    """
    runs = [run_funding(leverage, r) for r in rates]
    headers = ["#", "hour"]
    for r in rates:
        headers += [f"wallet @ {r * 100:.2f} %", f"LP @ {r * 100:.2f} %"]
    rows = []
    for i in range(len(runs[0].steps)):
        row = [str(i), f"{runs[0].steps[i].hour:g}"]
        for run in runs:
            s = run.steps[i]
            if s.state == "open":
                row += [usdt(s.wallet), price(s.liquidation_price)]
            elif s.state == "LIQUIDATED":
                row += ["LIQUIDATED", "--"]
            else:
                row += ["--", "--"]
        rows.append(row)
    return table(rows, headers)


def _plot_runs(ax, runs: list[FundingRun], labels: list[str], text_y: float = 0.45) -> None:
    """The mark at each step (solid, dots), each run's liquidation price as steps (black dashed,
    then orange dash-dot), and each liquidation as an X on the mark, a dotted vertical line and a
    text label."""
    hours = [s.hour for s in runs[0].steps]
    ax.plot(hours, [s.mark for s in runs[0].steps], color=COLORS["balance"], linewidth=2, marker="o",
            markersize=3, label="mark price")  # fmt: skip
    styles = [(COLORS["liquidation"], "--"), (COLORS["other"], "-.")]
    for i, (run, label) in enumerate(zip(runs, labels, strict=True)):
        color, style = styles[i % 2]
        pts = [(s.hour, s.liquidation_price) for s in run.steps if s.state == "open"]
        if run.liquidated_at is not None:
            pts.append((run.steps[run.liquidated_at].hour, pts[-1][1]))
        ax.step([h for h, _ in pts], [lp for _, lp in pts], where="post", color=color, linestyle=style,
                linewidth=1.8, label=label)  # fmt: skip
        if run.liquidated_at is not None:
            s = run.steps[run.liquidated_at]
            ax.axvline(s.hour, color=COLORS["maintenance"], linestyle=":", linewidth=1.6)
            ax.scatter([s.hour], [s.mark], marker="X", s=90, color=COLORS["maintenance"], zorder=5,
                       label="liquidation")  # fmt: skip
            ax.annotate(
                f"LIQUIDATED\nat hour {s.hour:g}",
                xy=(s.hour, text_y), xycoords=("data", "axes fraction"), xytext=(-6, 0),
                textcoords="offset points", ha="right", fontsize=9, color=COLORS["maintenance"],
            )  # fmt: skip
    ax.set_xlabel("hours since opening")
    ax.set_ylabel("BTC price (USDT)")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_xlim(0, max(hours[-1], FUNDING_INTERVAL_HOURS) * 1.02)
    legend_below(ax.figure, ax, ncols=2)


def plot_week(leverage: float = 10.0, rates: tuple[float, ...] = (TYPICAL_RATE, EXTREME_RATE)) -> Figure:
    """The liquidation price after each of a week's 21 funding settlements at each rate, against
    the constant mark; a liquidation is a dotted line with a label."""
    runs = [run_funding(leverage, r) for r in rates]
    fig, ax = new_figure()
    labels = [f"liquidation price, funding {r * 100:.2f} % per 8 h" for r in rates]
    _plot_runs(ax, runs, labels)
    hit = [r for r in runs if r.liquidated_at is not None]
    if hit:
        title = f"{leverage:g}x: at {hit[0].rate * 100:.2f} % per 8 h funding alone liquidates the long"
    else:
        title = f"{leverage:g}x: a week of funding drags the liquidation price toward the mark"
    ax.set_title(title)
    ax.set_xticks([24 * d for d in range(8)])
    return fig


# --------------------------------------------------------------------------------- post-mortem
#: The post-mortem scenario: an isolated 20x long held overnight at an elevated (example) funding
#: rate of 0.2 % per 8 h, while BTC drifts 3.5 % lower and dips to 4 % below the entry at hour 36.
#: Steps are (hour, mark, funding due?).
POST_MORTEM = {
    "leverage": 20.0,
    "rate": 0.002,
    "path": (
        (8.0, 99_000.0, True),
        (16.0, 98_500.0, True),
        (24.0, 98_000.0, True),
        (32.0, 97_500.0, True),
        (36.0, 96_000.0, False),
    ),
}


def post_mortem(with_funding: bool = True) -> FundingRun:
    """The post-mortem scenario, with the funding settled (``with_funding``) or at a zero rate
    (what the price alone would have done).

    >>> post_mortem(False).liquidated_at is None, post_mortem(True).liquidated_at
    (True, 5)
    """
    rate = POST_MORTEM["rate"] if with_funding else 0.0
    return run_funding(POST_MORTEM["leverage"], rate, path=POST_MORTEM["path"])


def post_mortem_table() -> str:
    """The overnight review, step by step: hour, mark, funding paid, isolated wallet, liquidation
    price and state, with the price-only run's liquidation price and state beside them.

    >>> print(post_mortem_table().splitlines()[2])
       0 | 100,000.00 |           -- | 500.00 USDT | 95,381.53 | open       |      95,381.53 | open
    """
    real, price_only = post_mortem(True), post_mortem(False)
    rows = []
    for s, p in zip(real.steps, price_only.steps, strict=True):
        paid = usdt(-s.funding) if s.funding else "--"
        wallet = usdt(s.wallet) if s.state == "open" else ("0.00 USDT" if s.state == "LIQUIDATED" else "--")
        rows.append(
            [f"{s.hour:g}", price(s.mark), paid, wallet, price(s.liquidation_price), s.state]
            + [price(p.liquidation_price), p.state]
        )
    headers = ["hour", "mark", "funding paid", "wallet", "LP", "state", "LP, price only", "price only"]
    return table(rows, headers, align="rrrrrlrl")


def post_mortem_verdict() -> str:
    """The review's conclusion in numbers: the low, the two liquidation prices just before it,
    and the funding paid.

    >>> print(post_mortem_verdict().splitlines()[0])
    Low of the night: 96,000.00 (-4.000 % from the entry).
    """
    real, price_only = post_mortem(True), post_mortem(False)
    low = min(m for _, m, _ in POST_MORTEM["path"])
    before = real.steps[real.liquidated_at - 1]
    lines = [
        f"Low of the night: {price(low)} ({pct(low / ENTRY - 1)} from the entry).",
        f"Liquidation price without funding: {price(price_only.steps[-1].liquidation_price)}"
        f" -> the low stays above it: {'survives' if price_only.liquidated_at is None else 'liquidated'}.",
        f"Liquidation price after {sum(1 for s in real.steps if s.funding)} funding payments "
        f"({usdt(real.funding_paid)}, {pct(real.funding_paid / real.margin, 1)} of the margin): "
        f"{price(before.liquidation_price)} -> the low crosses it: liquidated at hour "
        f"{real.steps[-1].hour:g}.",
    ]
    return "\n".join(lines)


def plot_post_mortem() -> Figure:
    """The overnight review as a picture: the mark along the scenario's path, the liquidation
    price with the funding paid (black dashed) and without it (orange dash-dot), and the
    liquidation marked where the low crosses only the first."""
    fig, ax = new_figure()
    rate = POST_MORTEM["rate"] * 100
    labels = [f"liquidation price, funding {rate:.2f} % per 8 h paid", "liquidation price, price alone"]
    _plot_runs(ax, [post_mortem(True), post_mortem(False)], labels, text_y=0.75)
    ax.set_title("Post-mortem: the dip alone was survivable, the dip after the funding was not")
    ax.set_xticks([float(h) for h, _, _ in POST_MORTEM["path"]] + [0.0])
    return fig


def settlements_until_liquidation(leverage: float, rate: float, limit: int = 2_000) -> int:
    """How many funding settlements at a constant mark (the entry) until the engine liquidates
    the lesson's isolated long; 0 if it survives ``limit`` of them.

    >>> settlements_until_liquidation(20, 0.003)
    16
    """
    run = run_funding(leverage, rate, limit)
    return 0 if run.liquidated_at is None else run.liquidated_at


# --------------------------------------------------------------------------------- widget
def _widget_run(leverage: float, hours: float, rate_pct: float) -> FundingRun:
    lev = v.scalar(v.leverage, "leverage", leverage)
    Account(WALLET).brackets(SYMBOL).check_leverage(QUANTITY * ENTRY, lev)
    n = settlements_in(hours)
    r = v.scalar(v.number, "rate_pct", rate_pct) / 100
    if abs(r) > MAX_FUNDING_RATE:
        raise InvalidInputError(
            f"funding rate must be between -{MAX_FUNDING_RATE:.0%} and +{MAX_FUNDING_RATE:.0%} per "
            f"8 h (the engine's bound); got {rate_pct:g} %"
        )
    return run_funding(lev, r, n)


def view(leverage: float = 20.0, hours: float = 168.0, rate_pct: float = 0.01) -> str:
    """What the widget prints: fees and funding of holding the lesson's isolated long for
    ``hours`` at ``rate_pct`` per cent per 8 h (mark constant at the entry), as USDT and as a
    share of the margin, and where the liquidation price ends (or when funding liquidated it).

    >>> print(view().splitlines()[1])
    Trading fees (taker 0.050 % of the size, open + close): 10.00 USDT = 2.000 % of the margin.
    """
    run = _widget_run(leverage, hours, rate_pct)
    notional = QUANTITY * ENTRY
    fee_open = float(trading_fee(notional, TAKER_FEE_RATE))
    fee_close = float(trading_fee(notional, TAKER_FEE_RATE))
    m = run.margin
    n = len(run.steps) - 1
    who = "longs pay shorts" if run.rate > 0 else ("shorts pay longs" if run.rate < 0 else "nobody pays")
    lines = [
        f"Isolated BTC long: {QUANTITY:g} BTC at {price(ENTRY)} = {usdt(notional, 0)}, {run.leverage:g}x "
        f"-> margin {usdt(m)}.",
        f"Trading fees (taker {pct(TAKER_FEE_RATE)} of the size, open + close): {usdt(fee_open + fee_close)} "
        f"= {pct((fee_open + fee_close) / m)} of the margin.",
        f"Holding {float(hours):g} h: {n} funding time(s), every {FUNDING_INTERVAL_HOURS:g} h, at "
        f"{rate_pct:+.4f} % ({who}).",
    ]
    start_lp = run.steps[0].liquidation_price
    if run.liquidated_at is not None:
        s = run.steps[run.liquidated_at]
        paid = -sum(x.funding for x in run.steps[: run.liquidated_at + 1])
        lines += [
            f"LIQUIDATED by funding alone at funding time #{run.liquidated_at} (hour {s.hour:g}), the mark "
            f"unchanged at {price(s.mark)}: {usdt(paid)} of funding had left the isolated wallet.",
            f"Total cost: the whole margin {usdt(m)} + the opening fee {usdt(fee_open)} = "
            f"{usdt(m + fee_open)} = {pct((m + fee_open) / m)} of the margin.",
            f"Liquidation price: {price(start_lp)} at opening, then it climbed to the mark.",
        ]
        return "\n".join(lines)
    funding = run.funding_paid
    total = fee_open + fee_close + funding
    end = run.steps[-1]
    lines += [
        f"Funding {'paid' if funding >= 0 else 'received'}: {usdt(abs(funding))} = "
        f"{pct(abs(funding) / m)} of the margin.",
        f"Total cost (fees + funding): {usdt(total)} = {pct(total / m)} of the margin.",
        f"Liquidation price: {price(start_lp)} at opening -> {price(end.liquidation_price)} after the last "
        f"funding time (mark {price(end.mark)}; isolated wallet {usdt(end.wallet)}).",
    ]
    return "\n".join(lines)


def plot(leverage: float = 20.0, hours: float = 168.0, rate_pct: float = 0.01) -> Figure:
    """The liquidation price after each funding time against the constant mark; a liquidation
    by funding is a dotted line with a label."""
    run = _widget_run(leverage, hours, rate_pct)
    fig, ax = new_figure()
    _plot_runs(ax, [run], [f"liquidation price ({rate_pct:+.3f} % per 8 h)"])
    if run.liquidated_at is not None:
        title = f"{run.leverage:g}x at {rate_pct:+.3f} % per 8 h: funding alone liquidates the position"
    elif run.rate > 0:
        title = f"{run.leverage:g}x at {rate_pct:+.3f} % per 8 h: paying funding drags the LP toward the mark"
    else:
        title = f"{run.leverage:g}x at {rate_pct:+.3f} % per 8 h: the LP does not move toward the mark"
    ax.set_title(title)
    return fig


def widget():
    """Leverage, holding time (hours) and funding rate (% per 8 h) → costs, LP drift and plot."""
    import ipywidgets as ipw

    style, layout = {"description_width": "170px"}, ipw.Layout(width="520px")
    controls = {
        "leverage": leverage_slider(20, max=175),
        "hours": ipw.FloatText(value=168.0, description="holding time (hours)", style=style, layout=layout),
        "rate_pct": ipw.FloatSlider(
            value=0.01, min=-1.0, max=1.0, step=0.005, description="funding rate (% per 8 h)",
            continuous_update=False, readout_format=".3f", style=style, layout=layout,
        ),
    }  # fmt: skip
    return build_widget(controls, view, plot, title="Fees and funding: the cost of holding, and the LP drift")


# --------------------------------------------------------------------------------- exercises
def _fee_pct_maker_taker_20x() -> float:
    margin = 2_000.0
    notional = margin * 20
    fees = trading_fee(notional, MAKER_FEE_RATE) + trading_fee(notional, TAKER_FEE_RATE)
    return 100 * float(fees) / margin


def _funding_half_btc_three_days() -> float:
    n = settlements_in(3 * 24)
    return -n * float(funding_payment("long", 0.5, ENTRY, TYPICAL_RATE))


def _settlements_30x_at_0_1() -> float:
    return float(settlements_until_liquidation(30, 0.001))


EXERCISES = {
    "7a": Exercise(
        "7a",
        "You put 2,000 USDT of margin behind a 20x BTC long, open it with a maker order and close it "
        "with a taker order at the same price (regular rates). What share of the margin do the fees "
        "take, in per cent (e.g. 1.5 for 1.5 %)?",
        _fee_pct_maker_taker_20x,
        unit="% of the margin",
        hint="Fees are charged on the position size (margin × leverage), once at each rate.",
    ),
    "7b": Exercise(
        "7b",
        "A 0.5 BTC long is held for 3 days with the mark at 100,000 and the funding rate at "
        "0.01 % per 8 h throughout. How much funding does it pay in total (USDT, as a positive number)?",
        _funding_half_btc_three_days,
        unit="USDT",
        hint="Count the funding times in 72 hours and charge Q × mark × rate at each.",
    ),
    "7c": Exercise(
        "7c",
        "The lesson's position (0.1 BTC isolated long at 100,000) is opened at 30x. The mark stays at "
        "100,000 and the funding rate is 0.1 % per 8 h. At which funding time (1, 2, 3, ...) is it "
        "liquidated?",
        _settlements_30x_at_0_1,
        unit="funding times",
        hint="Each payment leaves the isolated wallet; it is liquidated at the first payment after "
        "which the wallet is at or below the maintenance margin (0.4 % of 10,000 USDT).",
        rel_tol=0.0,
        abs_tol=0.5,
    ),
}
