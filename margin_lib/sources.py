"""The sources the course cites, as data: the exchange's documentation pages (title and
address), the guide the lessons follow, and the course's own rule book. The lessons' References
sections and ``docs/margin-rules.md`` cite them; the tests check they do, from this one list.

>>> GUIDE
"a beginner's guide to isolated and cross margin on Binance USDⓈ-M futures"
"""

from __future__ import annotations

__all__ = ["EXCHANGE_PAGES", "GUIDE", "RULE_BOOK", "CONSULTED"]

#: The exchange's documentation pages: title -> address (consulted in November 2026).
EXCHANGE_PAGES = {
    "Leverage and Margin of USDⓈ-M Futures": "https://www.binance.com/en/support/faq/360033162192",
    "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts": (
        "https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93"
    ),
    "Introduction to Binance Futures Funding Rates": "https://www.binance.com/en/support/faq/360033525031",
    "How to Adjust Margin Balance in Cross/Isolated Margin Mode": (
        "https://www.binance.com/en/support/faq/360038447311"
    ),
    "How to Check Futures Wallet Balance": (
        "https://www.binance.com/en/support/faq/5d62f8be18d24544b5b6156094c16bf7"
    ),
    "Notional and Leverage Brackets (USER_DATA)": (
        "https://developers.binance.com/docs/derivatives/usds-margined-futures/account/rest-api/"
        "Notional-and-Leverage-Brackets"
    ),
}

#: When the pages were read, as the References sections say it.
CONSULTED = "consulted November 2026"

#: The guide the lessons follow, named as what it is.
GUIDE = "a beginner's guide to isolated and cross margin on Binance USDⓈ-M futures"

#: The course's own rule book, in the repository.
RULE_BOOK = "docs/margin-rules.md"
