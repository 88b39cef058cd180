"""`python -m bot privacy ...`: a customer's copy of their data, erasure, and the chat's time limit.

What each covers is in bot/services/privacy.py. Erasure and the time limit print what they removed,
table by table, so the operator can answer the customer (and keep that answer as the record).
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from typing import Any


def add_commands(commands: Any) -> None:
    privacy = commands.add_parser("privacy", help="GDPR: export or erase a customer's chat data; the time limit")
    privacy_commands = privacy.add_subparsers(dest="privacy_command", required=True)
    export = privacy_commands.add_parser("export", help="everything stored about a signed-in customer, as JSON")
    export.add_argument("customer_id")
    erase = privacy_commands.add_parser("erase", help="erase a customer's chats (or one guest conversation)")
    who = erase.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", help="a signed-in customer's id, e.g. C-1001: all their conversations")
    who.add_argument("--conversation", help="one conversation's id (a guest's, from the console)")
    purge = privacy_commands.add_parser("purge", help="erase conversations untouched for DAYS days")
    purge.add_argument("--days", type=int, required=True, help="the time limit, e.g. 365")


def run(args: argparse.Namespace) -> int:
    from bot.services import privacy
    from bot.settings import get_settings
    from bot.store.conversations import Conversation
    from bot.store.db import create_schema, session_scope
    from bot.store.models import utcnow

    settings = get_settings()
    create_schema()
    if args.privacy_command == "export":
        with session_scope() as session:
            data = privacy.export_customer(session, args.customer_id)
        if data is None:
            print(f"refused: no customer {args.customer_id!r}", file=sys.stderr)
            return 1
        json.dump(data, sys.stdout, ensure_ascii=False, indent=2, default=str)
        print()
        return 0
    if args.privacy_command == "purge" and args.days < 1:
        print("refused: the time limit is at least one day", file=sys.stderr)
        return 1
    with session_scope() as session:
        if args.privacy_command == "purge":
            ids = privacy.expired_conversations(session, utcnow() - timedelta(days=args.days))
        elif args.customer:
            ids = privacy.conversations_of(session, args.customer)
        else:
            ids = [args.conversation] if session.get(Conversation, args.conversation) else []
        erased = privacy.erase_conversations(session, ids)
    erased.tracker_events = privacy.erase_tracker_events(settings.tracker_database_url, ids)
    rows = ", ".join(f"{table} {count}" for table, count in erased.rows.items()) or "nothing else"
    print(f"erased {erased.conversations} conversation(s): {rows}; Rasa tracker events {erased.tracker_events}")
    return 0
