"""What the gateway itself says to a customer, in nb, en, sv and da. The bot's own sentences live in domain.yml."""

from __future__ import annotations

from bot.i18n import lang

TEXTS: dict[str, dict[str, str]] = {
    "unavailable": {
        "nb": "Jeg har litt problemer akkurat nå; prøv igjen, eller legg igjen en melding til teamet vårt.",
        "en": "I'm having trouble right now; try again, or leave a message for our team.",
        "sv": "Jag har lite problem just nu. Försök igen, eller lämna ett meddelande till vårt team.",
        "da": "Jeg har lidt problemer lige nu. Prøv igen, eller skriv en besked til vores team.",
    },
    # Rasa is slower than BOT_RASA_TIMEOUT: the answer is still coming (bot/web/relay.py).
    "slow": {
        "nb": "Dette tar litt lengre tid enn vanlig. Svaret kommer her så snart det er klart.",
        "en": "This is taking a little longer than usual. The answer will appear here as soon as it's ready.",
        "sv": "Det här tar lite längre tid än vanligt. Svaret kommer här så snart det är klart.",
        "da": "Det her tager lidt længere tid end normalt. Svaret kommer her, så snart det er klar.",
    },
    # A turn a stopped gateway left unanswered, too old to answer now (bot/web/recovery.py).
    "turn_lost": {
        "nb": "Beklager, vi hadde tekniske problemer og fikk ikke svart på det du skrev. Spør gjerne igjen.",
        "en": "Sorry, we had technical problems and couldn't answer what you wrote. Please ask again.",
        "sv": "Förlåt, vi hade tekniska problem och kunde inte svara på det du skrev. Fråga gärna igen.",
        "da": "Beklager, vi havde tekniske problemer og kunne ikke svare på det, du skrev. Spørg gerne igen.",
    },
    "too_long": {
        "nb": "Meldingen er for lang. Kan du korte den ned til {limit} tegn?",
        "en": "That message is too long. Could you keep it under {limit} characters?",
        "sv": "Meddelandet är för långt. Kan du korta ner det till {limit} tecken?",
        "da": "Beskeden er for lang. Kan du skære den ned til {limit} tegn?",
    },
    "rate_limited": {
        "nb": "Du sender mange meldinger på kort tid. Vent litt, så svarer jeg.",
        "en": "You're sending a lot of messages in a short time. Please wait a moment.",
        "sv": "Du skickar många meddelanden på kort tid. Vänta lite, så svarar jag.",
        "da": "Du sender mange beskeder på kort tid. Vent lidt, så svarer jeg.",
    },
    # Too many new chats or open chat windows from one address (bot/web/limits.py), or a widget that
    # keeps starting over on one connection.
    "busy_address": {
        "nb": "Det kommer veldig mye trafikk fra nettverket ditt akkurat nå. Prøv igjen om {seconds} sekunder.",
        "en": "There's a lot of traffic from your network right now. Please try again in {seconds} seconds.",
        "sv": "Det kommer väldigt mycket trafik från ditt nätverk just nu. Försök igen om {seconds} sekunder.",
        "da": "Der kommer meget trafik fra dit netværk lige nu. Prøv igen om {seconds} sekunder.",
    },
    "bad_frame": {
        "nb": "Beklager, den meldingen forsto jeg ikke. Prøv å laste inn siden på nytt.",
        "en": "Sorry, I couldn't read that message. Try reloading the page.",
        "sv": "Förlåt, det meddelandet kunde jag inte läsa. Prova att ladda om sidan.",
        "da": "Beklager, den besked kunne jeg ikke læse. Prøv at genindlæse siden.",
    },
    "empty": {
        "nb": "Meldingen var tom.",
        "en": "That message was empty.",
        "sv": "Meddelandet var tomt.",
        "da": "Beskeden var tom.",
    },
    "bad_origin": {
        "nb": "Chatten kan ikke brukes fra denne siden.",
        "en": "The chat can't be used from this page.",
        "sv": "Chatten kan inte användas från den här sidan.",
        "da": "Chatten kan ikke bruges fra denne side.",
    },
    # A person and the bot taking turns (bot/console/desk.py).
    "agent_joined": {
        "nb": "{agent} fra kundeservice har kommet inn i chatten.",
        "en": "{agent} from customer service has joined the chat.",
        "sv": "{agent} från kundtjänst är nu med i chatten.",
        "da": "{agent} fra kundeservice er nu med i chatten.",
    },
    "agent_handed_back": {
        "nb": "{agent} har gitt chatten tilbake til assistenten. Spør gjerne om noe mer.",
        "en": "{agent} has handed the chat back to the assistant. Just ask if there's anything else.",
        "sv": "{agent} har lämnat tillbaka chatten till assistenten. Fråga gärna om det är något mer.",
        "da": "{agent} har givet chatten tilbage til assistenten. Spørg endelig, hvis der er mere.",
    },
    # The agent's console has been closed for a while (bot/console/desk.py, take_back_from_absent_agents).
    "agent_left_queued": {
        "nb": "{agent} måtte dessverre gå fra chatten. Du er tilbake i køen som nummer {place}, "
        "og neste ledige i kundeservice tar over.",
        "en": "{agent} had to leave the chat, sorry. You're back in the queue at number {place}, "
        "and the next person free in customer service will take over.",
        "sv": "{agent} var tyvärr tvungen att lämna chatten. Du står i kön igen som nummer {place}, "
        "och nästa lediga person på kundtjänst tar över.",
        "da": "{agent} måtte desværre forlade chatten. Du er tilbage i køen som nummer {place}, "
        "og den næste ledige i kundeservice tager over.",
    },
    "agent_left_bot": {
        "nb": "{agent} måtte dessverre gå fra chatten, og ingen andre i kundeservice kan ta over akkurat nå. "
        "Assistenten hjelper deg videre; skriv «snakke med et menneske» hvis du vil legge igjen en melding.",
        "en": "{agent} had to leave the chat, sorry, and no one else in customer service can take over right now. "
        'The assistant is back; write "talk to a person" if you\'d like to leave a message.',
        "sv": "{agent} var tyvärr tvungen att lämna chatten, och ingen annan på kundtjänst kan ta över just nu. "
        "Assistenten hjälper dig vidare; skriv ”prata med en människa” om du vill lämna ett meddelande.",
        "da": "{agent} måtte desværre forlade chatten, og ingen andre i kundeservice kan tage over lige nu. "
        "Assistenten hjælper dig videre; skriv »tal med et menneske«, hvis du vil efterlade en besked.",
    },
    "agent_closed": {
        "nb": "{agent} har avsluttet chatten. Takk for at du tok kontakt!",
        "en": "{agent} has closed the chat. Thank you for getting in touch!",
        "sv": "{agent} har avslutat chatten. Tack för att du hörde av dig!",
        "da": "{agent} har afsluttet chatten. Tak, fordi du kontaktede os!",
    },
}


def text(key: str, language: str | None, **values: object) -> str:
    return TEXTS[key][lang(language)].format(**values)
