"""The static site's own style sheet, added to every page after nbconvert's and the widgets'.

Besides the index and the navigation links, it does three things for the lesson pages:

- the note on each widget (a static copy) and its disabled controls look like what they are;
- nothing is cut off and the page never scrolls sideways, down to a 390 px phone: a widget's
  controls stack (label above control) and its fixed widths give way; printed output keeps its
  columns and scrolls sideways in its own box instead of wrapping mid-number; code cells, wide
  tables and formulas do the same, where nbconvert would hide what does not fit;
- plots keep their drawn size (one image pixel to one CSS pixel, so their text stays as large
  as it was drawn) and, where the page is narrower, scroll sideways in their own box instead of
  shrinking until their text cannot be read.
"""

from __future__ import annotations

__all__ = ["STYLE"]

#: The width below which a widget's controls stack (a phone held upright, a narrow window).
NARROW = "40rem"

_INDEX = """
body.course-index { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  max-width: 46rem; margin: 2.5rem auto; padding: 0 1rem; line-height: 1.5; color: #1f2328; }
.course-index h1 { font-size: 1.8rem; margin-bottom: 0.2rem; }
.course-index ol { padding-left: 1.4rem; }
.course-index li { margin: 0 0 1rem; }
.course-index li a { font-weight: 600; }
.course-index li p { margin: 0.2rem 0 0; }
.course-index .note { color: #57606a; }
a { color: #0a58ca; }
nav.course-nav { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0.4rem 1rem;
  padding: 0.6rem 0; margin: 0 0 0.6rem; border-bottom: 1px solid #d0d7de;
  font-family: system-ui, sans-serif; }
nav.course-nav.bottom { border-bottom: 0; border-top: 1px solid #d0d7de; margin: 1.2rem 0 0; }
.jupyter-widgets, .widget-label, .widget-label-basic {
  font-family: var(--jp-ui-font-family, system-ui), sans-serif; }
"""

_STATIC_WIDGETS = """
.static-note { margin: 0 0 0.6rem; padding: 0.45rem 0.75rem; max-width: 44rem;
  border-left: 4px solid #9a6700; border-radius: 3px; background: #fff8c5; color: #3b2300;
  font: 0.95rem/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.jupyter-widgets :disabled, .jupyter-widgets .noUi-target[disabled],
.jupyter-widgets .mod-disabled { cursor: not-allowed; }
.jupyter-widgets .widget-readout[contenteditable="false"] { opacity: 0.6; }
/* Quiz choices and multi-line texts: lines that wrap get room instead of printing over each
   other ("body" outranks the widgets' own rules, which the renderer adds after this sheet). */
body .widget-radio-box > label { display: flex; align-items: flex-start; height: auto;
  min-height: var(--jp-widgets-radio-item-height); line-height: 1.4; padding: 1px 0;
  white-space: normal; }
body .widget-radio-box > label > input { order: -1; float: none; flex: none; height: auto;
  margin: 0.2em 0.5em 0 1px; }
body .widget-html-content { overflow-wrap: anywhere; }
"""

_NOTHING_CUT_OFF = """
main { overflow-wrap: break-word; }
.jp-Cell, .jp-Cell-inputWrapper, .jp-Cell-outputWrapper, .jp-InputArea, .jp-InputArea-editor,
.jp-OutputArea, .jp-OutputArea-child, .jp-OutputArea-output, .jp-RenderedHTMLCommon,
.widget-subarea, .jupyter-widgets { min-width: 0; max-width: 100%; }
/* Printed output keeps its columns: it scrolls sideways in its box, never wraps mid-number. */
.jp-OutputArea-output pre, .jp-RenderedText pre { white-space: pre; word-break: normal;
  overflow-wrap: normal; overflow-x: auto; }
/* Code cells scroll sideways in their own box (nbconvert hides what does not fit). */
.jp-InputArea, .jp-InputArea-editor { overflow: visible; }
.jp-InputArea-editor .highlight, .jp-InputArea-editor pre { overflow-x: auto; }
/* Wide tables and formulas scroll sideways in their own box too. */
.jp-RenderedHTMLCommon table { display: block; max-width: 100%; overflow-x: auto; }
.MathJax_Display, mjx-container[display="true"] { max-width: 100%; overflow-x: auto;
  overflow-y: hidden; }
/* Plots keep their drawn size, so their text stays readable; a narrow page scrolls them in a box. */
.jp-RenderedImage { overflow-x: auto; max-width: 100%; }
.jp-RenderedImage img, .widget-output img { max-width: none; }
.widget-output .jp-OutputArea-output { overflow-x: auto; }
"""

_NARROW = f"""
@media (max-width: {NARROW}) {{
  main {{ padding-left: 0.5rem; padding-right: 0.5rem; }}
  /* The lessons give controls fixed widths (520 px, labels 170 px, buttons 110 px): they give
     way here, and each label goes above its control. */
  .widget-inline-hbox, .widget-toggle-buttons, .widget-box, .widget-output {{
    width: auto !important; max-width: 100%; }}
  .widget-output {{ height: auto !important; }}
  .widget-inline-hbox:not(.widget-html), .widget-toggle-buttons {{ flex-wrap: wrap;
    height: auto !important; }}
  .widget-inline-hbox:not(.widget-html) > .widget-label, .widget-toggle-buttons > .widget-label {{
    width: 100% !important; max-width: 100%; text-align: left !important; margin: 0 !important; }}
  .widget-inline-hbox > input, .widget-inline-hbox > select, .widget-inline-hbox > textarea,
  .widget-inline-hbox > .slider-container {{ flex: 1 1 auto; min-width: 0; width: auto; }}
  .widget-toggle-buttons > div {{ display: flex; flex-wrap: wrap; flex: 1 1 auto; min-width: 0; }}
  .widget-toggle-buttons .widget-toggle-button {{ flex: 1 1 6rem; width: auto !important;
    min-width: 0; }}
  body .widget-html > .widget-html-content {{ line-height: 1.45; padding: 0.15rem 0; }}
}}
"""

#: The whole style sheet of the site.
STYLE = _INDEX + _STATIC_WIDGETS + _NOTHING_CUT_OFF + _NARROW
