"""Benchmark of ``margin_lib.klines.load_klines`` on a large kline file. Prints figures; asserts
nothing about speed (machines are shared and noisy).

A seeded, synthetic kline CSV in the exchange's format (header line, 12 columns, one-minute
candles of a random walk around 95,000 USDT) is written to a temporary directory, deleted
afterwards. On it:

a. ``load_klines(path)``: wall time, best of a few runs, against NumPy's own parse of the same
   columns (``np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(6))``, the six columns
   :class:`~margin_lib.klines.Klines` holds) and, for reference, the standard library's
   :mod:`csv` module turning the same six columns into numbers. The ratio is against the faster
   of the two references; the target is at most 3x.
b. Peak memory of ``load_klines``, measured in a fresh subprocess (its peak resident set size
   minus that of a process that only imports numpy and margin_lib), as a multiple of the file
   size; the target is at most 3x.
c. The same file gzipped (``.gz``) and zipped (``.zip``, as the exchange distributes it): time,
   and peak memory of the ``.gz``.

Run ``python benchmarks/bench_klines.py`` (1,000,000 rows, about 110 MB, half a minute);
``--quick`` uses 100,000 rows and takes a few seconds. The script exits with status 1 only if
the loader's numbers disagree with NumPy's parse.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
from timing import best_of, verdict  # benchmarks/timing.py, beside this script

from margin_lib.klines import KLINE_COLUMNS, load_klines

REPO = Path(__file__).resolve().parents[1]
MB = 1e6
TIME_TARGET = 3.0  # load_klines vs the faster reference parse
MEMORY_TARGET = 3.0  # peak memory of load_klines / file size

FULL = {"rows": 1_000_000, "repeats": 3}
QUICK = {"rows": 100_000, "repeats": 2}

# What the fresh subprocess of part b runs: import, optionally load, report the peak RSS in bytes.
# On Linux VmHWM (this program's own peak; ru_maxrss would include the parent's RSS at the fork).
CHILD = """
import resource, sys
import numpy as np
import margin_lib
from margin_lib.klines import load_klines
if len(sys.argv) > 1:
    k = load_klines(sys.argv[1])
try:
    with open("/proc/self/status") as f:
        print(next(int(s.split()[1]) * 1024 for s in f if s.startswith("VmHWM:")), "VmHWM")
except (OSError, StopIteration):
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(rss if sys.platform == "darwin" else rss * 1024, "ru_maxrss")
"""


# ------------------------------------------------------------------------------- helpers
def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<34} {value:<22} {note}".rstrip())


def runs(times: list[float]) -> str:
    return f"best of {len(times)} ({', '.join(f'{t:.3f}' for t in times)})"


# ------------------------------------------------------------------------------ the file
def write_klines(path: Path, rows: int, rng: np.random.Generator) -> None:
    """A kline CSV in the exchange's format: one-minute candles of a random walk (0.08 % per
    minute) from 95,000 USDT, wicks above and below, gamma-distributed volumes."""
    t = 1_735_689_600_000 + np.arange(rows, dtype=np.int64) * 60_000  # from 2025-01-01, ms
    close = 95_000.0 * np.exp(np.cumsum(rng.standard_normal(rows) * 0.0008))
    open_ = np.concatenate([[95_000.0], close[:-1]])
    high = np.maximum(open_, close) * (1 + np.abs(rng.standard_normal(rows)) * 0.0004)
    low = np.minimum(open_, close) * (1 - np.abs(rng.standard_normal(rows)) * 0.0004)
    volume = rng.gamma(2.0, 60.0, rows)
    taker = volume * rng.uniform(0.3, 0.7, rows)
    count = rng.integers(500, 5_000, rows)
    columns = [t, open_, high, low, close, volume, t + 59_999, volume * close, count, taker, taker * close]
    fmt = "%d,%.2f,%.2f,%.2f,%.2f,%.3f,%d,%.5f,%d,%.3f,%.5f,0\n"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(KLINE_COLUMNS) + "\n")
        values = [c.tolist() for c in columns]
        for start in range(0, rows, 100_000):  # in slices, to keep the text small
            piece = zip(*(v[start : start + 100_000] for v in values), strict=True)
            f.write("".join([fmt % r for r in piece]))


def numpy_parse(path: Path) -> np.ndarray:
    """NumPy's own parse of the six columns Klines holds, ``(rows, 6)`` float64."""
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(6))


def csv_parse(path: Path) -> np.ndarray:
    """The standard library's parse of the same six columns, ``(rows, 6)`` float64."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        return np.array([[float(c) for c in row[:6]] for row in reader])


def peak_rss(*args: str) -> tuple[int, str]:
    """(peak resident set size in bytes, how it was measured) of a fresh Python running CHILD."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, "-c", CHILD, *args], capture_output=True, text=True, check=True, env=env
    )
    value, how = done.stdout.split()[-2:]
    return int(value), how


def agrees(k, reference: np.ndarray) -> bool:
    """Whether the Klines hold exactly NumPy's numbers (open_time as milliseconds)."""
    ours = [k.open_time.astype(np.int64), k.open, k.high, k.low, k.close, k.volume]
    return all(np.array_equal(a, reference[:, j]) for j, a in enumerate(ours))


# ---------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100,000 rows (a few seconds), for tests")
    parser.add_argument("--seed", type=int, default=20260901, help="random seed (default %(default)s)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    rows, repeats = sizes["rows"], sizes["repeats"]
    rng = np.random.default_rng(args.seed)

    print(f"margin_lib kline loader benchmark{' (--quick: reduced sizes)' if args.quick else ''}")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()} {platform.system()}; "
        f"Python {platform.python_version()}; numpy {np.__version__}; seed {args.seed}"
    )
    note = "(quick sizes; the targets are for the full run)" if args.quick else ""
    with tempfile.TemporaryDirectory(prefix="bench_klines_") as tmp:
        path = Path(tmp) / "BTCUSDT-1m-synthetic.csv"
        start = time.perf_counter()
        write_klines(path, rows, rng)
        size = path.stat().st_size
        print(f"\n[a] load_klines on {rows:,} one-minute candles, exchange format with a header line")
        made = time.perf_counter() - start
        line("file size", f"{size / MB:,.1f} MB", f"written in {made:.1f} s (not timed below)")

        load_time, load_times, k = best_of(repeats, lambda: load_klines(path))
        per_row = f"{load_time / rows * 1e9:,.0f} ns/row"
        line("load_klines(path)", f"{load_time:.3f} s", f"{runs(load_times)}; {per_row}")
        np_time, np_times, reference = best_of(repeats, lambda: numpy_parse(path))
        line("np.loadtxt, the same 6 columns", f"{np_time:.3f} s", runs(np_times))
        csv_time, csv_times, _ = best_of(1, lambda: csv_parse(path))
        line("stdlib csv, the same 6 columns", f"{csv_time:.3f} s", f"{runs(csv_times)}; for reference")
        faster = min(np_time, csv_time)
        ratio = load_time / faster
        which = "np.loadtxt" if np_time <= csv_time else "csv"
        line(
            f"ratio to the faster ({which})",
            f"{ratio:.2f}x",
            f"target <= {TIME_TARGET:g}x: {verdict(ratio <= TIME_TARGET)} {note}",
        )
        same = len(k) == rows and agrees(k, reference)
        line("load_klines == np.loadtxt", "yes, all values identical" if same else "NO: they differ")

        print("\n[b] peak memory of load_klines, in a fresh subprocess")
        base, how = peak_rss()
        peak, _ = peak_rss(str(path))
        used = peak - base
        line("baseline: import numpy, margin_lib", f"{base / MB:,.0f} MB", f"peak RSS ({how}), no file")
        line("peak RSS loading the file", f"{peak / MB:,.0f} MB", f"({how})")
        line(
            "peak memory of load_klines",
            f"{used / MB:,.0f} MB = {used / size:.2f}x file",
            f"target <= {MEMORY_TARGET:g}x: {verdict(used <= MEMORY_TARGET * size)} {note}",
        )

        print("\n[c] compressed copies (compressed at level 1 to save time; reading speed is alike)")
        gz = path.with_suffix(".csv.gz")
        start = time.perf_counter()
        with open(path, "rb") as src, gzip.open(gz, "wb", compresslevel=1) as dst:
            while chunk := src.read(1 << 22):
                dst.write(chunk)
        zipped = path.with_suffix(".zip")
        with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
            z.write(path, path.name)
        made = time.perf_counter() - start
        line(
            "sizes .gz / .zip",
            f"{gz.stat().st_size / MB:,.1f} / {zipped.stat().st_size / MB:,.1f} MB",
            f"written in {made:.1f} s (not timed below)",
        )
        gz_time, gz_times, k_gz = best_of(repeats, lambda: load_klines(gz))
        line("load_klines(.gz)", f"{gz_time:.3f} s", f"{runs(gz_times)}; {gz_time / load_time:.2f}x the CSV")
        zip_time, zip_times, k_zip = best_of(repeats, lambda: load_klines(zipped))
        zip_note = f"{runs(zip_times)}; {zip_time / load_time:.2f}x the CSV"
        line("load_klines(.zip)", f"{zip_time:.3f} s", zip_note)
        gz_used = peak_rss(str(gz))[0] - base
        line(
            "peak memory of load_klines(.gz)",
            f"{gz_used / MB:,.0f} MB = {gz_used / size:.2f}x CSV",
            "as a multiple of the uncompressed CSV",
        )
        same_compressed = agrees(k_gz, reference) and agrees(k_zip, reference)
        agree = "yes, all values identical" if same_compressed else "NO: they differ"
        line("compressed == np.loadtxt", agree)

    if not (same and same_compressed):
        print("\nERROR: load_klines and np.loadtxt read different numbers (see [a] and [c])")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
