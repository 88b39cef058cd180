"""Formatting of values (dates, money, tiers, item lists) in the customer's language.

Sentences live in domain.yml; this module only renders the values that go into them.
"""

from __future__ import annotations

from datetime import date

SUPPORTED_LANGUAGES = ("nb", "en")

_WEEKDAYS = {
    "nb": ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_MONTHS = {
    "nb": [
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
_RELATIVE = {"nb": {0: "i dag", 1: "i morgen", -1: "i går"}, "en": {0: "today", 1: "tomorrow", -1: "yesterday"}}
_TIERS = {
    "nb": {"bronse": "Bronse", "solv": "Sølv", "gull": "Gull"},
    "en": {"bronse": "Bronze", "solv": "Silver", "gull": "Gold"},
}
_AND = {"nb": "og", "en": "and"}
# Shop data is written in English in shop.yml; known phrases get a Norwegian rendering.
_PHRASES_NB = {
    "the supplier's delivery of this item to our warehouse is late": (
        "leverandørens levering av denne varen til lageret vårt er forsinket"
    ),
    "2-4 business days": "2–4 virkedager",
    "1 business day": "1 virkedag",
    "Klarna invoice (14 days)": "Klarna faktura (14 dager)",
    "gift card": "gavekort",
    "closed": "stengt",
    "unused, with tags and original packaging": "ubrukt, med merkelapper på og i originalemballasjen",
    "1 point per 10 NOK spent": "1 poeng per 10 kr du handler for",
    "100 points = 10 NOK discount at checkout": "100 poeng = 10 kr i rabatt i kassen",
    "member prices": "medlemspriser",
    "200 birthday points": "200 bursdagspoeng",
    "free returns": "gratis retur",
    "60-day return window": "60 dagers returfrist",
    "free express shipping": "gratis ekspressfrakt",
    "early access to sales": "tidlig tilgang til salg",
}


def lang(language: str | None) -> str:
    return language if language in SUPPORTED_LANGUAGES else "nb"


def format_date(day: date, language: str | None, today: date | None = None) -> str:
    """'tomorrow (Tuesday 24 November)' style: relative word when close, always the date."""
    language = lang(language)
    today = today or date.today()
    weekday = _WEEKDAYS[language][day.weekday()]
    month = _MONTHS[language][day.month - 1]
    absolute = f"{weekday} {day.day}. {month}" if language == "nb" else f"{weekday} {day.day} {month}"
    relative = _RELATIVE[language].get((day - today).days)
    return f"{relative} ({absolute})" if relative else absolute


def format_nok(amount: float) -> str:
    whole = int(amount) if float(amount).is_integer() else amount
    return f"{whole:,}".replace(",", " ") + " kr" if isinstance(whole, int) else f"{amount:.2f} kr"


def format_points(points: int) -> str:
    return f"{points:,}".replace(",", " ")


def tier_name(tier: str | None, language: str | None) -> str:
    return _TIERS[lang(language)].get(tier or "", tier or "")


def join_list(parts: list[str], language: str | None) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + f" {_AND[lang(language)]} " + parts[-1]


def shop_phrase(text: str, language: str | None) -> str:
    return _PHRASES_NB.get(text, text) if lang(language) == "nb" else text
