"""action_faq answers each topic with the facts of shop.yml."""

import pytest

from actions.faq import ActionFaq
from bot.services.faq import FAQ_INTENTS
from tests.actions.conftest import run_action
from tests.support import make_tracker


@pytest.mark.parametrize("intent", FAQ_INTENTS)
async def test_each_faq_intent_gets_its_own_answer(intent: str) -> None:
    messages, _ = await run_action(ActionFaq(), make_tracker("?", intent=intent))
    assert messages[0]["response"] == f"utter_{intent}"
    assert len(messages) == (2 if intent == "faq_opening_hours" else 1)  # the hours, and whether open now


@pytest.mark.parametrize(
    ("intent", "facts"),
    [
        (
            "faq_shipping",
            {
                "standard_price": "NOK 79",
                "free_shipping_over": "NOK 699",
                "express_price": "NOK 149",
                "express_order_before": "14:00",
                "carrier_no": "Bring",
                "carrier_se": "PostNord",
            },
        ),
        ("faq_returns", {"return_days": 30, "return_days_gull": 60, "label_price": "NOK 59", "refund_days": 5}),
        ("faq_complaints", {"complaint_years": 2, "complaint_years_long": 5}),
        ("faq_opening_hours", {"hours_weekdays": "08:00-20:00", "hours_saturday": "10:00-16:00"}),
        ("faq_contact", {"shop_email": "kundeservice@tindra.example", "shop_phone": "+47 21 00 00 00"}),
        ("faq_loyalty", {"loyalty_name": "Tindra Klubben", "points_expire_months": 24}),
    ],
)
async def test_answers_carry_the_policy_values(intent: str, facts: dict) -> None:
    messages, _ = await run_action(ActionFaq(), make_tracker("?", intent=intent))
    for key, value in facts.items():
        assert messages[0][key] == value


async def test_payment_methods_and_tiers_are_listed() -> None:
    payment, _ = await run_action(ActionFaq(), make_tracker("?", intent="faq_payment"))
    for method in ("Vipps", "Visa", "Mastercard", "Klarna", "gift card"):
        assert method in payment[0]["payment_methods"]
    loyalty, _ = await run_action(ActionFaq(), make_tracker("?", intent="faq_loyalty"))
    tiers = loyalty[0]["loyalty_tiers"]
    assert "Silver (1,500+)" in tiers and "Gold (5,000+)" in tiers and "free express shipping" in tiers


async def test_norwegian_answer_uses_norwegian_values() -> None:
    messages, _ = await run_action(ActionFaq(), make_tracker("?", intent="faq_shipping", slots={"language": "nb"}))
    assert messages[0]["standard_days"] == "2–4 virkedager"


@pytest.mark.parametrize(
    ("language", "facts"),
    [
        # The law and period of the customer's own country (shop.yml complaints.by_country).
        ("sv", {"complaint_years": 3, "complaint_law": "konsumentköplagen"}),
        ("da", {"complaint_years": 2, "complaint_law": "købeloven"}),
        ("nb", {"complaint_years": 2, "complaint_law": "forbrukerkjøpsloven"}),
    ],
)
async def test_a_customer_in_sweden_or_denmark_hears_their_own_countrys_rules(language: str, facts: dict) -> None:
    for intent in ("faq_shipping", "faq_complaints"):
        messages, _ = await run_action(ActionFaq(), make_tracker("?", intent=intent, slots={"language": language}))
        for key, value in facts.items():
            assert messages[0][key] == value, (intent, key)


async def test_swedish_and_danish_prices_say_they_are_norwegian_crowns() -> None:
    sv, _ = await run_action(ActionFaq(), make_tracker("?", intent="faq_shipping", slots={"language": "sv"}))
    da, _ = await run_action(ActionFaq(), make_tracker("?", intent="faq_loyalty", slots={"language": "da"}))
    assert (sv[0]["standard_price"], sv[0]["free_shipping_over"], sv[0]["standard_days"]) == (
        "79 NOK",
        "699 NOK",
        "2–4 arbetsdagar",
    )
    assert "Guld (5.000+)" in da[0]["loyalty_tiers"] and "gratis ekspresfragt" in da[0]["loyalty_tiers"]
    assert da[0]["loyalty_redeem"] == "100 point = 10 norske kroner i rabat ved kassen"


@pytest.mark.parametrize(
    ("language", "members"),
    [
        ("nb", "Sølv- og Gull-medlemmer"),
        ("sv", "Silver- och Guldmedlemmar"),
        ("da", "Sølv- og Guldmedlemmer"),
        ("en", "Silver and Gold members"),
    ],
)
async def test_the_members_with_free_returns_are_one_compound(language: str, members: str) -> None:
    messages, _ = await run_action(ActionFaq(), make_tracker("?", intent="faq_returns", slots={"language": language}))
    assert messages[0]["free_return_members"] == members


@pytest.mark.parametrize(
    ("clock", "language", "response", "values"),
    [  # shop.yml: Monday to Friday 08:00-20:00, Saturday 10:00-16:00, Sunday closed (Europe/Oslo)
        ("2030-01-08T11:00:00+01:00", "nb", "utter_service_open_now", {"closes": "20:00"}),  # Tuesday
        ("2030-01-08T11:00:00+01:00", "da", "utter_service_open_now", {"closes": "20.00"}),
        ("2030-01-05T15:59:00+01:00", "en", "utter_service_open_now", {"closes": "16:00"}),  # Saturday
        ("2030-01-06T11:00:00+01:00", "en", "utter_service_closed_now", {"opens": "tomorrow"}),  # Sunday
        ("2030-01-06T11:00:00+01:00", "sv", "utter_service_closed_now", {"opens": "i morgon"}),
        ("2030-01-08T20:00:00+01:00", "nb", "utter_service_closed_now", {"opens": "i morgen"}),  # just closed
    ],
)
async def test_are_you_open_now_is_answered_for_now(clock: str, language: str, response: str, values: dict) -> None:
    """Found by a live review: "har dere åpent nå" on a Sunday got the week's hours and no "closed now"."""
    tracker = make_tracker(
        "har dere åpent nå", intent="faq_opening_hours", slots={"language": language}, metadata={"clock": clock}
    )
    messages, _ = await run_action(ActionFaq(), tracker)
    assert [m["response"] for m in messages] == ["utter_faq_opening_hours", response]
    for key, start in values.items():
        assert messages[1][key].startswith(start), messages[1]


@pytest.mark.parametrize(
    ("text", "language", "said"),
    [
        (
            "sender dere til finland",
            "nb",
            [("utter_ship_to_no", {"country": "Finland", "countries": "Norge, Sverige og Danmark"})],
        ),
        ("do you ship to the uk", "en", [("utter_ship_to_no", {"country": "the United Kingdom"})]),
        (
            "skickar ni till Danmark?",
            "sv",
            [("utter_ship_to_yes", {"country": "Danmark", "carrier": "PostNord"}), ("utter_faq_shipping", {})],
        ),
        ("hvad koster fragt", "da", [("utter_faq_shipping", {})]),  # no country: the policy, as before
        ("kan jeg betale med paypal", "nb", [("utter_pay_with_no", {"method": "PayPal"})]),
        ("swish?", "sv", [("utter_pay_with_no", {"method": "Swish"})]),
        (
            "can I pay with klarna",
            "en",
            [("utter_pay_with_yes", {"method": "Klarna invoice (14 days)"}), ("utter_faq_payment", {})],
        ),
        ("hvilke betalingsmåder har I", "da", [("utter_faq_payment", {})]),
    ],
)
async def test_a_named_country_or_way_to_pay_gets_a_yes_or_no_first(
    text: str, language: str, said: list[tuple[str, dict]]
) -> None:
    """Found by a live review: "sender dere til finland" and "paypal" got the whole policy and no "no"."""
    intent = "faq_shipping" if "ship" in text or "send" in text or "skick" in text or "fragt" in text else "faq_payment"
    messages, _ = await run_action(ActionFaq(), make_tracker(text, intent=intent, slots={"language": language}))
    assert [m["response"] for m in messages] == [response for response, _ in said]
    for message, (_, values) in zip(messages, said, strict=True):
        assert {key: message[key] for key in values} == values
