"""`python -m bot privacy ...`: a customer's copy of their data, erasure, and the chat's time limit.

What each covers is in bot/services/privacy.py. Erasure and the time limit print what they removed,
table by table, so the operator can answer the customer (and keep that answer as the record).

Erasure also takes out of data/nlu every NLU example a trainer taught from those conversations, and says
which models still know them until the next training (bot/training/unteaching.py).

A request by e-mail (`--email`) finds the most: the signed-in customer with that address and every guest
chat and ticket that carries it. `--customer` covers a signed-in customer's chats only, `--conversation`
one conversation.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.services.privacy import EmailMatches


def _email(value: str) -> str:
    from bot.services.privacy import normalise_email

    email = normalise_email(value)
    if email is None:
        raise argparse.ArgumentTypeError(f"not an e-mail address: {value!r}")
    return email


def add_commands(commands: Any) -> None:
    privacy = commands.add_parser("privacy", help="GDPR: export or erase a customer's chat data; the time limit")
    privacy_commands = privacy.add_subparsers(dest="privacy_command", required=True)
    export = privacy_commands.add_parser("export", help="everything stored about a customer, as JSON")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("customer_id", nargs="?", help="a signed-in customer's id, e.g. C-1001")
    which.add_argument("--customer", dest="customer_option", metavar="ID", help="the same, as an option")
    which.add_argument(
        "--email", type=_email, help="an address: the customer who has it, and guest chats and tickets carrying it"
    )
    erase = privacy_commands.add_parser("erase", help="erase a customer's chats (or one guest conversation)")
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", help="a signed-in customer's id, e.g. C-1001: all their conversations")
    who.add_argument(
        "--email", type=_email, help="an address: that customer's chats and every guest chat and ticket carrying it"
    )
    who.add_argument("--conversation", help="one conversation's id (a guest's, from the console)")
    purge = privacy_commands.add_parser("purge", help="erase conversations untouched for DAYS days")
    purge.add_argument("--days", type=int, required=True, help="the time limit, e.g. 365")


def run(args: argparse.Namespace) -> int:
    from bot.services import privacy
    from bot.settings import get_settings
    from bot.store.db import create_schema, session_scope
    from bot.store.models import utcnow
    from bot.training.teaching import training_workspace
    from bot.training.unteaching import erase_taught_examples

    settings = get_settings()
    create_schema()
    if args.privacy_command == "export":
        with session_scope() as session:
            if args.email:
                matches = privacy.find_by_email(session, args.email, settings.tracker_database_url)
                data = privacy.export_by_email(session, matches)
            else:
                data = privacy.export_customer(session, args.customer_id or args.customer_option)
        if data is None:
            if args.email:
                print(f"refused: nothing stored under {args.email!r}", file=sys.stderr)
            else:
                print(f"refused: no customer {args.customer_id or args.customer_option!r}", file=sys.stderr)
            return 1
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
        return 0
    if args.privacy_command == "purge" and args.days < 1:
        print("refused: the time limit is at least one day", file=sys.stderr)
        return 1
    unlearned = None
    with session_scope() as session:
        if args.privacy_command == "purge":
            ids = privacy.expired_conversations(session, utcnow() - timedelta(days=args.days))
        elif args.customer:
            ids = privacy.conversations_of(session, args.customer)
        elif args.email:
            matches = privacy.find_by_email(session, args.email, settings.tracker_database_url)
            ids = matches.conversation_ids
            _tell_about(matches)
        else:
            ids = [args.conversation]  # also when only Rasa's tracker store still has it
        if args.privacy_command == "erase":  # lines taught from them leave data/nlu, in this transaction
            unlearned = erase_taught_examples(session, ids, training_workspace(settings))
        erased = privacy.erase_conversations(session, ids)
    erased.tracker_events = privacy.erase_tracker_events(settings.tracker_database_url, ids)
    rows = ", ".join(f"{table} {count}" for table, count in erased.rows.items()) or "nothing else"
    print(f"erased {erased.conversations} conversation(s): {rows}; Rasa tracker events {erased.tracker_events}")
    if unlearned is not None:
        print(unlearned.summary())
    return 0


def _tell_about(matches: EmailMatches) -> None:
    """What an address led to, before the erasure's own line: the operator answers the customer with it."""
    customers = ", ".join(matches.customer_ids) or "none"
    guests = len(matches.guest_conversations)
    print(f"{matches.email}: signed-in customer(s) {customers}; {guests} guest conversation(s)")
    if matches.others_mentioning:
        print(
            f"left alone: {len(matches.others_mentioning)} conversation(s) of other signed-in customers mention "
            "this address (theirs; erase one with --conversation ID if it is the customer's after all): "
            + ", ".join(matches.others_mentioning)
        )
