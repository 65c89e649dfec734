"""The lessons' widgets on the static site: shown as pictures, and said to be pictures.

A static page has no kernel, so its sliders and buttons cannot change anything. The site
therefore disables every control in the widgets' stored state (the widget renderer then draws
them greyed out and ignores them) and puts a short note on each widget that says so; when the
widget shows a stored output, the note adds that it is the result at the notebook's default
settings. The page template (:data:`TEMPLATE`) also leaves out nbconvert's lazy loader for
mermaid diagrams, which imports code from a content network (the lessons hold no diagrams).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["NOTE", "NOTE_WITH_OUTPUT", "TEMPLATE", "disable_controls", "static_notes", "widget_state"]

STATE_MIME = "application/vnd.jupyter.widget-state+json"
VIEW_MIME = "application/vnd.jupyter.widget-view+json"
#: The note on every widget of a static page.
NOTE = "Static copy: run the notebook to make the controls live."
#: The note on a widget that shows a stored output (text, a plot).
NOTE_WITH_OUTPUT = NOTE + " What it shows below is the result at the notebook's default settings."

#: nbconvert's lab page, without the mermaid loader and with the note on each widget.
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block data_widget_view scoped %}
{% set div_id = uuid4() %}
{% set datatype = (output.data | filter_data_type)[0] %}
{% set view = output.data[datatype] %}
{% set note = resources.static_notes.get(view.model_id, resources.static_note) %}
<div id="{{ div_id }}" class="jupyter-widgets jp-OutputArea-output {{ extra_class }}">
<p class="static-note" role="note">{{ note | escape }}</p>
<script type="text/javascript">
var element = document.getElementById('{{ div_id }}');
</script>
<script type="{{ datatype }}">
{{ view | json_dumps | escape_html_script }}
</script>
</div>
{%- endblock data_widget_view -%}
"""


def widget_state(nb: Mapping[str, Any]) -> dict[str, Any]:
    """The stored state of a notebook's widgets, by model id ({} when it has none)."""
    return nb.get("metadata", {}).get("widgets", {}).get(STATE_MIME, {}).get("state", {})


def disable_controls(nb: Mapping[str, Any]) -> int:
    """Set ``disabled`` on every widget model of ``nb`` that has the setting (sliders, boxes,
    buttons, radio buttons), in place; returns how many.

    >>> nb = {"metadata": {"widgets": {STATE_MIME: {"state": {
    ...     "a": {"model_name": "IntSliderModel", "state": {"disabled": False, "value": 10}},
    ...     "b": {"model_name": "LayoutModel", "state": {"width": "520px"}}}}}}}
    >>> disable_controls(nb), widget_state(nb)["a"]["state"]["disabled"]
    (1, True)
    """
    count = 0
    for model in widget_state(nb).values():
        if "disabled" in model.get("state", {}):
            model["state"]["disabled"] = True
            count += 1
    return count


def _descendants(state: Mapping[str, Any], model_id: str) -> Iterator[dict[str, Any]]:
    """The model ``model_id`` and every model it refers to (children, layouts, styles)."""
    seen, todo = set(), [model_id]
    while todo:
        current = todo.pop()
        if current in seen or current not in state:
            continue
        seen.add(current)
        model = state[current]
        yield model
        for value in model.get("state", {}).values():
            refs = value if isinstance(value, list) else [value]
            todo += [ref[len("IPY_MODEL_") :] for ref in refs if str(ref).startswith("IPY_MODEL_")]


def shows_output(state: Mapping[str, Any], model_id: str) -> bool:
    """True when the widget ``model_id`` holds an output area with stored outputs."""
    return any(
        model.get("model_name") == "OutputModel" and model.get("state", {}).get("outputs")
        for model in _descendants(state, model_id)
    )


def _views(nb: Mapping[str, Any]) -> Iterator[str]:
    """The model ids of the widgets a notebook displays, in order."""
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            view = output.get("data", {}).get(VIEW_MIME)
            if view:
                yield view["model_id"]


def static_notes(nb: Mapping[str, Any]) -> dict[str, str]:
    """The note for each widget the notebook displays, by model id.

    >>> nb = {"cells": [{"cell_type": "code", "outputs": [{"data": {VIEW_MIME: {"model_id": "w"}}}]}],
    ...       "metadata": {"widgets": {STATE_MIME: {"state": {
    ...           "w": {"model_name": "VBoxModel", "state": {"children": ["IPY_MODEL_o"]}},
    ...           "o": {"model_name": "OutputModel", "state": {"outputs": [{"text": "1"}]}}}}}}}
    >>> static_notes(nb) == {"w": NOTE_WITH_OUTPUT}
    True
    """
    state = widget_state(nb)
    return {view: NOTE_WITH_OUTPUT if shows_output(state, view) else NOTE for view in _views(nb)}
