"""margin_lib.widgets: how build_widget arranges controls, and its refusal of a bad arrangement."""

from __future__ import annotations

import ipywidgets as ipw
import pytest

from margin_lib.widgets import build_widget, choice_buttons, money_box


def _controls():
    return {
        "size": money_box(1_000, "size (USDT)"),
        "side": choice_buttons(["long", "short"], "long", "side"),
        "wallet": money_box(100, "wallet (USDT)"),
    }


def _view(size, side, wallet):
    return f"{side} {size:g} with {wallet:g}"


def test_controls_stack_by_default():
    controls = _controls()
    box = build_widget(controls, _view)
    assert [c for c in box.children if c in controls.values()] == list(controls.values())
    assert isinstance(box.children[-1], ipw.Output)


def test_columns_put_controls_side_by_side_in_the_given_order():
    controls = _controls()
    box = build_widget(controls, _view, columns=[["wallet"], ["side", "size"]])
    (row,) = [c for c in box.children if isinstance(c, ipw.HBox)]
    assert [list(column.children) for column in row.children] == [
        [controls["wallet"]],
        [controls["side"], controls["size"]],
    ]
    assert "wrap" in row.layout.flex_flow  # a narrow screen gets the columns one under the other


@pytest.mark.parametrize(
    "columns",
    [[["size"], ["side"]], [["size", "side"], ["wallet", "size"]], [["size", "side", "wallet", "leverage"]]],
    ids=["missing", "twice", "unknown"],
)
def test_a_bad_arrangement_is_refused_naming_the_controls(columns):
    with pytest.raises(
        ValueError, match=r"columns must hold each of the controls \['side', 'size', 'wallet'\] once"
    ):
        build_widget(_controls(), _view, columns=columns)


def test_toggle_buttons_sit_on_one_line_with_their_description():
    buttons = choice_buttons(["isolated", "cross"], "cross", "mode")
    assert buttons.layout.display == "flex" and buttons.style.description_width == "170px"
