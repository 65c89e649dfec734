"""Formatting numbers for the lessons: money, prices, percentages and small text tables.

A missing price (``nan``, the exchange's "--") prints as ``--``.

>>> usdt(1234.5)
'1,234.50 USDT'
>>> usdt(-1e-9)
'0.00 USDT'
>>> pct(0.095477)
'9.548 %'
>>> price(float("nan"))
'--'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

__all__ = ["usdt", "price", "pct", "table"]


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def usdt(x: float, digits: int = 2) -> str:
    """Money: ``1,234.50 USDT``."""
    if _missing(x):
        return "--"
    value = float(x)
    if abs(value) < 0.5 * 10.0**-digits:  # no "-0.00" from a rounding residue
        value = 0.0
    return f"{value:,.{digits}f} USDT"


def price(x: float, digits: int = 2) -> str:
    """A price in USDT without the unit: ``90,452.26`` (``--`` where none exists)."""
    return "--" if _missing(x) else f"{float(x):,.{digits}f}"


def pct(x: float, digits: int = 3) -> str:
    """A fraction as a percentage: ``0.095477`` → ``9.548 %``."""
    return "--" if _missing(x) else f"{float(x) * 100:,.{digits}f} %"


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], *, align: str = "") -> str:
    """A plain monospace table; numbers should already be formatted strings.

    ``align`` gives one letter per column, ``l`` or ``r`` (default: all right-aligned, which
    suits numbers); ``align="lrr"`` left-aligns a first column of labels.

    >>> print(table([["5x", "20 %"]], ["leverage", "IMR"]))
    leverage | IMR
    -------- | ----
          5x | 20 %
    >>> print(table([["IMR", "20 %"]], ["rate", "5x"], align="lr"))
    rate | 5x
    ---- | ----
    IMR  | 20 %
    """
    cells = [[str(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    head = " | ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))
    rule = " | ".join("-" * w for w in widths)
    sides = (align or "r" * len(headers)).ljust(len(headers), "r")
    if set(sides) - {"l", "r"}:
        raise ValueError(f"align must hold only 'l' and 'r'; got {align!r}")

    def fit(cell: str, width: int, side: str) -> str:
        return cell.ljust(width) if side == "l" else cell.rjust(width)

    body = [
        " | ".join(fit(c, w, a) for c, w, a in zip(r, widths, sides, strict=True)).rstrip() for r in cells
    ]
    return "\n".join([head.rstrip(), rule, *body])
