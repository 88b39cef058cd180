"""`python -m bot staff ...`: the console's users. Passwords are typed at a prompt, or piped on stdin
by a script, never given as an argument (arguments show in the process list)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bot.store.staff import ROLES


def add_commands(commands: Any) -> None:
    staff = commands.add_parser("staff", help="console users: list, add, set a password, sign out everywhere")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    staff_commands.add_parser("list", help="every staff user: role, availability, last seen")
    add = staff_commands.add_parser("add", help="a new agent or trainer (asks for the password)")
    add.add_argument("username")
    add.add_argument("--name", required=True, help="shown to customers, e.g. Anne")
    add.add_argument("--role", required=True, choices=ROLES)
    password = staff_commands.add_parser("password", help="set a new password (ends the user's sessions)")
    password.add_argument("username")
    sign_out = staff_commands.add_parser("sign-out", help="end every console session of this user")
    sign_out.add_argument("username")


def read_password() -> str:
    """Twice at a prompt; one line from stdin when it is not a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def close_open_consoles(username: str) -> str:
    """Tell every gateway process to close this user's open console sockets now (the hub's "logout"
    event, over the broker); what happened, for the operator. Without a broker the sockets close at
    their next session check (bot/console/socket.py, every SESSION_CHECK_SECONDS)."""
    from bot.console.hub import logout_event
    from bot.console.socket import SESSION_CHECK_SECONDS
    from bot.settings import get_settings
    from bot.web.broker import CONSOLE, publish_from_outside

    heard = publish_from_outside(get_settings().broker_url, CONSOLE, logout_event(username))
    if heard:
        return f"open consoles closed now ({heard} gateway process(es) told)"
    return f"open consoles close within {SESSION_CHECK_SECONDS:.0f} s (no gateway heard it over BOT_BROKER_URL)"


def run(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from bot.services.staff import add_staff_user, set_password, sign_out_everywhere
    from bot.store.db import create_schema, session_scope
    from bot.store.staff import StaffUser

    create_schema()
    try:
        if args.staff_command == "list":
            with session_scope() as session:
                for user in session.scalars(select(StaffUser).order_by(StaffUser.role, StaffUser.username)):
                    seen = user.last_seen_at.strftime("%Y-%m-%d %H:%M") if user.last_seen_at else "never"
                    print(f"{user.username:<24} {user.role:<8} {user.name:<24} {user.availability:<10} seen {seen}")
        elif args.staff_command == "add":
            password = read_password()
            with session_scope() as session:
                add_staff_user(session, args.username, args.name, args.role, password)
            print(f"added {args.role} {args.username}")
        elif args.staff_command == "password":
            password = read_password()
            with session_scope() as session:
                set_password(session, args.username, password)
            print(f"new password for {args.username}; their console sessions have ended")
            print(close_open_consoles(args.username))
        elif args.staff_command == "sign-out":
            with session_scope() as session:
                if not sign_out_everywhere(session, args.username):
                    raise LookupError(f"no staff user {args.username!r}")
            print(f"every console session of {args.username} has ended")
            print(close_open_consoles(args.username))
    except (ValueError, LookupError) as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 1
    return 0
