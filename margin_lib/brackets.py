"""Position tiers ("leverage brackets"): maximum leverage, MMR and maintenance amount by notional.

A symbol's table splits notional into tiers ``[floor, cap)``. Larger positions get a lower
maximum leverage and a higher maintenance-margin rate. The maintenance amount ``cum`` keeps the
maintenance margin ``MM = N × MMR − cum`` continuous across tier edges::

    cum_1 = 0,   cum_i = cum_{i-1} + floor_i × (MMR_i − MMR_{i-1})

Tables change without notice and differ per account, so the package ships dated snapshots
(:meth:`BracketTable.load`) and accepts your own (:meth:`BracketTable.from_records`,
:meth:`BracketTable.from_exchange`, :meth:`BracketTable.load_file`). The course's rule book,
``docs/margin-rules.md`` (section 3), explains the tiers and prints the shipped snapshots as tables.

>>> table = BracketTable.load("BTCUSDT")
>>> table.as_of
'2026-09'
>>> table.maintenance_margin(500_000)     # 500,000 × 0.5 % − 300
2200.0
>>> table.max_leverage(500_000)
100.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from . import _validate as v
from ._bracket_json import (
    _EXCHANGE_KEYS,
    _bracket_rows,
    _has_exchange_rows,
    _json_path,
    _kind,
    _not_one_symbol,
    _parse_json,
    _prefixed,
    _read_text,
    _record_number,
    _show,
    _text,
)
from .errors import BracketTableError, InvalidInputError

__all__ = ["Bracket", "BracketTable"]

FIELDS = ("bracket", "notional_floor", "notional_cap", "max_leverage", "mmr", "maintenance_amount")
_DATA = "data/brackets"


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

    def notional_limit(self, leverage: ArrayLike) -> ArrayLike:
        """The notional (USDT) that a position at ``leverage`` (a multiple, ``>= 1``) must stay
        **below**: the cap of the last tier whose maximum leverage is at least ``leverage``.

        The maximum leverage falls as the notional grows, so every smaller notional allows the
        leverage too, and a notional at the limit already lies in a tier that does not. A leverage
        above tier 1's maximum is refused: no size allows it.

        >>> t = BracketTable.load("BTCUSDT")
        >>> t.notional_limit(100), t.notional_limit(101), t.notional_limit(1)
        (800000.0, 300000.0, 1800000000.0)
        """
        lev = v.leverage("leverage", leverage)
        top = self._lev[0]
        bad = lev > top
        if bad.any():
            raise InvalidInputError(
                f"leverage must be at most {top:g}x, the highest any tier of the "
                f"{self.symbol or 'given'} table allows; got {v._first_bad(lev, bad)}"
            )
        allowed = np.searchsorted(-self._lev, -lev, side="right")  # the first `allowed` tiers
        return v.result(self._cap[allowed - 1], leverage)

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
