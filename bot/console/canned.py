"""Canned replies in nb, en, sv and da: a start for the agent's message, which they can edit before sending."""

from __future__ import annotations

from bot.shop import shop_info

# (title, text); {agent}, {shop} and {email} are filled in for the agent who uses them.
_CANNED: dict[str, list[tuple[str, str]]] = {
    "nb": [
        (
            "Hilsen",
            "Hei, dette er {agent} fra kundeservice hos {shop}. Jeg har lest samtalen, så du slipper å gjenta deg.",
        ),
        ("Sjekker", "Takk for at du venter. Jeg ser på det nå og er tilbake om et øyeblikk."),
        ("Ordrenummer", "Kan du gi meg ordrenummeret? Det står i ordrebekreftelsen du fikk på e-post."),
        (
            "Reklamasjon",
            "Så leit at varen ikke holdt mål. Send gjerne et bilde av skaden til {email}, så ordner vi en reklamasjon.",
        ),
        ("Noe mer?", "Er det noe mer jeg kan hjelpe deg med?"),
        ("Avslutning", "Takk for at du tok kontakt med {shop}. Ha en fin dag!"),
    ],
    "en": [
        (
            "Greeting",
            "Hi, this is {agent} from {shop} customer service. "
            "I've read the chat, so you won't need to repeat yourself.",
        ),
        ("Checking", "Thanks for waiting. I'm looking into it now and will be right back."),
        ("Order number", "Could you give me the order number? It's in the order confirmation we e-mailed you."),
        (
            "Complaint",
            "I'm sorry the item didn't hold up. "
            "Please send a photo of the damage to {email}, and we'll sort out the complaint.",
        ),
        ("Anything else?", "Is there anything else I can help you with?"),
        ("Goodbye", "Thank you for contacting {shop}. Have a nice day!"),
    ],
    "sv": [
        (
            "Hälsning",
            "Hej, det här är {agent} från kundtjänst på {shop}. "
            "Jag har läst konversationen, så du behöver inte upprepa dig.",
        ),
        ("Kollar", "Tack för att du väntar. Jag tittar på det nu och är tillbaka om en liten stund."),
        (
            "Beställningsnummer",
            "Kan du ge mig beställningsnumret? Det står i orderbekräftelsen som du fick via mejl.",
        ),
        (
            "Reklamation",
            "Vad tråkigt att varan inte höll. "
            "Skicka gärna en bild på skadan till {email}, så hjälper vi dig med en reklamation.",
        ),
        ("Något mer?", "Är det något mer jag kan hjälpa dig med?"),
        ("Avslutning", "Tack för att du kontaktade {shop}. Ha en fin dag!"),
    ],
    "da": [
        (
            "Hilsen",
            "Hej, det er {agent} fra kundeservice hos {shop}. "
            "Jeg har læst samtalen, så du behøver ikke at gentage dig selv.",
        ),
        ("Undersøger", "Tak, fordi du venter. Jeg kigger på det nu og er tilbage om et øjeblik."),
        (
            "Bestillingsnummer",
            "Vil du give mig bestillingsnummeret? Det står i ordrebekræftelsen, som vi sendte dig på mail.",
        ),
        (
            "Reklamation",
            "Hvor ærgerligt, at varen ikke holdt. "
            "Send gerne et billede af skaden til {email}, så hjælper vi dig med en reklamation.",
        ),
        ("Andet?", "Er der andet, jeg kan hjælpe dig med?"),
        ("Afslutning", "Tak, fordi du kontaktede {shop}. Hav en god dag!"),
    ],
}
LANGUAGE_NAMES = {"nb": "Norsk", "sv": "Svenska", "da": "Dansk", "en": "English"}


def canned_replies(agent_name: str, language: str) -> list[dict[str, object]]:
    """Every language, the conversation's own first."""
    shop = shop_info()
    order = [language] + [other for other in _CANNED if other != language] if language in _CANNED else list(_CANNED)
    return [
        {
            "language": code,
            "language_name": LANGUAGE_NAMES[code],
            "replies": [
                {"title": title, "text": body.format(agent=agent_name, shop=shop["name"], email=shop["email"])}
                for title, body in _CANNED[code]
            ],
        }
        for code in order
    ]
