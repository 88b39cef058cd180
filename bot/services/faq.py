"""The facts each FAQ answer quotes, taken from the shop's policies and rendered in the customer's language."""

from __future__ import annotations

from typing import Any

from bot.i18n import format_nok, format_points, join_list, lang, shop_phrase, tier_members, tier_name
from bot.shop import TIERS, complaint_rules, country_of_language, policies, shop_info

FAQ_INTENTS = (
    "faq_shipping",
    "faq_payment",
    "faq_returns",
    "faq_complaints",
    "faq_opening_hours",
    "faq_loyalty",
    "faq_contact",
    "faq_cancellation",
)


def _tier_lines(language: str) -> str:
    tiers = policies()["loyalty"]["tiers"]
    lines = []
    for tier in TIERS:
        benefits = join_list([shop_phrase(b, language) for b in tiers[tier]["benefits"]], language)
        threshold = format_points(int(tiers[tier]["from_points"]), language)
        lines.append(f"• {tier_name(tier, language)} ({threshold}+): {benefits}")
    return "\n".join(lines)


def faq_values(language: str | None) -> dict[str, Any]:
    """Every placeholder the FAQ responses in domain.yml use."""
    language = lang(language)
    p = policies()
    shop = shop_info()
    shipping, returns, loyalty = p["shipping"], p["returns"], p["loyalty"]
    hours = p["customer_service_hours"]
    carriers = shipping["carriers"]
    complaints = complaint_rules(country_of_language(language))
    return {
        "shop_name": shop["name"],
        "shop_email": shop["email"],
        "shop_phone": shop["phone"],
        "shop_website": shop["website"],
        "standard_days": shop_phrase(shipping["standard"]["days"], language),
        "standard_price": format_nok(shipping["standard"]["price_nok"], language),
        "free_shipping_over": format_nok(shipping["standard"]["free_over_nok"], language),
        "express_days": shop_phrase(shipping["express"]["days"], language),
        "express_price": format_nok(shipping["express"]["price_nok"], language),
        "express_order_before": shipping["express"]["order_before"],
        "carrier_no": carriers["NO"],
        "carrier_se": carriers["SE"],
        "carrier_dk": carriers["DK"],
        "payment_methods": join_list([shop_phrase(m, language) for m in p["payment_methods"]], language),
        "return_days": returns["window_days"],
        "return_days_gull": returns["window_days_by_tier"]["gull"],
        "free_return_tiers": join_list([tier_name(t, language) for t in returns["free_return_tiers"]], language),
        "free_return_members": tier_members(returns["free_return_tiers"], language),
        "label_price": format_nok(returns["return_label_price_nok"], language),
        "refund_days": returns["refund_business_days"],
        "return_condition": shop_phrase(returns["condition"], language),
        # The customer's own country's period: 3 years in Sweden, 2 in Norway and Denmark.
        "complaint_years": complaints["period_years"],
        "complaint_law": complaints["law"] or "",
        "complaint_years_long": p["complaints"]["period_years_long_lasting"],
        "hours_weekdays": hours["mon_fri"],
        "hours_saturday": hours["sat"],
        "hours_sunday": shop_phrase(hours["sun"], language),
        "loyalty_name": loyalty["name"],
        "loyalty_earn": shop_phrase(loyalty["earn"], language),
        "loyalty_redeem": shop_phrase(loyalty["redeem"], language),
        "points_expire_months": loyalty["points_expire_months"],
        "loyalty_tiers": _tier_lines(language),
    }
