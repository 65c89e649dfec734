"""A long run of the ledger's state machine (tests/test_ledger_state_machine.py).

``make test`` runs a few hundred random sequences of account operations; this script runs many
more (20,000 by default, about 20 minutes on the project's 2-core machine) and prints how many
ran, how long it took and what the sequences exercised. It asserts nothing about speed; it
exits with pytest's status, so 0 means every invariant held in every sequence.

Run ``python benchmarks/fuzz_ledger.py [--examples N]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20_000, help="sequences to run (default 20,000)")
    args = parser.parse_args()
    env = {**os.environ, "LEDGER_EXAMPLES": str(args.examples)}
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics",
        str(ROOT / "tests" / "test_ledger_state_machine.py"),
    ]  # fmt: skip
    print(f"ledger state machine: {args.examples:,} random sequences of up to 30 operations")
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = done.stdout.splitlines()
    tallies = ("%, event", "%, an order", "%, cross")
    print("\n".join(line for line in lines if any(t in line for t in tallies)))
    print(f"result: {'every invariant held' if done.returncode == 0 else 'FAILED'} in {seconds:,.0f} s")
    if done.returncode:  # the failing sequences, as hypothesis shrank them
        starts = ("state.", "Traceback", "File", "assert")
        failures = [line for line in lines if line.lstrip(" |").startswith(starts)]
        failures += [line for line in lines if "Error" in line]
        print("\n".join(failures[-300:]), done.stderr[-2000:], sep="\n")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
