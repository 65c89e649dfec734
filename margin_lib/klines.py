"""Load the exchange's public kline (candlestick) CSV files, so real history can be replayed.

The exchange publishes one CSV per symbol, interval and day or month, each zipped. Each row is
one candle::

    open_time, open, high, low, close, volume, close_time, quote_volume, count,
    taker_buy_volume, taker_buy_quote_volume, ignore

Newer files start with that header line, older ones have none. Nothing here downloads anything:
download a file yourself and pass its path. :func:`load_klines` reads it as it comes:

- a ``.csv``, the exchange's ``.zip`` holding one CSV, or a gzip (``.gz``) file, told apart by
  the file's first bytes (its "magic"), not by its name; or an open file, text or binary;
- with or without a UTF-8 byte-order mark (how spreadsheet programs save "CSV UTF-8");
- times in seconds (10 digits), milliseconds (13), microseconds (16; the exchange's spot files
  since 2025) or nanoseconds (19) since 1970-01-01 UTC, told apart by their size and all
  brought to milliseconds (``datetime64[ms]``).

Candles are **last-trade** prices. Liquidation is triggered by the **mark** price, which follows
an index of several exchanges and moves less in a wick. A replay on closes hides the wicks and
is optimistic; a replay on lows (for longs) or highs (for shorts) is pessimistic, since the mark
rarely reaches the last trade's extremes.

>>> import io
>>> text = "1700000000000,100,110,95,105,3,1700000059999,0,0,0,0,0\\n"
>>> k = load_klines(io.StringIO(text))
>>> k.close.tolist(), str(k.open_time[0])
([105.0], '2023-11-14T22:13:20.000')
>>> str(load_klines(io.BytesIO(b"1700000000,100,110,95,105,3,1700000059,0,0,0,0,0")).open_time[0])
'2023-11-14T22:13:20.000'
"""

from __future__ import annotations

import csv
import io
import math
import os
import warnings
from array import array
from dataclasses import dataclass
from typing import IO, NamedTuple

import numpy as np

from ._kline_files import _blocks, _csv_reader, _Opener, _reading, _source
from .errors import InvalidInputError

__all__ = ["Klines", "Gap", "load_klines", "KLINE_COLUMNS"]

KLINE_COLUMNS = (
    "open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "count",
    "taker_buy_volume", "taker_buy_quote_volume", "ignore",
)  # fmt: skip

# Time units, told apart by size: a time from 2009 to 2100 has 10 digits in seconds, 13 in
# milliseconds, 16 in microseconds and 19 in nanoseconds. A value below 1e11 is read as seconds,
# below 1e14 as milliseconds, below 1e17 as microseconds, anything larger as nanoseconds.
_UNITS = ("seconds", "milliseconds", "microseconds", "nanoseconds")
_UNIT_CODES = ("s", "ms", "us", "ns")
_UNIT_LIMITS = np.array([10**11, 10**14, 10**17], dtype=np.int64)
_PER_SECOND = np.array([1, 10**3, 10**6, 10**9], dtype=np.int64)
_FIRST_SECOND = 1_230_768_000  # 2009-01-01 00:00 UTC
_END_SECOND = 4_102_444_800  # 2100-01-01 00:00 UTC
_DAY_MS = 86_400_000


# The fast path reads these columns with NumPy's C parser: the six of Klines, close_time, and the
# last column (so that a row with fewer than 12 columns fails there).
_FIELDS = ("open_time", "open", "high", "low", "close", "volume", "close_time")
_FAST_COLUMNS = (0, 1, 2, 3, 4, 5, 6, 11)
_FAST_DTYPE = np.dtype([(f, "i8" if f.endswith("_time") else "f8") for f in _FIELDS] + [("ignore", "f8")])


class Gap(NamedTuple):
    """A hole in a file's time grid (see ``load_klines(..., allow_gaps=True)``).

    ``before`` and ``after`` are the open times (``datetime64[ms]``) of the candles either side
    of the hole; ``missing = floor((after - before) / interval) - 1`` is how many candles of the
    file's interval would fit in it (calendar months for monthly candles). A step that is not a
    whole number of intervals (a candle off the grid) is listed too; when it is shorter than two
    intervals, ``missing`` is 0.
    """

    before: np.datetime64
    after: np.datetime64
    missing: int


@dataclass(frozen=True)
class Klines:
    """Candles as arrays: ``open_time`` (``datetime64[ms]``), ``open``, ``high``, ``low``,
    ``close`` (USDT) and ``volume`` (coins), oldest first.

    ``gaps`` lists the holes in the time grid, as :class:`Gap` tuples; it is empty unless the
    file was loaded with ``load_klines(..., allow_gaps=True)``.
    """

    open_time: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    gaps: tuple[Gap, ...] = ()

    def __len__(self) -> int:
        return len(self.close)

    def windows(self, steps: int, *, field: str = "close") -> np.ndarray:
        """Cut one field into consecutive windows of ``steps`` candles, shape
        ``(n_windows, steps)``, each divided by the **open of its first candle** (the entry
        price), ready to multiply by an entry price in USDT and replay. The last incomplete
        window is dropped.

        ``w[i, j] = field[i * steps + j] / open[i * steps]`` (a ratio, no unit). So a window of
        opens starts at exactly 1.0, and a window of lows shows the real drawdown from the entry
        (the first candle's own wick included). A window of closes (the default) starts at
        ``close / open`` of its first candle, not at exactly 1.0, unless that candle's open and
        close are equal. With gaps (``allow_gaps=True``) a window of ``steps`` candles spans
        more time than ``steps`` intervals.

        >>> k = Klines(*(np.arange(1.0, 7.0) for _ in range(6)))
        >>> k.windows(2, field="open").round(3).tolist()
        [[1.0, 2.0], [1.0, 1.333], [1.0, 1.2]]
        >>> t = np.arange(4).astype("datetime64[m]").astype("datetime64[ms]")
        >>> o, lo = np.array([100.0, 101, 90, 91]), np.array([99.0, 100, 80, 88])
        >>> c = np.array([101.0, 102, 92, 94])
        >>> k = Klines(t, o, np.maximum(o, c) + 1, lo, c, np.ones(4))
        >>> k.windows(2, field="low").round(3).tolist()  # 99/100, 100/100; 80/90, 88/90
        [[0.99, 1.0], [0.889, 0.978]]
        >>> k.windows(2).round(3).tolist()  # closes: 101/100 is the first, not 1.0
        [[1.01, 1.02], [1.022, 1.044]]
        """
        if field not in ("open", "high", "low", "close"):
            raise InvalidInputError(f"field must be one of 'open', 'high', 'low', 'close'; got {field!r}")
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 1 <= steps <= len(self):
            raise InvalidInputError(f"steps must be a whole number from 1 to {len(self)}; got {steps!r}")
        n = len(self) // steps
        block = getattr(self, field)[: n * steps].reshape(n, steps)
        entry = self.open[: n * steps : steps]
        return block / entry[:, None]


def load_klines(source: str | os.PathLike[str] | IO[str] | IO[bytes], *, allow_gaps: bool = False) -> Klines:
    """Read a kline file (a path, or a file opened in text or binary mode) into :class:`Klines`.

    ``source`` may be a plain CSV, the exchange's ``.zip`` holding one CSV, or a gzip file (told
    apart by their first bytes), with or without a header line and a UTF-8 byte-order mark.
    Times may be in seconds, milliseconds, microseconds or nanoseconds (one unit per file); they
    come back as ``datetime64[ms]``.

    Refuses, naming the line: a row with the wrong number of columns (a truncated file), a
    value that is not a number, a value that is not finite, a non-positive price, a candle whose
    high is below its open or close or whose low is above them, a negative volume, an open time
    outside 2009-2100 or in another unit than the rest of the file, a close time before its own
    open time, open times that do not increase, and a hole in the time grid. The file's interval
    is the most common step between consecutive open times (calendar months for monthly
    candles); any other step is a gap, refused unless ``allow_gaps=True``, which loads the file
    and lists the gaps in :attr:`Klines.gaps`.

    Speed and memory: the file is read in blocks of 1 MiB (decompressed as it is read) by
    NumPy's C parser (``np.loadtxt``) and checked with array operations; only when that fails is
    it read again row by row with :mod:`csv`, to name the line at fault. The result takes 48
    bytes per candle; loading a 1,000,000-row file (about 110 MB) peaks near the size of the CSV.

    >>> import io
    >>> rows = [f"{1_764_547_200 + 900 * i},100,101,99,100,1,{1_764_547_200 + 900 * i + 899},0,0,0,0,0"
    ...         for i in (0, 1, 5)]
    >>> load_klines(io.StringIO("\\n".join(rows)))
    Traceback (most recent call last):
    ...
    margin_lib.errors.InvalidInputError: the kline file, line 3: 3 candles missing between open_time \
2025-12-01T00:15:00.000 (line 2) and 2025-12-01T01:15:00.000: the file's interval is 15 minutes (the \
most common step between open times), this step is 1 hour. load_klines(..., allow_gaps=True) loads it \
anyway and lists the gaps in Klines.gaps
    >>> load_klines(io.StringIO("\\n".join(rows)), allow_gaps=True).gaps[0].missing
    3
    """
    if not isinstance(allow_gaps, (bool, np.bool_)):
        raise InvalidInputError(f"allow_gaps must be True or False; got {allow_gaps!r}")
    name, opener = _source(source)
    with _reading(name):
        with opener() as stream:
            fast = _fast_parse(stream)
        if fast is not None:
            try:
                return _checked(_Table(name, *fast, opener), bool(allow_gaps))
            except _NeedLines:
                pass  # a check failed in a file with blank lines: read again row by row, to name the line
        with opener() as stream:
            columns, lines = _slow_parse(name, stream)
        return _checked(_Table(name, columns, lines, opener), bool(allow_gaps))


def _is_header(cells: list[str] | str) -> bool:
    first = cells[0] if isinstance(cells, list) else cells.split(",", 1)[0]
    return first.strip().lower() == "open_time"


# ------------------------------------------------------------------------------- parsers
def _fast_parse(stream: IO) -> tuple[dict[str, np.ndarray], int | None] | None:
    """(the seven columns as arrays, the file line of the first candle when every later line is
    a candle too, else None), parsed block by block by ``np.loadtxt``. None when a block does
    not parse cleanly (a bad value, a row of another width, quotes, ...)."""
    parts: dict[str, list[np.ndarray]] = {f: [] for f in _FIELDS}
    first_line: int | None = 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # a block of blank lines "contained no data"
        for k, block in enumerate(_blocks(stream)):
            cr = block.count("\r")
            if cr and cr != block.count("\r\n"):
                return None  # lines ending in a lone "\r" (old Mac files): the csv reader splits them
            if k == 0:
                end = block.find("\n")
                if _is_header(block if end < 0 else block[:end]):
                    block = "" if end < 0 else block[end + 1 :]
                    first_line = 2
            try:
                rows = np.loadtxt(
                    io.StringIO(block), delimiter=",", comments=None, usecols=_FAST_COLUMNS,
                    dtype=_FAST_DTYPE, ndmin=1,
                )  # fmt: skip
            except (ValueError, OverflowError):
                return None
            # Every row parsed has at least 12 columns (column 11 was read); 11 commas per row
            # means none has more. Blank lines have no commas and no row.
            if block.count(",") != 11 * len(rows):
                return None
            if block and block.count("\n") + (not block.endswith("\n")) != len(rows):
                first_line = None  # blank lines: the line numbers are not the row numbers
            for f in _FIELDS:
                parts[f].append(rows[f].copy())
    columns = {f: np.concatenate(parts.pop(f)) if parts[f] else np.empty(0, _FAST_DTYPE[f]) for f in _FIELDS}
    return columns, first_line


def _slow_parse(name: str, stream: IO) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The seven columns and each candle's line number, row by row with :mod:`csv`; refuses a
    row of the wrong width or with a value that is not a number, naming its line."""
    cols = {f: array("q" if f.endswith("_time") else "d") for f in _FIELDS}
    lines = array("q")
    reader = _csv_reader(stream)
    seen_first = False
    for row in reader:
        if not row or not any(c.strip() for c in row):
            continue
        line = reader.line_num
        if not seen_first:
            seen_first = True
            if _is_header(row):
                continue
        if len(row) != len(KLINE_COLUMNS):
            raise InvalidInputError(
                f"{name}, line {line}: a kline row must have {len(KLINE_COLUMNS)} columns "
                f"({', '.join(KLINE_COLUMNS[:6])}, ...); got {len(row)} (is the file truncated?)"
            )
        try:
            values = [float(c) for c in row[1:6]]
            open_time = _time(name, line, "open_time", row[0])
        except InvalidInputError:
            raise
        except ValueError:
            raise InvalidInputError(
                f"{name}, line {line}: open_time, open, high, low, close and volume must be numbers; "
                f"got {row[:6]}"
            ) from None
        try:
            close_time = _time(name, line, "close_time", row[6])
        except InvalidInputError:
            raise
        except ValueError:
            raise InvalidInputError(
                f"{name}, line {line}: close_time (column 7) must be a number; got {row[6]!r}"
            ) from None
        cols["open_time"].append(open_time)
        for f, v in zip(_FIELDS[1:6], values, strict=True):
            cols[f].append(v)
        cols["close_time"].append(close_time)
        lines.append(line)
    return {f: np.array(a, dtype=_FAST_DTYPE[f]) for f, a in cols.items()}, np.array(lines, dtype=np.int64)


def _time(name: str, line: int, column: str, cell: str) -> int:
    """A time cell as a whole number (ValueError when it is not a number)."""
    try:
        value = int(cell)
    except ValueError:
        number = float(cell)  # "1.7e12" is accepted, as before
        if not math.isfinite(number):
            message = f"{name}, line {line}: values must be finite; got {column} {cell!r}"
            raise InvalidInputError(message) from None
        value = int(number)
    if not -(2**63) <= value < 2**63:
        raise InvalidInputError(
            f"{name}, line {line}: {column} {cell.strip()} is outside 2009–2100 in any unit "
            "(seconds, milliseconds, microseconds or nanoseconds since 1970-01-01 UTC)"
        )
    return value


# -------------------------------------------------------------------------------- checks
class _NeedLines(Exception):
    """A check failed on the fast path, which does not know line numbers: parse again."""


@dataclass
class _Table:
    name: str
    cols: dict[str, np.ndarray]
    lines: np.ndarray | int | None  # each candle's file line; or the first's, the rest follow; or unknown
    opener: _Opener

    def line(self, i: int) -> int:
        if self.lines is None:
            raise _NeedLines
        return i + self.lines if isinstance(self.lines, int) else int(self.lines[i])

    def row(self, line: int) -> list[str]:
        """The cells of one line, read again from the file (only to word an error)."""
        with self.opener() as stream:
            n = 0
            for block in _blocks(stream):
                lines = io.StringIO(block, newline=None).readlines()
                if n + len(lines) >= line:
                    return next(csv.reader([lines[line - n - 1]]), [])
                n += len(lines)
        return []

    def refuse(self, bad: np.ndarray, rule: str, *, offset: int = 0) -> None:
        """Raise naming the first line where ``bad`` holds, quoting its first six cells."""
        if bad.any():
            line = self.line(int(np.argmax(bad)) + offset)
            raise InvalidInputError(f"{self.name}, line {line}: {rule}; got {self.row(line)[:6]}")

    def first(self, bad: np.ndarray) -> int | None:
        """The index of the first row where ``bad`` holds, or None."""
        return int(np.argmax(bad)) if bad.any() else None


def _unit_of(times: np.ndarray) -> np.ndarray:
    """0, 1, 2, 3 for seconds, milliseconds, microseconds, nanoseconds, per value."""
    return np.searchsorted(_UNIT_LIMITS, times, side="right")


def _as_ms(times: np.ndarray, unit: int) -> np.ndarray:
    """Whole milliseconds (``int64``), rounded down, from times in one unit."""
    if unit == 0:
        return times * 1000
    return times if unit == 1 else times // (10 ** (3 * (unit - 1)))


def _checked(tab: _Table, allow_gaps: bool) -> Klines:
    """Every check of :func:`load_klines` on the parsed columns, then the Klines."""
    c = tab.cols
    t, o, h, lo, cl, vol, ct = (c[f] for f in _FIELDS)
    if len(t) == 0:
        raise InvalidInputError(f"{tab.name} holds no candles")
    tab.refuse(
        ~(np.isfinite(o) & np.isfinite(h) & np.isfinite(lo) & np.isfinite(cl) & np.isfinite(vol)),
        "values must be finite",
    )
    tab.refuse((o <= 0) | (h <= 0) | (lo <= 0) | (cl <= 0), "open, high, low and close must be > 0")
    tab.refuse(
        (h < np.maximum(o, cl)) | (lo > np.minimum(o, cl)) | (lo > h),
        "high must be >= open, close and low; low must be <= open and close",
    )
    tab.refuse(vol < 0, "volume must be >= 0")

    # The unit is the first open time's (by its size). The first open time outside 2009-2100 in
    # that unit is either in another unit (two files joined?) or out of range in any unit.
    u0 = int(_unit_of(t[0]))
    per_second = int(_PER_SECOND[u0])
    i = tab.first((t < _FIRST_SECOND * per_second) | (t >= _END_SECOND * per_second))
    if i is not None:
        u, value = int(_unit_of(t[i])), int(t[i])
        if u != u0 and _FIRST_SECOND * _PER_SECOND[u] <= value < _END_SECOND * _PER_SECOND[u]:
            raise InvalidInputError(
                f"{tab.name}, line {tab.line(i)}: open_time {value} is in {_UNITS[u]}, but the first "
                f"candle's (line {tab.line(0)}) is in {_UNITS[u0]}; a file must use one time unit "
                "throughout (were two files joined?)"
            )
        read = np.datetime64(value, _UNIT_CODES[u]).astype("datetime64[s]")
        raise InvalidInputError(
            f"{tab.name}, line {tab.line(i)}: open_time {value} is outside 2009–2100 (read as "
            f"{_UNITS[u]}, it is {read}); open times must be seconds, milliseconds, microseconds or "
            "nanoseconds since 1970-01-01 UTC, from 2009-01-01 to 2100-01-01"
        )
    low = -(2**63) if u0 == 0 else int(_UNIT_LIMITS[u0 - 1])
    high = 2**63 - 1 if u0 == 3 else int(_UNIT_LIMITS[u0])
    i = tab.first((ct < low) | (ct >= high))
    if i is not None:
        raise InvalidInputError(
            f"{tab.name}, line {tab.line(i)}: close_time {int(ct[i])} is in {_UNITS[int(_unit_of(ct[i]))]} "
            f"but open_time {int(t[i])} is in {_UNITS[u0]}; both must use the same unit"
        )
    i = tab.first(ct < t)
    if i is not None:
        raise InvalidInputError(
            f"{tab.name}, line {tab.line(i)}: close_time {int(ct[i])} is before the candle's own open_time "
            f"{int(t[i])} ({_UNITS[u0]}); a candle closes after it opens"
        )
    ms = _as_ms(t, u0)
    if len(ms) > 1:
        tab.refuse(np.diff(ms) <= 0, "open_time must increase from row to row", offset=1)
    gaps = _gaps(tab, ms, allow_gaps)
    return Klines(ms.view("datetime64[ms]"), o, h, lo, cl, vol, gaps)


def _gaps(tab: _Table, ms: np.ndarray, allow_gaps: bool) -> tuple[Gap, ...]:
    """The holes in the time grid: refused (naming the first) or, with allow_gaps, listed.

    The interval is the most common step between consecutive open times (the shortest of equally
    common ones); for monthly candles (a step of 28 to 31 days) steps are counted in calendar
    months. Any other step is a gap: ``floor(step / interval) - 1`` candles are missing.
    """
    if len(ms) < 3:
        return ()
    step = np.diff(ms)
    if (step == step[0]).all():
        return ()
    values, counts = np.unique(step, return_counts=True)
    interval = int(values[np.argmax(counts)])
    monthly = 28 * _DAY_MS <= interval <= 31 * _DAY_MS
    if monthly:
        months = ms.astype("datetime64[ms]").astype("datetime64[M]")
        at_start = months.astype("datetime64[ms]").astype(np.int64) == ms
        n_months = np.diff(months).astype(np.int64)
        irregular = (n_months != 1) | ~at_start[1:] | ~at_start[:-1]
        missing = np.maximum(n_months - 1, 0)
    else:
        irregular = step != interval
        missing = np.maximum(step // interval - 1, 0)
    where = np.flatnonzero(irregular)
    if len(where) == 0:
        return ()
    if allow_gaps:
        times = ms.astype("datetime64[ms]")
        return tuple(Gap(times[j], times[j + 1], int(missing[j])) for j in where)
    i = int(where[0]) + 1  # the candle after the first hole
    line = tab.line(i)  # on the fast path: parse again, for the line numbers
    n = int(missing[i - 1])
    if monthly:
        on_grid, interval_text = bool(at_start[i]), "1 month"
        step_text = _plural(int(n_months[i - 1]), "month")
    else:
        on_grid, interval_text = step[i - 1] % interval == 0, _duration(interval)
        step_text = _duration(int(step[i - 1]))
    if on_grid:
        what = f"{_plural(n, 'candle')} missing between"
    else:
        what = "a candle off the time grid" + (f" ({_plural(n, 'candle')} missing)" if n else "") + " between"
    more = ""
    if len(where) > 1:
        total = _plural(int(missing[where].sum()), "candle")
        more = f" The file has {len(where)} such steps, {total} missing in all."
    before, after = (str(ms[j].astype("datetime64[ms]")) for j in (i - 1, i))
    raise InvalidInputError(
        f"{tab.name}, line {line}: {what} open_time {before} (line {tab.line(i - 1)}) and {after}: "
        f"the file's interval is {interval_text} (the most common step between open times), this "
        f"step is {step_text}.{more} load_klines(..., allow_gaps=True) loads it anyway and lists the "
        "gaps in Klines.gaps"
    )


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _duration(ms: int) -> str:
    """A duration in milliseconds in words: '15 minutes', '1 hour', '2 days 3 hours'."""
    parts = []
    for size, word in ((7 * _DAY_MS, "week"), (_DAY_MS, "day"), (3_600_000, "hour"), (60_000, "minute"),
                       (1000, "second"), (1, "millisecond")):  # fmt: skip
        n, ms = divmod(ms, size)
        if n:
            parts.append(_plural(int(n), word))
    return " ".join(parts[:2]) or "0 milliseconds"
