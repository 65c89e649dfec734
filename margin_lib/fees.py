"""Trading fees and funding payments (the course's rule book, ``docs/margin-rules.md``, section 9).

Both are charged on the position's **notional**, not on its margin, and neither depends on the
margin mode.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from . import _validate as v

__all__ = [
    "MAKER_FEE_RATE",
    "TAKER_FEE_RATE",
    "trading_fee",
    "funding_payment",
    "FUNDING_INTERVAL_HOURS",
    "MAX_FEE_RATE",
    "MAX_FUNDING_RATE",
]

#: The exchange's regular fee rates (accounts with a VIP level or a discount pay less).
MAKER_FEE_RATE = 0.0002
TAKER_FEE_RATE = 0.0005
#: Default time between funding settlements, in hours (some symbols use 4 h or 1 h).
FUNDING_INTERVAL_HOURS = 8.0

#: Largest fee rate and funding rate (per interval, either sign) the functions accept.
MAX_FEE_RATE = 0.01
MAX_FUNDING_RATE = 0.05


@v.broadcasting()
def trading_fee(notional: ArrayLike, rate: ArrayLike) -> ArrayLike:
    """Fee for one fill: ``notional × rate`` in USDT, charged on opening and again on closing.

    ``rate`` is a fraction between 0 and 0.01 (0.0005 = 0.05 %, the regular taker rate).

    >>> round(trading_fee(10_104, 0.0005), 10)    # buy 1 BTC at 10,104 as taker
    5.052
    """
    n = v.positive("notional", notional)
    r = v.number("rate", rate, low=0.0, high=MAX_FEE_RATE)
    return v.result(n * r, notional, rate)


@v.broadcasting()
def funding_payment(
    side: ArrayLike, quantity: ArrayLike, mark_price: ArrayLike, rate: ArrayLike
) -> ArrayLike:
    """Cash flow of one funding settlement: ``−s × Q × P × rate`` in USDT (negative = paid).

    With a positive rate longs pay and shorts receive; with a negative rate the reverse.
    ``rate`` is the funding rate of the interval as a fraction between −0.05 and 0.05.

    >>> funding_payment("long", 1.0, 100_000, 0.0001)
    -10.0
    """
    s = v.side("side", side)
    q = v.positive("quantity", quantity)
    p = v.positive("mark_price", mark_price)
    r = v.number("rate", rate, low=-MAX_FUNDING_RATE, high=MAX_FUNDING_RATE)
    with np.errstate(over="ignore"):
        out = -s * q * p * r
    v.overflow("the funding payment quantity × mark_price × rate", out, quantity=q, mark_price=p, rate=r)
    return v.result(out, side, quantity, mark_price, rate)
