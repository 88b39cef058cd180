"""`python -m bot inbox ...`: the trainer inbox on the command line.

inbox list [--language nb] [--reason fallback] [--since 2026-11-01] [--json]
inbox assign ID INTENT [--by NAME]     teach the group of message ID an intent ("ignore" to drop it)
"""

from __future__ import annotations

import argparse
import getpass
import json
from datetime import datetime, timezone
from typing import Any

from bot.i18n import SUPPORTED_LANGUAGES


def add_commands(commands: Any) -> None:
    inbox = commands.add_parser("inbox", help="customer messages that went wrong, masked and grouped")
    inbox_commands = inbox.add_subparsers(dest="inbox_command", required=True)
    listing = inbox_commands.add_parser("list", help="the inbox, newest and most frequent first")
    listing.add_argument("--language", choices=SUPPORTED_LANGUAGES)
    from bot.training.inbox import REASONS

    listing.add_argument("--reason", choices=REASONS)
    listing.add_argument("--since", help="only messages from this day on (YYYY-MM-DD)")
    listing.add_argument("--json", action="store_true")
    assign = inbox_commands.add_parser("assign", help="teach a group an intent (one new NLU example), or ignore it")
    assign.add_argument("id", type=int, help="the group's id (any of its message ids) from `inbox list`")
    assign.add_argument("intent", help='an intent from domain.yml, or "ignore"')
    assign.add_argument("--by", default=None, help="who decides (default: the login name)")


def _day(text: str | None) -> datetime | None:
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc) if text else None


def run(args: argparse.Namespace) -> int:
    from bot.store.db import create_schema, session_scope
    from bot.training.inbox import InboxFilter, inbox_groups
    from bot.training.nlu_files import ExampleRejected
    from bot.training.teaching import assign, training_workspace

    workspace = training_workspace()
    create_schema(workspace.database_url)
    if args.inbox_command == "list":
        filters = InboxFilter(language=args.language, reason=args.reason, since=_day(args.since))
        with session_scope(workspace.database_url) as session:
            groups = inbox_groups(session, filters)
        if args.json:
            rows = [
                {"id": g.id, "language": g.language, "text": g.text, "count": g.count, "reasons": list(g.reasons),
                 "newest": g.newest.created_at.isoformat(), "intent": g.newest.intent,
                 "confidence": g.newest.confidence}
                for g in groups
            ]  # fmt: skip
            print(json.dumps(rows, indent=2, ensure_ascii=False))
            return 0
        if not groups:
            print("The inbox is empty.")
        for g in groups:
            guess = f"{g.newest.intent} {g.newest.confidence:.2f}" if g.newest.confidence is not None else "-"
            print(f"{g.id:>6}  {g.language}  x{g.count:<3} {g.newest.created_at:%Y-%m-%d %H:%M}  "
                  f"{','.join(g.reasons):<28} {guess:<24} {g.text}")  # fmt: skip
        return 0
    try:
        group, added = assign(args.id, args.intent, args.by or getpass.getuser(), workspace)
    except ExampleRejected as error:
        print(f"Refused: {error}")
        return 1
    if added:
        print(f"Added to {added.path.relative_to(workspace.root)} line {added.line_number}: {added.text}")
    else:
        print(f"Ignored {group.count} message(s).")
    return 0
