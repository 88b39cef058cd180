"""Formatting of values (dates, money, numbers, tiers, item lists) in the customer's language.

Sentences live in domain.yml; this module only renders the values that go into them. Dates, numbers,
money and lists come from CLDR through Babel, so "8. desember", "8 december", "den 8. december" and
"6 230" / "6.230" / "6,230" are each locale's own conventions, not tables of ours.
"""

from __future__ import annotations

from datetime import date, time

from babel import Locale
from babel.dates import format_date as _babel_date
from babel.dates import format_time as _babel_time
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal

# nb first: the default for anything we don't know.
SUPPORTED_LANGUAGES = ("nb", "sv", "da", "en")
_LOCALES = {"nb": "nb_NO", "sv": "sv_SE", "da": "da_DK", "en": "en_GB"}

# CLDR as shipped with Babel has no words for "today"/"tomorrow"/"yesterday", only "in 1 day".
_RELATIVE = {
    "nb": {0: "i dag", 1: "i morgen", -1: "i går"},
    "sv": {0: "i dag", 1: "i morgon", -1: "i går"},
    "da": {0: "i dag", 1: "i morgen", -1: "i går"},
    "en": {0: "today", 1: "tomorrow", -1: "yesterday"},
}
# Tindra Klubben's tiers (shop.yml keys bronse/solv/gull) as each language names them.
_TIERS = {
    "nb": {"bronse": "Bronse", "solv": "Sølv", "gull": "Gull"},
    "sv": {"bronse": "Brons", "solv": "Silver", "gull": "Guld"},
    "da": {"bronse": "Bronze", "solv": "Sølv", "gull": "Guld"},
    "en": {"bronse": "Bronze", "solv": "Silver", "gull": "Gold"},
}
# "Members" as the last part of a compound with a tier name: Norwegian hyphenates it after the tier (the
# responses' "{tier}-medlem"), Swedish and Danish write it together ("Guldmedlemmar"), English in two words.
_MEMBERS = {"nb": "-medlemmer", "sv": "medlemmar", "da": "medlemmer", "en": " members"}
# Shop data is written in English in shop.yml; known phrases get a rendering per language.
_PHRASES: dict[str, dict[str, str]] = {
    "nb": {
        "the supplier's delivery of this item to our warehouse is late": (
            "leverandørens levering av denne varen til lageret vårt er forsinket"
        ),
        "2-4 business days": "2–4 virkedager",
        "1 business day": "1 virkedag",
        "Klarna invoice (14 days)": "Klarna faktura (14 dager)",
        "gift card": "gavekort",
        "closed": "stengt",
        "unused, with tags and original packaging": "ubrukte, med merkelapper på og i originalemballasjen",
        "1 point per 10 NOK spent": "1 poeng per 10 kr du handler for",
        "100 points = 10 NOK discount at checkout": "100 poeng = 10 kr i rabatt i kassen",
        "member prices": "medlemspriser",
        "200 birthday points": "200 bursdagspoeng",
        "free returns": "gratis retur",
        "60-day return window": "60 dagers returfrist",
        "free express shipping": "gratis ekspressfrakt",
        "early access to sales": "tidlig tilgang til salg",
    },
    "sv": {
        "the supplier's delivery of this item to our warehouse is late": (
            "leverantörens leverans av den här varan till vårt lager är försenad"
        ),
        "2-4 business days": "2–4 arbetsdagar",
        "1 business day": "1 arbetsdag",
        "Klarna invoice (14 days)": "Klarna faktura (14 dagar)",
        "gift card": "presentkort",
        "closed": "stängt",
        "unused, with tags and original packaging": "oanvända, med etiketterna kvar och i originalförpackningen",
        "1 point per 10 NOK spent": "1 poäng per 10 norska kronor du handlar för",
        "100 points = 10 NOK discount at checkout": "100 poäng = 10 norska kronor i rabatt i kassan",
        "member prices": "medlemspriser",
        "200 birthday points": "200 födelsedagspoäng",
        "free returns": "fri retur",
        "60-day return window": "60 dagars returrätt",
        "free express shipping": "fri expressfrakt",
        "early access to sales": "tidig tillgång till reor",
    },
    "da": {
        "the supplier's delivery of this item to our warehouse is late": (
            "leverandørens levering af denne vare til vores lager er forsinket"
        ),
        "2-4 business days": "2–4 hverdage",
        "1 business day": "1 hverdag",
        "Klarna invoice (14 days)": "Klarna faktura (14 dage)",
        "gift card": "gavekort",
        "closed": "lukket",
        "unused, with tags and original packaging": "ubrugte, med mærkerne på og i den originale emballage",
        "1 point per 10 NOK spent": "1 point for hver 10 norske kroner, du handler for",
        "100 points = 10 NOK discount at checkout": "100 point = 10 norske kroner i rabat ved kassen",
        "member prices": "medlemspriser",
        "200 birthday points": "200 fødselsdagspoint",
        "free returns": "gratis returnering",
        "60-day return window": "60 dages returret",
        "free express shipping": "gratis ekspresfragt",
        "early access to sales": "tidlig adgang til udsalg",
    },
}
# The shop prices in NOK. Norwegians read "kr" as their own crowns; Swedes, Danes and English
# readers would read SEK, DKK or nothing at all, so they see the currency code.
_MONEY_PATTERNS = {"nb": "#,##0 ¤", "sv": "#,##0 ¤¤", "da": "#,##0 ¤¤", "en": "¤¤ #,##0"}


def lang(language: str | None) -> str:
    return language if language in SUPPORTED_LANGUAGES else "nb"


def locale_of(language: str | None) -> Locale:
    return Locale.parse(_LOCALES[lang(language)])


def _plain_spaces(text: str) -> str:
    # CLDR groups digits with (narrow) no-break spaces; plain ones keep what customers copy searchable.
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def format_date(day: date, language: str | None, today: date | None = None) -> str:
    """'tomorrow (Tuesday 8 December)' style: a relative word when close, always the date.

    The locale's full date pattern without the year, unless the date is in another year than today.
    """
    language = lang(language)
    today = today or date.today()
    pattern = locale_of(language).date_formats["full"].pattern
    if day.year == today.year:
        pattern = pattern.replace(", y", "").replace(" y", "").replace("y", "").strip(" ,")
    absolute = _plain_spaces(_babel_date(day, format=pattern, locale=_LOCALES[language]))
    relative = _RELATIVE[language].get((day - today).days)
    return f"{relative} ({absolute})" if relative else absolute


def format_time(moment: time, language: str | None) -> str:
    """'08:00' (nb, sv, en), '08.00' (da): the locale's short time."""
    return _plain_spaces(_babel_time(moment, format="short", locale=_LOCALES[lang(language)]))


def format_number(value: float, language: str | None) -> str:
    return _plain_spaces(format_decimal(value, locale=_LOCALES[lang(language)]))


def format_points(points: int, language: str | None = None) -> str:
    return format_number(points, language)


def format_nok(amount: float, language: str | None = None) -> str:
    """A price or value in NOK: '1 299 kr' (nb), '1 299 NOK' (sv), '1.299 NOK' (da), 'NOK 1,299' (en)."""
    language = lang(language)
    pattern = _MONEY_PATTERNS[language]
    if not float(amount).is_integer():
        pattern = pattern.replace("#,##0", "#,##0.00")
    text = format_currency(amount, "NOK", format=pattern, locale=_LOCALES[language], currency_digits=False)
    return _plain_spaces(text)


def tier_name(tier: str | None, language: str | None) -> str:
    return _TIERS[lang(language)].get(tier or "", tier or "")


def tier_members(tiers: list[str], language: str | None) -> str:
    """Members of these tiers as one compound: 'Sølv- og Gull-medlemmer', 'Silver- och Guldmedlemmar',
    'Sølv- og Guldmedlemmer', 'Silver and Gold members'. In nb, sv and da every tier but the last takes the
    hyphen that stands for the part they share ("Sølv-" for "Sølvmedlemmer")."""
    language = lang(language)
    if not tiers:
        return ""
    names = [tier_name(tier, language) for tier in tiers]
    if language != "en":
        names = [f"{name}-" for name in names[:-1]] + names[-1:]
    return join_list(names, language) + _MEMBERS[language]


def join_list(parts: list[str], language: str | None) -> str:
    """'a, b og c' / 'a, b och c' / 'a, b and c', as the locale joins lists."""
    return format_list(parts, locale=_LOCALES[lang(language)]) if parts else ""


def shop_phrase(text: str, language: str | None) -> str:
    return _PHRASES.get(lang(language), {}).get(text, text)
