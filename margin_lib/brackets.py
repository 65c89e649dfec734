"""Position tiers ("leverage brackets"): maximum leverage, MMR and maintenance amount by notional.

A symbol's table splits notional into tiers ``[floor, cap)``. Larger positions get a lower
maximum leverage and a higher maintenance-margin rate. The maintenance amount ``cum`` keeps the
maintenance margin ``MM = N × MMR − cum`` continuous across tier edges::

    cum_1 = 0,   cum_i = cum_{i-1} + floor_i × (MMR_i − MMR_{i-1})

Tables change without notice and differ per account, so the package ships dated snapshots
(:meth:`BracketTable.load`) and accepts your own (:meth:`BracketTable.from_records`,
:meth:`BracketTable.from_exchange`, :meth:`BracketTable.load_file`).

>>> table = BracketTable.load("BTCUSDT")
>>> table.as_of
'2026-09'
>>> table.maintenance_margin(500_000)     # 500,000 × 0.5 % − 300
2200.0
>>> table.max_leverage(500_000)
100.0
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike

from . import _validate as v
from .errors import BracketTableError, InvalidInputError

__all__ = ["Bracket", "BracketTable"]

FIELDS = ("bracket", "notional_floor", "notional_cap", "max_leverage", "mmr", "maintenance_amount")
_DATA = "data/brackets"
# our field -> the exchange's key in GET /fapi/v1/leverageBracket
_EXCHANGE_KEYS = {
    "bracket": "bracket",
    "notional_floor": "notionalFloor",
    "notional_cap": "notionalCap",
    "max_leverage": "initialLeverage",
    "mmr": "maintMarginRatio",
    "maintenance_amount": "cum",
}


@dataclass(frozen=True)
class Bracket:
    """One tier: notional in ``[notional_floor, notional_cap)`` USDT.

    ``mmr`` is a fraction, ``maintenance_amount`` (the exchange's ``cum``) is in USDT. When
    returned by :meth:`BracketTable.bracket_for` for an array of notionals, every field is an
    array of that shape.
    """

    bracket: Any
    notional_floor: Any
    notional_cap: Any
    max_leverage: Any
    mmr: Any
    maintenance_amount: Any

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class BracketTable:
    """A validated, immutable tier table for one symbol.

    Build it with :meth:`from_records`, :meth:`from_exchange`, :meth:`flat`, :meth:`load` or
    :meth:`load_file`. Attributes: ``symbol``, ``as_of`` (the snapshot's date, a string),
    ``source`` (where the numbers come from) and ``brackets`` (a tuple of :class:`Bracket`).
    """

    def __init__(
        self,
        brackets: Iterable[Bracket],
        *,
        symbol: str | None = None,
        as_of: str | None = None,
        source: str | None = None,
    ) -> None:
        self.brackets: tuple[Bracket, ...] = tuple(brackets)
        self.symbol = symbol
        self.as_of = as_of
        self.source = source
        _check_table(self.brackets)
        self._floor = np.array([b.notional_floor for b in self.brackets], dtype=float)
        self._cap = np.array([b.notional_cap for b in self.brackets], dtype=float)
        self._mmr = np.array([b.mmr for b in self.brackets], dtype=float)
        self._cum = np.array([b.maintenance_amount for b in self.brackets], dtype=float)
        self._lev = np.array([b.max_leverage for b in self.brackets], dtype=float)
        self._num = np.array([b.bracket for b in self.brackets], dtype=float)

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_records(
        cls,
        records: Iterable[Mapping[str, Any]],
        *,
        symbol: str | None = None,
        as_of: str | None = None,
        source: str | None = None,
    ) -> BracketTable:
        """Build a table from dicts with the keys ``bracket, notional_floor, notional_cap,
        max_leverage, mmr, maintenance_amount`` (notionals and ``maintenance_amount`` in USDT,
        ``mmr`` a fraction). Numbers may be quoted (``"0.004"``); only the last
        ``notional_cap`` may be ``inf``.

        Refuses (with :class:`~margin_lib.errors.BracketTableError`) records that are not a list
        of such dicts, a value that is not a number a float can hold, and a table that is empty,
        unsorted, overlapping or with gaps, whose MMR falls or maximum leverage rises with size,
        whose MMR is not below ``1 / max_leverage``, or whose ``maintenance_amount`` breaks the
        recurrence above.

        >>> t = BracketTable.from_records([
        ...     dict(bracket=1, notional_floor=0, notional_cap=50_000, max_leverage=125,
        ...          mmr=0.004, maintenance_amount=0),
        ...     dict(bracket=2, notional_floor=50_000, notional_cap=250_000, max_leverage=100,
        ...          mmr=0.005, maintenance_amount=50)])
        >>> t.bracket_for(60_000).mmr
        0.005
        """
        if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
            raise BracketTableError(
                f"records must be a list of dicts with keys {', '.join(FIELDS)}; got {_show(records)}"
            )
        rows = list(records)
        if not rows:
            raise BracketTableError("records must hold at least one bracket; got an empty list")
        out = []
        for i, rec in enumerate(rows):
            if not isinstance(rec, Mapping):
                raise BracketTableError(
                    f"records[{i}] must be a dict with keys {', '.join(FIELDS)}; got {_show(rec)}"
                )
            missing = [k for k in FIELDS if k not in rec]
            extra = [k for k in rec if k not in FIELDS]
            if missing or extra:
                raise BracketTableError(
                    f"records[{i}] must have exactly the keys {', '.join(FIELDS)}; "
                    f"missing {missing}, unknown {_show(extra)}"
                )
            out.append(Bracket(**{k: _record_number(f"records[{i}].{k}", k, rec[k]) for k in FIELDS}))
        return cls(out, symbol=symbol, as_of=as_of, source=source)

    @classmethod
    def from_exchange(cls, payload: Any, *, as_of: str | None = None) -> BracketTable:
        """Build a table from the exchange's leverage-bracket JSON (one symbol).

        Accepts ``{"symbol": ..., "brackets": [{"bracket", "initialLeverage", "notionalCap",
        "notionalFloor", "maintMarginRatio", "cum"}, ...]}`` or a one-element list of it, as
        the exchange's API (GET /fapi/v1/leverageBracket?symbol=...) returns; numbers may be
        quoted. Paste your own account's response to use your tiers. Anything else (a list of
        several symbols, a row that is not an object, a missing key, a number a float cannot
        hold, an inconsistent table) raises :class:`~margin_lib.errors.BracketTableError`.

        >>> t = BracketTable.from_exchange([{"symbol": "XYZUSDT", "brackets": [
        ...     {"bracket": 1, "initialLeverage": 50, "notionalCap": "10000", "notionalFloor": "0",
        ...      "maintMarginRatio": "0.01", "cum": "0"}]}])
        >>> t.symbol, t.maintenance_margin(5_000)       # 5,000 × 1 % − 0
        ('XYZUSDT', 50.0)
        """
        return cls._exchange(payload, as_of=as_of, name="payload")

    @classmethod
    def _exchange(cls, payload: Any, *, as_of: str | None, name: str) -> BracketTable:
        if isinstance(payload, (list, tuple)):
            if len(payload) != 1:
                raise BracketTableError(_not_one_symbol(name, payload))
            payload, name = payload[0], f"{name}[0]"
        if not isinstance(payload, Mapping) or "brackets" not in payload:
            raise BracketTableError(
                f"{name} must be the exchange's leverage-bracket JSON for one symbol "
                f"(a dict with 'symbol' and 'brackets', or a one-element list of it); got {_kind(payload)}"
            )
        rows = _bracket_rows(payload["brackets"], f"{name}['brackets']")
        symbol = _text(payload, "symbol", name)
        wanted = ", ".join(_EXCHANGE_KEYS.values())
        records = []
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise BracketTableError(
                    f"brackets[{i}] must be an object with the exchange's keys {wanted}; got {_show(row)}"
                )
            missing = [src for src in _EXCHANGE_KEYS.values() if src not in row]
            if missing:
                raise BracketTableError(
                    f"brackets[{i}] lacks the exchange's keys {missing}; it must have {wanted}"
                )
            records.append(
                {
                    ours: _record_number(f"brackets[{i}].{src}", ours, row[src])
                    for ours, src in _EXCHANGE_KEYS.items()
                }
            )
        return cls.from_records(records, symbol=symbol, as_of=as_of, source="exchange JSON")

    @classmethod
    def flat(cls, mmr: float, max_leverage: float, *, symbol: str | None = None) -> BracketTable:
        """A single tier covering every notional: a flat ``mmr`` and ``max_leverage``.

        Useful for the article's simplified examples (0.5 % at 10x, say).

        >>> BracketTable.flat(0.005, 100).maintenance_margin(1_000)
        5.0
        """
        mmr_ = v.scalar(v.number, "mmr", mmr, low=0.0, high=1.0, low_open=True, high_open=True)
        lev = v.scalar(v.leverage, "max_leverage", max_leverage)
        record = dict(
            bracket=1,
            notional_floor=0.0,
            notional_cap=math.inf,
            max_leverage=lev,
            mmr=mmr_,
            maintenance_amount=0.0,
        )
        return cls.from_records([record], symbol=symbol, source=f"flat {mmr_:.4%} up to {lev:g}x")

    @classmethod
    def load(cls, symbol: str) -> BracketTable:
        """Load a dated snapshot shipped with the package: ``"BTCUSDT"``, ``"ETHUSDT"`` or
        ``"BTCUSDT-2021"`` (an older table used in the exchange's FAQ). See :meth:`available`.
        A name that is not one of them, or not a string, raises
        :class:`~margin_lib.errors.InvalidInputError`.
        """
        names = cls.available()
        if not isinstance(symbol, str):
            raise InvalidInputError(
                f"symbol must be a string naming a shipped snapshot ({', '.join(map(repr, names))}); "
                f"got {_show(symbol)}"
            )
        key = symbol.strip().upper()
        if key not in names:
            raise InvalidInputError(
                f"symbol must be one of the shipped snapshots {', '.join(map(repr, names))}; "
                f"got {symbol!r} (use BracketTable.load_file or from_records for your own table)"
            )
        text = resources.files("margin_lib").joinpath(f"{_DATA}/{key}.json").read_text("utf-8")
        return cls._from_document(_parse_json(text, origin=key), origin=key)

    @classmethod
    def load_file(cls, path: str | Path) -> BracketTable:
        """Load a table from a UTF-8 JSON file: the package's own format (``{"symbol", "as_of",
        "source", "brackets": [records]}``, see ``margin_lib/data/brackets``) or what the
        exchange's leverage-bracket endpoint (GET /fapi/v1/leverageBracket?symbol=...) returns,
        a one-element list ``[{"symbol": ..., "brackets": [...]}]`` or its one element.

        A path that is not a str or :class:`~pathlib.Path`, a missing or unreadable file, a
        directory, bytes that are not UTF-8, invalid JSON, or a malformed or inconsistent table
        raises :class:`~margin_lib.errors.BracketTableError`, whose message names the path.
        """
        p = _json_path(path)
        origin = str(p)
        doc = _parse_json(_read_text(p), origin=origin)
        if isinstance(doc, list) or _has_exchange_rows(doc):
            with _prefixed(origin):
                return cls._exchange(doc, as_of=None, name="document")
        return cls._from_document(doc, origin=origin)

    @classmethod
    def _from_document(cls, doc: Any, *, origin: str) -> BracketTable:
        """A table from a parsed document in the package's own format; errors start with ``origin``."""
        with _prefixed(origin):
            if not isinstance(doc, Mapping) or "brackets" not in doc:
                raise BracketTableError(
                    "expected a JSON object with a 'brackets' list (the package's format, or the "
                    f"exchange's leverage-bracket response); got {_kind(doc)}"
                )
            rows = _bracket_rows(doc["brackets"], "'brackets'")
            return cls.from_records(
                rows,
                symbol=_text(doc, "symbol"),
                as_of=_text(doc, "as_of"),
                source=_text(doc, "source"),
            )

    @staticmethod
    def available() -> list[str]:
        """Names of the snapshots shipped in ``margin_lib/data/brackets``."""
        folder = resources.files("margin_lib").joinpath(_DATA)
        return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))

    # -- lookup ------------------------------------------------------------------------------
    def _index(self, notional: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        # A notional of 0 (no position yet) is valid: it lies in tier 1, whose floor is 0.
        n = v.nonnegative("notional", notional) + 0.0  # + 0.0 turns -0.0 into 0.0
        top = self._cap[-1]
        if (n >= top).any():
            bad = n >= top
            raise InvalidInputError(
                f"notional must be below the table's last cap {top:,.0f} USDT "
                f"({self.symbol or 'this table'}); got {v._first_bad(n, bad)}"
            )
        # Highest tier whose floor <= notional: a notional on a floor belongs to the upper tier.
        return n, np.searchsorted(self._floor, n, side="right") - 1

    def bracket_for(self, notional: ArrayLike) -> Bracket:
        """The tier that holds ``notional`` (USDT, valued at the mark price; ``0 <= notional <``
        the last cap), the one with ``notional_floor <= notional < notional_cap``.

        A notional exactly on a floor belongs to the upper tier, so 0 (no position yet) is in
        tier 1. For an array of notionals every field of the returned :class:`Bracket` is an
        array of the same shape.

        >>> t = BracketTable.load("BTCUSDT")
        >>> t.bracket_for(300_000).bracket
        2
        >>> t.bracket_for(0).bracket
        1
        """
        _, i = self._index(notional)
        if np.ndim(notional) == 0:
            return self.brackets[int(i)]
        return Bracket(
            bracket=self._num[i].astype(int),
            notional_floor=self._floor[i],
            notional_cap=self._cap[i],
            max_leverage=self._lev[i],
            mmr=self._mmr[i],
            maintenance_amount=self._cum[i],
        )

    def check_leverage(self, notional: float, leverage: float) -> Bracket:
        """Refuse a notional beyond the table or a leverage above its tier's maximum; return the
        tier that holds ``notional`` (one position, scalars: ``notional`` in USDT, ``>= 0``;
        ``leverage`` a multiple, ``>= 1``). A notional of 0 is checked against tier 1.

        >>> t = BracketTable.load("BTCUSDT")
        >>> t.check_leverage(500_000, 100).bracket
        2
        >>> t.check_leverage(0, 150).bracket
        1
        >>> try:
        ...     t.check_leverage(500_000, 120)
        ... except ValueError as exc:
        ...     print(exc)
        leverage must be at most 100x for a 500,000 USDT BTCUSDT position (tier 2's maximum); got 120x
        """
        n = v.scalar(v.nonnegative, "notional", notional) + 0.0
        lev = v.scalar(v.leverage, "leverage", leverage)
        label = f"{self.symbol} position" if self.symbol else "position"
        top = self._cap[-1]
        if n >= top:
            raise InvalidInputError(
                f"notional must be below {top:,.0f} USDT, the top of the {self.symbol or 'this'} tier "
                f"table; got {n:,.2f}"
            )
        tier = self.bracket_for(n)
        if lev > tier.max_leverage:
            raise InvalidInputError(
                f"leverage must be at most {tier.max_leverage:g}x for a {n:,.0f} USDT {label} "
                f"(tier {tier.bracket}'s maximum); got {lev:g}x"
            )
        return tier

    def maintenance_margin(self, notional: ArrayLike) -> ArrayLike:
        """``MM = N × MMR − cum`` in USDT, with the MMR and ``cum`` of the tier holding the
        notional ``N`` (USDT, ``0 <= N <`` the last cap); 0 for ``N = 0``.

        >>> t = BracketTable.load("BTCUSDT")
        >>> t.maintenance_margin(1_000)      # 1,000 × 0.4 % − 0
        4.0
        >>> t.maintenance_margin(0)
        0.0
        """
        n, i = self._index(notional)
        return v.result(n * self._mmr[i] - self._cum[i], notional)

    def max_leverage(self, notional: ArrayLike) -> ArrayLike:
        """The highest leverage (a multiple: 50.0 is 50x) the tier of ``notional`` (USDT,
        ``0 <= notional <`` the last cap) allows; for 0, tier 1's, the most a new position may
        open at.

        >>> t = BracketTable.load("BTCUSDT")
        >>> t.max_leverage(5_000_000)
        50.0
        >>> t.max_leverage(0)
        150.0
        """
        _, i = self._index(notional)
        return v.result(self._lev[i], notional)

    # -- for the solvers ---------------------------------------------------------------------
    def tier_arrays(self) -> dict[str, np.ndarray]:
        """Floors, caps, MMRs, cums and maximum leverages as arrays (the solvers use these)."""
        return {
            "floor": self._floor.copy(),
            "cap": self._cap.copy(),
            "mmr": self._mmr.copy(),
            "cum": self._cum.copy(),
            "max_leverage": self._lev.copy(),
        }

    def tier_at(self, notional: float) -> Bracket:
        """The tier of a notional >= 0 without the cap check: beyond the last cap, the last tier
        (a short's notional can outgrow the table while its price rises)."""
        i = int(np.searchsorted(self._floor, float(notional), side="right")) - 1
        return self.brackets[max(i, 0)]

    def maintenance_margin_curve(self, notional: np.ndarray) -> np.ndarray:
        """MM for any notional >= 0 without input checks, the last tier extended beyond its cap.

        The fast path for path replays. MM is continuous and convex in the notional (each tier's
        rate is at least the previous one's), so it equals the largest of the tier lines
        ``N × MMR_i − cum_i``; only the tiers the given notionals span are evaluated.
        """
        n = np.asarray(notional, dtype=float)
        if n.size == 0:
            return n.copy()
        lo = max(int(np.searchsorted(self._floor, n.min(), side="right")) - 1, 0)
        hi = max(int(np.searchsorted(self._floor, n.max(), side="right")) - 1, 0)
        mm = n * self._mmr[lo] - self._cum[lo]
        for i in range(lo + 1, hi + 1):
            np.maximum(mm, n * self._mmr[i] - self._cum[i], out=mm)
        return mm

    # -- presentation ------------------------------------------------------------------------
    def records(self) -> list[dict[str, Any]]:
        """The table as a list of dicts (the format :meth:`from_records` takes)."""
        return [b.as_dict() for b in self.brackets]

    def __len__(self) -> int:
        return len(self.brackets)

    def __iter__(self) -> Iterator[Bracket]:
        return iter(self.brackets)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BracketTable) and self.brackets == other.brackets

    def __hash__(self) -> int:
        return hash(self.brackets)

    def __repr__(self) -> str:
        label = self.symbol or "custom"
        when = f", as_of={self.as_of!r}" if self.as_of else ""
        return f"<BracketTable {label}{when}: {len(self)} tiers>"


# -- reading and checking documents -------------------------------------------------------------
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


def _check_table(brackets: tuple[Bracket, ...]) -> None:
    if not brackets:
        raise BracketTableError("a bracket table needs at least one bracket; got none")
    floors = [b.notional_floor for b in brackets]
    numbers = [b.bracket for b in brackets]
    if floors != sorted(floors) or numbers != list(range(1, len(brackets) + 1)):
        raise BracketTableError(
            "brackets must be sorted by notional_floor and numbered 1, 2, 3, ... in that order; "
            f"got floors {[f'{f:,.0f}' for f in floors]} numbered {numbers}"
        )
    prev: Bracket | None = None
    for i, b in enumerate(brackets):
        where = f"bracket {b.bracket} (records[{i}])"
        if not 0 < b.mmr < 1:
            raise BracketTableError(f"{where}: mmr must satisfy 0 < mmr < 1; got {b.mmr!r}")
        if b.max_leverage < 1:
            raise BracketTableError(f"{where}: max_leverage must be >= 1; got {b.max_leverage!r}")
        if b.maintenance_amount < 0:
            raise BracketTableError(f"{where}: maintenance_amount must be >= 0; got {b.maintenance_amount!r}")
        if not b.notional_cap > b.notional_floor:
            raise BracketTableError(
                f"{where}: notional_cap must be above notional_floor {b.notional_floor:,.0f}; "
                f"got {b.notional_cap:,.0f}"
            )
        if b.mmr >= 1.0 / b.max_leverage:
            raise BracketTableError(
                f"{where}: mmr must be below the initial margin rate 1/max_leverage = "
                f"{1 / b.max_leverage:.4%} (else a new position is liquidated at once); "
                f"got {b.mmr:.4%}"
            )
        if prev is None:
            if b.notional_floor != 0:
                raise BracketTableError(
                    f"{where}: the first notional_floor must be 0; got {b.notional_floor!r}"
                )
            if b.maintenance_amount != 0:
                raise BracketTableError(
                    f"{where}: the first maintenance_amount must be 0; got {b.maintenance_amount!r}"
                )
        else:
            if b.notional_floor < prev.notional_cap:
                raise BracketTableError(
                    f"{where}: notional_floor {b.notional_floor:,.0f} overlaps the previous "
                    f"bracket, which runs to {prev.notional_cap:,.0f}; it must equal that cap"
                )
            if b.notional_floor > prev.notional_cap:
                raise BracketTableError(
                    f"{where}: notional_floor {b.notional_floor:,.0f} leaves a gap after the "
                    f"previous cap {prev.notional_cap:,.0f}; it must equal that cap"
                )
            if b.mmr < prev.mmr:
                raise BracketTableError(
                    f"{where}: mmr must not fall as notional grows; got {b.mmr!r} after {prev.mmr!r}"
                )
            if b.max_leverage > prev.max_leverage:
                raise BracketTableError(
                    f"{where}: max_leverage must not rise as notional grows; got "
                    f"{b.max_leverage:g} after {prev.max_leverage:g}"
                )
            expected = prev.maintenance_amount + b.notional_floor * (b.mmr - prev.mmr)
            if not math.isclose(b.maintenance_amount, expected, rel_tol=1e-9, abs_tol=1e-6):
                raise BracketTableError(
                    f"{where}: maintenance_amount must be {expected:,.6g} = previous cum "
                    f"{prev.maintenance_amount:,.6g} + floor {b.notional_floor:,.0f} × (mmr "
                    f"{b.mmr:g} − previous mmr {prev.mmr:g}); got {b.maintenance_amount:,.6g}"
                )
        prev = b
