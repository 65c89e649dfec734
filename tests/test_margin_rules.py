"""The course's rule book, docs/margin-rules.md, held against the engine.

Each test reads a figure the rule book states (parsed from its text, not retyped here) and
recomputes it with ``margin_lib``; every tier table in the book must equal the shipped snapshot
row for row. A change to the engine or to the book that makes them disagree fails here.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import margin_lib as m
from margin_lib import BracketTable
from margin_lib.account import MIN_QUANTITY, Account
from margin_lib.examples import CASE_A, CROSS_EXAMPLE, INITIAL_MARGIN_EXAMPLES
from margin_lib.sources import CONSULTED, EXCHANGE_PAGES, GUIDE

ROOT = Path(__file__).resolve().parents[1]
BOOK = (ROOT / "docs" / "margin-rules.md").read_text(encoding="utf-8")
NUM = r"([−-]?[\d,]*\d(?:\.\d+)?)"  # a number as the book prints it: 1,300, −80 or 90,452.26


def section(number: int) -> str:
    """The text of section ``number`` ("## 5. ..."), up to the next section."""
    match = re.search(rf"^## {number}\. .*?(?=^## |\Z)", BOOK, flags=re.S | re.M)
    assert match, f"the rule book has no section {number}"
    return match.group(0)


def paragraph(text: str, opening: str) -> str:
    """The paragraph (lines up to a blank line) that contains ``opening``, joined on one line."""
    for par in re.split(r"\n\s*\n", text):
        if opening in par:
            return " ".join(par.split())
    raise AssertionError(f"the rule book has no paragraph with {opening!r}")


def value(text: str) -> float:
    return float(text.replace("{,}", "").replace(",", "").replace("−", "-"))


def figures(pattern: str, text: str) -> list[float]:
    """The numbers captured by ``pattern`` (written with NUM) in ``text``."""
    match = re.search(pattern, text)
    assert match, f"the rule book no longer states {pattern!r}"
    return [value(g) for g in match.groups()]


def test_every_tier_table_equals_its_shipped_snapshot():
    tiers = section(3)
    headings = {
        "BTCUSDT": r"\*\*BTCUSDT, snapshot of (\d{4}-\d{2})\*\*",
        "ETHUSDT": r"\*\*ETHUSDT, snapshot of (\d{4}-\d{2})\*\*",
        "BTCUSDT-2021": r"\*\*BTCUSDT, older table of (2021)–22\*\*",
    }
    for name, heading in headings.items():
        table = BracketTable.load(name)
        found = re.search(heading, tiers)
        assert found, f"section 3 has no table headed like {heading!r}"
        assert found.group(1) == table.as_of
        rows = []
        for line in tiers[found.end() :].splitlines():
            if rows and not line.startswith("|"):
                break
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("|") and cells[0].isdigit():
                rows.append(cells)
        book = [
            dict(
                bracket=int(c[0]),
                notional_floor=value(c[1]),
                notional_cap=value(c[2]),
                max_leverage=value(c[3].rstrip("x")),
                mmr=round(value(c[4].rstrip(" %")) / 100, 10),
                maintenance_amount=value(c[5]),
            )
            for c in rows
        ]
        shipped = [{k: (round(x, 10) if k == "mmr" else x) for k, x in r.items()} for r in table.records()]
        assert book == shipped, f"the {name} table in the rule book differs from the snapshot"


def test_initial_margin_examples_and_roe():
    text = section(2)
    for ex in INITIAL_MARGIN_EXAMPLES:
        im = m.initial_margin(ex.notional, ex.leverage)
        row = rf"\| {ex.notional:,.0f} \| {ex.leverage:g}x \| {im:,.0f} \|"
        assert re.search(row, text), f"the initial-margin table lacks {ex}"
    upnl, roe = figures(rf"has\s+UPNL {NUM} USDT and ROE {NUM} %", " ".join(text.split()))
    assert upnl == m.unrealized_pnl("long", 0.01, 100_000, 92_000)
    assert roe == pytest.approx(100 * m.return_on_equity("long", 0.01, 100_000, 92_000, 10))


def test_maintenance_margin_cum_and_tier_edges():
    text = " ".join(section(3).split())
    bt, old = BracketTable.load("BTCUSDT"), BracketTable.load("BTCUSDT-2021")
    (mm,) = figures(r"- 300 = (\d[\d{},]*)\$ USDT", text)
    assert mm == bt.maintenance_margin(500_000)
    # the FAQ's example: 250,000 × (1 % − 0.5 %) + 50 = 1,300, tier 3 of the older table
    floor, hi, lo, prev, cum = figures(
        r"(\d[\d{},]*) \\times \(([\d.]+)\\,\\% - ([\d.]+)\\,\\%\) \+ (\d+) = (\d[\d{},]*)", text
    )
    t2, t3 = old.brackets[1], old.brackets[2]
    assert (floor, hi / 100, lo / 100, prev, cum) == (
        t3.notional_floor, t3.mmr, t2.mmr, t2.maintenance_amount, t3.maintenance_amount
    )  # fmt: skip
    assert cum == pytest.approx(floor * (hi - lo) / 100 + prev)
    left, right = figures(r"tier 1 gives .*? = (\d[\d{},]*)\$ and tier 2 gives .*? = (\d[\d{},]*)\$", text)
    assert left == right == bt.maintenance_margin(300_000) == pytest.approx(300_000 * bt.brackets[0].mmr)
    assert bt.bracket_for(300_000).bracket == 2 and bt.max_leverage(300_000) == 100
    assert bt.bracket_for(299_999.99).bracket == 1 and bt.max_leverage(299_999.99) == 150
    assert "(150x for BTCUSDT)" in text and bt.max_leverage(0) == 150 and bt.maintenance_margin(0) == 0


def test_exact_moves_to_liquidation():
    text = " ".join(section(3).split())
    long_, short = figures(rf"\*\*{NUM} %\*\* down for a long and \*\*{NUM} %\*\* up for a short", text)
    assert long_ == round(100 * m.adverse_move_to_liquidation("long", 10, 0.005), 3) == 9.548
    assert short == round(100 * m.adverse_move_to_liquidation("short", 10, 0.005), 3) == 9.453
    assert "9.548 % (long) / 9.453 % (short)" in section(10)


def test_case_a_ratios():
    text = paragraph(section(4), "Case A")
    mm, ratio, level = figures(
        rf"cross MM of {NUM}: the exchange's ratio is {NUM} % and the guide's is {NUM} %", text
    )
    acct = CASE_A.build_account(tiers="article")
    acct.mark(CASE_A.marks())
    r = acct.report()
    assert mm == pytest.approx(r.cross_maintenance_margin)
    assert ratio == round(100 * r.margin_ratio, 2)
    assert level == round(100 * r.account_margin_level)


def test_one_way_liquidation_and_bankruptcy_prices():
    text = paragraph(section(5), "Examples with an isolated wallet of 100")
    guide, tiers, short = figures(rf"\*\*{NUM}\*\*.*?\*\*{NUM}\*\*.*?\*\*{NUM}\*\*", text)
    bt = BracketTable.load("BTCUSDT")
    assert guide == round(m.liquidation_price("long", 0.01, 100_000, 100, mmr=0.005), 2)
    assert tiers == round(m.liquidation_price("long", 0.01, 100_000, 100, brackets=bt), 2)
    assert short == round(m.liquidation_price("short", 0.01, 100_000, 100, brackets=bt), 2)
    (bp,) = figures(r"\\mathrm\{BP\} = (\d[\d{},]*)\$", section(5))
    assert bp == m.bankruptcy_price("long", 0.01, 100_000, 100)


def test_tier_fixed_point_example():
    text = paragraph(section(5), "fixed point")
    wrong, notional, right = figures(
        rf"give {NUM}, but there the notional is only {NUM},.*?\*\*{NUM}\*\*", text
    )
    bt = BracketTable.load("BTCUSDT")
    tier2 = m.liquidation_price("long", 3.2, 100_000, 32_000, mmr=0.005, maintenance_amount=300)
    assert wrong == round(tier2, 2) and notional == round(3.2 * tier2, 2)
    assert bt.bracket_for(3.2 * tier2).bracket == 1
    assert right == round(m.liquidation_price("long", 3.2, 100_000, 32_000, brackets=bt), 2)


def test_hedge_example_and_its_sign():
    text = paragraph(section(5), "2 long and 1 short")
    lp, both, equal = figures(rf"gives \*\*{NUM}\*\*.*?are both {NUM}\).*?give {NUM}\.", text)
    got = m.hedge_liquidation_price(2, 100, 1, 100, 10, long_mmr=0.005, short_mmr=0.005)
    assert lp == round(got, 2) == 91.37
    assert both == round(10 + 2 * (got - 100) - (got - 100), 2) == round(3 * got * 0.005, 2)
    assert equal == round(m.hedge_liquidation_price(1, 100, 1, 100, 10, long_mmr=0.005, short_mmr=0.005), 2)
    # slightly net long: the denominator is still positive and the price lies above the mark
    assert m.hedge_liquidation_price(1, 100, 0.999, 100, 10, long_mmr=0.005, short_mmr=0.005) > 100
    fix = paragraph(section(11), "exactly 0")
    assert "91.37" in fix and "1.37" in fix and "1,000" in fix


def test_ledger_transfer_limit_and_minimum_quantity():
    text = paragraph(section(6), "may leave")
    available, most = figures(rf"available balance {NUM}, but only \*\*{NUM}\*\*", text)
    acct = Account(1_000, fee_rate=0)
    acct.set_margin_mode("BTCUSDT", "cross")
    acct.open_position("BTCUSDT", "long", quantity=0.05, price=100_000, leverage=10)
    acct.mark({"BTCUSDT": 120_000})
    r = acct.report()
    assert (available, most) == (r.available_balance, r.max_transferable)
    assert most == r.cross_wallet_balance - r.cross_maintenance_margin
    (least,) = figures(rf"and the step, is \*\*{NUM}\*\*", " ".join(section(6).split()))
    assert least == MIN_QUANTITY["BTCUSDT"] == MIN_QUANTITY["ETHUSDT"]


def test_liquidation_takes_the_margin_balance_and_insurance_covers_the_rest():
    text = paragraph(section(6), "marked at")
    realised, taken, jumped, covered = figures(
        rf"realises {NUM} and the remaining {NUM} is taken.*?"
        rf"realises {NUM} and the insurance fund pays the {NUM}",
        text,
    )
    acct = Account(1_000, fee_rate=0)
    acct.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=10)
    calm, crash = acct.copy(), acct.copy()
    assert [(e.kind, round(e.amount, 6)) for e in calm.mark({"BTCUSDT": 90_300})] == [
        ("liquidation", realised), ("clearance", -taken)
    ]  # fmt: skip
    assert [(e.kind, round(e.amount, 6)) for e in crash.mark({"BTCUSDT": 85_000})] == [
        ("liquidation", jumped), ("insurance", covered)
    ]  # fmt: skip
    assert calm.report().wallet_balance == crash.report().wallet_balance == 900


def test_adding_and_removing_isolated_margin():
    text = " ".join(section(7).split())
    before, after = figures(rf"from {NUM} to \*\*{NUM}\*\*", text)
    at_100k, at_105k, at_95k = figures(
        rf"{NUM} at a mark of 100,000, {NUM} at 105,000, {NUM} at 95,000", text
    )
    acct = Account(1_000, fee_rate=0)
    acct.open_position("BTCUSDT", "long", notional=1_000, price=100_000, leverage=10)
    assert before == round(acct.report().positions[0].liquidation_price, 2)
    assert acct.max_removable_margin("BTCUSDT") == 0
    acct.add_margin("BTCUSDT", 100)
    pos = acct.report().positions[0]
    assert after == round(pos.liquidation_price, 2) and pos.mmr == 0.004
    got = []
    for mark in (100_000, 105_000, 95_000):
        acct.mark({"BTCUSDT": mark})
        got.append(round(acct.max_removable_margin("BTCUSDT"), 6))
    assert got == [at_100k, at_105k, at_95k]


def test_fee_and_funding_examples():
    text = " ".join(section(9).split())
    taker, maker = figures(
        rf"10,104 as taker costs \*\*{NUM}\*\*; selling it at 11,104 as maker costs \*\*{NUM}\*\*", text
    )
    assert taker == round(m.trading_fee(10_104, m.TAKER_FEE_RATE), 10) == 5.052
    assert maker == round(m.trading_fee(11_104, m.MAKER_FEE_RATE), 10) == 2.2208
    assert "0.02 % for a maker and 0.05 % for a taker" in text
    assert (m.MAKER_FEE_RATE, m.TAKER_FEE_RATE) == (0.0002, 0.0005)
    (paid,) = figures(rf"100,000 pays {NUM}\.", text)
    assert -paid == m.funding_payment("long", 1, 100_000, 0.0001)


def test_correction_negative_cross_wallet():
    text = paragraph(section(11), "may be negative")
    realised, wallet, profit, balance, lp, clamped, bp, mark, covered = figures(
        rf"realises {NUM}\. The cross wallet is now {NUM}, but the BTC profit of {NUM} holds the "
        rf"margin balance at {NUM}\. The BTC liquidation price is \*\*{NUM}\*\*; replacing the wallet "
        rf"by 0 would give {NUM}, below even the bankruptcy price of {NUM}, and a mark of {NUM} "
        rf".*?covers the {NUM}",
        text,
    )
    acct = Account(1_000, fee_rate=0)
    for sym in ("BTCUSDT", "ETHUSDT"):
        acct.set_margin_mode(sym, "cross")
    acct.open_position("BTCUSDT", "long", quantity=0.05, price=100_000, leverage=10)
    acct.open_position("ETHUSDT", "short", quantity=1.25, price=4_000, leverage=10)
    acct.mark({"BTCUSDT": 130_000, "ETHUSDT": 5_000})
    assert acct.close_position("ETHUSDT", 5_000) == realised
    r = acct.report()
    pos = r.positions[0]
    assert (r.cross_wallet_balance, pos.unrealized_pnl, r.cross_margin_balance) == (wallet, profit, balance)
    assert lp == round(pos.liquidation_price, 2) and bp == pos.bankruptcy_price
    table = BracketTable.load("BTCUSDT")
    assert clamped == round(m.liquidation_price("long", 0.05, 100_000, 0, brackets=table), 2)
    events = acct.copy().mark({"BTCUSDT": mark})
    assert [(e.kind, round(e.amount, 6)) for e in events][-1] == ("insurance", covered)


def test_correction_cross_example_has_no_price():
    text = paragraph(section(11), "guide's cross example")
    for tiers in ("article", "exchange"):
        assert math.isnan(CROSS_EXAMPLE.build_account(tiers=tiers).report().positions[0].liquidation_price)
    wallet, lp, fall = figures(rf"the wallet is {NUM} and the price is {NUM} USDT, a {NUM} % fall", text)
    r = CROSS_EXAMPLE.build_account(tiers="exchange", fee_rate=m.TAKER_FEE_RATE).report()
    assert wallet == r.cross_wallet_balance
    assert lp == round(r.positions[0].liquidation_price, 2)
    assert fall == round(100 * (1 - r.positions[0].liquidation_price / 100_000), 2)


def test_sources_guide_disclaimer_and_no_outside_reference():
    sources = section(12)
    for title, url in EXCHANGE_PAGES.items():
        assert f"[{title}]({url})" in sources
    assert f"({CONSULTED})" in sources
    assert GUIDE in BOOK
    assert "## 11. Corrections to earlier versions" in BOOK
    assert "not trading advice" in re.split(r"\n\s*\n", BOOK.strip())[-1], "end with the disclaimer"
    for words in ("shared/reference", "course's reference", "course reference", "margin-maths"):
        assert words not in BOOK
