"""A yes or no first, when a shipping or payment question names a country or a way to pay.

"Sender dere til Finland?" and "can I pay with PayPal?" want a yes or a no, not the whole policy read out
(found by a live review). The facts are the shop's (shop.yml): the countries it has carriers for, and its
payment methods. Country names come from CLDR through Babel, in the customer's language and in English;
only countries a Nordic customer plausibly asks about are read, so a "jersey" or an "island" in Danish
and Norwegian is not taken for a country by chance.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from babel import Locale

from bot.i18n import join_list, lang, shop_phrase
from bot.shop import policies

# Countries asked about, besides those the shop ships to: the Nordics, neighbours and big markets.
ASKED_COUNTRIES = ("FI", "IS", "FO", "GL", "DE", "GB", "US", "NL", "PL", "FR", "ES", "IT", "AT", "CH", "BE",
                   "EE", "LV", "LT", "IE", "CA", "AU")  # fmt: skip
# What customers write besides CLDR's names.
COUNTRY_ALIASES = {"uk": "GB", "england": "GB", "britain": "GB", "usa": "US", "amerika": "US", "america": "US",
                   "holland": "NL", "færøyene": "FO", "färöarna": "FO", "færøerne": "FO"}  # fmt: skip
# Ways to pay, by what customers write: shop.yml's method it is, or a name for one the shop does not take.
OFFERED_BY_WORD = {"vipps": "Vipps", "visa": "Visa", "mastercard": "Mastercard", "klarna": "Klarna invoice (14 days)",
                   "faktura": "Klarna invoice (14 days)", "invoice": "Klarna invoice (14 days)",
                   "gavekort": "gift card", "presentkort": "gift card", "gift card": "gift card"}  # fmt: skip
NOT_OFFERED_BY_WORD = {"paypal": "PayPal", "swish": "Swish", "mobilepay": "MobilePay", "mobile pay": "MobilePay",
                       "apple pay": "Apple Pay", "google pay": "Google Pay", "amex": "American Express",
                       "american express": "American Express", "bitcoin": "Bitcoin",
                       "diners": "Diners Club"}  # fmt: skip


@dataclass(frozen=True)
class Direct:
    """The response that answers yes or no, its values, and whether the policy's own answer follows."""

    response: str
    values: dict[str, str] = field(default_factory=dict)
    then_policy: bool = True


def _served() -> dict[str, str]:
    """Country code -> carrier, for every country the shop delivers in."""
    return {str(code): str(carrier) for code, carrier in policies()["shipping"]["carriers"].items()}


@cache
def _country_names(language: str) -> dict[str, str]:
    """Lower-cased name -> country code, in `language` and English (customers write "Finland" in any)."""
    codes = (*_served(), *ASKED_COUNTRIES)
    names = dict(COUNTRY_ALIASES)
    for locale in dict.fromkeys((language, "en")):
        territories = Locale.parse(locale).territories
        names |= {str(territories[code]).lower(): code for code in codes if code in territories}
    return names


def _named(text: str, names: dict[str, str]) -> str | None:
    """The first of `names` the text holds as whole words (longest names first: "american express")."""
    lowered = text.lower()
    for name in sorted(names, key=len, reverse=True):
        if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", lowered):
            return names[name]
    return None


# English names that take "the" in a sentence ("we don't ship to the United Kingdom").
_WITH_THE = {"GB", "US", "NL", "FO"}


def country_name(code: str, language: str) -> str:
    name = str(Locale.parse(language).territories[code])
    return f"the {name}" if language == "en" and code in _WITH_THE else name


def shipping_answer(text: str, language: str | None) -> Direct | None:
    """Yes with the carrier, or no with where the shop does deliver, when the question names a country."""
    language = lang(language)
    code = _named(text, _country_names(language))
    if code is None:
        return None
    served = _served()
    if code in served:
        return Direct("utter_ship_to_yes", {"country": country_name(code, language), "carrier": served[code]})
    countries = join_list([country_name(served_code, language) for served_code in served], language)
    return Direct("utter_ship_to_no", {"country": country_name(code, language), "countries": countries}, False)


def payment_answer(text: str, language: str | None) -> Direct | None:
    """Yes, or no with the ways the shop takes, when the question names a way to pay."""
    language = lang(language)
    offered = _named(text, OFFERED_BY_WORD)
    if offered is not None:
        return Direct("utter_pay_with_yes", {"method": shop_phrase(offered, language)})
    other = _named(text, NOT_OFFERED_BY_WORD)
    if other is None:
        return None
    methods = join_list([shop_phrase(m, language) for m in policies()["payment_methods"]], language)
    return Direct("utter_pay_with_no", {"method": other, "payment_methods": methods}, False)
