"""Every setting of Varde in one place: environment variables, demo defaults, production checks.

Each setting is read from an environment variable of the same name. The demo defaults let a
developer start the service with no configuration at all; a production start (BOT_ENV=production)
refuses to run while any secret still has its demo value. BOT_ENV is development or production, nothing
else: a misspelt "prod" would otherwise run a public service as development.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHOP_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "shop.yml"

# Demo-only secrets: documented in README, refused by a production start.
DEMO_IDENTITY_SECRET = "varde-demo-identity-secret-not-for-production"
DEMO_RASA_JWT_SECRET = "varde-demo-rasa-api-secret-not-for-production"
DEMO_SESSION_SECRET = "varde-demo-session-secret-not-for-production"


ENVIRONMENTS = ("development", "production")
MIN_SECRET_LENGTH = 32


class SettingsError(RuntimeError):
    """A setting is missing or unsafe for the environment it runs in."""


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


def _env_int(name: str, default: int) -> int:
    value = _env(name, str(default))
    try:
        return int(value)
    except ValueError as error:
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from error


def _env_float(name: str, default: float) -> float:
    value = _env(name, str(default))
    try:
        return float(value)
    except ValueError as error:
        raise SettingsError(f"{name} must be a number, not {value!r}") from error


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(item.strip().rstrip("/") for item in _env(name, "").split(",") if item.strip())


def _default_database_url() -> str:
    return f"sqlite:///{PROJECT_ROOT / 'var' / 'varde.db'}"


@dataclass(frozen=True)
class Settings:
    env: str = field(default_factory=lambda: _env("BOT_ENV", "development"))
    # Any SQLAlchemy URL; SQLite by default.
    database_url: str = field(default_factory=lambda: _env("BOT_DATABASE_URL", _default_database_url()))
    # Rasa's tracker store; same style, defaults to the shop database.
    tracker_database_url: str = field(
        default_factory=lambda: _env("BOT_TRACKER_DATABASE_URL", _env("BOT_DATABASE_URL", _default_database_url()))
    )
    identity_secret: str = field(default_factory=lambda: _env("BOT_IDENTITY_SECRET", DEMO_IDENTITY_SECRET))
    # A customer token must name who signed it (`iss`: the shop's site) and whom it is for (`aud`: this
    # chat), and live no longer than the cap from `iat` to `exp`: a token copied from a log or a page is
    # worthless to another service and soon worthless here (bot/identity.py).
    customer_token_issuer: str = field(default_factory=lambda: _env("BOT_CUSTOMER_TOKEN_ISSUER", "varde-shop"))
    customer_token_audience: str = field(
        default_factory=lambda: _env("BOT_CUSTOMER_TOKEN_AUDIENCE", "varde-support-chat")
    )
    customer_token_max_lifetime_seconds: int = field(
        default_factory=lambda: _env_int("BOT_CUSTOMER_TOKEN_MAX_LIFETIME_SECONDS", 24 * 3600)
    )
    rasa_jwt_secret: str = field(default_factory=lambda: _env("BOT_RASA_JWT_SECRET", DEMO_RASA_JWT_SECRET))
    session_secret: str = field(default_factory=lambda: _env("BOT_SESSION_SECRET", DEMO_SESSION_SECRET))
    rasa_url: str = field(default_factory=lambda: _env("BOT_RASA_URL", "http://127.0.0.1:5005"))
    action_server_url: str = field(default_factory=lambda: _env("BOT_ACTION_SERVER_URL", "http://127.0.0.1:5055"))
    default_language: str = field(default_factory=lambda: _env("BOT_DEFAULT_LANGUAGE", "nb"))
    shop_fixture: Path = field(default_factory=lambda: Path(_env("BOT_SHOP_FIXTURE", str(SHOP_FIXTURE))))
    # The gateway: the only service the browser talks to.
    gateway_host: str = field(default_factory=lambda: _env("BOT_GATEWAY_HOST", "127.0.0.1"))
    gateway_port: int = field(default_factory=lambda: _env_int("BOT_GATEWAY_PORT", 8000))
    # Pages (scheme://host[:port], comma-separated) whose widget may open the socket, besides the
    # gateway's own origin (the demo page).
    allowed_origins: tuple[str, ...] = field(default_factory=lambda: _env_list("BOT_ALLOWED_ORIGINS"))
    max_message_chars: int = field(default_factory=lambda: _env_int("BOT_MAX_MESSAGE_CHARS", 2000))
    max_messages_per_minute: int = field(default_factory=lambda: _env_int("BOT_MAX_MESSAGES_PER_MINUTE", 20))
    # Limits per widget socket and per client address (the address as BOT_TRUSTED_PROXIES finds it),
    # shared by every gateway process through Redis when BOT_BROKER_URL is set (bot/web/limits.py).
    # Generous for many customers behind one address (an office, a mobile network); over one, the widget
    # is told politely when to try again.
    max_hellos_per_socket: int = field(default_factory=lambda: _env_int("BOT_MAX_HELLOS_PER_SOCKET", 10))  # a minute
    max_new_conversations_per_address: int = field(
        default_factory=lambda: _env_int("BOT_MAX_NEW_CONVERSATIONS_PER_ADDRESS", 20)  # a minute
    )
    max_messages_per_address: int = field(
        default_factory=lambda: _env_int("BOT_MAX_MESSAGES_PER_ADDRESS", 120)  # a minute
    )
    max_sockets_per_address: int = field(default_factory=lambda: _env_int("BOT_MAX_SOCKETS_PER_ADDRESS", 50))  # open
    # An agent whose console has been closed this long loses the conversations they hold: back to the
    # queue (or to the bot when no one can take over). Well above the 2-minute presence window, so a
    # reload or a short network drop never takes a chat away.
    agent_gone_seconds: float = field(default_factory=lambda: _env_float("BOT_AGENT_GONE_SECONDS", 300.0))
    # Addresses of reverse proxies in front of the gateway (comma-separated IPs): for a request from one
    # of them, the client is the last address in X-Forwarded-For that is not a proxy. Empty: the peer.
    trusted_proxies: tuple[str, ...] = field(default_factory=lambda: _env_list("BOT_TRUSTED_PROXIES"))
    # The console's brake on password guessing (bot/services/login_guard.py): this many failed log-ins
    # for a username within the window lock it until the oldest of them is older than the window.
    login_max_failures: int = field(default_factory=lambda: _env_int("BOT_LOGIN_MAX_FAILURES", 5))
    login_window_seconds: float = field(default_factory=lambda: _env_float("BOT_LOGIN_WINDOW_SECONDS", 900.0))
    # 2 000 characters fit in 16 KiB even when every one is a JSON escape (6 bytes) or a 4-byte emoji.
    max_frame_bytes: int = field(default_factory=lambda: _env_int("BOT_MAX_FRAME_BYTES", 16 * 1024))
    # How long Rasa may take over one turn before the customer is told something is wrong; the
    # protocol promises an answer within 10 s.
    rasa_timeout: float = field(default_factory=lambda: _env_float("BOT_RASA_TIMEOUT", 8.0))
    # After BOT_RASA_TIMEOUT the customer is told it is taking longer, and the gateway keeps waiting this
    # long in all for Rasa's answer, which it then delivers: by then Rasa's state has moved on (a ticket
    # may exist). Past it the turn failed. Rasa's own calls to the action server can take minutes.
    rasa_late_answer_seconds: float = field(default_factory=lambda: _env_float("BOT_RASA_LATE_ANSWER_SECONDS", 60.0))
    # How long the gateway keeps a customer's message, or Rasa's replies, in memory while the database
    # is down, retrying with backoff, before it tells the customer it failed (bot/web/retrying.py).
    database_retry_seconds: float = field(default_factory=lambda: _env_float("BOT_DATABASE_RETRY_SECONDS", 60.0))
    # A turn left unanswered by a gateway that stopped is sent to Rasa again at start-up when it is
    # younger than this; an older one gets a plain "sorry, ask again": after five minutes the customer has
    # likely moved on, and an answer out of the blue to a question they have stopped waiting for confuses.
    turn_redrive_max_age_seconds: float = field(
        default_factory=lambda: _env_float("BOT_TURN_REDRIVE_MAX_AGE_SECONDS", 300.0)
    )
    # On SIGTERM the gateway takes no new turns and finishes the ones in flight within this many seconds,
    # then exits: under the supervisor's 20 s before SIGKILL (bot/processes.py).
    shutdown_grace_seconds: float = field(default_factory=lambda: _env_float("BOT_SHUTDOWN_GRACE_SECONDS", 15.0))
    # Rasa starts a new session (slots carried over) once a session holds this many customer messages, at
    # the next moment nothing is pending: no form, no buttons, no misunderstanding being counted
    # (bot/session_rollover.py). Rasa rebuilds the whole session's tracker on every turn; 0 turns it off.
    session_max_turns: int = field(default_factory=lambda: _env_int("BOT_SESSION_MAX_TURNS", 50))
    # Trainers: customer turns NLU understood with less confidence than this go to the inbox.
    inbox_low_confidence: float = field(default_factory=lambda: _env_float("BOT_INBOX_LOW_CONFIDENCE", 0.5))
    # Where trainers' examples and candidate models go (tests point it at a copy of the training files),
    # and Rasa's training cache (None: Rasa's default, .rasa/cache under that root).
    training_root: Path = field(default_factory=lambda: Path(_env("BOT_TRAINING_ROOT", str(PROJECT_ROOT))))
    training_cache: str = field(default_factory=lambda: _env("BOT_TRAINING_CACHE", ""))
    # Keep one training process ready, Rasa and TensorFlow imported (~0.5 GB while it waits), so a
    # trainer's retrain starts at once (bot/training/warm_runner.py). "0" turns it off.
    training_warm_runner: bool = field(
        default_factory=lambda: _env("BOT_TRAINING_WARM_RUNNER", "1").lower() not in ("0", "false", "no", "off")
    )
    # Where gateway processes tell each other about conversations and the agents' queue: empty for one
    # process (in-process delivery), or a Redis URL such as redis://127.0.0.1:6379/0 for several.
    broker_url: str = field(default_factory=lambda: _env("BOT_BROKER_URL", ""))
    # Prometheus scrapes /metrics with `Authorization: Bearer <this>`; empty: only from this machine itself.
    metrics_token: str = field(default_factory=lambda: _env("BOT_METRICS_TOKEN", ""))
    # The scaled stack (`python -m bot up --rasa N`): Rasa's event broker, RabbitMQ (amqp://user:password@host:port)
    # and the queue its events go to. `make run` has none.
    event_broker_url: str = field(
        default_factory=lambda: _env("BOT_EVENT_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672")
    )
    event_queue: str = field(default_factory=lambda: _env("BOT_EVENT_QUEUE", "varde_events"))
    # Development and tests only: the moment (ISO 8601 with offset) customer-service hours are judged
    # by, e.g. 2030-01-08T11:00:00+01:00. The gateway passes it with each turn; production refuses it.
    clock: str = field(default_factory=lambda: _env("BOT_CLOCK", ""))
    # Development only: POST /demo/token signs a token for any customer id (the demo page's switcher).
    # Off unless "1"; `make run` turns it on; the gateway refuses it on a bind beyond loopback, and
    # production never serves it (bot/gateway/app.py: check_bind).
    demo_tokens: bool = field(
        default_factory=lambda: _env("BOT_DEMO_TOKENS", "0").lower() in ("1", "true", "yes", "on")
    )
    # Rasa's unauthenticated `rest:` channel: a production start refuses a credentials.yml that has it
    # unless this is "1" (Rasa reads credentials.yml in the project root, where `python -m bot rasa` runs).
    allow_rest_channel: bool = field(
        default_factory=lambda: _env("BOT_ALLOW_REST_CHANNEL", "0").lower() in ("1", "true", "yes", "on")
    )
    rasa_credentials: Path = field(default_factory=lambda: PROJECT_ROOT / "credentials.yml")

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"BOT_ENV must be {' or '.join(ENVIRONMENTS)}, not {self.env!r}")

    @property
    def gateway_url(self) -> str:
        return f"http://{self.gateway_host}:{self.gateway_port}"

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def _secrets(self) -> dict[str, tuple[str, str]]:
        """Each secret's setting: its value and its demo value."""
        return {
            "BOT_IDENTITY_SECRET": (self.identity_secret, DEMO_IDENTITY_SECRET),
            "BOT_RASA_JWT_SECRET": (self.rasa_jwt_secret, DEMO_RASA_JWT_SECRET),
            "BOT_SESSION_SECRET": (self.session_secret, DEMO_SESSION_SECRET),
        }

    def demo_secrets(self) -> list[str]:
        """The secrets that still have their demo values (public in README)."""
        return [name for name, (secret, demo) in self._secrets().items() if secret == demo]

    def check_production(self) -> None:
        """Refuse to run in production with a demo secret, a short one, or one secret used for two purposes."""
        if not self.is_production:
            return
        problems = [f"{name} still has its demo value" for name in self.demo_secrets()]
        for name, (secret, demo) in self._secrets().items():
            if secret != demo and len(secret) < MIN_SECRET_LENGTH:
                problems.append(f"{name} must be at least {MIN_SECRET_LENGTH} characters")
        values = [secret for secret, _demo in self._secrets().values()]
        if len(set(values)) < len(values):
            problems.append(
                "BOT_IDENTITY_SECRET, BOT_RASA_JWT_SECRET and BOT_SESSION_SECRET must differ (one leaked would "
                "give away the others)"
            )
        if self.metrics_token and len(self.metrics_token) < MIN_SECRET_LENGTH:
            problems.append(f"BOT_METRICS_TOKEN must be at least {MIN_SECRET_LENGTH} characters (or empty)")
        if self.clock:
            problems.append("BOT_CLOCK is for development and tests only")
        rest = unauthenticated_channels(self.rasa_credentials)
        if rest and not self.allow_rest_channel:
            problems.append(
                f"{self.rasa_credentials.name} turns on Rasa's unauthenticated channel(s) {', '.join(rest)}, which "
                "let anyone who reaches Rasa talk as any sender: remove them, or set BOT_ALLOW_REST_CHANNEL=1"
            )
        if problems:
            raise SettingsError("Refusing a production start: " + "; ".join(problems))


def unauthenticated_channels(credentials: Path) -> list[str]:
    """The channels in a Rasa credentials.yml that take messages with no authentication at all: Rasa's
    `rest` and `callback` (RestInput, CallbackInput), by short name or class path."""
    import yaml

    try:
        channels = yaml.safe_load(credentials.read_text()) or {}
    except FileNotFoundError:
        return []
    if not isinstance(channels, dict):
        raise SettingsError(f"{credentials} is not a mapping of channels")
    return [
        str(name)
        for name in channels
        if str(name) in ("rest", "callback") or str(name).endswith((".RestInput", ".CallbackInput"))
    ]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
