"""Input checks shared by the public functions (private module).

Each checker turns its input into a float NumPy array, refuses anything outside the allowed
range with an :class:`~margin_lib.errors.InvalidInputError` naming the parameter, the value and
the rule, and the public function returns through :func:`result`, which gives back a plain
``float`` when every input was a scalar.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import InvalidInputError

_LONG_WORDS = {"long": 1.0, "buy": 1.0}
_SHORT_WORDS = {"short": -1.0, "sell": -1.0}
SIDE_RULE = "'long' or 'short' (any case), +1 or -1"


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


def _first_bad(arr: np.ndarray, bad: np.ndarray) -> str:
    """Describe the first offending element of ``arr``."""
    if arr.ndim == 0:
        return _fmt(arr.item())
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = index[0] if len(index) == 1 else index
    return f"{_fmt(arr[index].item())} (at index {where})"


def number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> np.ndarray:
    """Return ``value`` as a float array after checking it is finite and inside the bounds.

    ``low_open``/``high_open`` make a bound strict (``>`` instead of ``>=``).
    """
    if isinstance(value, (str, bytes)) or value is None or isinstance(value, bool):
        raise InvalidInputError(f"{name} must be a number; got {value!r}")
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be a number or an array of numbers; got {value!r}") from None
    finite = np.isfinite(arr)
    lo_op = "<" if low_open else "<="
    hi_op = "<" if high_open else "<="
    if low is not None and high is not None:
        rule = f"{low:g} {lo_op} {name} {hi_op} {high:g}"
        finite_rule, range_rule = f" with {rule}", f"satisfy {rule}"
    elif low is not None:
        finite_rule = range_rule = f"{'>' if low_open else '>='} {low:g}"
        finite_rule, range_rule = f" {finite_rule}", f"be {range_rule}"
    elif high is not None:
        finite_rule = range_rule = f"{hi_op} {high:g}"
        finite_rule, range_rule = f" {finite_rule}", f"be {range_rule}"
    else:
        finite_rule = range_rule = ""
    if not finite.all():
        raise InvalidInputError(
            f"{name} must be a finite number{finite_rule}; got {_first_bad(arr, ~finite)}"
        )
    bad = np.zeros(arr.shape, dtype=bool)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    if bad.any():
        raise InvalidInputError(f"{name} must {range_rule}; got {_first_bad(arr, bad)}")
    return arr


def positive(name: str, value: Any) -> np.ndarray:
    """A finite number > 0 (sizes, prices, notionals)."""
    return number(name, value, low=0.0, low_open=True)


def nonnegative(name: str, value: Any) -> np.ndarray:
    """A finite number >= 0 (wallets, maintenance amounts)."""
    return number(name, value, low=0.0)


def leverage(name: str, value: Any) -> np.ndarray:
    """A leverage: finite and >= 1 (the exchange's lowest setting is 1x)."""
    return number(name, value, low=1.0)


def rate(name: str, value: Any) -> np.ndarray:
    """A maintenance-margin rate: 0 <= mmr < 1."""
    return number(name, value, low=0.0, high=1.0, high_open=True)


def side(name: str, value: Any) -> np.ndarray:
    """Turn 'long'/'short' (any case) or +1/-1, scalar or array, into an array of +1.0/-1.0."""
    arr = np.asarray(value)
    if arr.dtype.kind in "USO":
        flat = arr.ravel()
        out = np.empty(flat.shape, dtype=float)
        for i, item in enumerate(flat):  # sides are few and short; this runs once per call
            word = str(item).strip().lower() if isinstance(item, (str, np.str_)) else None
            if word in _LONG_WORDS:
                out[i] = 1.0
            elif word in _SHORT_WORDS:
                out[i] = -1.0
            elif item is not None and not isinstance(item, (str, np.str_)):
                out[i] = side(name, item)
            else:
                where = "" if arr.ndim == 0 else f" (at index {i})"
                shown = repr(str(item)) if isinstance(item, (str, np.str_)) else repr(item)
                raise InvalidInputError(f"{name} must be {SIDE_RULE}; got {shown}{where}")
        return out.reshape(arr.shape)
    if arr.dtype.kind == "b":
        raise InvalidInputError(f"{name} must be {SIDE_RULE}; got {value!r}")
    try:
        num = arr.astype(float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be {SIDE_RULE}; got {value!r}") from None
    bad = ~((num == 1.0) | (num == -1.0))
    if bad.any():
        raise InvalidInputError(f"{name} must be {SIDE_RULE}; got {_first_bad(num, bad)}")
    return num


def side_scalar(name: str, value: Any) -> int:
    """One side as the integer +1 (long) or -1 (short)."""
    arr = side(name, value)
    if arr.ndim != 0:
        raise InvalidInputError(f"{name} must be a single side ({SIDE_RULE}); got an array")
    return int(arr)


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """A word from ``allowed`` (compared in lower case, '_' and '-' alike)."""
    if isinstance(value, str):
        word = value.strip().lower().replace("_", "-")
        if word in allowed:
            return word
    options = ", ".join(repr(a) for a in allowed)
    raise InvalidInputError(f"{name} must be one of {options}; got {value!r}")


def result(value: Any, *inputs: Any) -> Any:
    """Return a plain float when every input was a scalar, else the array."""
    if all(np.ndim(x) == 0 for x in inputs):
        out = np.asarray(value)
        if out.ndim == 0:
            return float(out)
    return value
