"""The kline CSV loader, on small files the tests write in the exchange's format."""

from __future__ import annotations

import numpy as np
import pytest

from margin_lib import InvalidInputError
from margin_lib.klines import KLINE_COLUMNS, load_klines

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
    np.testing.assert_allclose(w, [[1.0, 1.1, 0.99], [1.0, 0.5, 0.25]])
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
