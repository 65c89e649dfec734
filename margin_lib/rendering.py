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
  content, titles included, is drawn (a *hit*, ~10–25 ms). Different: it is laid out and drawn
  in full, and becomes the new background (a *miss*, as slow as before). The last few frames
  are kept, so a toggle between two pictures draws each frame only once.

What a hit still draws is made cheaper where that changes no pixel:

* a figure legend (laying out its boxes costs 4–10 ms) is drawn once per look and frame; when
  the same legend comes again over the same pixels, what it drew is pasted back;
* texts are laid out once (for their size and for drawing; matplotlib does both), each text
  drawn at a given spot keeps its glyph bitmaps, and each glyph rendered at a given offset
  within a pixel is kept, so a changed number mostly reuses glyphs drawn before;
* the PNG is written without row filters, from the buffer one colour channel at a time.

The picture is the same either way (a test compares the two pixel by pixel): the only
difference is that content is always drawn above the axes' own lines, so a curve passes over
a spine instead of under it. Output is PNG bytes (RGB, see :func:`png_bytes`), what the widget
shows.

The fast redraw reads some of matplotlib's internals (:data:`PRIVATE`), always through
:func:`_private`. Where a matplotlib version lacks one, the renderer falls back to drawing
every figure in full the ordinary way: slower, the same picture (a test removes each in turn).

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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.collections import Collection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.offsetbox import OffsetBox
from matplotlib.patches import Patch
from matplotlib.text import Text

__all__ = ["FigureRenderer", "frame_signature", "png_bytes"]


class _Unsupported(Exception):
    """A matplotlib internal this module relies on is missing (a newer matplotlib): the
    :class:`FigureRenderer` then draws every figure in full, the plain way."""


#: matplotlib's private attributes this module reads, all through :func:`_private` (a test
#: checks the list is complete, and that the widgets still render when any one is missing).
PRIVATE = ("_prepare_font", "_layout", "ft_object", "glyph_index", "x", "y", "_renderer", "_set_transform",
           "_render_glyph", "buffer", "_left_title", "_right_title", "_ncols", "_suptitle", "_multialignment",
           "_dash_pattern", "_loc", "_mode", "_fontsize", "_update_title_position")  # fmt: skip


def _private(obj: Any, name: str) -> Any:
    """``getattr(obj, name)`` for one of matplotlib's internals (listed in :data:`PRIVATE`);
    :class:`_Unsupported` where this matplotlib has no such thing."""
    try:
        return getattr(obj, name)
    except AttributeError:
        raise _Unsupported(f"{type(obj).__name__}.{name}") from None

try:  # matplotlib >= 3.11 lays text out glyph by glyph in Python; older versions draw it whole
    from matplotlib.backends.backend_agg import RenderMode, get_hinting_flag
    from matplotlib.ft2font import FT2Font

    _GLYPH_API = hasattr(FT2Font, "_layout") and hasattr(FT2Font, "_render_glyph")
except ImportError:  # pragma: no cover - depends on the matplotlib version
    _GLYPH_API = False


class _TextCachingRenderer(RendererAgg):
    """An Agg renderer that keeps the glyph bitmaps of each text it drew at a given place, each
    glyph it drew at a given offset within a pixel, and each text's layout.

    Most texts of a widget's figure (legend entries, titles, labels that do not move) are the
    same string at the same spot after every change; laying them out and rasterising their
    glyphs again is the largest part of a fast redraw. A new text (a changed number) is laid out
    once, for its size and then for drawing it (matplotlib lays it out twice), and its glyphs
    are mostly found again: FreeType places a glyph on a 1/64-pixel grid, and the same glyph at
    the same offset within a pixel has the same bitmap, shifted by whole pixels. The bitmaps do
    not depend on the colour (that comes from ``gc`` when they are drawn), so a cached text is
    drawn exactly as before, and sizes are those of ``RendererAgg``, to the 1/64 pixel.
    """

    _LIMIT = 4_000
    _GLYPH_LIMIT = 20_000

    def __init__(self, width: int, height: int, dpi: float) -> None:
        super().__init__(width, height, dpi)
        # keyed and filled with plain numbers and arrays (a font by its id, kept alive in _fonts,
        # so never mistaken for another), which the garbage collector need not go through
        self._glyphs: dict[tuple[Any, ...], tuple[tuple[np.ndarray, int, int], ...]] = {}
        self._bitmaps: dict[tuple[Any, ...], tuple[np.ndarray, int, int]] = {}
        self._layouts: dict[tuple[Any, ...], tuple[tuple[int, int, float, float], ...]] = {}
        self._boxes: dict[tuple[Any, ...], tuple[int, int, int]] = {}
        self._fonts: dict[int, Any] = {}

    def _laid_out(self, s: str, prop: Any) -> tuple[tuple[int, int, float, float], ...]:
        """The glyphs of ``s`` as FreeType lays them out: (font's id in ``_fonts``, glyph index,
        x, y in pixels from the text's origin), worked out once per string and font."""
        flags = get_hinting_flag()
        key = (s, hash(prop), flags.value)
        glyphs = self._layouts.get(key)
        if glyphs is None:
            items = _private(_private(self, "_prepare_font")(prop), "_layout")(s, flags=flags)
            glyphs = []
            for item in items:
                font = _private(item, "ft_object")
                self._fonts.setdefault(id(font), font)
                index, x, y = _private(item, "glyph_index"), _private(item, "x"), _private(item, "y")
                glyphs.append((id(font), index, x, y))
            glyphs = tuple(glyphs)
            if len(self._layouts) >= self._LIMIT:
                self._layouts.clear()
            self._layouts[key] = glyphs
        return glyphs

    def get_text_width_height_descent(self, s, prop, ismath):  # noqa: ANN001
        """What ``RendererAgg`` answers (``FT2Font.set_text``'s box: the pen's advance after the
        last glyph, and the glyphs' extent up and down), from the layout kept for drawing."""
        glyphs = self._laid_out(s, prop) if _GLYPH_API and not ismath and s else None
        if not glyphs:
            return super().get_text_width_height_descent(s, prop, ismath)
        size, flags = prop.get_size_in_points(), get_hinting_flag()
        low, high, end = math.inf, -math.inf, 0
        for font, index, x, y in glyphs:
            box = self._boxes.get((font, index, size, flags.value))
            if box is None:
                ft_font = self._fonts[font]
                ft_font.set_size(size, self.dpi)  # FreeType's plain transform (drawing may have set another)
                glyph = ft_font.load_glyph(index, flags)
                box = (glyph.bbox[1], glyph.bbox[3], glyph.horiAdvance)  # bottom, top, advance (1/64 px)
                self._boxes[(font, index, size, flags.value)] = box
            lift = round(0x40 * y)
            low, high, end = min(low, box[0] + lift), max(high, box[1] + lift), round(0x40 * x) + box[2]
        return end / 64, (high - low) / 64, -low / 64

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # noqa: ANN001
        if (
            ismath
            or not _GLYPH_API
            or not gc.get_antialiased()
            or mtext is not None
            and (mtext.get_fontfeatures() is not None or mtext.get_language() is not None)
        ):
            return super().draw_text(gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)
        # the text's origin snapped to FreeType's grid is the key, so the same text a rounding
        # error away (a centred line, a note placed through a chain of transforms) is found again
        sx, sy = round(64 * x), round(64 * y)
        key = (s, hash(prop), float(angle), sx, sy, get_hinting_flag().value)
        glyphs = self._glyphs.get(key)
        if glyphs is None:
            glyphs = self._rasterise(sx / 64, sy / 64, s, prop, angle)
            if len(self._glyphs) >= self._LIMIT:
                self._glyphs.clear()
            self._glyphs[key] = glyphs
        for buffer, left, top in glyphs:
            _private(self, "_renderer").draw_text_image(buffer, left, top, 0, gc)

    def _rasterise(self, x, y, s, prop, angle) -> tuple[tuple[np.ndarray, int, int], ...]:  # noqa: ANN001
        """What RendererAgg.draw_text (matplotlib 3.11) draws, glyph by glyph, kept; each glyph
        rendered at its offset within a pixel once."""
        flags = get_hinting_flag()
        size = prop.get_size_in_points()
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        rotation = (0x10000 * np.array([[cos, -sin], [sin, cos]])).round().astype(int)
        out = []
        for font, index, dx, dy in self._laid_out(s, prop):
            ox = round(0x40 * (x + dx * cos - dy * sin))
            oy = round(0x40 * (self.height - y + dx * sin + dy * cos))  # FreeType's y is upwards
            key = (font, index, size, float(angle), flags.value, ox & 0x3F, oy & 0x3F)
            glyph = self._bitmaps.get(key)
            if glyph is None:
                glyph_font = self._fonts[font]
                glyph_font.set_size(size, self.dpi)
                _private(glyph_font, "_set_transform")(rotation, [ox & 0x3F, oy & 0x3F])
                bitmap = _private(glyph_font, "_render_glyph")(index, flags, RenderMode.NORMAL)
                glyph = (np.array(_private(bitmap, "buffer"), copy=True), bitmap.left, bitmap.top)
                if len(self._bitmaps) >= self._GLYPH_LIMIT:
                    self._bitmaps.clear()
                self._bitmaps[key] = glyph
            buffer, left, top = glyph  # at the offset within a pixel; then moved by whole pixels
            out.append((buffer, left + (ox >> 6), int(self.height) - (top + (oy >> 6)) + buffer.shape[0]))
        return tuple(out)


_ROWS: dict[tuple[int, int], np.ndarray] = {}  # png_bytes' row buffers, one per image size


def png_bytes(rgb: np.ndarray) -> bytes:
    """A PNG file (RGB) of an ``(height, width, 3)`` uint8 image, or of the colours of an
    ``(height, width, 4)`` one (a renderer's RGBA buffer: the alpha is left out): no row
    filters and zlib level 1, about four times faster than a general encoder for a plot (flat
    colours compress well without filters). The colours are copied one channel at a time into a
    kept row buffer, several times faster than copying pixels of three bytes out of four.

    >>> import io
    >>> from PIL import Image
    >>> Image.open(io.BytesIO(png_bytes(np.zeros((2, 3, 3), dtype=np.uint8)))).size
    (3, 2)
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] not in (3, 4):
        raise ValueError(f"png_bytes needs an (height, width, 3) array (or RGBA); got shape {rgb.shape}")
    height, width, _ = rgb.shape
    rows = _ROWS.get((height, width))
    if rows is None:
        if len(_ROWS) >= 8:
            _ROWS.clear()
        rows = _ROWS[(height, width)] = np.zeros((height, 1 + 3 * width), dtype=np.uint8)  # filter "none"
    body = rows[:, 1:]
    for channel in range(3):
        body[:, channel::3] = rgb[:, :, channel]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 1))
        + chunk(b"IEND", b"")
    )


def _titles(ax: Axes) -> list[Artist]:
    return [ax.title, _private(ax, "_left_title"), _private(ax, "_right_title")]


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
    parts.append(tuple((len(leg.get_texts()), _private(leg, "_ncols")) for leg in fig.legends))
    suptitle = _private(fig, "_suptitle")
    parts.append(_lines(suptitle.get_text()) if suptitle is not None else 0)
    return tuple(parts)


class _Unknown(Exception):
    """An artist :func:`_look` cannot describe fully: its legend is drawn, never pasted."""


def _array(a: Any) -> tuple[Any, ...]:
    a = np.asarray(a)
    return (a.shape, a.dtype.str, a.tobytes())


def _path(path: Any) -> tuple[Any, ...]:
    return (_array(path.vertices), None if path.codes is None else _array(path.codes))


_BOX_ATTRIBUTES = ("width", "height", "xdescent", "ydescent", "pad", "sep", "align", "mode", "clip_children",
                   "_multilinebaseline")  # fmt: skip


def _look(artist: Artist) -> tuple[Any, ...]:
    """Everything that decides how ``artist`` (a legend's part) is drawn, once the positions of
    its parts are known, as a comparable tuple; :class:`_Unknown` for a kind of artist not
    described here. Two artists with the same look, laid out from the same look, draw the same
    pixels."""
    common = (type(artist).__name__, artist.get_visible(), artist.get_alpha(), artist.get_zorder(),
              repr(artist.get_path_effects()), artist.get_sketch_params(), repr(artist.get_agg_filter()),
              artist.get_rasterized(), artist.get_snap())  # fmt: skip
    children = tuple(_look(child) for child in artist.get_children())
    if isinstance(artist, Text):
        bbox = artist.get_bbox_patch()
        own = (artist.get_text(), repr(artist.get_color()), hash(artist.get_fontproperties()),
               artist.get_rotation(), artist.get_rotation_mode(), artist.get_horizontalalignment(),
               artist.get_verticalalignment(), _private(artist, "_multialignment"), artist.get_linespacing(),
               artist.get_antialiased(), artist.get_usetex(), artist.get_wrap(), artist.get_position(),
               repr(artist.get_fontfeatures()), repr(artist.get_language()),
               None if bbox is None else _look(bbox))  # fmt: skip
    elif isinstance(artist, Line2D):
        own = (_array(artist.get_xydata()), repr(artist.get_color()), artist.get_linewidth(),
               repr(artist.get_linestyle()), repr(_private(artist, "_dash_pattern")), artist.get_drawstyle(),
               repr(artist.get_marker()), artist.get_markersize(), artist.get_markeredgewidth(),
               repr(artist.get_markerfacecolor()), repr(artist.get_markerfacecoloralt()),
               repr(artist.get_markeredgecolor()), artist.get_fillstyle(), repr(artist.get_markevery()),
               artist.get_antialiased(), artist.get_solid_capstyle(), artist.get_dash_capstyle(),
               artist.get_solid_joinstyle(), artist.get_dash_joinstyle(),
               repr(artist.get_gapcolor()))  # fmt: skip
    elif isinstance(artist, Patch):
        own = (_path(artist.get_path()), _array(artist.get_patch_transform().get_matrix()),
               repr(artist.get_facecolor()), repr(artist.get_edgecolor()), artist.get_linewidth(),
               repr(artist.get_linestyle()), repr(_private(artist, "_dash_pattern")), artist.get_hatch(),
               repr(artist.get_hatchcolor()), artist.get_hatch_linewidth(), artist.get_fill(),
               artist.get_antialiased(), artist.get_capstyle(), artist.get_joinstyle())  # fmt: skip
    elif isinstance(artist, Collection):
        own = (tuple(_path(p) for p in artist.get_paths()), _array(artist.get_transforms()),
               _array(artist.get_offsets()), _array(artist.get_facecolor()), _array(artist.get_edgecolor()),
               _array(artist.get_linewidth()), repr(artist.get_linestyle()), artist.get_hatch(),
               repr(artist.get_hatchcolor()), artist.get_hatch_linewidth(), _array(artist.get_antialiased()),
               _array(artist.get_sizes()) if hasattr(artist, "get_sizes") else None)  # fmt: skip
    elif isinstance(artist, OffsetBox):
        own = tuple(repr(getattr(artist, name, None)) for name in _BOX_ATTRIBUTES)
    elif isinstance(artist, Legend):  # its options: see _legend_look
        own = ()
    else:
        raise _Unknown(type(artist).__name__)
    return (*common, own, children)


def _legend_look(legend: Legend) -> tuple[Any, ...] | None:
    """A legend's :func:`_look` with where it is anchored, or None where it cannot be kept: a
    legend placed "best" (its spot depends on the data) or with a part not described."""
    try:
        loc = _private(legend, "_loc")
        if loc == 0:
            return None
        options = (loc, tuple(legend.get_bbox_to_anchor().bounds), _private(legend, "_ncols"),
                   _private(legend, "_mode"), _private(legend, "_fontsize"), legend.borderpad,
                   legend.labelspacing, legend.handlelength, legend.handleheight, legend.handletextpad,
                   legend.borderaxespad, legend.columnspacing, legend.shadow,
                   legend.get_frame_on())  # fmt: skip
        return (options, _look(legend))
    except (_Unknown, _Unsupported, AttributeError, TypeError):  # drawn, never pasted
        return None


@dataclass
class _Sprite:
    """What a legend drew over a kept frame: the rows and columns it covers, the pixels there
    before and after it was drawn."""

    rows: slice
    columns: slice
    before: np.ndarray
    after: np.ndarray


@dataclass
class _Frame:
    """A frame drawn once: its signature, the axes and title positions, the background image,
    and the legends drawn over it (by their look)."""

    signature: tuple[Any, ...]
    size: tuple[float, ...]
    renderer: _TextCachingRenderer
    positions: list[Any]
    title_positions: list[list[Any]]
    background: Any
    sprites: dict[tuple[Any, ...], _Sprite] = field(default_factory=dict)


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
        self.fallback: str | None = None
        self._renderers: dict[tuple[int, int], _TextCachingRenderer] = {}
        self._frames: list[_Frame] = []

    def render(self, fig: Figure) -> bytes:
        """PNG bytes of ``fig`` (RGB), drawn in full only when its frame is not one of the kept.

        Where this matplotlib lacks one of the internals the fast redraw reads (:data:`PRIVATE`),
        the figure is drawn in full the plain way instead, as is every later one (``fallback``
        then names what was missing): slower, the same picture.
        """
        if self.fallback is None:
            engine, positions = fig.get_layout_engine(), [ax.get_position(original=True) for ax in fig.axes]
            try:
                return self._render_fast(fig)
            except _Unsupported as missing:
                self.fallback = str(missing)
                self._frames.clear()
                for ax, position in zip(fig.axes, positions, strict=True):  # undo a borrowed layout
                    ax.set_position(position)
                    ax.set_in_layout(True)
                fig.set_layout_engine(engine)
        self.misses += 1
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return png_bytes(np.asarray(canvas.buffer_rgba()))

    def _render_fast(self, fig: Figure) -> bytes:
        size = tuple(fig.get_size_inches())
        candidates = [f for f in self._frames if f.size == size and len(f.positions) == len(fig.axes)]
        if candidates:
            engine = fig.get_layout_engine()
            fig.set_layout_engine("none")
            for frame in candidates:
                for ax, position in zip(fig.axes, frame.positions, strict=True):
                    ax.set_position(position)
                if frame_signature(fig) == frame.signature:
                    self._frames.remove(frame)
                    self._frames.insert(0, frame)
                    frame.renderer.restore_region(frame.background)
                    png = self._draw_content(fig, frame)
                    self.hits += 1
                    return png
            # a new frame: undo the borrowed layout and lay the figure out afresh
            for ax in fig.axes:
                ax.set_in_layout(True)
            fig.set_layout_engine(engine)
        png = self._draw_in_full(fig)
        self.misses += 1  # counted once drawn (a fallback counts its own)
        return png

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
            _private(ax, "_update_title_position")(renderer)  # what Axes.draw does first, titles shown
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
        pixels = np.asarray(renderer.buffer_rgba())
        for artist in _content(fig):
            if isinstance(artist, Legend):
                self._draw_legend(artist, frame, pixels)
            else:
                artist.draw(renderer)
        return png_bytes(pixels)

    #: Legends kept per frame (a legend whose entries change keeps several looks).
    SPRITES = 8

    def _draw_legend(self, legend: Legend, frame: _Frame, pixels: np.ndarray) -> None:
        """Draw ``legend``, or paste the pixels it drew last time with the same look, when what
        lies under it is the same as then (so the result is the same, pixel for pixel). Laying
        out a legend's boxes and texts costs 4–10 ms; pasting, a few hundredths of one."""
        look = _legend_look(legend)
        sprite = frame.sprites.get(look) if look is not None else None
        if sprite is not None:
            under = pixels[sprite.rows, sprite.columns]
            if np.array_equal(under, sprite.before):
                under[...] = sprite.after
                return
        before = pixels.copy() if look is not None else None
        legend.draw(frame.renderer)
        if look is None:
            return
        # what the legend covers: its box (set when drawn), with a margin for antialiasing
        height, width = pixels.shape[:2]
        box = legend.legendPatch.get_window_extent()
        rows = slice(max(0, math.floor(height - box.y1) - 3), min(height, math.ceil(height - box.y0) + 3))
        columns = slice(max(0, math.floor(box.x0) - 3), min(width, math.ceil(box.x1) + 3))
        changed = pixels.view(np.uint32)[..., 0] != before.view(np.uint32)[..., 0]  # a pixel at a time
        changed[rows, columns] = False
        if changed.any():  # it drew outside its box: not kept
            return
        if len(frame.sprites) >= self.SPRITES:
            frame.sprites.pop(next(iter(frame.sprites)))
        frame.sprites[look] = _Sprite(rows, columns, before[rows, columns], pixels[rows, columns].copy())
