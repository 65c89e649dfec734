"""The calculator's tabs as widgets in the kernel (margin_lib.calculator_tabs): changing a control
updates the result to the engine's number, on a few hundred random inputs per tab; refusals are
one plain sentence naming the box as labelled; no warning, traceback or raw HTML reaches the page;
the FAQ's examples are one click away; the working links to the lesson."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from margin_lib import BracketTable, liquidation_price, return_on_equity, unrealized_pnl
from margin_lib.calculator import LABELS
from margin_lib.calculator_tabs import TITLES, tabs
from margin_lib.errors import InvalidInputError
from margin_lib.format import price
from margin_lib.liquidation import hedge_liquidation_prices
from margin_lib.margin import average_entry_price, max_open_quantity, target_price, target_price_for_pnl

N = 200  # random inputs per tab
TABLES = {name: BracketTable.load(name) for name in ("BTCUSDT", "ETHUSDT", "BTCUSDT-2021")}


@pytest.fixture(scope="module")
def widget():
    return tabs()


def pane(widget, title):
    return widget.panes[title]


def typed(x: float, rng=None) -> str:
    """A number as a learner might type it: with or without thousands commas."""
    text = repr(float(x))
    if rng is not None and rng.random() < 0.5 and abs(x) >= 1000 and "e" not in text:
        whole, _, part = text.partition(".")
        text = f"{int(whole):,}" + (f".{part}" if part else "")
    return text


def set_values(p, **values):
    for key, value in values.items():
        p.controls[key].value = value


def headline(p) -> str:
    return p.text().splitlines()[0]


def test_five_tabs_titled_as_the_exchanges():
    w = tabs()
    assert [w.get_title(i) for i in range(5)] == list(TITLES)
    assert list(w.panes) == list(TITLES) and len(w.children) == 5
    assert w.children[2] is w.panes["Liquidation price"].box
    for p in w.panes.values():
        assert not p.text().startswith("⚠"), p.text()  # every tab opens on a worked example
        assert "Working" in p.text() and "Derived in" in p.text()


def test_every_box_is_labelled_in_plain_words_with_its_unit():
    w = tabs()
    names = set(LABELS.values()) | {
        f"Fill {i} {what}" for i in range(1, 6) for what in ("price (USDT)", "quantity (coins)")
    }
    for p in w.panes.values():
        for control in p.controls.values():
            assert control.description in names
            if hasattr(control, "continuous_update"):
                assert control.description.endswith((")", "Side")), control.description


def test_changing_a_control_updates_the_result(widget):
    p = pane(widget, "PnL and ROE")
    before = headline(p)
    p.controls["exit_price"].value = "110,000"
    assert headline(p) == "PnL: 100.00 USDT; ROE: 100.00 %; initial margin 100.00 USDT" != before
    p.controls["side"].value = "short"
    assert headline(p).startswith("PnL: -100.00 USDT; ROE: -100.00 %")
    set_values(p, side="long", exit_price="92,000")


def test_the_faqs_examples_are_one_click_away():
    w = tabs()
    p = w.panes["Liquidation price"]
    eth, btc = p.examples["ETH"], p.examples["BTC"]
    assert (eth.description, btc.description) == ("The FAQ's ETH example", "The FAQ's BTC example")
    eth.click()
    assert headline(p) == "Liquidation price: 1,153.26 USDT"
    assert p.controls["margin_mode"].value == "cross" and p.controls["tiers"].value == "flat"
    assert p.controls["wallet_balance"].description == "Wallet balance (USDT)"
    btc.click()
    assert headline(p) == "Liquidation price: 26,316.89 USDT"
    p.controls["tiers"].value = "BTCUSDT-2021"  # the FAQ's tier, read from the shipped 2021 table
    assert headline(p) == "Liquidation price: 26,316.89 USDT"
    assert "BTCUSDT tier 4 of the 2021 table" in p.text()


def test_liquidation_modes_show_only_their_boxes_and_name_the_wallet():
    w = tabs()
    p = w.panes["Liquidation price"]

    def visible():
        return {k for k, c in p.controls.items() if c.layout.display != "none"}

    assert "long_quantity" not in visible() and "mmr_pct" not in visible()
    assert p.controls["wallet_balance"].description == "Isolated margin (USDT)"
    p.controls["position_mode"].value = "hedge"
    assert {"long_quantity", "short_entry_price", "long_margin", "short_margin"} <= visible()
    assert "side" not in visible() and "wallet_balance" not in visible()
    assert headline(p) == "Liquidation price: long leg 90,361.45; short leg 109,561.75"
    p.controls["margin_mode"].value = "cross"
    assert {"pair_wallet", "other_maintenance_margin"} <= visible() and "long_margin" not in visible()
    assert "wallet_balance" not in visible()
    assert p.controls["pair_wallet"].description == "Wallet balance (USDT)"
    # the pair's own wallet: its default set-up is not liquidated on opening
    low, high = (x for _, x in p.answer.prices)
    assert low < 100_000 < high and "already past" not in p.text()
    p.controls["pair_wallet"].value = "1,000"  # 1,200 USDT of maintenance margin at the entries
    assert "At the long entry price (100,000.00) the mark is already past it" in p.text()
    p.controls["pair_wallet"].value = "30,000"
    p.controls["tiers"].value = "flat"
    assert {"mmr_pct", "maintenance_amount"} <= visible()
    p.controls["margin_mode"].value = "isolated"
    p.controls["long_margin"].value = "abc"
    assert p.text() == "⚠ Long leg's margin (USDT) must be a number such as 1,234.5; got 'abc'"


def test_lesson_links_are_relative_and_can_be_moved():
    w = tabs()
    assert 'href="../06_liquidation_price.ipynb"' in w.panes["Liquidation price"].working.value
    assert 'href="../01_initial_margin.ipynb"' in w.panes["PnL and ROE"].working.value
    opened = w.panes["Open price"].working.value
    assert 'href="../01_initial_margin.ipynb"' in opened
    assert "section 9, Several fills, one entry price" in opened
    moved = tabs(lesson_base="lessons/")
    assert 'href="lessons/02_maintenance_margin.ipynb"' in moved.panes["Max open"].working.value
    for p in w.panes.values():
        assert "http" not in p.working.value and "http" not in p.result.value  # nothing outside the page


# -- a few hundred random inputs per tab, against the engine --------------------------------------
def test_pnl_tab_equals_the_engine():
    rng = np.random.default_rng(21)
    p = tabs().panes["PnL and ROE"]
    for _ in range(N):
        side, q, ep = str(rng.choice(["long", "short"])), 10 ** rng.uniform(-3, 2), 10 ** rng.uniform(1, 5.5)
        xp, lev = ep * rng.uniform(0.2, 3), float(rng.integers(1, 151))
        set_values(
            p,
            side=side,
            quantity=typed(q, rng),
            entry_price=typed(ep, rng),
            exit_price=typed(xp, rng),
            leverage=typed(lev),
        )
        pnl, roe = unrealized_pnl(side, q, ep, xp), return_on_equity(side, q, ep, xp, lev) * 100
        assert (
            headline(p) == f"PnL: {pnl:,.2f} USDT; ROE: {roe:,.2f} %; initial margin {q * ep / lev:,.2f} USDT"
        )


def test_target_price_tab_equals_the_engine():
    rng = np.random.default_rng(22)
    p = tabs().panes["Target price"]
    for i in range(N):
        side, ep, lev = (
            str(rng.choice(["long", "short"])),
            10 ** rng.uniform(1, 5.5),
            float(rng.integers(1, 126)),
        )
        if i % 2:
            roe = rng.uniform(-200, 500)
            set_values(
                p, side=side, aim="ROE", entry_price=typed(ep, rng), leverage=typed(lev), roe_pct=typed(roe)
            )
            want = target_price(side, ep, lev, roe / 100)
        else:
            q, gain = 10 ** rng.uniform(-3, 2), rng.uniform(-2, 3) * ep
            set_values(
                p,
                side=side,
                aim="PnL",
                entry_price=typed(ep, rng),
                leverage=typed(lev),
                quantity=typed(q),
                pnl=typed(gain, rng),
            )
            want = target_price_for_pnl(side, q, ep, gain)
        suffix = " USDT" if want == want else " (no such price)"
        assert headline(p) == f"Target price: {price(want)}{suffix}"


def test_liquidation_tab_equals_the_engine():
    rng = np.random.default_rng(23)
    p = tabs().panes["Liquidation price"]
    for i in range(N):
        tiers = str(rng.choice(["BTCUSDT", "ETHUSDT", "BTCUSDT-2021", "flat"]))
        mode = str(rng.choice(["isolated", "cross"]))
        rate, cum = rng.uniform(0.1, 5), float(rng.choice([0, rng.uniform(0, 1000)]))
        set_values(p, tiers=tiers, margin_mode=mode, mmr_pct=typed(rate), maintenance_amount=typed(cum))
        rates = (
            {"brackets": TABLES[tiers]} if tiers != "flat" else {"mmr": rate / 100, "maintenance_amount": cum}
        )
        others = {"other_maintenance_margin": 0.0, "other_unrealized_pnl": 0.0}
        if mode == "cross":
            others = {
                "other_maintenance_margin": rng.uniform(0, 500),
                "other_unrealized_pnl": rng.uniform(-500, 500),
            }
            set_values(p, **{k: typed(x) for k, x in others.items()})
        if i % 3:  # one-way
            side, q, ep = (
                str(rng.choice(["long", "short"])),
                10 ** rng.uniform(-2, 1.5),
                10 ** rng.uniform(3, 5),
            )
            wallet = rng.uniform(0.005, 1.2) * q * ep
            set_values(
                p,
                position_mode="one-way",
                side=side,
                quantity=typed(q),
                entry_price=typed(ep, rng),
                wallet_balance=typed(wallet, rng),
            )
            want = liquidation_price(side, q, ep, wallet, **rates, **others)
            suffix = " USDT" if want == want else " (no such price)"
            assert headline(p) == f"Liquidation price: {price(want)}{suffix}"
        elif mode == "cross" and tiers != "flat":
            ql, qs, epl, eps = *(10 ** rng.uniform(-2, 1.5, 2)), *(10 ** rng.uniform(4, 5, 2))
            wallet = rng.uniform(0.01, 0.5) * (ql * epl + qs * eps)
            set_values(
                p,
                position_mode="hedge",
                long_quantity=typed(ql),
                short_quantity=typed(qs),
                long_entry_price=typed(epl),
                short_entry_price=typed(eps),
                pair_wallet=typed(wallet),
            )
            low, high = hedge_liquidation_prices(ql, epl, qs, eps, wallet, brackets=TABLES[tiers], **others)
            assert headline(p) == f"Liquidation price: on a fall {price(low)}; on a rise {price(high)}"
        elif mode == "isolated":
            q, ep, ml, ms = 10 ** rng.uniform(-2, 1.5), 10 ** rng.uniform(4, 5), *rng.uniform(0.01, 1, 2)
            set_values(
                p,
                position_mode="hedge",
                long_quantity=typed(q),
                short_quantity=typed(q),
                long_entry_price=typed(ep),
                short_entry_price=typed(ep),
                long_margin=typed(ml * q * ep),
                short_margin=typed(ms * q * ep),
            )
            low = liquidation_price("long", q, ep, ml * q * ep, **rates)
            high = liquidation_price("short", q, ep, ms * q * ep, **rates)
            assert headline(p) == f"Liquidation price: long leg {price(low)}; short leg {price(high)}"


def test_max_open_tab_equals_the_engine():
    rng = np.random.default_rng(24)
    p = tabs().panes["Max open"]
    for _ in range(N):
        sym = str(rng.choice(list(TABLES)))
        top = int(TABLES[sym].brackets[0].max_leverage)
        bal, ep, lev, fee = (
            10 ** rng.uniform(0, 9),
            10 ** rng.uniform(2, 5),
            float(rng.integers(1, top + 1)),
            0.05,
        )
        set_values(
            p,
            symbol=sym,
            balance=typed(bal, rng),
            entry_price=typed(ep, rng),
            leverage=typed(lev),
            fee_pct=typed(fee),
        )
        m = max_open_quantity(bal, ep, lev, brackets=TABLES[sym], fee_rate=fee / 100, step=0.001)
        binds = {"balance": "the balance binds", "tier": "the tier binds", "both": "both limits bind"}[
            m.binding
        ]
        assert headline(p) == (
            f"Max open: {m.quantity:,.3f} {sym[:3]} ({m.quantity * ep:,.2f} USDT at entry); {binds}"
        )


def test_open_price_tab_equals_the_engine():
    rng = np.random.default_rng(25)
    p = tabs().panes["Open price"]
    for _ in range(N):
        n = int(rng.integers(1, 6))
        rows = sorted(rng.choice(5, n, replace=False) + 1)
        ps, qs = 10 ** rng.uniform(2, 5) * rng.uniform(0.9, 1.1, n), 10 ** rng.uniform(-3, 1, n)
        for i in range(1, 6):
            filled = i in rows
            j = rows.index(i) if filled else 0
            set_values(
                p,
                **{
                    f"price_{i}": typed(ps[j], rng) if filled else "",
                    f"quantity_{i}": typed(qs[j]) if filled else "",
                },
            )
        want = average_entry_price(ps, qs)
        assert headline(p) == f"Open price: {price(want)} USDT for {qs.sum():,.8g} coins"


# -- refusals -------------------------------------------------------------------------------------------
BAD_TEXT = [
    ("abc", "must be a number such as 1,234.5; got 'abc'"),
    ("", "is empty: type a number"),
    ("nan", "must be a number such as 1,234.5; got 'nan'"),
    ("1e999", "must be a number a float can hold"),
    ("1,5", "must use a point for decimals"),
    ("<b>x</b>", "must be a number such as 1,234.5"),
]


@pytest.mark.parametrize("title", TITLES)
def test_every_box_refuses_bad_text_with_one_plain_sentence_naming_it(title):
    p = tabs().panes[title]
    boxes = [
        (k, c)
        for k, c in p.controls.items()
        if hasattr(c, "continuous_update") and c.layout.display != "none" and c.value
    ]
    assert boxes
    for key, box in boxes:
        good = box.value
        for text, words in BAD_TEXT:
            if text == "" and key.startswith(("price_", "quantity_")):
                continue  # an empty fill row is allowed; half a row is refused below
            box.value = text
            shown = p.text()
            assert shown == f"⚠ {box.description} {words}" or shown.startswith(
                f"⚠ {box.description} {words}"
            ), shown
            assert "\n" not in shown and "Traceback" not in shown and p.working.value == ""
            assert "<b>" not in p.result.value  # typed text is shown, never run as HTML
        box.value = good
        assert not p.text().startswith("⚠"), (key, p.text())


@pytest.mark.parametrize(
    "title, key, text, message",
    [
        ("PnL and ROE", "quantity", "-5", "⚠ Quantity (coins) must be more than 0; got -5"),
        ("PnL and ROE", "leverage", "0.5", "⚠ Leverage (x) must be at least 1; got 0.5"),
        ("Target price", "entry_price", "0", "⚠ Entry price (USDT) must be more than 0; got 0"),
        ("Max open", "leverage", "151", "⚠ Leverage (x) must be at most 150; got 151"),
        ("Max open", "fee_pct", "5", "⚠ Opening fee (%) must be at most 1; got 5"),
        ("Max open", "balance", "-1", "⚠ Available balance (USDT) must be at least 0; got -1"),
        ("Liquidation price", "wallet_balance", "-1", "⚠ Isolated margin (USDT) must be at least 0; got -1"),
        ("Open price", "quantity_3", "1", "⚠ Fill 3 price (USDT) is empty: type a number"),
        ("Open price", "price_1", "1e-400", "⚠ Fill 1 price (USDT) must be more than 0; got 0"),
    ],
)
def test_out_of_range_values_are_refused_in_plain_words(title, key, text, message):
    p = tabs().panes[title]
    p.controls[key].value = text
    assert p.text() == message


def test_no_warning_or_output_reaches_the_page(capsys):
    w = tabs()
    extreme = ["1e300", "1e-300", "1e308", "0.000000001", "99999999999999999999", "-1e300"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for p in w.panes.values():
            for key, box in p.controls.items():
                if not hasattr(box, "continuous_update"):
                    continue
                good = box.value
                for text in extreme:
                    box.value = text
                    assert "could not be worked out" not in p.text(), (key, text, p.text())
                box.value = good
    assert caught == []
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(TITLES), st.data())
def test_any_typed_text_gives_a_result_or_a_sentence_never_a_crash(title, data):
    p = _FUZZ.panes[title]
    boxes = [k for k, c in p.controls.items() if hasattr(c, "continuous_update")]
    key = data.draw(st.sampled_from(boxes))
    good = p.controls[key].value
    text = data.draw(st.one_of(st.text(max_size=12), st.floats().map(repr), st.integers().map(str)))
    p.controls[key].value = text
    shown = p.text()
    assert "could not be worked out" not in shown
    assert not shown.startswith("⚠") or ("\n" not in shown and shown.startswith("⚠ "))
    p.controls[key].value = good


_FUZZ = tabs()


def test_no_price_shows_dashes_and_says_why():
    p = tabs().panes["Liquidation price"]
    p.controls["wallet_balance"].value = "5,000"  # a long backed in full: no price
    assert headline(p) == "Liquidation price: -- (no such price)"
    assert "at every positive price the margin balance stays above" in p.text()
    t = tabs().panes["Target price"]
    t.controls["roe_pct"].value = "-1,500"  # a long at 10x cannot lose more than 1,000 %
    assert headline(t) == "Target price: -- (no such price)"
    assert "a long can only reach an ROE above −1,000 %" in t.text()


def test_the_benchmark_script_runs():
    """benchmarks/bench_calculator_tabs.py (the kernel part) keeps working; its figures are not tested."""
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_calculator_tabs.py"
    cmd = [sys.executable, str(script), "--repeats", "2"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=script.parents[1])
    assert done.returncode == 0, done.stderr
    assert "Liquidation price" in done.stdout and "slowest control" in done.stdout


@pytest.mark.parametrize(
    "q, margin, lp, mm",
    [("0.01", "100", "90,361.45", "4.00 USDT (tier 1)"), ("0.01", "200", "80,321.29", "4.00 USDT (tier 1)"),
     ("10", "20,000", "98,490.19", "5,000.00 USDT (tier 3)"),
     ("5", "10,000", "98,432.16", "2,200.00 USDT (tier 2)"),
     ("50", "100,000", "98,747.47", "38,000.00 USDT (tier 4)")],
)  # fmt: skip
def test_lesson_2s_figures_typed_into_the_liquidation_tab(q, margin, lp, mm):
    p = tabs().panes["Liquidation price"]
    set_values(p, quantity=q, wallet_balance=margin, entry_price="100,000")
    assert headline(p) == f"Liquidation price: {lp} USDT"
    assert f"= {mm}" in p.text()


def test_lesson_base_must_be_text_or_none():
    with pytest.raises(InvalidInputError, match=r"lesson_base must be text .* or None; got 3"):
        tabs(3)


def test_max_open_moves_an_untouched_entry_price_with_the_symbol():
    p = tabs().panes["Max open"]
    p.controls["symbol"].value = "ETHUSDT"
    assert p.controls["entry_price"].value == "4,000"  # the course's illustrative ETH price
    assert headline(p) == "Max open: 2.487 ETH (9,948.00 USDT at entry); the balance binds"
    p.controls["entry_price"].value = "3,500"  # typed by the learner: kept
    p.controls["symbol"].value = "BTCUSDT"
    assert p.controls["entry_price"].value == "3,500"


def test_liquidation_tab_prices_eth_like_eth_when_its_tiers_are_chosen():
    """The same 1,000 USDT long at 10x, in ETH at the course's 4,000 USDT: 0.25 ETH on 100 USDT."""
    p = tabs().panes["Liquidation price"]
    p.controls["tiers"].value = "ETHUSDT"
    boxes = ("quantity", "entry_price", "long_quantity", "short_quantity")
    assert [p.controls[k].value for k in boxes] == ["0.25", "4,000", "50", "25"]
    want = liquidation_price("long", 0.25, 4_000, 100, brackets=BracketTable.load("ETHUSDT"))
    assert headline(p) == f"Liquidation price: {price(want)} USDT"
    p.controls["tiers"].value = "flat"  # a typed rate keeps the coin's numbers ...
    assert p.controls["entry_price"].value == "4,000"
    p.controls["quantity"].value = "0.5"  # ... and a typed box is the learner's
    p.controls["tiers"].value = "BTCUSDT-2021"  # back to BTC: the untouched boxes follow
    assert (p.controls["entry_price"].value, p.controls["quantity"].value) == ("100,000", "0.5")
