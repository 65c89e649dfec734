"""The kline CSV loader, on small files the tests write in the exchange's format."""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from margin_lib import InvalidInputError, _kline_files
from margin_lib.klines import KLINE_COLUMNS, Gap, Klines, load_klines

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_klines.py"

T0 = 1_764_547_200_000  # 2025-12-01 00:00 UTC in milliseconds
MINUTE = 60_000


def candle(i: int, o: float, h: float, lo: float, c: float, *, unit: int = 1) -> str:
    t = (T0 + i * MINUTE) * unit
    return f"{t},{o},{h},{lo},{c},12.5,{t + MINUTE * unit - 1},1000,42,6,500,0"


def write(tmp_path, lines, *, header=True, name="BTCUSDT-1m-2025-12-01.csv"):
    path = tmp_path / name
    path.write_text("\n".join(([",".join(KLINE_COLUMNS)] if header else []) + lines) + "\n")
    return path


CANDLES = [candle(0, 100, 101, 99, 100.5), candle(1, 100.5, 102, 100, 101), candle(2, 101, 101, 97, 98)]


@pytest.mark.parametrize("header", [True, False])
def test_reads_the_exchange_format_with_or_without_header(tmp_path, header):
    k = load_klines(write(tmp_path, CANDLES, header=header))
    assert len(k) == 3
    assert k.close.tolist() == [100.5, 101.0, 98.0]
    assert k.low.tolist() == [99.0, 100.0, 97.0]
    assert str(k.open_time[0]) == "2025-12-01T00:00:00.000"
    assert np.diff(k.open_time).astype(int).tolist() == [MINUTE, MINUTE]


def test_microsecond_times_are_read_as_such(tmp_path):
    k = load_klines(write(tmp_path, [candle(i, 100, 100, 100, 100, unit=1000) for i in range(2)]))
    assert str(k.open_time[1]) == "2025-12-01T00:01:00.000"


def test_windows_rescale_to_one_for_replay(tmp_path):
    rows = [candle(i, p, p, p, p) for i, p in enumerate([100, 110, 99, 200, 100, 50, 7])]
    w = load_klines(write(tmp_path, rows)).windows(3)
    assert w.shape == (2, 3)
    np.testing.assert_allclose(w, [[1.0, 1.1, 0.99], [1.0, 0.5, 0.25]])  # open == close: starts at 1.0
    # open != close, low: every field is divided by the window's first open (the entry price),
    # so closes start at close / open and lows show the wick below the entry.
    wicks = [candle(0, 100, 104, 96, 102), candle(1, 102, 103, 98, 99), candle(2, 99, 100, 90, 95)]
    k = load_klines(write(tmp_path, wicks, name="wicks.csv"))
    np.testing.assert_allclose(k.windows(3, field="low"), [[0.96, 0.98, 0.90]])
    np.testing.assert_allclose(k.windows(3), [[1.02, 0.99, 0.95]])
    np.testing.assert_allclose(k.windows(3, field="open"), [[1.0, 1.02, 0.99]])
    with pytest.raises(InvalidInputError, match="steps must be a whole number from 1 to 7; got 8"):
        load_klines(write(tmp_path, rows)).windows(8)
    with pytest.raises(InvalidInputError, match="field must be one of"):
        load_klines(write(tmp_path, rows)).windows(2, field="volume")


@pytest.mark.parametrize(
    "lines, words",
    [
        (CANDLES[:2] + [CANDLES[2][:25]], "line 4: a kline row must have 12 columns"),  # truncated last row
        (
            [CANDLES[0], CANDLES[1].replace("102", "abc")],
            "line 3: open_time, open, high, low, close and volume",
        ),
        ([candle(0, 100, 99, 98, 100)], "line 2: high must be >= open, close and low"),
        ([candle(0, 100, 101, 100.5, 100)], "line 2: high must be >= open, close and low; low must be <="),
        ([candle(0, -1, 101, -2, 100)], "line 2: open, high, low and close must be > 0"),
        ([candle(0, 100, 101, 99, 100), candle(0, 100, 101, 99, 100)], "line 3: open_time must increase"),
        ([CANDLES[0].replace("101", "nan")], "line 2: values must be finite"),
        ([], "holds no candles"),
    ],
)
def test_wrong_or_truncated_files_are_refused_naming_the_line(tmp_path, lines, words):
    with pytest.raises(InvalidInputError, match=words):
        load_klines(write(tmp_path, lines))


def test_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="source must be an existing kline CSV file"):
        load_klines(tmp_path / "nope.csv")


# ------------------------------------------------------------------- time units and range
T0_S = T0 // 1000  # the same instant in seconds


def timed(t: int, close_t: int, o=100, h=101, lo=99, c=100.5, vol=12.5) -> str:
    return f"{t},{o},{h},{lo},{c},{vol},{close_t},1000,42,6,500,0"


@pytest.mark.parametrize("per_second", [1, 1_000, 1_000_000, 1_000_000_000], ids=["s", "ms", "us", "ns"])
def test_time_units_are_told_by_their_size(tmp_path, per_second):
    """Seconds used to load as 1970 and nanoseconds as the year 55840."""
    rows = [timed((T0_S + 60 * i) * per_second, (T0_S + 60 * i + 60) * per_second - 1) for i in range(3)]
    k = load_klines(write(tmp_path, rows))
    assert k.open_time.dtype == np.dtype("datetime64[ms]")
    assert [str(t) for t in k.open_time] == [
        "2025-12-01T00:00:00.000",
        "2025-12-01T00:01:00.000",
        "2025-12-01T00:02:00.000",
    ]


@pytest.mark.parametrize(
    "t, words",
    [
        (631_152_000_000, "read as milliseconds, it is 1990-01-01"),
        (7_258_118_400_000, "read as milliseconds, it is 2200-01-01"),
        (0, "read as seconds, it is 1970-01-01"),
    ],
)
def test_dates_outside_2009_to_2100_are_refused(tmp_path, t, words):
    message = f"line 3: open_time {t} is outside 2009–2100 ({words}"
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        load_klines(write(tmp_path, [CANDLES[0], timed(t, t + MINUTE - 1)]))


def test_a_file_must_use_one_time_unit(tmp_path):
    rows = [candle(0, 100, 101, 99, 100), candle(1, 100, 101, 99, 100, unit=1000)]
    words = "line 3: open_time 1764547260000000 is in microseconds, but the first candle's (line 2) is in "
    words += "milliseconds; a file must use one time unit"
    with pytest.raises(InvalidInputError, match=re.escape(words)):
        load_klines(write(tmp_path, rows))


# ------------------------------------------------------------------ files as they come
def test_byte_order_mark_via_path_and_binary_and_text_file(tmp_path):
    path = tmp_path / "excel.csv"
    text = ",".join(KLINE_COLUMNS) + "\r\n" + "\r\n".join(CANDLES) + "\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    with open(path, "rb") as binary, open(path, encoding="utf-8") as textual:
        loaded = [load_klines(path), load_klines(binary), load_klines(textual)]
    loaded.append(load_klines(io.BytesIO(path.read_bytes())))
    for k in loaded:
        assert k.close.tolist() == [100.5, 101.0, 98.0]
        assert str(k.open_time[0]) == "2025-12-01T00:00:00.000"


def test_zip_and_gzip_are_read_and_told_by_their_first_bytes(tmp_path):
    csv_path = write(tmp_path, CANDLES)
    expected = load_klines(csv_path).close.tolist()
    zipped = tmp_path / "BTCUSDT-1m-2025-12-01.zip"
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED) as z:
        z.write(csv_path, csv_path.name)
    gz = tmp_path / "BTCUSDT-1m-2025-12-01.csv.gz"
    gz.write_bytes(gzip.compress(csv_path.read_bytes()))
    misnamed = tmp_path / "really-a-gzip.csv"  # the suffix says CSV, the first bytes say gzip
    misnamed.write_bytes(gz.read_bytes())
    for source in (zipped, gz, misnamed, str(gz)):
        assert load_klines(source).close.tolist() == expected, source
    with open(zipped, "rb") as f:
        assert load_klines(f).close.tolist() == expected
    with open(gz, "rb") as f:
        assert load_klines(f).close.tolist() == expected
    with open(gz, encoding="utf-8") as f, pytest.raises(InvalidInputError, match="binary mode"):
        load_klines(f)


def test_zip_must_hold_exactly_one_csv(tmp_path):
    two = tmp_path / "two.zip"
    with zipfile.ZipFile(two, "w") as z:
        z.writestr("BTCUSDT-1m-2025-12-01.csv", "\n".join(CANDLES))
        z.writestr("ETHUSDT-1m-2025-12-01.csv", "\n".join(CANDLES))
    with pytest.raises(InvalidInputError, match="holds 2 CSV files .BTCUSDT-1m-2025-12-01.csv, ETHUSDT-1m"):
        load_klines(two)
    none = tmp_path / "none.zip"
    with zipfile.ZipFile(none, "w") as z:
        z.writestr("README.txt", "no klines here")
    with pytest.raises(InvalidInputError, match="holds no CSV file; its files: README.txt"):
        load_klines(none)


@pytest.mark.parametrize("source", [None, 3, 2.5, ["a.csv"]])
def test_a_source_that_is_neither_path_nor_file_is_refused(source):
    words = f"source must be a path to a kline CSV (.csv, .zip or .gz) or an open file; got {source!r}"
    with pytest.raises(InvalidInputError, match=re.escape(words) + "$"):
        load_klines(source)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(InvalidInputError, match="source must be a kline file, not a directory"):
        load_klines(tmp_path)


# ------------------------------------------------------------------------- more checks
def test_negative_volume_and_close_before_open_are_refused(tmp_path):
    with pytest.raises(InvalidInputError, match=r"line 3: volume must be >= 0; got \['1764547260000'"):
        load_klines(write(tmp_path, [CANDLES[0], candle(1, 100, 101, 99, 100).replace(",12.5,", ",-3,")]))
    with pytest.raises(InvalidInputError, match="line 2: close_time 1764547199999 is before the candle's own "
                       "open_time 1764547200000"):  # fmt: skip
        load_klines(write(tmp_path, [timed(T0, T0 - 1)]))


QUARTER = 15 * MINUTE
GAPPY = [timed(T0 + i * QUARTER, T0 + (i + 1) * QUARTER - 1) for i in (0, 1, 2, 6, 7)]  # 00:45-01:15 missing


def test_a_gap_is_refused_naming_the_line_the_times_and_the_count(tmp_path):
    with pytest.raises(InvalidInputError) as err:
        load_klines(write(tmp_path, GAPPY))
    message = str(err.value)
    assert "line 5: 3 candles missing between open_time 2025-12-01T00:30:00.000 (line 4) and " in message
    assert "2025-12-01T01:30:00.000: the file's interval is 15 minutes" in message
    assert "load_klines(..., allow_gaps=True)" in message


def test_allow_gaps_loads_and_reports_the_gap(tmp_path):
    k = load_klines(write(tmp_path, GAPPY), allow_gaps=True)
    assert len(k) == 5
    assert k.gaps == (
        Gap(np.datetime64("2025-12-01T00:30", "ms"), np.datetime64("2025-12-01T01:30", "ms"), 3),
    )
    assert load_klines(write(tmp_path, CANDLES)).gaps == ()
    with pytest.raises(InvalidInputError, match="allow_gaps must be True or False; got 'yes'"):
        load_klines(write(tmp_path, CANDLES), allow_gaps="yes")


def test_a_candle_off_the_grid_is_refused_and_monthly_candles_are_a_grid(tmp_path):
    rows = [timed(T0 + i * QUARTER + (1234 if i == 2 else 0), T0 + (i + 1) * QUARTER - 1) for i in range(5)]
    with pytest.raises(InvalidInputError, match="line 4: a candle off the time grid between"):
        load_klines(write(tmp_path, rows))
    assert [g.missing for g in load_klines(write(tmp_path, rows), allow_gaps=True).gaps] == [0, 0]
    months = [np.datetime64(m, "ms").astype(np.int64) for m in ("2025-01", "2025-02", "2025-03", "2025-04")]
    k = load_klines(write(tmp_path, [timed(t, t + 1000) for t in months]))  # steps of 31, 28 and 31 days
    assert k.gaps == () and len(k) == 4


def test_line_numbers_are_right_with_blank_lines_and_across_blocks(tmp_path, monkeypatch):
    """The file is read in blocks; a block boundary or blank lines must not shift a line number."""
    monkeypatch.setattr(_kline_files, "_BLOCK", 997)  # blocks of 997 bytes: many boundaries in mid-line
    rows = [candle(i, 100, 101, 99, 100) for i in range(200)]
    assert len(load_klines(write(tmp_path, rows))) == 200
    rows[150] = rows[150].replace(",12.5,", ",-1,")
    with pytest.raises(InvalidInputError, match="line 152: volume must be >= 0"):
        load_klines(write(tmp_path, rows))
    with pytest.raises(InvalidInputError, match="line 302: volume must be >= 0"):  # a blank line after each
        load_klines(write(tmp_path, [r + "\n" for r in rows]))
    gz = tmp_path / "klines.csv.gz"
    gz.write_bytes(gzip.compress(write(tmp_path, rows).read_bytes()))
    with pytest.raises(InvalidInputError, match="line 152: volume must be >= 0"):
        load_klines(gz)


def test_quoted_values_take_the_row_by_row_path_and_give_the_same_numbers(tmp_path):
    quoted = [",".join(f'"{c}"' for c in r.split(",")) for r in CANDLES]
    assert load_klines(write(tmp_path, quoted)).close.tolist() == [100.5, 101.0, 98.0]


# ----------------------------------------------------------------------------- windows
def test_windows_divide_every_field_by_the_first_open():
    """A window of lows shows the drawdown from the entry (the first open), not from the first low."""
    t = (np.datetime64("2025-12-01", "ms") + np.arange(4) * np.timedelta64(1, "m")).astype("datetime64[ms]")
    o, lo, c = np.array([100.0, 104, 90, 91]), np.array([95.0, 100, 80, 88]), np.array([102.0, 103, 92, 94])
    k = Klines(t, o, np.maximum(o, c) + 1, lo, c, np.ones(4))
    np.testing.assert_allclose(k.windows(2, field="low"), [[0.95, 1.0], [80 / 90, 88 / 90]])
    np.testing.assert_allclose(k.windows(2, field="close"), [[1.02, 1.03], [92 / 90, 94 / 90]])
    np.testing.assert_allclose(k.windows(2), k.windows(2, field="close"))
    np.testing.assert_allclose(k.windows(2, field="open")[:, 0], [1.0, 1.0])


# --------------------------------------------------------------------------- benchmark
def test_benchmark_script_runs_with_quick_flag():
    """The benchmark must keep working. The timeout only guards against a hang; no speed is asserted."""
    done = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH.parents[1],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for words in ("file size", "load_klines(path)", "np.loadtxt, the same 6 columns", "stdlib csv"):
        assert words in out, out
    assert "ratio to the faster" in out, out
    for words in ("peak memory of load_klines", "x file", "load_klines(.gz)", "load_klines(.zip)"):
        assert words in out, out
    assert out.count("yes, all values identical") == 2, out
