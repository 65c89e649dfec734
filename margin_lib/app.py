"""The margin calculator: one page, no code, for learners and for a projector (``make app``).

Two positions, BTC and ETH, each with its own size, leverage, side and margin mode, one wallet
and a price move for each coin. The page shows what the chosen set-up does after the moves next
to the same trades all in isolated mode and all in cross mode, with liquidation prices and both
ratio figures, and plots BTC's margin balance against its price. The numbers come from
:class:`~margin_lib.account.Account` with the shipped tier tables and the regular taker fee.

Every liquidation price on the page is a coin's **with the other coin already at its moved
price** (what the plot's dashed line shows; in cross mode one coin's room depends on the other).
Refused input is named as the page labels it (:data:`LABELS`). The page itself (layout, the
table as HTML) is :mod:`margin_lib.app_page`; serving it, :mod:`margin_lib.app_server`.

:func:`calculator_page` is what the served notebook shows: this two-position view as the first
tab ("Two positions"), then the exchange calculator's five tabs of
:mod:`margin_lib.calculator_tabs`, each result with its working.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any

import ipywidgets as ipw
import numpy as np
from matplotlib.figure import Figure

from . import _validate as v
from ._cache import kept
from .account import MIN_QUANTITY, Account
from .account_records import AccountReport, liquidation_losses
from .app_page import build_widget, controls_for, table_html
from .app_plot import balance_figure
from .brackets import BracketTable
from .calculator_tabs import tabs
from .errors import InvalidInputError, OrderRefusedError
from .examples import ILLUSTRATIVE_PRICES
from .fees import TAKER_FEE_RATE
from .format import pct, price, table, usdt
from .liquidation import liquidation_price

__all__ = ["Setup", "Row", "Summary", "LABELS", "DEFAULTS", "FEES", "MAX_AMOUNT", "amount", "read_values",
           "backing", "outcome", "summary", "view", "view_html", "plot", "dashboard", "CASE_TAB",
           "calculator_page"]  # fmt: skip

BTC, ETH = "BTCUSDT", "ETHUSDT"
MODES = ("isolated", "cross")
SIDES = ("long", "short")

#: The page's starting values: the article's Case A.
DEFAULTS = dict(
    wallet=1_000.0, btc_size=5_000.0, btc_leverage=10, btc_side="long", btc_mode="cross",
    eth_size=5_000.0, eth_leverage=10, eth_side="long", eth_mode="cross", fees="none",
    btc_move=-8.0, eth_move=5.0,
)  # fmt: skip
FEES = {"none": 0.0, "taker": TAKER_FEE_RATE}
#: Each control's label on the page: every message names a control by it.
LABELS = {
    "wallet": "wallet (USDT)", "fees": "trading fees",
    "btc_size": "BTC size (USDT)", "btc_leverage": "BTC leverage (x)", "btc_side": "BTC side",
    "btc_mode": "BTC mode", "btc_move": "BTC move (%)",
    "eth_size": "ETH size (USDT)", "eth_leverage": "ETH leverage (x)", "eth_side": "ETH side",
    "eth_mode": "ETH mode", "eth_move": "ETH move (%)",
}  # fmt: skip
#: The largest wallet or size the page takes, in USDT (the tiers stop below 2 billion).
MAX_AMOUNT = 10_000_000_000.0
#: The largest move, in per cent (up to eleven times the price).
MAX_MOVE = 1_000.0


@functools.cache
def _table(symbol: str) -> BracketTable:
    """The shipped tier table of ``symbol``, read once (tables are immutable)."""
    return BracketTable.load(symbol)


def amount(key: str, value: Any) -> float:
    """A wallet or a size in USDT: a number, or text as typed (``"1,000.50"``), refused in a
    sentence that names the control.

    >>> amount("wallet", " 1,000.5 ")
    1000.5
    >>> try:
    ...     amount("wallet", "abc")
    ... except ValueError as exc:
    ...     print(exc)
    wallet (USDT) must be a number of USDT, such as 1000 or 1,000.50; got 'abc'
    """
    label = LABELS[key]
    typed = value
    if isinstance(value, str):
        try:
            value = float(value.strip().replace(",", "").replace("_", "").replace(" ", ""))
        except ValueError:
            value = math.nan
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)) \
            or not math.isfinite(float(value)):  # fmt: skip
        raise InvalidInputError(f"{label} must be a number of USDT, such as 1000 or 1,000.50; got {typed!r}")
    x = float(value)
    if x <= 0:
        raise InvalidInputError(f"{label} must be more than 0 USDT; got {typed!r}")
    if x > MAX_AMOUNT:
        raise InvalidInputError(f"{label} must be at most {MAX_AMOUNT:,.0f} USDT; got {typed!r}")
    return x


def _number(key: str, value: Any, *, low: float, high: float, low_open: bool = False) -> float:
    """A slider's value (a leverage, a move), refused in a sentence that names the control.

    >>> _number("btc_move", -100, low=-100, high=1000, low_open=True)
    Traceback (most recent call last):
    ...
    margin_lib.errors.InvalidInputError: BTC move (%) must be more than -100; got -100
    """
    label = LABELS[key]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.number)) \
            or not math.isfinite(float(value)):  # fmt: skip
        raise InvalidInputError(f"{label} must be a number; got {value!r}")
    x = float(value)
    if x < low or (low_open and x == low):
        least = "more than" if low_open else "at least"
        raise InvalidInputError(f"{label} must be {least} {low:g}; got {x:g}")
    if x > high:
        raise InvalidInputError(f"{label} must be at most {high:g}; got {x:g}")
    return x


@dataclass(frozen=True)
class Setup:
    """The two positions (sizes in USDT at entry), checked; build one with :func:`read_values`."""

    wallet: float
    btc_size: float
    btc_leverage: float
    btc_side: str
    btc_mode: str
    eth_size: float
    eth_leverage: float
    eth_side: str
    eth_mode: str
    fees: str = "none"

    def account(self, modes: tuple[str, str] | None = None) -> Account:
        """Open both positions at the illustrative prices, in ``modes`` (BTC's, ETH's) or the set-up's."""
        modes = modes or (self.btc_mode, self.eth_mode)
        acct = Account(self.wallet, brackets={s: _table(s) for s in (BTC, ETH)}, fee_rate=FEES[self.fees])
        for (sym, size, lev, side), mode in zip(self._positions(), modes, strict=True):
            acct.set_margin_mode(sym, mode)
            acct.open_position(sym, side, notional=size, price=ILLUSTRATIVE_PRICES[sym], leverage=lev)
        return acct

    def _positions(self) -> tuple[tuple[str, float, float, str], ...]:
        return ((BTC, self.btc_size, self.btc_leverage, self.btc_side),
                (ETH, self.eth_size, self.eth_leverage, self.eth_side))  # fmt: skip


def _position(coin: str, values: dict[str, Any]) -> tuple[float, float]:
    """One coin's size and leverage, checked against the exchange's minimum and its tiers."""
    sym, key = f"{coin}USDT", coin.lower()
    size = amount(f"{key}_size", values[f"{key}_size"])
    least = MIN_QUANTITY[sym] * ILLUSTRATIVE_PRICES[sym]
    if size < least:
        at = f"{MIN_QUANTITY[sym]:g} {coin} at {ILLUSTRATIVE_PRICES[sym]:,.0f}"
        raise InvalidInputError(f"{LABELS[key + '_size']} must be at least {least:,.0f} USDT ({at}, the "
                                f"exchange's smallest position); got {size:,.2f}")  # fmt: skip
    lev = _number(f"{key}_leverage", values[f"{key}_leverage"], low=1.0, high=1_000.0)
    top = _table(sym).brackets[-1].notional_cap
    if size >= top:
        raise InvalidInputError(f"{LABELS[key + '_size']} must be below {top:,.0f} USDT, the top of {coin}'s "
                                f"tier table; got {size:,.0f}")  # fmt: skip
    most = float(_table(sym).max_leverage(size))
    if lev > most:
        raise InvalidInputError(f"{LABELS[key + '_leverage']} must be at most {most:g}x for a {size:,.0f} "
                                f"USDT {coin} position (the exchange's tier rule); got {lev:g}x")  # fmt: skip
    return size, lev


def read_values(values: dict[str, Any]) -> tuple[Setup, tuple[float, float]]:
    """The page's values checked and read: the set-up and the two moves (fractions). Refused
    values raise an :class:`~margin_lib.errors.InvalidInputError` or
    :class:`~margin_lib.errors.OrderRefusedError` that names the control to change."""
    wallet = amount("wallet", values["wallet"])
    fees = v.choice(LABELS["fees"], values["fees"], tuple(FEES))
    (btc_size, btc_lev), (eth_size, eth_lev) = _position("BTC", values), _position("ETH", values)
    sides = [v.choice(LABELS[f"{c}_side"], values[f"{c}_side"], SIDES) for c in ("btc", "eth")]
    modes = [v.choice(LABELS[f"{c}_mode"], values[f"{c}_mode"], MODES) for c in ("btc", "eth")]
    moves = tuple(_number(f"{c}_move", values[f"{c}_move"], low=-100.0, high=MAX_MOVE, low_open=True) / 100
                  for c in ("btc", "eth"))  # fmt: skip
    needed = btc_size / btc_lev + eth_size / eth_lev + (btc_size + eth_size) * FEES[fees]
    if needed > wallet * (1 + 1e-12):
        what = "initial margin and taker fees" if FEES[fees] else "initial margin"
        raise OrderRefusedError(f"The {LABELS['wallet']} of {usdt(wallet)} cannot pay both positions' {what} "
                                f"({usdt(needed)}): raise {LABELS['wallet']} to at least {needed:,.2f}, "
                                "lower a size, or raise a leverage.")  # fmt: skip
    setup = Setup(wallet, btc_size, btc_lev, sides[0], modes[0], eth_size, eth_lev, sides[1], modes[1], fees)
    return setup, (moves[0], moves[1])


def _moved(moves: tuple[float, float]) -> dict[str, float]:
    return {BTC: ILLUSTRATIVE_PRICES[BTC] * (1 + moves[0]), ETH: ILLUSTRATIVE_PRICES[ETH] * (1 + moves[1])}


def backing(report: AccountReport, symbol: str, other_price: float) -> tuple[float, float, float]:
    """What backs ``symbol``'s position in ``report`` (at entry), with the other coin marked at
    ``other_price``: the wallet (its isolated wallet, or the cross wallet), the other cross
    positions' maintenance margin and their unrealised PnL at that price (0 and 0 for an
    isolated position), the terms of :func:`~margin_lib.liquidation.liquidation_price`."""
    pos = report.position(symbol)
    if pos.margin_mode == "isolated":
        return pos.isolated_wallet, 0.0, 0.0
    others = [p for p in report.positions if p.symbol != symbol and p.margin_mode == "cross"]
    mm = sum(float(_table(p.symbol).maintenance_margin_curve(np.float64(p.quantity * other_price)))
             for p in others)  # fmt: skip
    upnl = sum((1 if p.side == "long" else -1) * p.quantity * (other_price - p.entry_price) for p in others)
    return report.cross_wallet_balance, mm, upnl


def _liquidation_price(report: AccountReport, symbol: str, other_price: float) -> float:
    """``symbol``'s liquidation price with the other coin at ``other_price`` (nan: none)."""
    pos = report.position(symbol)
    wallet, mm, upnl = backing(report, symbol, other_price)
    return float(liquidation_price(pos.side, pos.quantity, pos.entry_price, wallet, brackets=_table(symbol),
                                   other_maintenance_margin=mm, other_unrealized_pnl=upnl))  # fmt: skip


@kept(maxsize=16)
def outcome(setup: Setup, moves: tuple[float, float], modes: tuple[str, str] | None = None) -> dict[str, Any]:
    """Liquidation prices (each coin's with the other coin moved), and after both moves: equity,
    the coins liquidated, what the liquidations took, and the exchange's cross margin ratio; for
    the plot, BTC's position at entry, what backs it with ETH moved, and whether it still stands.
    (Kept: a set-up whose modes are all isolated or all cross is worked out once. Callers must not
    change the result.)"""
    acct = setup.account(modes)
    marks = _moved(moves)
    r = acct.report()
    after = acct.copy()
    events = after.mark(marks)
    now = after.report()
    return {
        "btc_lp": _liquidation_price(r, BTC, marks[ETH]), "eth_lp": _liquidation_price(r, ETH, marks[BTC]),
        "equity": now.equity, "losses": liquidation_losses(events),
        "liquidated": sorted({e.symbol[:3] for e in events if e.kind == "liquidation" and e.symbol}),
        "lost": -sum(e.amount for e in events), "margin_ratio": now.margin_ratio,
        "btc": r.position(BTC), "btc_backing": backing(r, BTC, marks[ETH]),
        "btc_open": after.has_position(BTC),
    }  # fmt: skip


@dataclass(frozen=True)
class Row:
    """One line of the page's table, formatted."""

    label: str
    cells: tuple[str, ...]


@dataclass(frozen=True)
class Summary:
    """What one state of the page shows: the checked set-up, the moves (fractions), the table's
    rows, and the chosen set-up's :func:`outcome` (for the plot)."""

    setup: Setup
    moves: tuple[float, float]
    rows: tuple[Row, ...]
    mine: dict[str, Any]


#: The table's columns after the row label ({b}/{e}: the other coin's move).
COLUMNS = ("BTC liq. price (ETH {e})", "ETH liq. price (BTC {b})", "equity after", "liquidated", "lost",
           "margin ratio")  # fmt: skip
ROWS = (("your set-up", None), ("all isolated", ("isolated", "isolated")), ("all cross", ("cross", "cross")))


def _cells(o: dict[str, Any]) -> tuple[str, ...]:
    lps = (price(o[k]) if math.isfinite(o[k]) else "none" for k in ("btc_lp", "eth_lp"))
    return (*lps, usdt(o["equity"]), ", ".join(o["liquidated"]) or "nothing", usdt(o["lost"]),
            pct(o["margin_ratio"], 2) if o["margin_ratio"] else "--")  # fmt: skip


@kept(maxsize=4)
def summary(**values: Any) -> Summary:
    """The page's state for ``values`` (kept: the text, the HTML and the plot of one change read
    it once)."""
    s, moves = read_values(values)
    outcomes = [outcome(s, moves, modes or (s.btc_mode, s.eth_mode)) for _, modes in ROWS]
    rows = tuple(Row(label, _cells(o)) for (label, _), o in zip(ROWS, outcomes, strict=True))
    return Summary(s, moves, rows, outcomes[0])


def headline(s: Setup, moves: tuple[float, float]) -> str:
    """The set-up in words (two lines)."""
    return (f"Wallet {usdt(s.wallet)}; BTC {s.btc_side} {s.btc_size:,.0f} USDT at {s.btc_leverage:g}x "
            f"({s.btc_mode}),\nETH {s.eth_side} {s.eth_size:,.0f} USDT at {s.eth_leverage:g}x "
            f"({s.eth_mode}); fees: {s.fees}; BTC {moves[0] * 100:+.1f} %, "
            f"ETH {moves[1] * 100:+.1f} %")  # fmt: skip


def headers(moves: tuple[float, float]) -> list[str]:
    """The table's column names, the other coin's move in each liquidation price's."""
    b, e = (f"{m * 100:+.1f} %" for m in moves)
    return [c.format(b=b, e=e) for c in COLUMNS]


#: Under the table: what each figure means.
NOTE = ("Each liquidation price is the coin's with the other coin already at its moved price (the plot's "
        "dashed line);\nthe margin ratio is the exchange's cross figure after the moves "
        "(liquidation at 100 %).")  # fmt: skip


def view(**values: Any) -> str:
    """The page's text: the chosen set-up beside all-isolated and all-cross, after the moves.

    >>> print(view(**DEFAULTS).splitlines()[1])
    ETH long 5,000 USDT at 10x (cross); fees: none; BTC -8.0 %, ETH +5.0 %
    """
    m = summary(**values)
    body = table([[r.label, *r.cells] for r in m.rows], ["", *headers(m.moves)], align="l")
    return headline(m.setup, m.moves) + "\n\n" + body + "\n" + NOTE


def view_html(**values: Any) -> str:
    """The same as :func:`view`, as HTML (a table that turns into one card per row on a phone)."""
    m = summary(**values)
    rows = [[r.label, *r.cells] for r in m.rows]
    return table_html(headline(m.setup, m.moves), ["", *headers(m.moves)], rows, NOTE)


def plot(**values: Any) -> Figure:
    """BTC's margin balance and maintenance margin against its price, in the chosen set-up, with ETH
    already at its moved price (in cross mode BTC's room depends on it), and where BTC stands now:
    on the line, or, once liquidated, closed with nothing left (what the table counts as lost)."""
    m = summary(**values)
    o, btc = m.mine, m.mine["btc"]
    losses = o["losses"]
    lost = None if o["btc_open"] else losses.get(f"{BTC} {btc.side}", losses.get("cross", 0.0))
    mark = _moved(m.moves)[BTC]
    return balance_figure(btc, *o["btc_backing"], _table(BTC), mark=mark, moves=m.moves, lost=lost)


def dashboard(title: str = "Margin calculator (educational material, not trading advice)") -> ipw.Widget:
    """The two-position view: ``title``, controls for both positions and the moves, the table and
    the plot (the first tab of :func:`calculator_page`)."""
    controls = controls_for(DEFAULTS, LABELS, fees=list(FEES), modes=list(MODES), sides=list(SIDES))
    columns = [
        ["wallet", "btc_size", "btc_leverage", "btc_side", "btc_mode", "btc_move"],
        ["fees", "eth_size", "eth_leverage", "eth_side", "eth_mode", "eth_move"],
    ]  # the wallet and the fees on top, then the same rows for each coin
    return build_widget(controls, view, plot, html=view_html, title=title, columns=columns)


#: The first tab's title: the article's Case A, two positions sharing one wallet.
CASE_TAB = "Two positions"


def calculator_page(lesson_base: str | None = None) -> ipw.Tab:
    """The whole calculator page: the two-position view (:func:`dashboard`) in the first tab, then
    the exchange calculator's five tabs (:func:`margin_lib.calculator_tabs.tabs`), each result
    with its working. ``lesson_base`` is as for ``tabs``: ``None`` (the Voilà page, where the
    lessons are not served) names each lesson's file instead of linking it.

    >>> page = calculator_page()
    >>> [page.get_title(i) for i in range(len(page.children))][:3]
    ['Two positions', 'PnL and ROE', 'Target price']
    """
    case = dashboard("Two positions, one wallet (educational material, not trading advice)")
    page = tabs(lesson_base, before=[(CASE_TAB, case)])
    page.case = case
    return page

