"""Fast redraws for a widget's figure: the frame is drawn once, the moving parts on top of it.

A lesson's plot function builds a whole new ``Figure`` for every control change; drawing one
from scratch costs ~100–150 ms here (the layout engine, creating and drawing every tick and
label). Most control changes, though, leave the *frame* of the picture unchanged — the axes'
limits, ticks, tick labels and axis labels — and only move the curves, markers, labels,
legends and titles. :class:`FigureRenderer` exploits that, the classic matplotlib
*blitting* technique made automatic:

* the first figure is laid out (its layout engine, e.g. constrained layout, runs once), its
  frame alone is drawn and kept as a background image, and its content is drawn on top;
* each later figure gets the same axes positions, and its frame *signature* (figure size,
  limits, tick locations and labels, axis labels, the number of lines of titles, outside
  legends) is compared with the kept one. Equal: the background is restored and only the
  content, titles included, is drawn (a *hit*, ~20–35 ms). Different: it is laid out and drawn
  in full, and becomes the new background (a *miss*, as slow as before). The last few frames
  are kept, so a toggle between two pictures draws each frame only once.

The picture is the same either way (a test compares the two pixel by pixel): the only
difference is that content is always drawn above the axes' own lines, so a curve passes over
a spine instead of under it. Output is PNG bytes (RGB, see :func:`png_bytes`), what the widget
shows.

>>> import matplotlib.pyplot as plt
>>> fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
>>> line, = ax.plot([0, 1], [0, 1])
>>> _ = ax.set_xlim(0, 1), ax.set_ylim(0, 1)
>>> r = FigureRenderer()
>>> png = r.render(fig); png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", (r.hits, r.misses)
(True, (0, 1))
>>> line.set_ydata([1, 0]); png = r.render(fig); (r.hits, r.misses)
(1, 1)
>>> plt.close(fig)
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.figure import Figure

__all__ = ["FigureRenderer", "frame_signature", "png_bytes"]

try:  # matplotlib >= 3.11 lays text out glyph by glyph in Python; older versions draw it whole
    from matplotlib.backends.backend_agg import RenderMode, get_hinting_flag
    from matplotlib.ft2font import FT2Font

    _GLYPH_API = hasattr(FT2Font, "_layout") and hasattr(FT2Font, "_render_glyph")
except ImportError:  # pragma: no cover - depends on the matplotlib version
    _GLYPH_API = False


class _TextCachingRenderer(RendererAgg):
    """An Agg renderer that keeps the glyph bitmaps of each text it drew at a given place.

    Most texts of a widget's figure (legend entries, titles, labels that do not move) are the
    same string at the same spot after every change; laying them out and rasterising their
    glyphs again is the largest part of a fast redraw. The bitmaps do not depend on the colour
    (that comes from ``gc`` when they are drawn), so a cached text is drawn exactly as before.
    """

    _LIMIT = 4_000

    def __init__(self, width: int, height: int, dpi: float) -> None:
        super().__init__(width, height, dpi)
        self._glyphs: dict[tuple[Any, ...], list[tuple[np.ndarray, int, int]]] = {}

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001
        if (
            ismath
            or not _GLYPH_API
            or not gc.get_antialiased()
            or mtext is not None
            and (mtext.get_fontfeatures() is not None or mtext.get_language() is not None)
        ):
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        key = (s, hash(prop), float(angle), float(x), float(y), get_hinting_flag())
        glyphs = self._glyphs.get(key)
        if glyphs is None:
            glyphs = self._rasterise(x, y, s, prop, angle)
            if len(self._glyphs) >= self._LIMIT:
                self._glyphs.clear()
            self._glyphs[key] = glyphs
        for buffer, left, top in glyphs:
            self._renderer.draw_text_image(buffer, left, top, 0, gc)

    def _rasterise(self, x, y, s, prop, angle) -> list[tuple[np.ndarray, int, int]]:  # noqa: ANN001
        """What RendererAgg.draw_text (matplotlib 3.11) draws, glyph by glyph, kept."""
        font = self._prepare_font(prop)
        flags = get_hinting_flag()
        size = prop.get_size_in_points()
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        rotation = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        out = []
        for item in font._layout(s, flags=flags):
            glyph_font, dx, dy = item.ft_object, item.x, item.y
            glyph_font.set_size(size, self.dpi)
            origin = [
                round(0x40 * (x + dx * cos - dy * sin)),
                round(0x40 * (self.height - y + dx * sin + dy * cos)),  # FreeType's y is upwards
            ]
            glyph_font._set_transform(rotation, origin)
            bitmap = glyph_font._render_glyph(item.glyph_index, flags, RenderMode.NORMAL)
            buffer = np.array(bitmap.buffer, copy=True)
            out.append((buffer, bitmap.left, int(self.height) - bitmap.top + buffer.shape[0]))
        return out


def png_bytes(rgb: np.ndarray) -> bytes:
    """A PNG file of an ``(height, width, 3)`` uint8 image: no row filters and zlib level 1,
    about four times faster than a general encoder for a plot (flat colours compress well
    without filters).

    >>> import io
    >>> from PIL import Image
    >>> Image.open(io.BytesIO(png_bytes(np.zeros((2, 3, 3), dtype=np.uint8)))).size
    (3, 2)
    """
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"png_bytes needs an (height, width, 3) array; got shape {rgb.shape}")
    height, width, _ = rgb.shape
    rows = np.empty((height, 1 + 3 * width), dtype=np.uint8)
    rows[:, 0] = 0  # filter type "none" for every row
    rows[:, 1:] = rgb.reshape(height, 3 * width)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1))
        + chunk(b"IEND", b"")
    )


def _titles(ax: Axes) -> list[Artist]:
    return [ax.title, ax._left_title, ax._right_title]


def _frame_artists(ax: Axes) -> set[Artist]:
    """What belongs to an axes' frame: its background, spines and axes (ticks, tick labels,
    axis labels). Titles are drawn with the content, so a title may carry moving numbers (the
    signature keeps only how many lines each has, which is what the layout depends on)."""
    return {ax.patch, *ax.spines.values(), ax.xaxis, ax.yaxis, *_titles(ax)}


def _content(fig: Figure) -> list[Artist]:
    """Everything else, in drawing order: each axes' titles and content by z-order, then
    figure-level legends and texts (a suptitle among them)."""
    artists: list[Artist] = []
    for ax in fig.axes:
        frame = _frame_artists(ax)
        inside = [a for a in ax.get_children() if a not in frame and a.get_visible()]
        artists.extend(t for t in _titles(ax) if t.get_visible() and t.get_text())
        artists.extend(sorted(inside, key=lambda a: a.get_zorder()))
    top = [*fig.lines, *fig.patches, *fig.artists, *fig.images, *fig.texts, *fig.legends]
    artists.extend(sorted((a for a in top if a.get_visible()), key=lambda a: a.get_zorder()))
    return artists


def _axis_signature(axis: Axis) -> tuple[Any, ...]:
    major = [float(v) for v in np.round(axis.get_majorticklocs(), 12)]
    minor = [float(v) for v in np.round(axis.get_minorticklocs(), 12)]
    formatter = axis.get_major_formatter()
    labels = tuple(formatter.format_ticks(major))
    offset = formatter.get_offset() if hasattr(formatter, "get_offset") else ""
    minor_labels = tuple(axis.get_minor_formatter().format_ticks(minor))
    return (
        axis.get_scale(),
        tuple(major),
        labels,
        offset,
        tuple(minor),
        minor_labels,
        axis.get_label().get_text(),
        axis.get_visible(),
    )


def _lines(text: str) -> int:
    return text.count("\n") + 1 if text else 0


def frame_signature(fig: Figure) -> tuple[Any, ...]:
    """What a figure's frame looks like, as a comparable tuple: size, dpi, and per axes its
    position, limits, ticks with their labels, axis labels and the number of lines of each
    title; plus the shape of any figure legend or suptitle (which the layout makes room for)."""
    parts: list[Any] = [tuple(fig.get_size_inches()), fig.dpi, len(fig.axes)]
    for ax in fig.axes:
        parts.append(
            (
                tuple(np.round(ax.get_position().bounds, 9)),
                ax.get_xlim(),
                ax.get_ylim(),
                tuple(_lines(ax.get_title(loc)) for loc in ("center", "left", "right")),
                ax.axison,
                _axis_signature(ax.xaxis),
                _axis_signature(ax.yaxis),
            )
        )
    parts.append(tuple((len(leg.get_texts()), leg._ncols) for leg in fig.legends))
    suptitle = fig._suptitle
    parts.append(_lines(suptitle.get_text()) if suptitle is not None else 0)
    return tuple(parts)


@dataclass
class _Frame:
    """A frame drawn once: its signature, the axes and title positions, the background image."""

    signature: tuple[Any, ...]
    size: tuple[float, ...]
    renderer: _TextCachingRenderer
    positions: list[Any]
    title_positions: list[list[Any]]
    background: Any


class FigureRenderer:
    """Turns successive figures of one widget into PNG bytes, redrawing only what moved.

    The last few frames are kept (:attr:`KEEP`), most recent first, so switching a toggle back
    and forth between two pictures draws each frame once. ``render(fig)`` does not keep
    ``fig``; close it afterwards as usual. ``hits`` and ``misses`` count the fast and the full
    redraws.
    """

    KEEP = 4

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self._renderers: dict[tuple[int, int], _TextCachingRenderer] = {}
        self._frames: list[_Frame] = []

    def render(self, fig: Figure) -> bytes:
        """PNG bytes of ``fig`` (RGB), drawn in full only when its frame is not one of the kept."""
        size = tuple(fig.get_size_inches())
        candidates = [f for f in self._frames if f.size == size and len(f.positions) == len(fig.axes)]
        if candidates:
            engine = fig.get_layout_engine()
            fig.set_layout_engine("none")
            for frame in candidates:
                for ax, position in zip(fig.axes, frame.positions, strict=True):
                    ax.set_position(position)
                if frame_signature(fig) == frame.signature:
                    self.hits += 1
                    self._frames.remove(frame)
                    self._frames.insert(0, frame)
                    frame.renderer.restore_region(frame.background)
                    return self._draw_content(fig, frame)
            # a new frame: undo the borrowed layout and lay the figure out afresh
            for ax in fig.axes:
                ax.set_in_layout(True)
            fig.set_layout_engine(engine)
        self.misses += 1
        return self._draw_in_full(fig)

    def _draw_in_full(self, fig: Figure) -> bytes:
        width, height = (int(round(v)) for v in fig.canvas.get_width_height())
        renderer = self._renderers.get((width, height))
        if renderer is None or renderer.dpi != fig.dpi:
            renderer = self._renderers[(width, height)] = _TextCachingRenderer(width, height, fig.dpi)
        engine = fig.get_layout_engine()
        if engine is not None:
            engine.execute(fig)
            fig.set_layout_engine("none")
        for ax in fig.axes:
            ax._update_title_position(renderer)  # what Axes.draw does first, titles shown
        # kept now: drawing the frame with the titles hidden would move them
        title_positions = [[t.get_position() for t in _titles(ax)] for ax in fig.axes]
        content = _content(fig)
        for artist in content:
            artist.set_visible(False)
        try:
            renderer.clear()
            fig.draw(renderer)
        finally:
            for artist in content:
                artist.set_visible(True)
        frame = _Frame(
            signature=frame_signature(fig),
            size=tuple(fig.get_size_inches()),
            renderer=renderer,
            positions=[ax.get_position() for ax in fig.axes],
            title_positions=title_positions,
            background=renderer.copy_from_bbox(fig.bbox),
        )
        self._frames = [frame, *self._frames][: self.KEEP]
        return self._draw_content(fig, frame)

    def _draw_content(self, fig: Figure, frame: _Frame) -> bytes:
        renderer = frame.renderer
        # titles sit where the full draw put them (that depends on the frame only)
        for ax, positions in zip(fig.axes, frame.title_positions, strict=True):
            for title, position in zip(_titles(ax), positions, strict=True):
                title.set_position(position)
        for artist in _content(fig):
            artist.draw(renderer)
        return png_bytes(np.asarray(renderer.buffer_rgba())[..., :3])
