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

__all__ = ["usdt", "price", "pct", "percent", "money", "table"]


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


def percent(x: float, digits: int = 3) -> str:
    """A fraction as a percentage with only the decimals it needs (at most ``digits``).

    >>> percent(0.1), percent(0.095), percent(0.095477), percent(-0.08), percent(1 / 150)
    ('10 %', '9.5 %', '9.548 %', '-8 %', '0.667 %')
    """
    text = f"{float(x) * 100:,.{digits}f}".rstrip("0").rstrip(".")
    return f"{'0' if text in ('-0', '') else text} %"


def money(x: float) -> str:
    """An amount in USDT with cents, or with four significant digits below one USDT.

    >>> money(100), money(6.6667e-5), money(0.01)
    ('100.00 USDT', '0.00006667 USDT', '0.01 USDT')
    """
    digits = 2 if abs(x) >= 1 or x == 0 else max(2, 3 - math.floor(math.log10(abs(x))))
    whole, _, cents = f"{x:,.{digits}f}".partition(".")
    return f"{whole}.{cents[:2] + cents[2:].rstrip('0')} USDT"


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
