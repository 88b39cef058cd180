"""What the gateway itself says to a customer, in nb and en. The bot's own sentences live in domain.yml."""

from __future__ import annotations

from bot.i18n import lang

TEXTS: dict[str, dict[str, str]] = {
    "unavailable": {
        "nb": "Jeg har litt problemer akkurat nå; prøv igjen, eller legg igjen en melding til teamet vårt.",
        "en": "I'm having trouble right now; try again, or leave a message for our team.",
    },
    "too_long": {
        "nb": "Meldingen er for lang. Kan du korte den ned til {limit} tegn?",
        "en": "That message is too long. Could you keep it under {limit} characters?",
    },
    "rate_limited": {
        "nb": "Du sender mange meldinger på kort tid. Vent litt, så svarer jeg.",
        "en": "You're sending a lot of messages in a short time. Please wait a moment.",
    },
    "bad_frame": {
        "nb": "Beklager, den meldingen forsto jeg ikke. Prøv å laste inn siden på nytt.",
        "en": "Sorry, I couldn't read that message. Try reloading the page.",
    },
    "empty": {
        "nb": "Meldingen var tom.",
        "en": "That message was empty.",
    },
    "bad_origin": {
        "nb": "Chatten kan ikke brukes fra denne siden.",
        "en": "The chat can't be used from this page.",
    },
    # A person and the bot taking turns (bot/console/desk.py).
    "agent_joined": {
        "nb": "{agent} fra kundeservice har kommet inn i chatten.",
        "en": "{agent} from customer service has joined the chat.",
    },
    "agent_handed_back": {
        "nb": "{agent} har gitt chatten tilbake til assistenten. Spør gjerne om noe mer.",
        "en": "{agent} has handed the chat back to the assistant. Just ask if there's anything else.",
    },
    # The agent's console has been closed for a while (bot/console/desk.py, take_back_from_absent_agents).
    "agent_left_queued": {
        "nb": "{agent} måtte dessverre gå fra chatten. Du er tilbake i køen som nummer {place}, "
        "og neste ledige i kundeservice tar over.",
        "en": "{agent} had to leave the chat, sorry. You're back in the queue at number {place}, "
        "and the next person free in customer service will take over.",
    },
    "agent_left_bot": {
        "nb": "{agent} måtte dessverre gå fra chatten, og ingen andre i kundeservice kan ta over akkurat nå. "
        "Assistenten hjelper deg videre; skriv «snakke med et menneske» hvis du vil legge igjen en melding.",
        "en": "{agent} had to leave the chat, sorry, and no one else in customer service can take over right now. "
        'The assistant is back; write "talk to a person" if you\'d like to leave a message.',
    },
    "agent_closed": {
        "nb": "{agent} har avsluttet chatten. Takk for at du tok kontakt!",
        "en": "{agent} has closed the chat. Thank you for getting in touch!",
    },
}


def text(key: str, language: str | None, **values: object) -> str:
    return TEXTS[key][lang(language)].format(**values)
