"""margin_lib: margin on USDⓈ-M perpetual futures, computed the exchange's way.

Educational material, not trading advice.

The pure functions take floats or NumPy arrays and return the same shape; the
:class:`~margin_lib.account.Account` holds state (a wallet and its positions). Money is USDT,
rates are fractions. Modules: ``margin`` (initial/maintenance margin, PnL, ratios),
``brackets`` (position tiers), ``liquidation`` (liquidation and bankruptcy prices), ``fees``
(trading fees, funding), ``account`` (the account model), ``replay`` (price paths) and
``examples`` (the article's worked examples, as data).
"""

from .brackets import Bracket, BracketTable
from .errors import BracketTableError, InvalidInputError, MarginError, OrderRefusedError
from .fees import MAKER_FEE_RATE, TAKER_FEE_RATE, funding_payment, trading_fee
from .liquidation import (
    bankruptcy_price,
    hedge_liquidation_price,
    hedge_liquidation_prices,
    liquidation_price,
)
from .margin import (
    MaxOpen,
    account_margin_level,
    adverse_move_to_liquidation,
    average_entry_price,
    effective_leverage,
    error_tolerance,
    initial_margin,
    maintenance_margin,
    margin_ratio,
    max_open_quantity,
    notional,
    return_on_equity,
    target_price,
    target_price_for_pnl,
    unrealized_pnl,
)

__all__ = [
    "Bracket",
    "BracketTable",
    "BracketTableError",
    "InvalidInputError",
    "MarginError",
    "OrderRefusedError",
    "MaxOpen",
    "MAKER_FEE_RATE",
    "TAKER_FEE_RATE",
    "account_margin_level",
    "adverse_move_to_liquidation",
    "average_entry_price",
    "bankruptcy_price",
    "effective_leverage",
    "error_tolerance",
    "funding_payment",
    "hedge_liquidation_price",
    "hedge_liquidation_prices",
    "initial_margin",
    "liquidation_price",
    "maintenance_margin",
    "margin_ratio",
    "max_open_quantity",
    "notional",
    "return_on_equity",
    "target_price",
    "target_price_for_pnl",
    "trading_fee",
    "unrealized_pnl",
]
__version__ = "0.1.0"
