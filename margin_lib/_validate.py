"""Input checks shared by the public functions (private module).

Each checker turns its input into a float NumPy array, refuses anything outside the allowed
range with an :class:`~margin_lib.errors.InvalidInputError` naming the parameter, the value and
the rule, and the public function returns through :func:`result`, which gives back a plain
``float`` when every input was a scalar.

What counts as a number: ``int``, ``float``, :class:`~fractions.Fraction`,
:class:`~decimal.Decimal`, NumPy numbers and arrays of them (and lists of these). Refused by
name: ``bool``, ``None``, text, bytes, complex numbers and anything else. Where a parameter
takes one value (a wallet, a price in an :class:`~margin_lib.account.Account` method), a 0-d
or size-1 array counts as that value (see :func:`scalar`).
"""

from __future__ import annotations

import functools
import inspect
import numbers
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

import numpy as np

from .errors import InvalidInputError

_LONG_WORDS = {"long": 1.0, "buy": 1.0}
_SHORT_WORDS = {"short": -1.0, "sell": -1.0}
SIDE_RULE = "'long' or 'short' (or 'buy' / 'sell'; any case), +1 or -1"

F = TypeVar("F", bound=Callable[..., Any])


def _fmt(value: Any) -> str:
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**30:
        digits = len(str(abs(value)))
        return f"{str(value)[:6]}...{str(value)[-3:]} ({digits} digits)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _first_bad(arr: np.ndarray, bad: np.ndarray) -> str:
    """Describe the first offending element of ``arr``."""
    if arr.ndim == 0:
        return _fmt(arr.item())
    index = tuple(int(i) for i in np.argwhere(bad)[0])
    where = index[0] if len(index) == 1 else index
    return f"{_fmt(arr[index].item())} (at index {where})"


def _is_number(item: Any) -> bool:
    """A real number that is not a bool: int, float, Fraction, Decimal, NumPy int or float."""
    return (
        isinstance(item, (numbers.Real, Decimal, np.integer, np.floating))
        and not isinstance(item, (bool, np.bool_))
    )


def as_float_array(name: str, value: Any) -> np.ndarray:
    """``value`` as a float array, or an :class:`InvalidInputError` naming ``name``.

    Accepts what :func:`_is_number` accepts, alone or in (nested) lists, tuples and arrays.
    Non-finite values pass here; :func:`number` refuses them.
    """
    if value is None or isinstance(value, (str, bytes, bytearray, bool, np.bool_)):
        raise InvalidInputError(f"{name} must be a number; got {_fmt(value)}")
    if isinstance(value, (complex, np.complexfloating)):
        raise InvalidInputError(f"{name} must be a real number; got the complex number {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"{name} must be a number or a rectangular array of numbers; got {_fmt(value)}"
        ) from None
    kind = arr.dtype.kind
    if kind in "iuf":
        return arr.astype(float, copy=False)
    if kind == "O":
        out = np.empty(arr.shape, dtype=float)
        for index, item in np.ndenumerate(arr):
            if not _is_number(item):
                where = "" if arr.ndim == 0 else f" (at index {index[0] if len(index) == 1 else index})"
                raise InvalidInputError(f"{name} must be a number; got {_fmt(item)}{where}")
            try:
                out[index] = float(item)
            except OverflowError:
                raise InvalidInputError(
                    f"{name} must be a number a float can hold (below about 1.8e308); got {_fmt(item)}"
                ) from None
        return out
    if kind == "c":
        raise InvalidInputError(f"{name} must be real numbers; got complex values {_fmt(value)}")
    raise InvalidInputError(f"{name} must be a number or an array of numbers; got {_fmt(value)}")


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
    arr = as_float_array(name, value)
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


def scalar(check: Callable[..., np.ndarray], name: str, value: Any, **bounds: Any) -> float:
    """One number, checked by ``check`` (:func:`positive`, :func:`number`, ...), as a ``float``.

    A 0-d or size-1 array counts as its one value; a larger array is refused by name.

    >>> scalar(positive, "price", np.array([100.0]))
    100.0
    """
    arr = as_float_array(name, value)
    if arr.size != 1:
        raise InvalidInputError(f"{name} must be a single number; got an array of shape {arr.shape}")
    return float(check(name, arr.reshape(()), **bounds))


def side(name: str, value: Any) -> np.ndarray:
    """Turn sides into an array of +1.0 (long) / −1.0 (short), scalar or array.

    Accepted: ``'long'``/``'short'`` and the exchange's order words ``'buy'``/``'sell'`` (any
    case, surrounding spaces ignored), and the numbers +1/−1 (int, float, Fraction, Decimal,
    NumPy). Refused by name: other words, bytes, bools, complex numbers, anything else.
    """
    if isinstance(value, (complex, np.complexfloating)):
        raise InvalidInputError(f"{name} must be {SIDE_RULE}; got the complex number {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{name} must be {SIDE_RULE}; got {_fmt(value)}") from None
    kind = arr.dtype.kind
    if kind in "USO":
        out = np.empty(arr.shape, dtype=float)
        for index, item in np.ndenumerate(arr):
            out[index] = _one_side(name, item, "" if arr.ndim == 0 else _at(index))
        return out
    if kind not in "iuf":  # bools, complex numbers, dates, ...
        raise InvalidInputError(f"{name} must be {SIDE_RULE}; got {_fmt(value)}")
    num = arr.astype(float)
    bad = ~((num == 1.0) | (num == -1.0))
    if bad.any():
        raise InvalidInputError(f"{name} must be {SIDE_RULE}; got {_first_bad(num, bad)}")
    return num


def _at(index: tuple[int, ...]) -> str:
    return f" (at index {index[0] if len(index) == 1 else index})"


def _one_side(name: str, item: Any, where: str) -> float:
    if isinstance(item, (str, np.str_)):
        word = str(item).strip().lower()
        if word in _LONG_WORDS:
            return _LONG_WORDS[word]
        if word in _SHORT_WORDS:
            return _SHORT_WORDS[word]
        raise InvalidInputError(f"{name} must be {SIDE_RULE}; got {str(item)!r}{where}")
    if isinstance(item, (bytes, np.bytes_)):
        raise InvalidInputError(f"{name} must be {SIDE_RULE} as text, not bytes; got {bytes(item)!r}{where}")
    if _is_number(item):
        try:
            num = float(item)
        except OverflowError:
            num = float("inf")
        if num in (1.0, -1.0):
            return num
    raise InvalidInputError(f"{name} must be {SIDE_RULE}; got {_fmt(item)}{where}")


def side_scalar(name: str, value: Any) -> int:
    """One side as the integer +1 (long) or -1 (short); a size-1 array counts as one side."""
    arr = side(name, value)
    if arr.size != 1:
        raise InvalidInputError(
            f"{name} must be a single side ({SIDE_RULE}); got an array of shape {arr.shape}"
        )
    return int(arr.reshape(()))


def choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """A word from ``allowed`` (compared in lower case, '_' and '-' alike)."""
    if isinstance(value, str):
        word = value.strip().lower().replace("_", "-")
        if word in allowed:
            return word
    options = ", ".join(repr(a) for a in allowed)
    raise InvalidInputError(f"{name} must be one of {options}; got {_fmt(value)}")


def broadcasting(*skip: str) -> Callable[[F], F]:
    """Decorator: refuse array arguments whose shapes do not broadcast, naming them.

    Without it NumPy's own "operands could not be broadcast together" would surface, which names
    neither the parameters nor their shapes. ``skip`` lists parameters that are not arrays.
    """

    def wrap(func: F) -> F:
        signature = inspect.signature(func)

        @functools.wraps(func)
        def checked(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError:  # a missing or unknown argument: let Python say so in its words
                return func(*args, **kwargs)
            shapes = {
                k: np.shape(a)
                for k, a in bound.arguments.items()
                if k not in skip and isinstance(a, (list, tuple, np.ndarray)) and np.ndim(a) > 0
            }
            if len(shapes) > 1:
                try:
                    np.broadcast_shapes(*shapes.values())
                except ValueError:
                    listed = ", ".join(f"{k} has shape {s}" for k, s in shapes.items())
                    raise InvalidInputError(
                        f"the array arguments of {func.__name__} must have shapes that broadcast "
                        f"together (equal, or 1 where they differ); got: {listed}"
                    ) from None
            return func(*args, **kwargs)

        return checked  # type: ignore[return-value]

    return wrap


def overflow(what: str, out: Any, **inputs: Any) -> None:
    """Refuse a result that overflowed to ±inf from finite inputs, naming the inputs.

    ``nan`` is left alone: it is the documented "no such price" of the liquidation functions.
    """
    arr = np.asarray(out, dtype=float)
    bad = np.isinf(arr)
    if not bad.any():
        return
    index = tuple(int(i) for i in np.argwhere(bad)[0]) if arr.ndim else ()
    shown = []
    for k, val in inputs.items():
        a = np.asarray(val)
        if a.dtype.kind in "iuf":
            item = np.broadcast_to(a, arr.shape)[index] if arr.ndim else a.reshape(-1)[0]
            shown.append(f"{k}={float(item):g}")
    where = f" (at index {index[0] if len(index) == 1 else index})" if index else ""
    raise InvalidInputError(
        f"{what} is beyond the largest number a float can hold (about 1.8e308) for "
        f"{', '.join(shown)}{where}; use inputs of a realistic size"
    )


def result(value: Any, *inputs: Any) -> Any:
    """Return a plain float when every input was a scalar, else the array."""
    if all(np.ndim(x) == 0 for x in inputs):
        out = np.asarray(value)
        if out.ndim == 0:
            return float(out)
    return value
