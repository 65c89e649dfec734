"""The margin calculator: one page, no code, for learners and for a projector (``make app``).

Two positions, BTC and ETH, each with its own size, leverage, side and margin mode, one wallet
and a price move for each coin. The page shows what the chosen set-up does after the moves next
to the same trades all in isolated mode and all in cross mode, with liquidation prices and both
ratio figures, and plots BTC's margin balance against its price. The numbers come from
:class:`~margin_lib.account.Account` with the shipped tier tables and the regular taker fee.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import ipywidgets as ipw
from matplotlib.figure import Figure

from . import _validate as v
from .account import Account
from .brackets import BracketTable
from .examples import ILLUSTRATIVE_PRICES
from .fees import TAKER_FEE_RATE
from .format import pct, price, table, usdt
from .plots import plot_margin_balance
from .widgets import build_widget, choice_buttons, leverage_slider, money_box, move_slider

__all__ = ["Setup", "outcome", "view", "plot", "dashboard", "DEFAULTS", "FEES"]

BTC, ETH = "BTCUSDT", "ETHUSDT"
MODES = ("isolated", "cross")

#: The page's starting values: the article's Case A.
DEFAULTS = dict(
    wallet=1_000.0, btc_size=5_000.0, btc_leverage=10, btc_side="long", btc_mode="cross",
    eth_size=5_000.0, eth_leverage=10, eth_side="long", eth_mode="cross", fees="none",
    btc_move=-8.0, eth_move=5.0,
)  # fmt: skip
FEES = {"none": 0.0, "taker": TAKER_FEE_RATE}


@functools.cache
def _table(symbol: str) -> BracketTable:
    """The shipped tier table of ``symbol``, read once (tables are immutable; each change of the
    page opens four accounts, which would otherwise read both tables again)."""
    return BracketTable.load(symbol)


@dataclass(frozen=True)
class Setup:
    """The two positions (sizes in USDT at entry, moves in per cent)."""

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
        """Open both positions at the illustrative prices (refused orders raise, unchanged)."""
        btc_mode, eth_mode = modes or (self.btc_mode, self.eth_mode)
        fee_rate = FEES[v.choice("fees", self.fees, tuple(FEES))]
        wallet = v.scalar(v.positive, "wallet", self.wallet)
        acct = Account(wallet, brackets={s: _table(s) for s in (BTC, ETH)}, fee_rate=fee_rate)
        for sym, size, lev, side, mode in (
            (BTC, self.btc_size, self.btc_leverage, self.btc_side, btc_mode),
            (ETH, self.eth_size, self.eth_leverage, self.eth_side, eth_mode),
        ):
            name = sym[:3].lower()
            n = v.scalar(v.positive, f"{name}_size", size)
            acct.brackets(sym).check_leverage(n, lev)
            acct.set_margin_mode(sym, v.choice(f"{name}_mode", mode, MODES))
            acct.open_position(sym, v.side_scalar(f"{name}_side", side), notional=n,
                               price=ILLUSTRATIVE_PRICES[sym], leverage=lev)  # fmt: skip
        return acct


def outcome(setup: Setup, btc_move: float, eth_move: float, modes: tuple[str, str] | None = None) -> dict:
    """Liquidation prices before the moves, and equity / liquidations / loss after them."""
    b = v.scalar(v.number, "btc_move", btc_move, low=-100.0, low_open=True) / 100
    e = v.scalar(v.number, "eth_move", eth_move, low=-100.0, low_open=True) / 100
    acct = setup.account(modes)
    before = acct.report()
    lps = {p.symbol: p.liquidation_price for p in before.positions}
    events = acct.mark({BTC: ILLUSTRATIVE_PRICES[BTC] * (1 + b), ETH: ILLUSTRATIVE_PRICES[ETH] * (1 + e)})
    after = acct.report()
    return {
        "btc_lp": lps[BTC],
        "eth_lp": lps[ETH],
        "equity_before": before.equity,
        "equity": after.equity,
        "liquidated": sorted({ev.symbol[:3] for ev in events if ev.kind == "liquidation" and ev.symbol}),
        "lost": -sum(ev.amount for ev in events),
        "margin_ratio": after.margin_ratio,
    }


def view(**values) -> str:
    """The page's text: the chosen set-up beside all-isolated and all-cross, after the moves.

    >>> print(view(**DEFAULTS).splitlines()[1])
    ETH long 5,000 USDT at 10x (cross); fees: none; BTC -8.0 %, ETH +5.0 %
    """
    s, moves = _split(values)
    rows = []
    for label, modes in (("your set-up", None), ("all isolated", ("isolated", "isolated")),
                         ("all cross", ("cross", "cross"))):  # fmt: skip
        o = outcome(s, *moves, modes=modes)
        rows.append([label, price(o["btc_lp"]), price(o["eth_lp"]), usdt(o["equity"]),
                     ", ".join(o["liquidated"]) or "nothing", usdt(o["lost"]),
                     pct(o["margin_ratio"], 2) if o["margin_ratio"] else "--"])  # fmt: skip
    head = (f"Wallet {usdt(s.wallet)}; BTC {s.btc_side} {s.btc_size:,.0f} USDT at {s.btc_leverage:g}x "
            f"({s.btc_mode}),\nETH {s.eth_side} {s.eth_size:,.0f} USDT at {s.eth_leverage:g}x "
            f"({s.eth_mode}); "
            f"fees: {s.fees}; BTC {moves[0]:+.1f} %, ETH {moves[1]:+.1f} %")  # fmt: skip
    headers = ["", "BTC liq. price", "ETH liq. price", "equity after", "liquidated", "lost", "margin ratio"]
    note = ("\nLiquidation prices are before the moves (a cross price holds while the other coin stays "
            "put);\nthe margin ratio is the exchange's cross figure after the moves "
            "(liquidation at 100 %).")  # fmt: skip
    return head + "\n\n" + table(rows, headers, align="l") + note


def plot(**values) -> Figure:
    """BTC's margin balance and maintenance margin against its price, in the chosen set-up, with ETH
    already at its moved price (in cross mode BTC's room depends on it)."""
    s, moves = _split(values)
    acct = s.account()
    eth_mark = ILLUSTRATIVE_PRICES[ETH] * (
        1 + v.scalar(v.number, "eth_move", moves[1], low=-100.0, low_open=True) / 100
    )
    moved = acct.copy()
    moved.mark({ETH: eth_mark})  # BTC's cross room depends on where ETH now stands
    if moved.has_position(BTC):
        acct = moved
    r = acct.report()
    btc = r.position(BTC)
    mark = ILLUSTRATIVE_PRICES[BTC] * (1 + moves[0] / 100)
    if btc.margin_mode == "isolated":
        wallet, other_mm, other_upnl = btc.isolated_wallet, 0.0, 0.0
    else:
        others = [p for p in r.positions if p.symbol != BTC and p.margin_mode == "cross"]
        wallet = r.cross_wallet_balance
        other_mm = sum(p.maintenance_margin for p in others)
        other_upnl = sum(p.unrealized_pnl for p in others)
    lo, hi = sorted((ILLUSTRATIVE_PRICES[BTC] * 0.6, ILLUSTRATIVE_PRICES[BTC] * 1.4))
    return plot_margin_balance(
        btc.side, btc.quantity, btc.entry_price, wallet, brackets=acct.brackets(BTC),
        other_maintenance_margin=other_mm, other_unrealized_pnl=other_upnl,
        price_range=(min(lo, mark * 0.95), max(hi, mark * 1.05)), mark=mark,
        title=f"BTC {btc.side} in {btc.margin_mode} mode, ETH at {moves[1]:+.1f} %: where the balance meets "
        "the maintenance line",
    )  # fmt: skip


def _split(values: dict) -> tuple[Setup, tuple[float, float]]:
    fields = {k: values[k] for k in Setup.__dataclass_fields__}
    return Setup(**fields), (values["btc_move"], values["eth_move"])


def dashboard() -> ipw.Widget:
    """The calculator page: controls for both positions and the moves, the table and the plot."""
    d = DEFAULTS
    controls = {
        "wallet": money_box(d["wallet"], "wallet (USDT)"),
        "btc_size": money_box(d["btc_size"], "BTC size (USDT)"),
        "btc_leverage": leverage_slider(d["btc_leverage"], max=150, description="BTC leverage (x)"),
        "btc_side": choice_buttons(["long", "short"], d["btc_side"], "BTC side"),
        "btc_mode": choice_buttons(list(MODES), d["btc_mode"], "BTC mode"),
        "eth_size": money_box(d["eth_size"], "ETH size (USDT)"),
        "eth_leverage": leverage_slider(d["eth_leverage"], max=150, description="ETH leverage (x)"),
        "eth_side": choice_buttons(["long", "short"], d["eth_side"], "ETH side"),
        "eth_mode": choice_buttons(list(MODES), d["eth_mode"], "ETH mode"),
        "fees": choice_buttons(list(FEES), d["fees"], "trading fees"),
        "btc_move": move_slider(d["btc_move"], low=-60, high=60, description="BTC move (%)"),
        "eth_move": move_slider(d["eth_move"], low=-60, high=60, description="ETH move (%)"),
    }
    title = "Margin calculator (educational material, not trading advice)"
    columns = [
        ["wallet", "btc_size", "btc_leverage", "btc_side", "btc_mode", "btc_move"],
        ["fees", "eth_size", "eth_leverage", "eth_side", "eth_mode", "eth_move"],
    ]  # the wallet and the fees on top, then the same rows for each coin
    return build_widget(controls, view, plot, height="760px", title=title, columns=columns)
