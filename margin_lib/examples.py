"""The source article's worked examples, and the exchange FAQ's cross example, stored once as
data for the lessons, the calculator and the tests.

Each example keeps the inputs the article gives and, separately, the figures the article
**states** (``stated``), so a test can hold the engine's result against the article's own
number and a lesson can print both. Where the article leaves something out, the choice made
here is written next to it:

- **Prices.** The article sizes positions in USDT and moves prices in per cent; it names no
  price. :data:`ILLUSTRATIVE_PRICES` supplies round entry prices. No outcome in per cent or in
  USDT depends on them.
- **Fees.** The article ignores trading fees; the example accounts are built with
  ``fee_rate=0``. (With the regular 0.05 % taker fee, Case A's second order would be refused:
  the 1,000 USDT wallet cannot pay 1,000 of initial margin plus 5 of fees.)
- **Maintenance rates.** The article's table ties the MMR to the leverage (0.5 % at 10x).
  ``tiers="article"`` reproduces that; ``tiers="exchange"`` uses the shipped tier snapshot, in
  which a position of a few thousand USDT pays 0.4 %.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import _validate as v
from .account import Account
from .brackets import BracketTable
from .errors import InvalidInputError
from .fees import MAKER_FEE_RATE, TAKER_FEE_RATE

__all__ = [
    "InitialMarginExample",
    "INITIAL_MARGIN_EXAMPLES",
    "LeverageRow",
    "LEVERAGE_TABLE",
    "article_mmr",
    "article_table",
    "ILLUSTRATIVE_PRICES",
    "PositionSpec",
    "Scenario",
    "ISOLATED_EXAMPLE",
    "CROSS_EXAMPLE",
    "CASE_A",
    "CASE_B",
    "ARTICLE_FEE_RATES",
    "CLOSING_ADVICE",
    "FaqPosition",
    "FAQ_CROSS_WALLET",
    "FAQ_CROSS_EXAMPLE",
]


@dataclass(frozen=True)
class InitialMarginExample:
    """Position size (USDT) and leverage in, the margin the article states (USDT)."""

    notional: float
    leverage: float
    stated_margin: float


#: "Margin = position size / leverage", the article's three examples.
INITIAL_MARGIN_EXAMPLES = (
    InitialMarginExample(1_000, 10, 100),
    InitialMarginExample(5_000, 5, 1_000),
    InitialMarginExample(100, 20, 5),
)


@dataclass(frozen=True)
class LeverageRow:
    """A row of the article's simplified table; rates are fractions as the article prints them."""

    leverage: float
    stated_imr: float
    stated_mmr: float
    stated_tolerance: float


#: The article's leverage / IMR / MMR / "error tolerance" table. A teaching simplification: the
#: exchange ties the MMR to the notional (see :mod:`margin_lib.brackets`), not to the leverage.
LEVERAGE_TABLE = (
    LeverageRow(5, 0.20, 0.005, 0.195),
    LeverageRow(10, 0.10, 0.005, 0.095),
    LeverageRow(20, 0.05, 0.005, 0.045),
    LeverageRow(50, 0.02, 0.005, 0.015),
    LeverageRow(100, 0.01, 0.005, 0.005),
    LeverageRow(125, 0.008, 0.004, 0.004),
)


def article_mmr(leverage: float) -> float:
    """The MMR the article's table gives for ``leverage`` (0.5 % up to 100x, 0.4 % at 125x).

    >>> article_mmr(10)
    0.005
    """
    lev = v.scalar(v.leverage, "leverage", leverage)
    if lev > 125:
        raise v.InvalidInputError(f"leverage must be at most 125 in the article's table; got {lev:g}")
    return 0.004 if lev > 100 else 0.005


def article_table(leverage: float) -> BracketTable:
    """A one-tier table with the article's MMR for ``leverage`` (its maximum leverage: 125x at
    0.4 %, else 100x)."""
    rate = article_mmr(leverage)
    return BracketTable.flat(rate, 125 if rate == 0.004 else 100)


#: Entry prices for the examples (the article names none; no result depends on them).
ILLUSTRATIVE_PRICES = {"BTCUSDT": 100_000.0, "ETHUSDT": 4_000.0}

#: The fee rates the article's FAQ quotes (the exchange's regular maker and taker rates).
ARTICLE_FEE_RATES = {"maker": MAKER_FEE_RATE, "taker": TAKER_FEE_RATE}

#: The article's closing advice for beginners.
CLOSING_ADVICE = {"margin_mode": "isolated", "leverage": 5, "stop_loss": True}


@dataclass(frozen=True)
class PositionSpec:
    """One position of an example: notional in USDT, side, leverage, margin mode."""

    symbol: str
    side: str
    notional: float
    leverage: float
    margin_mode: str


@dataclass(frozen=True)
class Scenario:
    """A wallet, its positions, the price moves (fractions: −0.08 = an 8 % fall) and the figures
    the article states."""

    name: str
    wallet: float
    positions: tuple[PositionSpec, ...]
    moves: dict[str, float] = field(default_factory=dict)
    stated: dict[str, Any] = field(default_factory=dict)

    def build_account(self, *, tiers: str = "article", fee_rate: float = 0.0) -> Account:
        """An :class:`~margin_lib.account.Account` holding the example's positions, opened at
        :data:`ILLUSTRATIVE_PRICES`.

        ``tiers="article"`` uses the article's MMR for each position's leverage,
        ``"exchange"`` the shipped tier snapshots. ``fee_rate`` defaults to 0, as in the article.
        """
        choice = v.choice("tiers", tiers, ("article", "exchange"))
        brackets = (
            {p.symbol: article_table(p.leverage) for p in self.positions} if choice == "article" else None
        )
        acct = Account(self.wallet, brackets=brackets, fee_rate=fee_rate)
        for p in self.positions:
            acct.set_margin_mode(p.symbol, p.margin_mode)
            acct.open_position(
                p.symbol,
                p.side,
                notional=p.notional,
                price=ILLUSTRATIVE_PRICES[p.symbol],
                leverage=p.leverage,
            )
        return acct

    def marks(self, moves: dict[str, float] | None = None) -> dict[str, float]:
        """Mark prices after ``moves`` (default: the example's own moves)."""
        moves = self.moves if moves is None else moves
        if not isinstance(moves, Mapping):
            raise InvalidInputError(f"moves must be a dict of symbol -> price move; got {moves!r:.60}")
        unknown = [s for s in moves if s not in ILLUSTRATIVE_PRICES]
        if unknown:
            raise InvalidInputError(
                f"moves must name the example's symbols ({', '.join(ILLUSTRATIVE_PRICES)}); got "
                f"{unknown[0]!r}, which has no price in the examples"
            )
        return {
            sym: ILLUSTRATIVE_PRICES[sym]
            * (1.0 + v.scalar(v.number, f"moves[{sym!r}]", m, low=-1.0, low_open=True))
            for sym, m in moves.items()
        }


#: 1,000 USDT wallet; an isolated 10x BTC long of 1,000 USDT locks 100 and leaves 900 free.
ISOLATED_EXAMPLE = Scenario(
    name="Isolated: one 10x BTC long in a 1,000 USDT wallet",
    wallet=1_000,
    positions=(PositionSpec("BTCUSDT", "long", 1_000, 10, "isolated"),),
    stated={"initial_margin": 100, "free": 900, "loss_if_liquidated": 100},
)

#: The same trade in cross mode: 100 of initial margin, but the whole 1,000 backs it.
CROSS_EXAMPLE = Scenario(
    name="Cross: one 10x BTC long in a 1,000 USDT wallet",
    wallet=1_000,
    positions=(PositionSpec("BTCUSDT", "long", 1_000, 10, "cross"),),
    stated={"initial_margin": 100, "pool": 1_000, "loss_if_liquidated": 1_000},
)

#: Case A: two cross 10x longs of 5,000 USDT; BTC falls 8 %, ETH rises 5 %.
CASE_A = Scenario(
    name="Case A: cross + cross",
    wallet=1_000,
    positions=(
        PositionSpec("BTCUSDT", "long", 5_000, 10, "cross"),
        PositionSpec("ETHUSDT", "long", 5_000, 10, "cross"),
    ),
    moves={"BTCUSDT": -0.08, "ETHUSDT": 0.05},
    stated={
        "initial_margin_each": 500,
        "btc_pnl": -400,
        "eth_pnl": 250,
        "net_pnl": -150,
        "equity": 850,
        "liquidated": False,
    },
)

#: Case B: two isolated 10x longs of 1,000 USDT; the same moves.
CASE_B = Scenario(
    name="Case B: isolated + isolated",
    wallet=1_000,
    positions=(
        PositionSpec("BTCUSDT", "long", 1_000, 10, "isolated"),
        PositionSpec("ETHUSDT", "long", 1_000, 10, "isolated"),
    ),
    moves={"BTCUSDT": -0.08, "ETHUSDT": 0.05},
    stated={
        "initial_margin_each": 100,
        "btc_pnl": -80,
        "btc_left": 20,
        "eth_pnl": 50,
        # The article gives no figure here: BTC, near liquidation after its 8 % drop, is liquidated
        # if it drops slightly further. Stored as the move it must go beyond (a fraction).
        "btc_liquidated_beyond_move": -0.08,
        "loss_if_btc_liquidated": 100,
    },
)


@dataclass(frozen=True)
class FaqPosition:
    """One long of the exchange FAQ's cross-margin example: its size (coins) and entry (USDT),
    the tier's maintenance rate (a fraction) and amount ``cum`` (USDT) as the FAQ gives them, the
    other position's maintenance margin and unrealised PnL (USDT), and the liquidation price the
    FAQ states (USDT, to the cent)."""

    symbol: str
    quantity: float
    entry_price: float
    mmr: float
    maintenance_amount: float
    other_maintenance_margin: float
    other_unrealized_pnl: float
    stated_liquidation_price: float


#: The cross wallet balance of the FAQ's example (USDT), behind both positions.
FAQ_CROSS_WALLET = 1_535_443.01
#: Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts", the cross example:
#: an ETH long and a BTC long sharing :data:`FAQ_CROSS_WALLET`, on the 2021 tiers it quotes.
FAQ_CROSS_EXAMPLE = {
    "ETH": FaqPosition(
        "ETHUSDT", quantity=3_683.979, entry_price=1_456.84, mmr=0.10, maintenance_amount=135_365,
        other_maintenance_margin=71_200.81144, other_unrealized_pnl=-56_354.57,
        stated_liquidation_price=1_153.26,
    ),
    "BTC": FaqPosition(
        "BTCUSDT", quantity=109.488, entry_price=32_481.98, mmr=0.025, maintenance_amount=16_300,
        other_maintenance_margin=356_512.508, other_unrealized_pnl=-448_192.89,
        stated_liquidation_price=26_316.89,
    ),
}
