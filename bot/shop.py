"""The shop's reference data (bot/fixtures/shop.yml): policies the assistant quotes and applies."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bot.settings import get_settings

TIERS = ("bronse", "solv", "gull")  # lowest first


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return YAML(typ="safe").load(handle)


def shop_data(path: Path | None = None) -> dict[str, Any]:
    """The whole fixture as plain dicts and lists, exactly as written in shop.yml."""
    return _load(path or get_settings().shop_fixture)


def policies() -> dict[str, Any]:
    return shop_data()["policies"]


def shop_info() -> dict[str, Any]:
    return shop_data()["shop"]


def return_window_days(tier: str | None) -> int:
    """Days a customer of this tier has to return an item; guests get the base window."""
    returns = policies()["returns"]
    return int(returns["window_days_by_tier"].get(tier or "", returns["window_days"]))


def return_label_price(tier: str | None) -> int:
    returns = policies()["returns"]
    return 0 if tier in returns["free_return_tiers"] else int(returns["return_label_price_nok"])


def tier_threshold(tier: str) -> int:
    return int(policies()["loyalty"]["tiers"][tier]["from_points"])


def next_tier(tier: str) -> str | None:
    index = TIERS.index(tier)
    return TIERS[index + 1] if index + 1 < len(TIERS) else None


def points_value_nok(points: int) -> float:
    """What points are worth at checkout: redeem is '100 points = 10 NOK discount'."""
    return points * 10 / 100


def country_of_language(language: str | None) -> str:
    """The country whose rules apply to a customer answered in this language: sv -> SE, da -> DK.

    Languages no market speaks (English) get the shop's own country.
    """
    shop = shop_info()
    for country, spoken in shop.get("market_languages", {}).items():
        if spoken == language:
            return str(country)
    return str(shop["country"])


def complaint_rules(country: str) -> dict[str, Any]:
    """{'period_years': 3, 'law': 'konsumentköplagen'} for SE; the shop's own rules where a country has none."""
    complaints = policies()["complaints"]
    rules = complaints.get("by_country", {}).get(country)
    return rules or {"period_years": complaints["period_years"], "law": None}
