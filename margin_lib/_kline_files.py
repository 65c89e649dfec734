"""Opening kline files as they come (private module of :mod:`margin_lib.klines`).

A path or an open file, text or binary, plain or compressed (the exchange's ``.zip`` of one
CSV, or ``.gz``, told apart by their first bytes), becomes text blocks of about 1 MiB that end
at a line end, without the byte-order mark spreadsheet programs put first. Every way this can
fail becomes an :class:`~margin_lib.errors.InvalidInputError` naming the file.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import os
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .errors import InvalidInputError

_MAGIC_GZIP = b"\x1f\x8b"
_MAGIC_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # a zip with files; an empty zip
_BLOCK = 1 << 20  # bytes (or characters) read at a time: 1 MiB
_READ_ERRORS = (OSError, EOFError, zlib.error, zipfile.BadZipFile)

_Opener = Callable[[], contextlib.AbstractContextManager]

_SOURCE_RULE = "source must be a path to a kline CSV (.csv, .zip or .gz) or an open file"


def _source(source: object) -> tuple[str, _Opener]:
    """(the name used in messages, a function that opens the decompressed stream afresh)."""
    if isinstance(source, (str, os.PathLike)):
        try:
            path = Path(source)
            is_dir, is_file = path.is_dir(), path.is_file()
        except (TypeError, ValueError, OSError) as e:
            raise InvalidInputError(f"{_SOURCE_RULE}; got {source!r} ({e})") from None
        if is_dir:
            raise InvalidInputError(f"source must be a kline file, not a directory; got {str(path)!r}")
        if not is_file:
            raise InvalidInputError(f"source must be an existing kline CSV file; got {str(path)!r}")
        try:
            with open(path, "rb") as f:
                magic = f.read(4)
        except OSError as e:
            raise InvalidInputError(f"source {str(path)!r} cannot be read: {e.strerror or e}") from None
        return _decompressing(str(path), magic, lambda: open(path, "rb"))
    if not callable(getattr(source, "read", None)):
        if isinstance(source, (bytes, bytearray)):
            raise InvalidInputError(f"{_SOURCE_RULE}; got {len(source)} bytes (wrap them in io.BytesIO)")
        shown = repr(source)
        raise InvalidInputError(f"{_SOURCE_RULE}; got {shown if len(shown) < 80 else shown[:76] + ' ...'}")
    given = getattr(source, "name", None)
    name = given if isinstance(given, str) else "the kline file"
    try:
        probe = source.read(0)
    except (OSError, ValueError) as e:
        raise InvalidInputError(f"source {name!r} cannot be read: {e}") from None
    if not isinstance(probe, (str, bytes)):
        kind = type(source).__name__
        raise InvalidInputError(f"{_SOURCE_RULE}; got a {kind} whose read() gives {probe!r}")
    try:
        if not (hasattr(source, "seekable") and source.seekable()):
            # Read once into memory, so that the file can be read a second time if needed.
            data = source.read()
            source = io.StringIO(data) if isinstance(data, str) else io.BytesIO(data)
        start = source.tell()
        magic = b""
        if isinstance(probe, bytes):
            magic = source.read(4)
            source.seek(start)
    except (OSError, ValueError) as e:
        raise InvalidInputError(f"source {name!r} cannot be read: {e}") from None

    @contextlib.contextmanager
    def rewound() -> Iterator[IO]:
        source.seek(start)
        yield source  # left open: the caller opened it

    return _decompressing(name, magic, rewound)


def _decompressing(name: str, magic: bytes, raw: _Opener) -> tuple[str, _Opener]:
    """Wrap the opener of the raw bytes in gzip or zip when the first bytes say so."""
    if magic.startswith(_MAGIC_GZIP):

        @contextlib.contextmanager
        def gunzipped() -> Iterator[IO]:
            with raw() as f, gzip.GzipFile(fileobj=f, mode="rb") as g:
                yield g

        return name, gunzipped
    if magic.startswith(_MAGIC_ZIP):
        with _reading(name), raw() as f, zipfile.ZipFile(f) as z:
            member = _zip_member(name, z.namelist())

        @contextlib.contextmanager
        def unzipped() -> Iterator[IO]:
            with raw() as f, zipfile.ZipFile(f) as z, z.open(member) as m:
                yield m

        return f"{name} ({member})", unzipped
    return name, raw


def _zip_member(name: str, names: list[str]) -> str:
    """The one CSV in a zip (macOS's ``__MACOSX/`` copies and folders do not count)."""
    files = [n for n in names if not n.endswith("/") and not n.startswith("__MACOSX/")]
    csvs = [n for n in files if n.lower().endswith(".csv")]
    if len(csvs) != 1:
        held = f"holds {len(csvs)} CSV files ({', '.join(csvs)})" if csvs else "holds no CSV file"
        others = f"; its files: {', '.join(files[:10])}" if files and not csvs else ""
        raise InvalidInputError(
            f"{name}: a kline zip must hold exactly one .csv file; this one {held}{others}. "
            "Extract the file you want and pass its path"
        )
    return csvs[0]


@contextlib.contextmanager
def _reading(name: str) -> Iterator[None]:
    """Turn the errors of reading and decompressing into InvalidInputError naming the file."""
    try:
        yield
    except UnicodeDecodeError:
        raise InvalidInputError(
            f"{name} is not UTF-8 text; a .zip or .gz file must be opened in binary mode, "
            "open(path, 'rb'), or passed by its path"
        ) from None
    except _READ_ERRORS as e:
        raise InvalidInputError(f"{name} cannot be read: {e} (is the file damaged or truncated?)") from None
    except csv.Error as e:
        raise InvalidInputError(f"{name} cannot be read as CSV: {e}") from None


def _blocks(stream: IO) -> Iterator[str]:
    """The stream as text blocks of about 1 MiB that end at a line end; the byte-order mark
    at the very start is dropped. Bytes are decoded as UTF-8 (an undecodable byte becomes
    U+FFFD, and that line is then refused as not a number)."""
    rest, first = None, True
    while chunk := stream.read(_BLOCK):
        if rest:
            chunk = rest + chunk
        cut = chunk.rfind(b"\n" if isinstance(chunk, bytes) else "\n") + 1
        if cut == 0:
            rest = chunk
            continue
        rest = chunk[cut:]
        yield _text(chunk[:cut], first)
        first = False
    if rest:
        yield _text(rest, first)


def _text(chunk: str | bytes, first: bool) -> str:
    text = chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else chunk
    return text[1:] if first and text.startswith("\ufeff") else text


def _csv_reader(stream: IO):  # -> a csv reader (its type has no public name)
    """A :mod:`csv` reader over the stream's lines (``\\n``, ``\\r\\n`` or ``\\r`` ends)."""
    return csv.reader(line for block in _blocks(stream) for line in io.StringIO(block, newline=None))
