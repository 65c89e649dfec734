"""Load the exchange's public kline (candlestick) CSV files, so real history can be replayed.

The exchange publishes one CSV per symbol, interval and day or month. Each row is one candle::

    open_time, open, high, low, close, volume, close_time, quote_volume, count,
    taker_buy_volume, taker_buy_quote_volume, ignore

Newer files start with that header line, older ones have none; times are milliseconds (some
newer files use microseconds) since 1970-01-01 UTC. Nothing here downloads anything: download a
file yourself and pass its path.

Candles are **last-trade** prices. Liquidation is triggered by the **mark** price, which follows
an index of several exchanges and moves less in a wick, so a replay on klines is a slightly
pessimistic stand-in for the mark.

>>> import io
>>> text = "1700000000000,100,110,95,105,3,1700000059999,0,0,0,0,0\\n"
>>> k = load_klines(io.StringIO(text))
>>> k.close.tolist(), str(k.open_time[0])
([105.0], '2023-11-14T22:13:20.000')
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from .errors import InvalidInputError

__all__ = ["Klines", "load_klines", "KLINE_COLUMNS"]

KLINE_COLUMNS = (
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
    "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)  # fmt: skip


@dataclass(frozen=True)
class Klines:
    """Candles as arrays: ``open_time`` (``datetime64[ms]``), ``open``, ``high``, ``low``,
    ``close`` (USDT) and ``volume`` (coins), oldest first."""

    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray

    def __len__(self) -> int:
        return len(self.close)

    def windows(self, steps: int, *, field: str = "close") -> np.ndarray:
        """Cut one field into consecutive windows of ``steps`` candles, shape
        ``(n_windows, steps)``, each rescaled to start at 1.0 — ready to multiply by an entry
        price and replay (the last incomplete window is dropped).

        >>> k = Klines(*(np.arange(1.0, 7.0) for _ in range(6)))
        >>> k.windows(2, field="open").round(3).tolist()
        [[1.0, 2.0], [1.0, 1.333], [1.0, 1.2]]
        """
        if field not in ("open", "high", "low", "close"):
            raise InvalidInputError(f"field must be one of 'open', 'high', 'low', 'close'; got {field!r}")
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= len(self):
            raise InvalidInputError(f"steps must be a whole number from 1 to {len(self)}; got {steps!r}")
        values = getattr(self, field)
        n = len(values) // steps
        block = values[: n * steps].reshape(n, steps)
        return block / block[:, :1]


def load_klines(source: str | Path | IO[str]) -> Klines:
    """Read a kline CSV (a path or an open text file) into :class:`Klines`.

    Refuses, naming the line: a row with the wrong number of columns (a truncated file), a
    value that is not a number, a non-positive price, a candle whose high is below its open or
    close or whose low is above them, and open times that do not increase.
    """
    name = str(source) if isinstance(source, (str, Path)) else "the kline file"
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise InvalidInputError(f"source must be an existing kline CSV file; got {str(path)!r}")
        text = path.read_text(encoding="utf-8", errors="replace")
    else:
        text = source.read()
    rows = [
        (i, r)
        for i, r in enumerate(csv.reader(io.StringIO(text)), start=1)
        if r and any(c.strip() for c in r)
    ]
    if rows and rows[0][1][0].strip().lower() == "open_time":
        rows = rows[1:]
    if not rows:
        raise InvalidInputError(f"{name} holds no candles")
    data = np.empty((len(rows), 6))
    for k, (line, row) in enumerate(rows):
        if len(row) != len(KLINE_COLUMNS):
            raise InvalidInputError(
                f"{name}, line {line}: a kline row must have {len(KLINE_COLUMNS)} columns "
                f"({', '.join(KLINE_COLUMNS[:6])}, ...); got {len(row)} (is the file truncated?)"
            )
        try:
            data[k] = [float(c) for c in row[:6]]
        except ValueError:
            raise InvalidInputError(
                f"{name}, line {line}: open_time, open, high, low, close and volume must be numbers; "
                f"got {row[:6]}"
            ) from None
    t, o, h, lo, c, vol = data.T
    _check(name, rows, ~np.isfinite(data).all(axis=1), "values must be finite")
    _check(name, rows, (data[:, 1:5] <= 0).any(axis=1), "open, high, low and close must be > 0")
    _check(
        name,
        rows,
        (h < np.maximum(o, c)) | (lo > np.minimum(o, c)) | (lo > h),
        "high must be >= open, close and low; low must be <= open and close",
    )
    if len(t) > 1:
        _check(name, rows[1:], np.diff(t) <= 0, "open_time must increase from row to row")
    # Times in microseconds (16 digits) are brought to milliseconds.
    ms = np.where(t >= 1e14, t // 1000, t).astype("int64")
    return Klines(ms.astype("datetime64[ms]"), o, h, lo, c, vol)


def _check(name: str, rows: list, bad: np.ndarray, rule: str) -> None:
    if bad.any():
        line, row = rows[int(np.argmax(bad))]
        raise InvalidInputError(f"{name}, line {line}: {rule}; got {row[:6]}")
