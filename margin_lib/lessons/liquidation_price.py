"""Lesson 6, the exact liquidation price: where the margin balance meets the maintenance margin.

Pure functions behind the lesson's derivation, tables, plots, widget and exercises. The running
example is the article's isolated trade (:data:`margin_lib.examples.ISOLATED_EXAMPLE`: a 10x BTC
long of 1,000 USDT, 100 USDT of margin) valued with the exchange's BTCUSDT tier table, opened at
the illustrative entry :data:`ENTRY`. Fees are left out, as in the article.

Setting ``margin balance = maintenance margin`` at the price ``LP``::

    WB' + s·Q·(LP − EP) = Q·LP·MMR − cum
    long:  LP = (Q·EP − WB' − cum) / (Q·(1 − MMR))
    short: LP = (Q·EP + WB' + cum) / (Q·(1 + MMR))

with ``WB'`` the isolated wallet, or in cross mode the cross wallet minus the other cross
positions' maintenance margin plus their unrealized PnL, and (MMR, cum) the tier that holds the
notional **at** ``LP``. The bankruptcy price ``BP = EP − s·WB'/Q`` is where the balance is zero.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from .. import _validate as v
from ..account import Account
from ..brackets import Bracket, BracketTable
from ..errors import InvalidInputError
from ..examples import CASE_A, ILLUSTRATIVE_PRICES, ISOLATED_EXAMPLE
from ..exercises import Exercise
from ..format import pct, price, table, usdt
from ..liquidation import bankruptcy_price, effective_wallet, liquidation_price
from ..margin import maintenance_margin, unrealized_pnl
from ..plots import COLORS, new_figure, plot_margin_balance, stable_limits
from ..widgets import build_widget, choice_buttons, leverage_slider, money_box

__all__ = [
    "SYMBOL",
    "ENTRY",
    "WICK_LAST",
    "WICK_MARK",
    "Derivation",
    "btc_table",
    "derive",
    "equation_table",
    "steps_text",
    "cross_inputs",
    "cross_check",
    "cum_table",
    "TIER_EXAMPLE",
    "tier_example",
    "tier_crossing",
    "bankruptcy_gap",
    "liquidation_event",
    "wick_table",
    "plot_wick",
    "view",
    "plot",
    "widget",
    "EXERCISES",
]

SYMBOL = "BTCUSDT"
#: The illustrative BTC entry price (USDT); the article names none.
ENTRY = ILLUSTRATIVE_PRICES[SYMBOL]
_POSITION = ISOLATED_EXAMPLE.positions[0]
_Q = _POSITION.notional / ENTRY
_WB = _POSITION.notional / _POSITION.leverage

#: A made-up, illustrative ten-minute series (USDT) for the article's long: the last traded price
#: wicks below the liquidation price for one minute (minute 5), the mark price does not.
WICK_LAST = (
    99_200.0,
    97_800.0,
    95_900.0,
    93_400.0,
    91_900.0,
    89_600.0,
    92_300.0,
    93_500.0,
    94_100.0,
    94_800.0,
)
#: The mark price over the same minutes: it follows an index of several exchanges' prices, so a
#: thin book's one-minute wick moves it far less.
WICK_MARK = (
    99_250.0,
    97_900.0,
    96_050.0,
    93_700.0,
    92_400.0,
    91_650.0,
    92_250.0,
    93_400.0,
    94_000.0,
    94_750.0,
)


def btc_table() -> BracketTable:
    """The shipped BTCUSDT tier snapshot."""
    return BracketTable.load(SYMBOL)


# --------------------------------------------------------------------------------- derivation
@dataclass(frozen=True)
class Derivation:
    """Each step of solving ``MB = MM`` for one position (money in USDT, prices in USDT).

    ``numerator`` and ``denominator`` are the two sides after collecting the ``LP`` terms:
    ``LP = numerator / denominator``. ``lp_library`` is
    :func:`~margin_lib.liquidation.liquidation_price` with the whole tier table, for comparison.
    """

    side: str
    quantity: float
    entry_price: float
    wallet: float
    mmr: float
    cum: float
    tier: int
    numerator: float
    denominator: float
    lp: float
    lp_library: float
    balance_at_lp: float
    mm_at_lp: float


def derive(
    side: str = _POSITION.side,
    quantity: float = _Q,
    entry_price: float = ENTRY,
    wallet: float = _WB,
    *,
    tier: Bracket | None = None,
    other_maintenance_margin: float = 0.0,
    other_unrealized_pnl: float = 0.0,
) -> Derivation:
    """Solve ``WB' + s·Q·(LP − EP) = Q·LP·MMR − cum`` step by step with one tier's (MMR, cum).

    ``tier`` defaults to the tier that holds the notional at the library's liquidation price.
    ``wallet`` is the isolated wallet, or the cross wallet with the ``other_*`` sums.

    >>> d = derive()                      # the article's 10x long, BTCUSDT tier 1 (0.4 %)
    >>> round(d.lp, 2), d.lp == d.lp_library
    (90361.45, True)
    """
    s = v.side_scalar("side", side)
    q = v.scalar(v.positive, "quantity", quantity)
    ep = v.scalar(v.positive, "entry_price", entry_price)
    wb = float(effective_wallet(wallet, other_maintenance_margin, other_unrealized_pnl))
    tbl = btc_table()
    lp_lib = float(
        liquidation_price(
            s,
            q,
            ep,
            wallet,
            brackets=tbl,
            other_maintenance_margin=other_maintenance_margin,
            other_unrealized_pnl=other_unrealized_pnl,
        )
    )
    if tier is None:  # no liquidation price ("--"): show the entry's tier
        tier = tbl.tier_at(q * (ep if math.isnan(lp_lib) else lp_lib))
    mmr, cum = float(tier.mmr), float(tier.maintenance_amount)
    # s·Q·LP − Q·LP·MMR = s·Q·EP − WB' − cum, times −1: LP·Q·(MMR − s) = WB' + cum − s·Q·EP
    numerator = wb + cum - s * q * ep
    denominator = q * (mmr - s)
    lp = numerator / denominator
    at_lp = lp > 0
    return Derivation(
        side="long" if s == 1 else "short",
        quantity=q,
        entry_price=ep,
        wallet=wb,
        mmr=mmr,
        cum=cum,
        tier=int(tier.bracket),
        numerator=numerator,
        denominator=denominator,
        lp=lp,
        lp_library=lp_lib,
        balance_at_lp=wb + float(unrealized_pnl(s, q, ep, lp)) if at_lp else math.nan,
        mm_at_lp=float(maintenance_margin(q * lp, mmr, cum)) if at_lp else math.nan,
    )


def equation_table(moves: tuple[float, ...] = (0.0, -0.05, -0.09, -0.1)) -> str:
    """Both sides of the equation for the article's long at several moves from the entry
    (fractions), plus the liquidation price itself: margin balance ``WB + Q·(P − EP)``,
    maintenance margin ``Q·P·MMR − cum`` with the BTCUSDT tier, and their difference, which falls
    to zero at the liquidation price.

    >>> [c.strip() for c in equation_table((0.0,)).splitlines()[2].split("|")]
    ['0.000 %', '100,000.00', '100.00 USDT', '4.00 USDT', '96.00 USDT']
    """
    tbl = btc_table()
    rows = []
    marks = sorted({ENTRY * (1.0 + m) for m in moves} | {derive().lp}, reverse=True)
    for p in marks:
        move = p / ENTRY - 1.0
        mb = _WB + float(unrealized_pnl(_POSITION.side, _Q, ENTRY, p))
        mm = float(tbl.maintenance_margin(_Q * p))
        gap = mb - mm
        rows.append([pct(move), price(p), usdt(mb), usdt(mm), usdt(0.0 if abs(gap) < 1e-9 else gap)])
    return table(rows, ["BTC move", "mark", "margin balance", "maintenance margin", "MB − MM"])


def steps_text(d: Derivation) -> str:
    """The derivation of :func:`derive` written out with its numbers.

    >>> print(steps_text(derive()).splitlines()[-1])
    check: margin balance at LP 3.61 USDT = maintenance margin at LP 3.61 USDT
    """
    s = 1 if d.side == "long" else -1
    sign = "−" if s == 1 else "+"
    one = f"1 {'−' if s == 1 else '+'} MMR"
    if s == 1:
        num = f"Q·EP − WB − cum = {price(d.quantity * d.entry_price)} − {price(d.wallet)} − {price(d.cum)}"
    else:
        num = f"Q·EP + WB + cum = {price(d.quantity * d.entry_price)} + {price(d.wallet)} + {price(d.cum)}"
    return "\n".join(
        [
            f"{d.side}: Q = {d.quantity:g} BTC, EP = {price(d.entry_price)}, WB = {usdt(d.wallet)}; "
            f"tier {d.tier}: MMR = {pct(d.mmr)}, cum = {usdt(d.cum)}",
            f"MB = MM:  WB {'+' if s == 1 else '−'} Q·(LP − EP) = Q·LP·MMR − cum",
            f"collect LP:  LP·Q·({one}) = Q·EP {sign} WB {sign} cum",
            f"numerator:   {num} = {price(abs(d.numerator))}",
            f"denominator: Q·({one}) = {d.quantity:g} × {1 + (-s) * d.mmr:.4f} = {abs(d.denominator):.6f}",
            f"LP = {price(abs(d.numerator))} / {abs(d.denominator):.6f} = {price(d.lp)}",
            f"liquidation_price(..., brackets=BracketTable.load('BTCUSDT')) = {price(d.lp_library)}",
            f"check: margin balance at LP {usdt(d.balance_at_lp)} = "
            f"maintenance margin at LP {usdt(d.mm_at_lp)}",
        ]
    )


# --------------------------------------------------------------------------------- cross
def _case_a_account() -> Account:
    """Case A with the exchange's tiers, ETH marked at its article move, BTC at the entry."""
    acct = CASE_A.build_account(tiers="exchange")
    acct.mark(CASE_A.marks({"ETHUSDT": CASE_A.moves["ETHUSDT"], SYMBOL: 0.0}))
    return acct


def cross_inputs() -> dict[str, float]:
    """The article's Case A (cross, 1,000 USDT wallet, BTC and ETH 10x longs of 5,000 USDT),
    exchange tiers, ETH up 5 %: what stands behind the BTC long.

    Returns the cross wallet, ETH's maintenance margin and unrealized PnL at its mark, and
    ``WB' = wallet − MM_other + UPNL_other`` (USDT).

    >>> cross_inputs()["effective_wallet"]
    1229.0
    """
    r = _case_a_account().report()
    eth = r.position("ETHUSDT")
    wb = float(effective_wallet(r.cross_wallet_balance, eth.maintenance_margin, eth.unrealized_pnl))
    return {
        "cross_wallet": r.cross_wallet_balance,
        "other_maintenance_margin": eth.maintenance_margin,
        "other_unrealized_pnl": eth.unrealized_pnl,
        "effective_wallet": wb,
    }


def cross_check() -> str:
    """The cross derivation for Case A's BTC long, beside the account's own report.

    >>> print(cross_check().splitlines()[-1])
    Account report, BTC liquidation price: 75,722.89
    """
    c = cross_inputs()
    btc = _case_a_account().report().position(SYMBOL)
    d = derive(
        "long",
        btc.quantity,
        btc.entry_price,
        c["cross_wallet"],
        other_maintenance_margin=c["other_maintenance_margin"],
        other_unrealized_pnl=c["other_unrealized_pnl"],
    )
    return "\n".join(
        [
            f"WB' = {usdt(c['cross_wallet'])} − {usdt(c['other_maintenance_margin'])} "
            f"+ {usdt(c['other_unrealized_pnl'])} = {usdt(c['effective_wallet'])}",
            steps_text(d),
            f"Account report, BTC liquidation price: {price(btc.liquidation_price)}",
        ]
    )


# --------------------------------------------------------------------------------- cum and tiers
#: The tier example: an isolated 5x BTC short of 750,000 USDT (tier 2 at the entry, 0.5 %).
TIER_EXAMPLE = {"side": "short", "notional": 750_000.0, "leverage": 5.0}


def tier_example() -> dict[str, float]:
    """The tier example's size in BTC and its isolated wallet (its initial margin), in USDT.

    >>> tier_example()
    {'quantity': 7.5, 'wallet': 150000.0}
    """
    n = TIER_EXAMPLE["notional"]
    return {"quantity": n / ENTRY, "wallet": n / TIER_EXAMPLE["leverage"]}


def cum_table() -> str:
    """What ``cum`` does: the maintenance margin just below and at the 800,000 USDT floor between
    tiers 2 and 3, with the upper tier's ``cum`` and without it.

    >>> [c.strip() for c in cum_table().splitlines()[3].split("|")]
    ['800,000.00', '3', '0.650 %', '1,500.00 USDT', '3,700.00 USDT', '5,200.00 USDT']
    """
    tbl = btc_table()
    rows = []
    for n in (799_999.99, 800_000.0, 800_000.01):
        t = tbl.bracket_for(n)
        rows.append(
            [
                price(n),
                str(t.bracket),
                pct(t.mmr),
                usdt(t.maintenance_amount),
                usdt(float(tbl.maintenance_margin(n))),
                usdt(n * t.mmr),
            ]
        )
    return table(rows, ["notional", "tier", "MMR", "cum", "MM = N·MMR − cum", "N·MMR (cum left out)"])


def tier_crossing() -> str:
    """The tier example (a 5x isolated short of 750,000 USDT at :data:`ENTRY`): its notional
    crosses the 800,000 floor before the liquidation price. The price computed with the entry's
    tier, with the liquidation tier, with the liquidation tier but no ``cum``, and the library's.

    >>> [c.strip() for c in tier_crossing().splitlines()[4].split("|")]
    ['entry tier (2: 0.500 %, cum 300.00 USDT)', '119,442.79', '895,820.90', '3', '-143.73 USDT']
    """
    q, wb = tier_example().values()
    lev = TIER_EXAMPLE["leverage"]
    tbl = btc_table()
    entry_tier = tbl.bracket_for(TIER_EXAMPLE["notional"])
    right = derive("short", q, ENTRY, wb)
    liq_tier = tbl.tier_at(q * right.lp)
    no_cum = Bracket(liq_tier.bracket, 0, 0, 0, liq_tier.mmr, 0.0)
    rows = []

    def name(t: Bracket) -> str:
        return f"{t.bracket}: {pct(t.mmr)}, cum {usdt(t.maintenance_amount)}"

    for label, tier in (
        (f"entry tier ({name(entry_tier)})", entry_tier),
        (f"liquidation tier ({name(liq_tier)})", liq_tier),
        (f"tier {liq_tier.bracket}'s MMR, cum left out", no_cum),
    ):
        d = derive("short", q, ENTRY, wb, tier=tier)
        n = q * d.lp
        # the true MB − MM at that price, with the tier that really holds Q × price
        gap = d.balance_at_lp - float(tbl.maintenance_margin(n))
        gap = 0.0 if abs(gap) < 1e-9 else gap
        rows.append([label, price(d.lp), price(n), str(tbl.tier_at(n).bracket), usdt(gap)])
    acct = Account(wb, fee_rate=0.0)
    acct.open_position(SYMBOL, "short", notional=TIER_EXAMPLE["notional"], price=ENTRY, leverage=lev)
    reported = acct.report().position(SYMBOL).liquidation_price
    cross_at = liq_tier.notional_floor / q
    wrong, no = (derive("short", q, ENTRY, wb, tier=t).lp for t in (entry_tier, no_cum))
    head = [
        f"Isolated {lev:g}x short of {usdt(TIER_EXAMPLE['notional'], 0)} = {q:g} BTC at {price(ENTRY)}, "
        f"wallet {usdt(wb, 0)}; tier {entry_tier.bracket} at the entry.",
        f"Its notional reaches tier {liq_tier.bracket}'s floor {usdt(liq_tier.notional_floor, 0)} at "
        f"{price(cross_at)}, before the liquidation price.",
    ]
    body = table(rows, ["(MMR, cum) used", "LP", "Q × LP", "tier", "true MB − MM there"], align="lrrrr")
    tail = [
        f"liquidation_price(..., brackets=BracketTable.load('BTCUSDT')) = {price(right.lp_library)}; "
        f"Account report: {price(reported)}",
        f"at {price(right.lp)}: margin balance {usdt(right.balance_at_lp)} = maintenance margin "
        f"{usdt(right.mm_at_lp)} (tier {right.tier})",
        f"entry tier's answer: {wrong - right.lp:+.2f} USDT from the right one (too late); "
        f"cum left out: {no - right.lp:+.2f} USDT (too early)",
    ]
    return "\n".join([*head, body, *tail])


# --------------------------------------------------------------------------------- bankruptcy
def bankruptcy_gap() -> str:
    """The article's long: liquidation price, bankruptcy price, and the margin balance left at the
    trigger (it equals the maintenance margin there, ``Q × (LP − BP)`` for a long).

    >>> print(bankruptcy_gap().splitlines()[1])
    bankruptcy price  (MB = 0):  90,000.00
    """
    d = derive()
    bp = float(bankruptcy_price(_POSITION.side, _Q, ENTRY, _WB))
    return "\n".join(
        [
            f"liquidation price (MB = MM): {price(d.lp)}",
            f"bankruptcy price  (MB = 0):  {price(bp)}",
            f"gap: {price(d.lp - bp)} per BTC × {_Q:g} BTC = {usdt(_Q * (d.lp - bp))} "
            f"= the maintenance margin at LP ({usdt(d.mm_at_lp)})",
        ]
    )


def liquidation_event(move: float = -0.0965) -> str:
    """Mark the article's long (exchange tiers) past its liquidation price with
    :meth:`Account.mark` and print the events: the position is closed at the mark, and the
    margin balance left is taken, so the course loses the whole isolated wallet.

    >>> liquidation_event().splitlines()[0]
    'mark 90,350.00: liquidation, -96.50 USDT (closed by liquidation; PnL realised at the mark)'
    """
    acct = ISOLATED_EXAMPLE.build_account(tiers="exchange")
    mark = ENTRY * (1.0 + v.scalar(v.number, "move", move, low=-1.0, low_open=True))
    events = acct.mark({SYMBOL: mark})
    if not events:
        return f"mark {price(mark)}: still open"
    return "\n".join(
        [
            *(f"mark {price(mark)}: {e.kind}, {usdt(e.amount)} ({e.note})" for e in events),
            f"lost in all: {usdt(-sum(e.amount for e in events))}; "
            f"wallet left: {usdt(acct.report().wallet_balance)}",
        ]
    )


# --------------------------------------------------------------------------------- mark vs last
def _wick_run(series: tuple[float, ...]) -> tuple[list[str], float]:
    """Mark the article's long minute by minute with ``series``; return the status per minute and
    the price that liquidated it (nan if none)."""
    acct = ISOLATED_EXAMPLE.build_account(tiers="exchange")
    status, hit = [], math.nan
    for p in series:
        if not acct.has_position(SYMBOL):
            status.append("gone")
            continue
        if acct.mark({SYMBOL: p}):
            status.append("LIQUIDATED")
            hit = p
        else:
            status.append("open")
    return status, hit


def wick_table() -> str:
    """The illustrative series :data:`WICK_LAST` and :data:`WICK_MARK` against the article's
    long (liquidation price from the BTCUSDT tiers), and what :meth:`Account.mark` does when fed
    the mark series (what the exchange uses) or, wrongly, the last prices.

    >>> [c.strip() for c in wick_table().splitlines()[8].split("|")]
    ['5', '89,600.00', '91,650.00', 'below', 'open', 'LIQUIDATED']
    """
    lp = derive().lp
    by_mark, _ = _wick_run(WICK_MARK)
    by_last, _ = _wick_run(WICK_LAST)
    rows = [
        [str(i), price(last), price(mark), "below" if last < lp else "above", a, b]
        for i, (last, mark, a, b) in enumerate(zip(WICK_LAST, WICK_MARK, by_mark, by_last, strict=True))
    ]
    head = f"liquidation price {price(lp)} (illustrative prices)"
    body = table(
        rows, ["minute", "last", "mark", "last vs LP", "fed the mark", "fed the last"], align="rrrlll"
    )
    return "\n".join([head, body])


def plot_wick() -> Figure:
    """The two illustrative series against the liquidation price (dashed, labelled)."""
    lp = derive().lp
    fig, ax = new_figure()
    minutes = np.arange(len(WICK_LAST))
    ax.plot(minutes, WICK_LAST, color=COLORS["other"], marker="o", linewidth=1.5, label="last price")
    ax.plot(minutes, WICK_MARK, color=COLORS["balance"], linewidth=2.2, label="mark price")
    ax.axhline(lp, color=COLORS["liquidation"], linestyle="--", linewidth=1.4)
    ax.annotate(
        f"liquidation {price(lp, 0)}",
        xy=(0.0, lp),
        xytext=(0, -12),
        textcoords="offset points",
        fontsize=8.5,
    )
    low = int(np.argmin(WICK_LAST))
    ax.annotate(
        "last-price wick:\nno liquidation",
        xy=(low, WICK_LAST[low]),
        xytext=(30, 28),
        textcoords="offset points",
        fontsize=8.5,
        arrowprops={"arrowstyle": "->"},
    )
    ax.set_xlabel("minute (illustrative series)")
    ax.set_ylabel("BTC price (USDT)")
    ax.set_title("Only the mark price liquidates: a one-minute wick of the last price does not")
    ax.legend(loc="upper right")
    ax.yaxis.set_major_formatter("{x:,.0f}")
    return fig


# --------------------------------------------------------------------------------- widget
_MODES = ("isolated", "cross")
_SIDES = ("long", "short")


@dataclass(frozen=True)
class _Ticket:
    side: str
    quantity: float
    entry: float
    leverage: float
    wallet: float
    mode: str
    other_mm: float
    other_upnl: float
    entry_tier: Bracket


def _ticket(
    side: str,
    size: float,
    entry: float,
    leverage: float,
    wallet: float,
    mode: str,
    other_mm: float,
    other_upnl: float,
) -> _Ticket:
    s = v.choice("side", side, _SIDES)
    n = v.scalar(v.positive, "size", size)
    ep = v.scalar(v.positive, "entry", entry)
    tier = btc_table().check_leverage(n, leverage)
    wb = v.scalar(v.nonnegative, "wallet", wallet)
    m = v.choice("mode", mode, _MODES)
    omm = v.scalar(v.nonnegative, "other_mm", other_mm)
    oup = v.scalar(v.number, "other_upnl", other_upnl)
    if m == "isolated" and (omm != 0 or oup != 0):
        omm = oup = 0.0  # other positions do not touch an isolated wallet
    if wb == 0:
        wb = n / float(leverage)
    if wb - omm + oup <= 0:
        raise InvalidInputError(
            f"the other positions' maintenance margin and loss must leave money behind this one; got "
            f"wallet {wb:,.2f} − {omm:,.2f} + ({oup:,.2f}) = {wb - omm + oup:,.2f} USDT: the account "
            "is already being liquidated"
        )
    return _Ticket(s, n / ep, ep, float(leverage), wb, m, omm, oup, tier)


def view(
    side: str = _POSITION.side,
    size: float = _POSITION.notional,
    entry: float = ENTRY,
    leverage: float = _POSITION.leverage,
    wallet: float = 0.0,
    mode: str = "isolated",
    other_mm: float = 0.0,
    other_upnl: float = 0.0,
) -> str:
    """A position ticket → liquidation and bankruptcy prices with the BTCUSDT tiers.

    ``size`` is the notional in USDT at ``entry``; ``wallet`` is the money behind the position
    (the isolated wallet, or the cross wallet), 0 meaning "just the initial margin
    ``size / leverage``". In cross mode ``other_mm`` and ``other_upnl`` are the other cross
    positions' maintenance margin and unrealized PnL (USDT); isolated mode ignores them.

    >>> print(view().splitlines()[-2])
    Liquidation price: 90,361.45 (-9.639 % from the entry), tier 1 (MMR 0.400 %, cum 0.00 USDT).
    """
    t = _ticket(side, size, entry, leverage, wallet, mode, other_mm, other_upnl)
    d = derive(
        t.side,
        t.quantity,
        t.entry,
        t.wallet,
        other_maintenance_margin=t.other_mm,
        other_unrealized_pnl=t.other_upnl,
    )
    bp = float(bankruptcy_price(t.side, t.quantity, t.entry, d.wallet))
    lines = [
        f"{t.mode.capitalize()} {t.leverage:g}x {t.side}: {usdt(t.quantity * t.entry, 0)} = "
        f"{t.quantity:g} BTC at {price(t.entry)}; tier {t.entry_tier.bracket} at the entry "
        f"(max {t.entry_tier.max_leverage:g}x).",
    ]
    if t.mode == "cross":
        lines.append(
            f"Money behind it: WB' = cross wallet {usdt(t.wallet)} − other MM {usdt(t.other_mm)} "
            f"+ other UPNL {usdt(t.other_upnl)} = {usdt(d.wallet)}."
        )
    else:
        lines.append(f"Money behind it: the isolated wallet, {usdt(d.wallet)}.")
    if math.isnan(d.lp_library):
        lines.append("Liquidation price: none (--): the money behind it covers every possible loss.")
    else:
        lines.append(
            f"Liquidation price: {price(d.lp_library)} ({pct(d.lp_library / t.entry - 1)} from the entry), "
            f"tier {d.tier} (MMR {pct(d.mmr)}, cum {usdt(d.cum)})."
        )
    if math.isnan(bp):
        lines.append("Bankruptcy price: none (--).")
    else:
        lines.append(f"Bankruptcy price: {price(bp)} ({pct(bp / t.entry - 1)} from the entry).")
    return "\n".join(lines)


def plot(
    side: str = _POSITION.side,
    size: float = _POSITION.notional,
    entry: float = ENTRY,
    leverage: float = _POSITION.leverage,
    wallet: float = 0.0,
    mode: str = "isolated",
    other_mm: float = 0.0,
    other_upnl: float = 0.0,
) -> Figure:
    """Margin balance against the mark price for the ticket (:func:`view`'s inputs), with the
    liquidation (dashed) and bankruptcy (dotted) prices, by :func:`plots.plot_margin_balance`."""
    t = _ticket(side, size, entry, leverage, wallet, mode, other_mm, other_upnl)
    tbl = btc_table()
    lp = float(
        liquidation_price(
            t.side,
            t.quantity,
            t.entry,
            t.wallet,
            brackets=tbl,
            other_maintenance_margin=t.other_mm,
            other_unrealized_pnl=t.other_upnl,
        )
    )
    wb = t.wallet - t.other_mm + t.other_upnl
    bp = t.entry - (1 if t.side == "long" else -1) * wb / t.quantity
    ends = [p for p in (lp, bp) if math.isfinite(p) and p > 0]
    low = min([0.9 * t.entry, *(0.97 * p for p in ends)])
    high = max([1.1 * t.entry, *(1.03 * p for p in ends)])
    # symmetric about the entry and rounded, so a small change or a flip of side keeps the frame
    half = max(t.entry - low, high - t.entry)
    low, high = stable_limits(max(t.entry - half, 0.01 * t.entry), t.entry + half, parts=4)
    low = max(low, 0.01 * t.entry)
    where = "none" if math.isnan(lp) else price(lp, 0)
    return plot_margin_balance(
        t.side,
        t.quantity,
        t.entry,
        t.wallet,
        brackets=tbl,
        other_maintenance_margin=t.other_mm,
        other_unrealized_pnl=t.other_upnl,
        price_range=(low, high),
        title=f"{t.mode.capitalize()} {t.side}: balance meets the maintenance margin at {where}",
    )


def widget():
    """The position ticket: side, size, entry, leverage, wallet, mode, other cross positions."""
    controls = {
        "side": choice_buttons(list(_SIDES), _POSITION.side, "side"),
        "size": money_box(_POSITION.notional, "size (USDT)"),
        "entry": money_box(ENTRY, "entry price (USDT)"),
        "leverage": leverage_slider(_POSITION.leverage, max=150),
        "wallet": money_box(0.0, "wallet (USDT, 0 = IM)"),
        "mode": choice_buttons(list(_MODES), "isolated", "margin mode"),
        "other_mm": money_box(0.0, "other cross MM (USDT)"),
        "other_upnl": money_box(0.0, "other cross UPNL (USDT)"),
    }
    return build_widget(controls, view, plot, height="600px", title="Liquidation price of a position ticket")


# --------------------------------------------------------------------------------- exercises
#: Exercise inputs: a 10x isolated long of 4 BTC at :data:`ENTRY`; a cross long of 0.5 BTC.
EXERCISE_LONG = {"quantity": 4.0, "leverage": 10.0}
EXERCISE_CROSS = {"quantity": 0.5, "cross_wallet": 10_000.0, "other_mm": 150.0, "other_upnl": -2_000.0}


def _ex_lp() -> float:
    q = EXERCISE_LONG["quantity"]
    wb = q * ENTRY / EXERCISE_LONG["leverage"]
    return float(liquidation_price("long", q, ENTRY, wb, brackets=btc_table()))


def _ex_bp() -> float:
    q = EXERCISE_LONG["quantity"]
    return float(bankruptcy_price("long", q, ENTRY, q * ENTRY / EXERCISE_LONG["leverage"]))


def _ex_cross() -> float:
    c = EXERCISE_CROSS
    return float(
        liquidation_price(
            "long",
            c["quantity"],
            ENTRY,
            c["cross_wallet"],
            brackets=btc_table(),
            other_maintenance_margin=c["other_mm"],
            other_unrealized_pnl=c["other_upnl"],
        )
    )


EXERCISES = {
    "6a": Exercise(
        "6a",
        "A 10x isolated long of 4 BTC at 100,000 USDT, BTCUSDT tiers: its liquidation price (USDT)?",
        _ex_lp,
        unit="USDT",
        hint="The notional puts it in tier 2 (0.5 %, cum 300) at the entry and still at the "
        "liquidation price; use the long's formula with the isolated wallet = initial margin.",
        rel_tol=1e-5,
    ),
    "6b": Exercise(
        "6b",
        "The bankruptcy price of the same long (USDT)?",
        _ex_bp,
        unit="USDT",
        hint="Where the margin balance is zero: the entry minus the wallet per BTC.",
        rel_tol=1e-5,
    ),
    "6c": Exercise(
        "6c",
        "A cross long of 0.5 BTC at 100,000 USDT; cross wallet 10,000 USDT; the other cross "
        "positions have 150 USDT of maintenance margin and -2,000 USDT of unrealized PnL. Its "
        "liquidation price (USDT)?",
        _ex_cross,
        unit="USDT",
        hint="First WB' = wallet − other MM + other UPNL, then the long's formula with tier 1.",
        rel_tol=1e-5,
    ),
}
