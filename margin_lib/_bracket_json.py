"""Reading bracket tables from JSON (private module of :mod:`margin_lib.brackets`).

Turns what a user hands over (a file path, the exchange's leverage-bracket response, the
package's own format) into plain records, and every way that can go wrong into a
:class:`~margin_lib.errors.BracketTableError` that says what is wrong, in words: numbers too
large for a float, rows that are not objects, lists of several symbols, files that are missing,
not UTF-8, or not JSON.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from .errors import BracketTableError

# our field -> the exchange's key in GET /fapi/v1/leverageBracket
_EXCHANGE_KEYS = {
    "bracket": "bracket",
    "notional_floor": "notionalFloor",
    "notional_cap": "notionalCap",
    "max_leverage": "initialLeverage",
    "mmr": "maintMarginRatio",
    "maintenance_amount": "cum",
}


class _Unrepresentable:
    """A JSON number too large for a float (``1e400``, a 401-digit integer), kept as its text so
    the record that holds it can be refused by name."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return _abbreviate_number(self.text)


def _parse_float(text: str) -> float | _Unrepresentable:
    number = float(text)
    return number if math.isfinite(number) else _Unrepresentable(text)


def _parse_int(text: str) -> int | _Unrepresentable:
    # float() of an integer above ~1.8e308 overflows; one of more than 400 digits is far past it
    # (and int() refuses more than 4300 digits), so keep the text.
    return _Unrepresentable(text) if len(text) > 400 else int(text)


def _abbreviate_number(text: str) -> str:
    """``text`` if short, else its first digits and its length: ``1000...0 (401 digits)``."""
    body = text.lstrip("+-")
    sign = text[: len(text) - len(body)]
    if body.isdigit() and len(body) > 20:
        return f"{sign}{body[:4]}...{body[-1]} ({len(body)} digits)"
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"


def _show(value: Any, limit: int = 80) -> str:
    """``repr(value)`` for a message: huge integers abbreviated, long reprs cut at ``limit``."""
    if isinstance(value, _Unrepresentable):
        return repr(value)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        n = int(value)
        try:
            return _abbreviate_number(str(n))
        except ValueError:  # more digits than Python will print
            digits = int(abs(n).bit_length() * 0.30103) + 1
            return f"{'-' if n < 0 else ''}an integer of about {digits} digits"
    try:
        text = repr(value)
    except ValueError:  # e.g. a list holding an integer too long to print
        return f"a {type(value).__name__} too large to print"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    """What a parsed JSON value is, in words, for messages."""
    if value is None:
        return "None (JSON null)"
    if isinstance(value, bool):
        return f"{value!r} (a boolean)"
    if isinstance(value, (int, float, np.number, _Unrepresentable)):
        return f"the number {_show(value)}"
    if isinstance(value, str):
        return f"the string {_show(value)}"
    if isinstance(value, Mapping):
        if "code" in value and "msg" in value:
            return f"an error response from the exchange (code {_show(value['code'])}: {_show(value['msg'])})"
        return f"an object with the keys {_show(list(value))}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "an empty list"
        return f"a list of {len(value)} item{'s' if len(value) > 1 else ''}: {_show(value)}"
    return _show(value)


def _not_one_symbol(name: str, payload: list | tuple) -> str:
    """Why a list that is not one symbol's brackets was refused (several symbols, say)."""
    rule = f"{name} must hold the leverage brackets of one symbol"
    if not payload:
        return f"{rule} (a one-element list or its element); got an empty list"
    if all(isinstance(p, Mapping) and "brackets" in p for p in payload):
        symbols = [_show(p.get("symbol", "?")) for p in payload]
        shown = ", ".join(symbols[:8]) + (f", ... and {len(symbols) - 8} more" if len(symbols) > 8 else "")
        return (
            f"{rule}; got a list of {len(payload)} symbols ({shown}): pick one, or ask the endpoint "
            "for one symbol (GET /fapi/v1/leverageBracket?symbol=BTCUSDT)"
        )
    return f"{rule} (a dict with 'symbol' and 'brackets', or a one-element list of it); got {_kind(payload)}"


def _bracket_rows(rows: Any, name: str) -> list | tuple:
    if not isinstance(rows, (list, tuple)):
        raise BracketTableError(f"{name} must be a list of bracket objects; got {_kind(rows)}")
    if not rows:
        raise BracketTableError(f"{name} must hold at least one bracket; got an empty list")
    return rows


def _text(doc: Mapping, key: str, name: str | None = None) -> str | None:
    """``doc[key]`` if it is a string or absent/null; anything else is refused."""
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        where = f"{name}['{key}']" if name else f"'{key}'"
        raise BracketTableError(f"{where} must be a string; got {_kind(value)}")
    return value


def _has_exchange_rows(doc: Any) -> bool:
    """Whether ``doc`` is one symbol in the exchange's format (its first object row has its keys)."""
    rows = doc.get("brackets") if isinstance(doc, Mapping) else None
    first = next((row for row in rows if isinstance(row, Mapping)), None) if isinstance(rows, list) else None
    return first is not None and any(key in first for key in _EXCHANGE_KEYS.values() if key != "bracket")


@contextmanager
def _prefixed(origin: str) -> Iterator[None]:
    """Start the message of any BracketTableError raised inside with ``origin: ``."""
    try:
        yield
    except BracketTableError as exc:
        raise BracketTableError(f"{origin}: {exc}") from None


def _json_path(path: Any) -> Path:
    if isinstance(path, (str, os.PathLike)):
        try:
            return Path(path)
        except TypeError:  # a PathLike that gives bytes
            pass
    raise BracketTableError(f"path must be a str or pathlib.Path naming a JSON file; got {_show(path)}")


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        _refuse_file(path, "does not exist")
    except IsADirectoryError:
        _refuse_file(path, "is a directory")
    except OSError as exc:
        _refuse_file(path, f"could not be read ({exc.strerror or exc})")
    try:
        return data.decode("utf-8-sig")  # a byte-order mark, as some editors write, is allowed
    except UnicodeDecodeError as exc:
        raise BracketTableError(
            f"path {str(path)!r} must hold UTF-8 text (JSON); byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start} is not UTF-8"
        ) from None


def _refuse_file(path: Path, problem: str) -> NoReturn:
    raise BracketTableError(f"path must name a readable JSON file; got {str(path)!r}, which {problem}")


def _parse_json(text: str, *, origin: str) -> Any:
    """Parse JSON, keeping numbers too large for a float as :class:`_Unrepresentable`."""
    try:
        return json.loads(text, parse_float=_parse_float, parse_int=_parse_int)
    except json.JSONDecodeError as exc:
        empty = " (the file is empty)" if not text.strip() else ""
        raise BracketTableError(
            f"{origin}: must be valid JSON{empty}; {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise BracketTableError(f"{origin}: must be valid JSON; it is nested too deeply") from None


def _record_number(where: str, key: str, value: Any) -> float | int:
    """The number at ``where`` (e.g. ``records[3].notional_cap``) as a float (an int for
    ``bracket``): quoted numbers are read, and only ``notional_cap`` may be infinite."""
    hold = f"{where} must be a number a float can hold"
    if isinstance(value, _Unrepresentable):
        raise BracketTableError(f"{hold}; got {value!r}")
    if isinstance(value, str):  # the exchange's JSON sometimes quotes numbers
        text = value.strip()
        try:
            number = float(text)
        except ValueError:
            raise BracketTableError(f"{where} must be a number; got {_show(value)}") from None
        if math.isinf(number) and text.lstrip("+-").lower() not in ("inf", "infinity"):
            raise BracketTableError(f"{hold}; got {_show(value)}")
        value = number
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise BracketTableError(f"{where} must be a number; got {_show(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond ~1.8e308
        raise BracketTableError(f"{hold}; got {_show(value)}") from None
    if math.isnan(number) or (math.isinf(number) and key != "notional_cap"):
        raise BracketTableError(f"{where} must be finite; got {number!r}")
    if key == "bracket":
        if number != int(number):
            raise BracketTableError(f"{where} must be a whole number (1, 2, 3, ...); got {number!r}")
        return int(number)
    return number
