"""The errors margin_lib raises.

Every error is a ``ValueError`` subclass, so ``except ValueError`` catches them all, and every
message names the parameter, the value given and what is allowed.

- :class:`InvalidInputError` — a function was called with a value it cannot accept
  (a negative size, a zero leverage, an unknown side, NaN, ...).
- :class:`BracketTableError` — a bracket ("position tier") table is inconsistent.
- :class:`OrderRefusedError` — an :class:`~margin_lib.account.Account` operation the exchange
  would refuse (not enough balance, leverage above the tier's maximum, switching the margin mode
  with a position open, ...). A refused operation leaves the account exactly as it was.
"""

from __future__ import annotations

__all__ = ["MarginError", "InvalidInputError", "BracketTableError", "OrderRefusedError"]


class MarginError(ValueError):
    """Base class of every error margin_lib raises."""


class InvalidInputError(MarginError):
    """A parameter has a value outside what is allowed."""


class BracketTableError(MarginError):
    """A bracket table is unsorted, overlapping, has gaps, or breaks the ``cum`` recurrence."""


class OrderRefusedError(MarginError):
    """An account operation the exchange would refuse; the account is left unchanged."""
