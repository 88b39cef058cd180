"""Values in each customer's language, by the locale's own (CLDR) conventions."""

from datetime import date, time

import pytest

from bot.i18n import (
    SUPPORTED_LANGUAGES,
    format_date,
    format_nok,
    format_points,
    format_time,
    join_list,
    lang,
    shop_phrase,
    tier_members,
    tier_name,
)

TODAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("language", "tomorrow", "next_week", "next_year"),
    [
        ("nb", "i morgen (fredag 4. desember)", "torsdag 10. desember", "tirsdag 12. januar 2027"),
        ("sv", "i morgon (fredag 4 december)", "torsdag 10 december", "tisdag 12 januari 2027"),
        ("da", "i morgen (fredag den 4. december)", "torsdag den 10. december", "tirsdag den 12. januar 2027"),
        ("en", "tomorrow (Friday, 4 December)", "Thursday, 10 December", "Tuesday, 12 January 2027"),
    ],
)
def test_dates(language: str, tomorrow: str, next_week: str, next_year: str) -> None:
    assert format_date(date(2026, 12, 4), language, TODAY) == tomorrow
    assert format_date(date(2026, 12, 10), language, TODAY) == next_week
    assert format_date(date(2027, 1, 12), language, TODAY) == next_year


@pytest.mark.parametrize(
    ("language", "price", "cents", "points", "tiers"),
    [
        ("nb", "1 299 kr", "62,30 kr", "6 230", "Bronse, Sølv og Gull"),
        ("sv", "1 299 NOK", "62,30 NOK", "6 230", "Brons, Silver och Guld"),
        ("da", "1.299 NOK", "62,30 NOK", "6.230", "Bronze, Sølv og Guld"),
        ("en", "NOK 1,299", "NOK 62.30", "6,230", "Bronze, Silver and Gold"),
    ],
)
def test_money_numbers_and_lists(language: str, price: str, cents: str, points: str, tiers: str) -> None:
    assert format_nok(1299, language) == price
    assert format_nok(62.3, language) == cents
    assert format_points(6230, language) == points
    assert join_list([tier_name(t, language) for t in ("bronse", "solv", "gull")], language) == tiers


def test_unknown_language_is_norwegian() -> None:
    assert SUPPORTED_LANGUAGES == ("nb", "sv", "da", "en")
    assert lang("fi") == lang(None) == "nb"
    assert format_nok(79, "xx") == "79 kr"


def test_times() -> None:
    assert [format_time(time(8, 0), language) for language in SUPPORTED_LANGUAGES] == [
        "08:00",
        "08:00",
        "08.00",
        "08:00",
    ]


@pytest.mark.parametrize(
    ("language", "condition"),
    [
        ("nb", "ubrukte, med merkelapper på og i originalemballasjen"),
        ("sv", "oanvända, med etiketterna kvar och i originalförpackningen"),
        ("da", "ubrugte, med mærkerne på og i den originale emballage"),
        ("en", "unused, with tags and original packaging"),
    ],
)
def test_the_return_condition_agrees_with_the_items_in_the_plural(language: str, condition: str) -> None:
    """ "Varene må være …", "Varorna ska vara …", "Varerne skal være …": the items, so the plural."""
    assert shop_phrase("unused, with tags and original packaging", language) == condition


@pytest.mark.parametrize(
    ("language", "silver_and_gold", "gold", "all_three"),
    [
        ("nb", "Sølv- og Gull-medlemmer", "Gull-medlemmer", "Bronse-, Sølv- og Gull-medlemmer"),
        ("sv", "Silver- och Guldmedlemmar", "Guldmedlemmar", "Brons-, Silver- och Guldmedlemmar"),
        ("da", "Sølv- og Guldmedlemmer", "Guldmedlemmer", "Bronze-, Sølv- og Guldmedlemmer"),
        ("en", "Silver and Gold members", "Gold members", "Bronze, Silver and Gold members"),
    ],
)
def test_members_of_tiers_are_one_compound_with_the_hyphen_for_the_shared_part(
    language: str, silver_and_gold: str, gold: str, all_three: str
) -> None:
    assert tier_members(["solv", "gull"], language) == silver_and_gold
    assert tier_members(["gull"], language) == gold
    assert tier_members(["bronse", "solv", "gull"], language) == all_three
    assert tier_members([], language) == ""
