"""The futures calculator's five tabs as widgets, each result with its working under it.

:func:`tabs` returns an ``ipywidgets.Tab`` with the exchange calculator's five tabs, "PnL and
ROE", "Target price", "Liquidation price", "Max open" and "Open price". Each tab has its
controls (typed boxes labelled in plain words with their units, toggles and lists), its result,
and the working: the formula in symbols, the same with the learner's numbers, the tier used and
a link to the lesson that derives it. The numbers come from :mod:`margin_lib.calculator`, which
calls the engine. There is no plot, so a change shows at once; nothing is loaded from outside
the page.

A box takes what is typed when Enter is pressed or the box is left. Something that is not a
number, a number out of range, or an empty box shows one plain sentence naming the box as it
is labelled (:func:`margin_lib.widgets.error_message`), never a traceback or a warning, and
the other boxes keep working.

>>> t = tabs()
>>> [t.get_title(i) for i in range(len(t.children))]
['PnL and ROE', 'Target price', 'Liquidation price', 'Max open', 'Open price']
>>> pane = t.panes["Liquidation price"]
>>> pane.text().splitlines()[0]
'Liquidation price: 90,361.45 USDT'
>>> pane.controls["entry_price"].value = "abc"
>>> print(pane.text())
⚠ Entry price (USDT) must be a number such as 1,234.5; got 'abc'
"""

from __future__ import annotations

import html
import posixpath
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as ipw
import numpy as np

from . import calculator as calc
from .calculator import FILLS, LABELS, Working, parse_number
from .errors import InvalidInputError, MarginError
from .examples import FAQ_CROSS_EXAMPLE, FAQ_CROSS_WALLET, ILLUSTRATIVE_PRICES
from .format import price
from .widgets import error_message

__all__ = ["tabs", "TITLES", "Pane"]

TITLES = ("PnL and ROE", "Target price", "Liquidation price", "Max open", "Open price")


def _typed(x: float) -> str:
    """A number as a learner would type it: thousands separated, no float noise (0.1 × 100 → 10)."""
    return f"{x:,.10g}"


#: The FAQ's cross example (:data:`margin_lib.examples.FAQ_CROSS_EXAMPLE`) as the boxes hold it.
FAQ = {
    coin: dict(quantity=_typed(f.quantity), entry_price=_typed(f.entry_price), mmr_pct=_typed(f.mmr * 100),
               maintenance_amount=_typed(f.maintenance_amount),
               other_maintenance_margin=_typed(f.other_maintenance_margin),
               other_unrealized_pnl=_typed(f.other_unrealized_pnl))
    for coin, f in FAQ_CROSS_EXAMPLE.items()
}  # fmt: skip
_CSS = """<style>
.mc-calc .lm-TabBar-content { flex-wrap: wrap; }
.mc-calc .lm-TabBar, .mc-calc .p-TabBar { height: auto !important; min-height: 0; }
.mc-calc .lm-TabBar-tab { flex: 0 0 auto !important; max-width: none !important; min-width: 0 !important; }
.mc-calc .mc-field { display: flex; flex-wrap: wrap; align-items: center; height: auto; }
.mc-calc .mc-field > .widget-label { white-space: normal; overflow: visible; text-overflow: clip;
  height: auto; line-height: 1.3; padding: 3px 0; }
.mc-calc .mc-field > input, .mc-calc .mc-field > select { flex: 1 1 8em; min-width: 8em; }
.mc-calc .mc-field > select { height: var(--jp-widgets-inline-height, 28px); }
.mc-calc .widget-toggle-buttons.mc-field > .widget-label { text-align: right; margin-right: 8px; }
.mc-calc .mc-intro { margin: 2px 0 8px; line-height: 1.4; }
.mc-calc .mc-result { font-size: 1.15em; font-weight: bold; margin: 6px 0 4px; line-height: 1.4; }
.mc-calc .mc-refused { color: #9a3412; }
.mc-calc .mc-working pre { white-space: pre-wrap; word-break: normal; overflow-wrap: break-word;
  font-size: 12.5px; line-height: 1.45; margin: 4px 0; padding: 6px 8px;
  background: var(--jp-layout-color2, #f3f3f3); }
.mc-calc .mc-working p { margin: 4px 0; line-height: 1.35; word-break: normal; overflow-wrap: break-word; }
@media (max-width: 640px) {
  .mc-calc.widget-tab > .widget-tab-contents { padding: 8px 4px !important; }
  .mc-calc .mc-field > .widget-label,
  .mc-calc .widget-toggle-buttons.mc-field > .widget-label { width: 100% !important; text-align: left; }
}
</style>"""
_STYLE = {"description_width": "15em"}


def _layout() -> ipw.Layout:
    """A control fills its column; on a phone its label goes above it (the style sheet)."""
    return ipw.Layout(width="auto", min_width="0", margin="2px 0")


def _box(name: str, value: str, label: str | None = None) -> ipw.Text:
    """A typed number, labelled in plain words with its unit (checked by ``parse_number``)."""
    box = ipw.Text(value=value, description=label or LABELS[name], continuous_update=False, style=_STYLE,
                   layout=_layout())
    box.add_class("mc-field")
    return box


def _toggle(name: str, options: list[str], value: str) -> ipw.ToggleButtons:
    t = ipw.ToggleButtons(options=options, value=value, description=LABELS[name],
                          style={**_STYLE, "button_width": "6.5em"}, layout=_layout())
    t.add_class("mc-field")
    return t


def _list(name: str, options: list[tuple[str, str]], value: str) -> ipw.Dropdown:
    d = ipw.Dropdown(options=options, value=value, description=LABELS[name], style=_STYLE, layout=_layout())
    d.add_class("mc-field")
    return d


class Pane:
    """One tab: its controls (by field name), result and working, and the last answer.

    ``compute(read, values)`` returns the calculator's answer, ``read(name)`` parsing a typed box
    by its label; ``headline(answer)`` is the result's line; ``shown(values)`` the fields the
    chosen modes use (the others are hidden and not read)."""

    def __init__(self, intro: str, controls: Mapping[str, ipw.Widget], compute: Callable[..., Any],
                 headline: Callable[[Any], str], base: str | None,
                 shown: Callable[[dict], set[str]] | None = None,
                 extra: list[ipw.Widget] | None = None) -> None:
        self.controls, self.base = dict(controls), base
        self._compute, self._headline, self._shown = compute, headline, shown
        self.result, self.working = ipw.HTML(), ipw.HTML()
        self.working.add_class("mc-working")
        self.answer: Any = None
        column = ipw.Layout(flex="1 1 22em", min_width="0", max_width="34em", margin="0 28px 0 0")
        inputs = ipw.VBox([*(extra or []), *self.controls.values()], layout=column)
        outputs = ipw.VBox([self.result, self.working], layout=ipw.Layout(flex="1 1 24em", min_width="0"))
        columns = ipw.Box([inputs, outputs], layout=ipw.Layout(display="flex", flex_flow="row wrap"))
        head = ipw.HTML(f'<div class="mc-intro">{intro}</div>')
        self.box = ipw.VBox([head, columns], layout=ipw.Layout(padding="4px 2px"))
        for control in self.controls.values():
            control.observe(self.update, names="value")
        self.update()

    def read(self, name: str) -> float:
        control = self.controls[name]
        return parse_number(control.description, control.value)

    def update(self, _: Any = None) -> None:
        """Recompute from the controls' values; a refusal becomes one plain sentence."""
        values = {k: c.value for k, c in self.controls.items()}
        if self._shown is not None:
            shown = self._shown(values)
            for key, control in self.controls.items():
                control.layout.display = None if key in shown else "none"
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                self.answer = self._compute(self.read, values)
                head = self._headline(self.answer)
        except MarginError as exc:
            self.answer = exc
            self.result.value = f'<div class="mc-result mc-refused">{html.escape(error_message(exc))}</div>'
            self.working.value = ""
            return
        except Exception as exc:  # noqa: BLE001 - the page never shows a traceback
            self.answer = exc
            self.result.value = ('<div class="mc-result mc-refused">⚠ These numbers could not be worked out '
                                 f"({html.escape(type(exc).__name__)}); please check them.</div>")
            self.working.value = ""
            return
        self.result.value = f'<div class="mc-result">{html.escape(head)}</div>'
        self.working.value = _working_html(self.answer.working, self.base)

    def text(self) -> str:
        """What the pane shows, as plain text (the result, then the working)."""
        joined = "\n".join(x for x in (self.result.value, self.working.value) if x)
        return html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"</(div|p|pre)>", "\n", joined))).strip()


def _working_html(working: Working, base: str | None) -> str:
    steps = html.escape("\n\n".join(step.text() for step in working.steps))
    parts = ["<div><b>Working</b></div>", f"<pre>{steps}</pre>"]
    if working.tier:
        parts.append(f"<p>Tier used: {html.escape(working.tier)}</p>")
    parts += [f"<p>{html.escape(note)}</p>" for note in working.notes]
    for lesson in working.lessons:
        if base is None:  # a page with no lessons beside it: name the file to open
            where = posixpath.normpath(posixpath.join("notebooks", lesson.notebook))
            parts.append(f"<p>Derived in {html.escape(lesson.title)} (<code>{html.escape(where)}</code> "
                         f"in the course), {html.escape(lesson.section)}.</p>")
            continue
        href = html.escape(base + lesson.notebook, quote=True)
        parts.append(f'<p>Derived in <a href="{href}" target="_blank" rel="noopener">'
                     f"{html.escape(lesson.title)}</a>, {html.escape(lesson.section)}.</p>")
    return "".join(parts)


def _pnl_pane(base: str | None) -> Pane:
    controls = {"side": _toggle("side", ["long", "short"], "long"), "quantity": _box("quantity", "0.01"),
                "entry_price": _box("entry_price", "100,000"), "exit_price": _box("exit_price", "92,000"),
                "leverage": _box("leverage", "10")}

    def compute(read, v):
        return calc.calc_pnl(side=v["side"], quantity=read("quantity"), entry_price=read("entry_price"),
                             exit_price=read("exit_price"), leverage=read("leverage"))

    def headline(a):
        return f"PnL: {a.pnl:,.2f} USDT; ROE: {a.roe_pct:,.2f} %; initial margin {a.initial_margin:,.2f} USDT"

    intro = "What a position earns or loses when closed at an exit price, and its ROE on the initial margin."
    return Pane(intro, controls, compute, headline, base)


def _target_pane(base: str | None) -> Pane:
    controls = {"side": _toggle("side", ["long", "short"], "long"),
                "aim": _toggle("aim", ["ROE", "PnL"], "ROE"), "entry_price": _box("entry_price", "100,000"),
                "leverage": _box("leverage", "10"),
                "roe_pct": _box("roe_pct", "50"), "quantity": _box("quantity", "0.01"),
                "pnl": _box("pnl", "500")}
    aims = {"ROE": ("roe_pct",), "PnL": ("quantity", "pnl")}

    def shown(v):
        return {"side", "aim", "entry_price", "leverage", *aims[v["aim"]]}

    def compute(read, v):
        wanted = {k: read(k) for k in aims[v["aim"]]}
        return calc.calc_target_price(side=v["side"], aim=v["aim"], entry_price=read("entry_price"),
                                      leverage=read("leverage"), **wanted)

    def headline(a):
        return f"Target price: {price(a.price)}" + (" USDT" if a.price == a.price else " (no such price)")

    intro = "The exit price that gives the ROE (or the PnL) you want."
    return Pane(intro, controls, compute, headline, base, shown)


def _coin(table: str) -> str | None:
    """The coin a tier choice is for ("BTCUSDT-2021" -> "BTC"); None for a typed rate."""
    return table[:3] if table.endswith(("USDT", "USDT-2021")) else None


def _follow_coin(controls: Mapping[str, ipw.Widget], selector: str,
                 starts: Mapping[str, Mapping[str, str]]) -> None:
    """When ``controls[selector]`` moves to another coin's tiers (past a typed rate, which keeps the
    last coin), each box still holding the old coin's starting value (``starts[coin][box]``) takes
    the new coin's, so ETH is not priced like BTC; a box the learner typed in keeps its value."""

    last = [_coin(controls[selector].value)]  # the last coin chosen (a typed rate keeps it)

    def follow(change: dict) -> None:
        old, new = last[0], _coin(change["new"])
        if new is None or new == old:
            return
        last[0] = new
        for name, value in starts[old].items():
            if controls[name].value == value:
                controls[name].value = starts[new][name]

    controls[selector].observe(follow, names="value")


#: Starting values per coin: the same notional at the course's illustrative prices.
_LIQ_STARTS = {
    coin: dict(quantity=_typed(1_000 / px), entry_price=_typed(px), long_quantity=_typed(200_000 / px),
               long_entry_price=_typed(px), short_quantity=_typed(100_000 / px), short_entry_price=_typed(px))
    for coin, px in (("BTC", ILLUSTRATIVE_PRICES["BTCUSDT"]), ("ETH", ILLUSTRATIVE_PRICES["ETHUSDT"]))
}  # fmt: skip
_LIQ_ONE_WAY = ("side", "quantity", "entry_price", "wallet_balance")
_LIQ_HEDGE = ("long_quantity", "long_entry_price", "short_quantity", "short_entry_price")


def _liquidation_pane(base: str | None) -> Pane:
    btc = _LIQ_STARTS["BTC"]
    tier_options = [("BTCUSDT tiers (2026-09)", "BTCUSDT"), ("ETHUSDT tiers (2026-09)", "ETHUSDT"),
                    ("BTCUSDT tiers of 2021 (the FAQ's)", "BTCUSDT-2021"), ("a flat rate typed in", "flat")]
    controls = {
        "position_mode": _toggle("position_mode", ["one-way", "hedge"], "one-way"),
        "margin_mode": _toggle("margin_mode", ["isolated", "cross"], "isolated"),
        "tiers": _list("tiers", tier_options, "BTCUSDT"), "mmr_pct": _box("mmr_pct", "0.5"),
        "maintenance_amount": _box("maintenance_amount", "0"),
        "side": _toggle("side", ["long", "short"], "long"),
        "quantity": _box("quantity", btc["quantity"]), "entry_price": _box("entry_price", btc["entry_price"]),
        "wallet_balance": _box("wallet_balance", "100", LABELS["isolated_margin"]),
        **{name: _box(name, btc[name]) for name in _LIQ_HEDGE},
        "long_margin": _box("long_margin", "20,000"), "short_margin": _box("short_margin", "10,000"),
        # the pair's cross wallet: a box of its own, so each mode starts from a set-up that is not
        # liquidated on opening (the one-way box holds 100 USDT for 0.01 BTC)
        "pair_wallet": _box("wallet_balance", "30,000"),
        "other_maintenance_margin": _box("other_maintenance_margin", "0"),
        "other_unrealized_pnl": _box("other_unrealized_pnl", "0"),
    }

    _follow_coin(controls, "tiers", _LIQ_STARTS)

    def shown(v):
        keys = {"position_mode", "margin_mode", "tiers"}
        keys |= {"mmr_pct", "maintenance_amount"} if v["tiers"] == "flat" else set()
        cross = v["margin_mode"] == "cross"
        keys |= {"other_maintenance_margin", "other_unrealized_pnl"} if cross else set()
        if v["position_mode"] == "one-way":
            return keys | set(_LIQ_ONE_WAY)
        return keys | set(_LIQ_HEDGE) | ({"pair_wallet"} if cross else {"long_margin", "short_margin"})

    def compute(read, v):
        wallet = controls["wallet_balance"]
        wallet.description = LABELS["wallet_balance" if v["margin_mode"] == "cross" else "isolated_margin"]
        keys = shown(v) - {"position_mode", "margin_mode", "tiers", "side"}
        given = {k: read(k) for k in controls if k in keys}
        if "pair_wallet" in given:
            given["wallet_balance"] = given.pop("pair_wallet")
        return calc.calc_liquidation_price(position_mode=v["position_mode"], margin_mode=v["margin_mode"],
                                           tiers=v["tiers"], side=v["side"], **given)

    def headline(a):
        if len(a.prices) == 1:
            x = a.prices[0][1]
            return f"Liquidation price: {price(x)}" + (" USDT" if x == x else " (no such price)")
        return "Liquidation price: " + "; ".join(f"{what} {price(x)}" for what, x in a.prices)

    def example(coin: str) -> Callable[[Any], None]:
        def load(_: Any) -> None:
            settings = dict(position_mode="one-way", margin_mode="cross", tiers="flat", side="long",
                            wallet_balance=_typed(FAQ_CROSS_WALLET), **FAQ[coin])
            with pane.box.hold_sync():
                for key, value in settings.items():
                    controls[key].unobserve(pane.update, names="value")
                    controls[key].value = value
                    controls[key].observe(pane.update, names="value")
            pane.update()

        return load

    buttons = []
    for coin, faq in FAQ_CROSS_EXAMPLE.items():
        answer = f"{faq.stated_liquidation_price:,.2f}"
        button = ipw.Button(description=f"The FAQ's {coin} example", tooltip=f"the FAQ's answer: {answer}",
                            layout=ipw.Layout(width="auto", margin="0 8px 4px 0"))
        button.on_click(example(coin))
        buttons.append(button)
    intro = ("The mark price at which a position is liquidated, one-way or hedge mode, isolated or cross, "
             "with a symbol's tiers or a rate and cum typed in. Try the exchange's FAQ examples:")
    pane = Pane(intro, controls, compute, headline, base, shown, extra=[ipw.HBox(buttons, layout=_wrap())])
    pane.examples = dict(zip(FAQ, buttons, strict=True))
    return pane


def _wrap() -> ipw.Layout:
    return ipw.Layout(display="flex", flex_flow="row wrap")


def _max_open_pane(base: str | None) -> Pane:
    symbols = [("BTCUSDT (2026-09 tiers)", "BTCUSDT"), ("ETHUSDT (2026-09 tiers)", "ETHUSDT"),
               ("BTCUSDT (2021 tiers)", "BTCUSDT-2021")]
    controls = {"symbol": _list("symbol", symbols, "BTCUSDT"), "balance": _box("balance", "1,000"),
                "entry_price": _box("entry_price", "100,000"), "leverage": _box("leverage", "10"),
                "fee_pct": _box("fee_pct", "0.05")}
    _follow_coin(controls, "symbol", {c: {"entry_price": s["entry_price"]} for c, s in _LIQ_STARTS.items()})

    def compute(read, v):
        return calc.calc_max_open(symbol=v["symbol"], balance=read("balance"), fee_pct=read("fee_pct"),
                                  entry_price=read("entry_price"), leverage=read("leverage"))

    def headline(a):
        binds = {"balance": "the balance binds", "tier": "the tier binds", "both": "both limits bind"}
        return (f"Max open: {a.quantity:,.3f} {a.symbol[:3]} ({a.notional:,.2f} USDT at entry); "
                f"{binds[a.binding]}")

    intro = ("The largest position a balance opens at an entry price and a leverage: the initial margin and "
             "the opening fee must fit in the balance, and the size must stay in a tier that allows the "
             "leverage.")
    return Pane(intro, controls, compute, headline, base)


def _open_price_pane(base: str | None) -> Pane:
    start = {1: ("100,000", "0.01"), 2: ("95,000", "0.02")}
    controls: dict[str, ipw.Widget] = {}
    for i in range(1, FILLS + 1):
        p, q = start.get(i, ("", ""))
        controls[f"price_{i}"] = _box("entry_price", p, f"Fill {i} price (USDT)")
        controls[f"quantity_{i}"] = _box("quantity", q, f"Fill {i} quantity (coins)")

    def compute(read, v):
        fills = []
        for i in range(1, FILLS + 1):
            p, q = v[f"price_{i}"].strip(), v[f"quantity_{i}"].strip()
            fills.append((read(f"price_{i}"), read(f"quantity_{i}")) if p or q else None)
        return calc.calc_open_price(fills)

    def headline(a):
        return f"Open price: {price(a.price)} USDT for {a.quantity:,.8g} coins"

    intro = "The average entry price of up to five fills on the same side (leave unused rows empty)."
    return Pane(intro, controls, compute, headline, base)


def tabs(lesson_base: str | None | None = "../", before: Sequence[tuple[str, ipw.Widget]] = ()) -> ipw.Tab:
    """The five tabs (an ``ipywidgets.Tab``), after the ``(title, widget)`` pairs of ``before``.

    ``lesson_base`` is put before each lesson's notebook name in the links ("../" from
    ``notebooks/app/``); ``None`` names the lesson's file in the course instead of linking it,
    for a page served without the lessons beside it (the Voilà page). The tab keeps its
    :class:`Pane` objects as ``panes``, by title.

    >>> t = tabs(None, before=[("Two positions", ipw.HTML("Case A"))])
    >>> [t.get_title(i) for i in range(2)], len(t.children)
    (['Two positions', 'PnL and ROE'], 6)
    >>> "notebooks/01_initial_margin.ipynb" in t.panes["PnL and ROE"].working.value
    True
    """
    if lesson_base is not None and not isinstance(lesson_base, str):
        raise InvalidInputError(f"lesson_base must be text (a folder such as '../') or None; "
                                f"got {lesson_base!r}")
    panes = [make(lesson_base) for make in (_pnl_pane, _target_pane, _liquidation_pane, _max_open_pane,
                                             _open_price_pane)]
    panes[0].box.children = (ipw.HTML(_CSS), *panes[0].box.children)
    layout = ipw.Layout(width="100%", max_width="72em")
    titles = [title for title, _ in before] + list(TITLES)
    children = [widget for _, widget in before] + [p.box for p in panes]
    tab = ipw.Tab(children=children, titles=titles, layout=layout)
    tab.add_class("mc-calc")
    tab.panes = dict(zip(TITLES, panes, strict=True))
    return tab
