"""Keeping a function's last results, for the widgets (their text and plot read the same state
after every change, so it is worked out once).

:func:`kept` is :func:`functools.lru_cache` with ``typed=True`` (``True`` and ``1`` are kept
apart, so a refusal of ``True`` is never skipped), which calls the function directly when an
argument cannot be hashed (a NumPy array given by a learner): the function's own checks then
answer, never a ``TypeError`` from the cache. Results are shared between calls: callers must
not change them.

>>> @kept(maxsize=2)
... def double(x):
...     return 2 * x
>>> double(2), double(2), double.cache_info().hits
(4, 4, 1)
>>> import numpy as np
>>> double(np.array([1.0]))
array([2.])
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def kept(maxsize: int = 8) -> Callable[[F], F]:
    """Decorator: keep the last ``maxsize`` results by their (typed) arguments; unhashable
    arguments go straight to the function."""

    def decorate(fn: F) -> F:
        cached = functools.lru_cache(maxsize=maxsize, typed=True)(fn)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                hash((args, tuple(kwargs.items())))
            except TypeError:
                return fn(*args, **kwargs)
            return cached(*args, **kwargs)

        call.cache_info = cached.cache_info  # type: ignore[attr-defined]
        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call  # type: ignore[return-value]

    return decorate
