"""Replay many price paths through an account at once, vectorised over paths and steps.

The account's positions are held as they are (no orders, no funding during the path); each
step is a new mark for every symbol. The rules are those of :meth:`Account.mark
<margin_lib.account.Account.mark>`: an isolated position is liquidated at the first step where
its margin balance falls to its maintenance margin and loses its isolated wallet; the cross
positions are liquidated together at the first step where the cross margin balance falls to the
cross maintenance margin, and the cross wallet is lost. Isolated and cross outcomes are
independent of each other, which is what lets the whole computation be a few array operations.

Paths are processed in chunks of rows so memory stays bounded (10,000 paths × 1,440 steps of
two symbols take about 230 MB as input and a few MB of working space).

>>> import numpy as np
>>> from margin_lib.account import Account
>>> acct = Account(1_000, fee_rate=0)
>>> acct.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=10)
>>> r = acct.replay({"BTCUSDT": np.array([[99_000, 95_000, 90_000, 91_000]])})
>>> int(r.liquidation_step["BTCUSDT long"][0]), float(r.final_equity[0])
(2, 900.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _validate as v
from .errors import InvalidInputError

if TYPE_CHECKING:
    from .account import Account

__all__ = ["ReplayResult", "replay"]

_TARGET_ELEMENTS = 262_144  # elements per symbol in one chunk (about 2 MB: fits in cache)


@dataclass(frozen=True)
class ReplayResult:
    """Outcome of :func:`replay` for ``n_paths`` paths of ``n_steps`` steps.

    - ``liquidation_step``: for each position (keyed ``"BTCUSDT long"``), an int array
      ``(n_paths,)`` with the step at which it was liquidated, ``-1`` if never. Cross positions
      carry the cross liquidation step.
    - ``cross_liquidation_step``: ``(n_paths,)``, ``-1`` if never or if nothing is in cross.
    - ``final_equity``: ``(n_paths,)`` USDT at the last step, liquidated margin removed.
    - ``initial_equity``: USDT before the first step.
    """

    n_paths: int
    n_steps: int
    initial_equity: float
    final_equity: np.ndarray
    liquidation_step: dict[str, np.ndarray]
    cross_liquidation_step: np.ndarray

    @property
    def pnl(self) -> np.ndarray:
        """Final minus initial equity, per path (USDT)."""
        return self.final_equity - self.initial_equity

    @property
    def any_liquidation(self) -> np.ndarray:
        """Per path: was anything liquidated?"""
        steps = np.stack(list(self.liquidation_step.values())) if self.liquidation_step else None
        if steps is None:
            return np.zeros(self.n_paths, dtype=bool)
        return (steps >= 0).any(axis=0)

    def liquidated_by(self, step: int) -> dict[str, np.ndarray]:
        """Per position, a boolean array: liquidated at or before ``step``?"""
        return {k: (s >= 0) & (s <= step) for k, s in self.liquidation_step.items()}


def replay(account: Account, paths: Mapping[str, Any], *, chunk_size: int | None = None) -> ReplayResult:
    """Replay mark-price paths through ``account`` without changing it.

    ``paths`` maps each symbol with an open position to an array of marks (USDT), shape
    ``(n_steps,)`` for one path or ``(n_paths, n_steps)``; all symbols must agree in shape
    (a 1-D path broadcasts against 2-D ones). ``chunk_size`` is the number of paths processed
    at once (by default about 262,000 elements per symbol, a couple of MB).
    """
    from .account import Account  # here, not at the top: account imports this module's caller

    if not isinstance(account, Account):
        raise InvalidInputError(f"account must be an Account; got {account!r:.60}")
    positions = account.positions
    arrays = _check_paths(paths)
    needed = sorted({p.symbol for p in positions})
    missing = [s for s in needed if s not in arrays]
    if missing:
        raise InvalidInputError(f"paths must include every symbol with an open position; missing {missing}")
    try:
        n_paths, n_steps = np.broadcast_shapes(*(a.shape for a in arrays.values()))
    except ValueError:
        shapes = {s: a.shape for s, a in arrays.items()}
        raise InvalidInputError(
            f"paths must have matching shapes (n_paths, n_steps), or one path of n_steps; got {shapes}"
        ) from None
    if n_paths == 0:
        raise InvalidInputError("paths must hold at least one path; got 0 rows")
    if chunk_size is None:
        chunk_size = max(1, _TARGET_ELEMENTS // n_steps)
    elif isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise InvalidInputError(f"chunk_size must be a whole number >= 1; got {chunk_size!r}")
    chunk_size = int(chunk_size)

    report = account.report()
    cross_wallet = report.cross_wallet_balance
    iso = [p for p in positions if p.margin_mode == "isolated"]
    cross = [p for p in positions if p.margin_mode == "cross"]
    label = {id(p): f"{p.symbol} {p.side_name}" for p in positions}
    steps = {label[id(p)]: np.full(n_paths, -1, dtype=np.int64) for p in positions}
    cross_step = np.full(n_paths, -1, dtype=np.int64)
    final = np.empty(n_paths)
    tables = {p.symbol: account.brackets(p.symbol) for p in positions}

    for start in range(0, n_paths, chunk_size):
        stop = min(start + chunk_size, n_paths)
        rows = slice(start, stop)
        marks = {s: np.broadcast_to(a, (n_paths, n_steps))[rows] for s, a in arrays.items()}
        equity = np.zeros(stop - start)
        for p in iso:
            price = marks[p.symbol]
            upnl = p.side * p.quantity * (price - p.entry_price)
            mm = tables[p.symbol].maintenance_margin_curve(p.quantity * price)
            hit_step = _first_true(p.isolated_wallet + upnl <= mm)
            steps[label[id(p)]][rows] = hit_step
            equity += np.where(hit_step >= 0, 0.0, p.isolated_wallet + upnl[:, -1])
        if cross:
            balance = np.full((stop - start, n_steps), cross_wallet)
            for p in cross:
                price = marks[p.symbol]
                balance += p.side * p.quantity * (price - p.entry_price)
                balance -= tables[p.symbol].maintenance_margin_curve(p.quantity * price)
            hit_step = _first_true(balance <= 0)
            cross_step[rows] = hit_step
            for p in cross:
                steps[label[id(p)]][rows] = hit_step
            last_upnl = sum(p.side * p.quantity * (marks[p.symbol][:, -1] - p.entry_price) for p in cross)
            equity += np.where(hit_step >= 0, 0.0, cross_wallet + last_upnl)
        else:
            equity += cross_wallet
        final[rows] = equity

    return ReplayResult(
        n_paths=n_paths,
        n_steps=n_steps,
        initial_equity=report.equity,
        final_equity=final,
        liquidation_step=steps,
        cross_liquidation_step=cross_step,
    )


def _check_paths(paths: Any) -> dict[str, np.ndarray]:
    """Each symbol's marks as a 2-D float array (paths, steps), checked."""
    if not isinstance(paths, Mapping) or not paths:
        raise InvalidInputError(
            f"paths must be a non-empty dict of symbol -> array of marks; got {paths!r:.60}"
        )
    arrays: dict[str, np.ndarray] = {}
    for key, arr in paths.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidInputError(f"paths keys must be symbols such as 'BTCUSDT'; got {key!r}")
        sym = key.strip().upper()
        if sym in arrays:
            raise InvalidInputError(f"paths names {sym} twice (symbols are not case-sensitive)")
        name = f"paths[{key!r}]"
        try:
            a = np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            raise InvalidInputError(
                f"{name} must be an array of prices, shape (n_steps,) or (n_paths, n_steps); "
                f"got {type(arr).__name__} that is not a rectangular array of numbers"
            ) from None
        if a.ndim == 1:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] == 0:
            raise InvalidInputError(
                f"{name} must have shape (n_steps,) or (n_paths, n_steps) with n_steps >= 1; "
                f"got shape {np.shape(arr)}"
            )
        if a.size:
            v.positive(name, a)  # finite and > 0, naming the first bad value and its index
        arrays[sym] = a
    return arrays


def _first_true(mask: np.ndarray) -> np.ndarray:
    """Index of the first True in each row, -1 where a row has none."""
    hit = mask.any(axis=1)
    return np.where(hit, mask.argmax(axis=1), -1)
