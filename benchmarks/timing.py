"""Helpers the benchmark scripts share: timing a call and wording a target's verdict."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_of(repeats: int, func: Callable[[], Any]) -> tuple[float, list[float], Any]:
    """(best wall time in seconds, all times, the last result) of ``repeats`` calls."""
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), times, result


def verdict(ok: bool) -> str:
    return "MET" if ok else "MISSED"
