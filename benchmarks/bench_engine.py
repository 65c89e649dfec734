"""Benchmark of margin_lib's two vectorised engines. Prints figures; asserts nothing about speed.

a. ``liquidation_price`` with the BTCUSDT bracket table on a million random positions in one
   vectorised call, against the same public function called once per position in a Python loop
   (timed on a random sample and extrapolated to the million).
b. ``Account.replay`` of a two-position cross account (long BTC, short ETH, 10x) over
   10,000 seeded random-walk paths of 1,440 one-minute steps: wall time and peak memory.

Run ``python benchmarks/bench_engine.py`` (or ``make bench``); ``--quick`` uses smaller sizes.
The script exits with status 1 only if the loop and the vectorised call disagree.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
import tracemalloc

import numpy as np
from timing import best_of, verdict  # benchmarks/timing.py, beside this script

from margin_lib import BracketTable, liquidation_price
from margin_lib.account import Account

BTC, ETH = "BTCUSDT", "ETHUSDT"
MIB = 1024**2
GIB = 1024**3

SPEEDUP_TARGET = 100.0  # vectorised vs one call per position
REPLAY_SECONDS_TARGET = 1.0
REPLAY_MEMORY_TARGET = GIB

FULL = {"positions": 1_000_000, "sample": 20_000, "paths": 10_000, "steps": 1_440}
QUICK = {"positions": 100_000, "sample": 2_000, "paths": 1_000, "steps": 1_440}


# ------------------------------------------------------------------------------- helpers
def max_rss_bytes() -> int:
    """The process's peak resident set size so far (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<34} {value:<22} {note}".rstrip())


def tier_counts(table: BracketTable, notional: np.ndarray) -> str:
    """'tier: count' for the tiers that hold ``notional`` (the last tier extended past its cap)."""
    floors = table.tier_arrays()["floor"]
    tiers = np.searchsorted(floors, notional, side="right")
    counts = np.bincount(tiers, minlength=len(floors) + 1)
    return ", ".join(f"{t}: {c:,}" for t, c in enumerate(counts) if c)


# ----------------------------------------------------------------- a. liquidation_price
def random_positions(rng: np.random.Generator, n: int, table: BracketTable) -> dict[str, np.ndarray]:
    """Long and short BTCUSDT positions from 300 USDT to 30 million USDT (log-uniform), with a
    wallet between 1 / max_leverage and 50 % of the notional."""
    notional = np.exp(rng.uniform(np.log(300.0), np.log(30e6), n))
    entry = rng.uniform(20_000.0, 150_000.0, n)
    max_lev = table.max_leverage(notional)
    return {
        "side": rng.choice(np.array([-1.0, 1.0]), n),
        "quantity": notional / entry,
        "entry_price": entry,
        "wallet": notional * rng.uniform(1.0 / max_lev, 0.5),
        "notional": notional,
    }


def bench_liquidation_price(rng: np.random.Generator, n: int, sample: int) -> bool:
    """Part a; returns whether the loop agreed with the vectorised call."""
    table = BracketTable.load(BTC)
    pos = random_positions(rng, n, table)
    print(f"\n[a] liquidation_price(brackets=BracketTable.load({BTC!r}), {len(table)} tiers)")
    print(f"    {n:,} random positions, long and short, 300 to 30,000,000 USDT")
    print(f"  {'tiers at entry (tier: count)':<34} {tier_counts(table, pos['notional'])}")

    def vectorised():
        return liquidation_price(
            pos["side"], pos["quantity"], pos["entry_price"], pos["wallet"], brackets=table
        )

    best, times, lp = best_of(5, vectorised)
    n_nan = int(np.isnan(lp).sum())
    at_lp = tier_counts(table, pos["quantity"][~np.isnan(lp)] * lp[~np.isnan(lp)])
    print(f"  {'tiers at the liquidation price':<34} {at_lp}")
    line("positions with no LP (nan)", f"{n_nan:,}")
    per_vec = best / n
    line(
        "vectorised, one call",
        f"{best:.3f} s",
        f"best of {len(times)} ({', '.join(f'{t:.3f}' for t in times)}); {per_vec * 1e9:,.0f} ns/position",
    )

    pick = rng.choice(n, size=sample, replace=False)
    args = [pos[k][pick].tolist() for k in ("side", "quantity", "entry_price", "wallet")]

    def loop():
        return [liquidation_price(s, q, ep, wb, brackets=table) for s, q, ep, wb in zip(*args, strict=True)]

    loop_time, _, looped = best_of(1, loop)
    looped = np.array(looped)
    per_loop = loop_time / sample
    line(f"Python loop, sample of {sample:,}", f"{loop_time:.3f} s", f"{per_loop * 1e6:,.1f} µs/position")
    line(f"loop over all {n:,}", f"{per_loop * n:,.1f} s", "EXTRAPOLATED from the sample, not run")

    expected = lp[pick]
    exact = np.array_equal(looped, expected, equal_nan=True)
    close = np.allclose(looped, expected, rtol=1e-12, atol=0.0, equal_nan=True)
    if exact:
        agree = f"yes, all {sample:,} identical (nan in the same places)"
    elif close:
        agree = "yes within 1e-12 relative (not bit-identical)"
    else:
        bad = ~np.isclose(looped, expected, rtol=1e-12, atol=0.0, equal_nan=True)
        agree = f"NO: {int(bad.sum()):,} of {sample:,} differ"
    line("loop results == vectorised", agree)
    speedup = per_loop / per_vec
    line(
        "speed-up",
        f"{speedup:,.0f}×",
        f"target >= {SPEEDUP_TARGET:.0f}×: {verdict(speedup >= SPEEDUP_TARGET)}",
    )
    return close


# ----------------------------------------------------------------------- b. path replay
def random_walks(
    rng: np.random.Generator, n_paths: int, n_steps: int, start: float, daily_vol: float
) -> np.ndarray:
    """Geometric random walks, ``(n_paths, n_steps)``, whose n_steps steps make one day."""
    sigma = daily_vol / np.sqrt(n_steps)
    walk = rng.standard_normal((n_paths, n_steps))
    walk *= sigma
    np.cumsum(walk, axis=1, out=walk)
    np.exp(walk, out=walk)
    walk *= start
    return walk


def cross_account() -> Account:
    acct = Account(10_000, fee_rate=0)
    for sym in (BTC, ETH):
        acct.set_margin_mode(sym, "cross")
    acct.open_position(BTC, "long", notional=40_000, price=100_000, leverage=10)
    acct.open_position(ETH, "short", notional=40_000, price=4_000, leverage=10)
    return acct


def bench_replay(rng: np.random.Generator, n_paths: int, n_steps: int, quick: bool) -> None:
    acct = cross_account()
    print(f"\n[b] Account.replay: cross account of 10,000 USDT, long {BTC} and short {ETH},")
    print("    40,000 USDT each at 10x, independent random walks with 8 % daily volatility")
    print(f"    {n_paths:,} paths × {n_steps:,} steps (one day of minutes) for both symbols")
    start = time.perf_counter()
    paths = {
        BTC: random_walks(rng, n_paths, n_steps, 100_000.0, 0.08),
        ETH: random_walks(rng, n_paths, n_steps, 4_000.0, 0.08),
    }
    made = time.perf_counter() - start
    size = sum(a.nbytes for a in paths.values())
    line("paths generated (not timed below)", f"{made:.2f} s", f"{size / MIB:,.0f} MiB of input marks")
    rss_before = max_rss_bytes()

    best, times, result = best_of(3, lambda: acct.replay(paths))
    note = "(quick sizes; the target is for the full run)" if quick else ""
    line(
        "wall time",
        f"{best:.3f} s",
        f"best of 3 ({', '.join(f'{t:.3f}' for t in times)}); "
        f"target < {REPLAY_SECONDS_TARGET:g} s: {verdict(best < REPLAY_SECONDS_TARGET)} {note}",
    )

    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    acct.replay(paths)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    line(
        "peak memory of the replay call",
        f"{peak / MIB:,.1f} MiB",
        f"tracemalloc, inputs excluded; target < 1 GiB: {verdict(peak < REPLAY_MEMORY_TARGET)} {note}",
    )
    line(
        "max RSS of the process",
        f"{max_rss_bytes() / MIB:,.0f} MiB",
        f"whole run incl. inputs and part a (was {rss_before / MIB:,.0f} MiB before the replays)",
    )
    hit = int(result.any_liquidation.sum())
    line("paths with a liquidation", f"{hit:,} of {n_paths:,}", f"({hit / n_paths:.1%}; sanity check)")
    line(
        "final equity, mean / min / max",
        f"{result.final_equity.mean():,.0f} USDT",
        f"{result.final_equity.min():,.0f} / {result.final_equity.max():,.0f} (initial "
        f"{result.initial_equity:,.0f})",
    )


# ---------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a few seconds), for tests")
    parser.add_argument("--seed", type=int, default=20260901, help="random seed (default %(default)s)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    rng = np.random.default_rng(args.seed)

    print(f"margin_lib engine benchmark{' (--quick: reduced sizes)' if args.quick else ''}")
    print(
        f"machine: {os.cpu_count()} CPUs, {platform.machine()} {platform.system()}; "
        f"Python {platform.python_version()}; numpy {np.__version__}; seed {args.seed}"
    )
    agree = bench_liquidation_price(rng, sizes["positions"], sizes["sample"])
    bench_replay(rng, sizes["paths"], sizes["steps"], args.quick)
    if not agree:
        print("\nERROR: the per-position loop and the vectorised call disagree (see [a])")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
