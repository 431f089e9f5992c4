"""The one typed settings object, read from environment variables and validated at start.

Every setting the platform reads lives here. Nothing else in the code base reads
``os.environ`` for configuration: code receives a :class:`Settings` instance.
``load_settings()`` collects *every* problem before failing, so an operator sees the
whole list at once instead of fixing them one restart at a time.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, Mapping

#: The repository root (the directory holding ``pyproject.toml``); embedded defaults live below it.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

Environment = Literal["development", "test", "production"]
_ENVIRONMENTS = ("development", "test", "production")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class SettingsError(RuntimeError):
    """Raised when the environment does not describe a runnable platform."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(
            "Sendbridge cannot start because of its settings:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )


@dataclass(frozen=True)
class Settings:
    """Validated platform settings. Build with :func:`load_settings`, never by hand in app code."""

    #: ``development`` (the embedded default), ``test`` or ``production``.
    env: Environment = "development"
    #: Signs sessions, CSRF tokens and API access tokens, and derives the runtime database password.
    secret_key: str = ""
    #: A plain ``postgresql://user[:pw]@host:port/db`` or ``sqlite:///path`` URL.
    database_url: str = ""
    #: ``redis://...``; ``None`` runs jobs in-process and keeps rate limits in memory.
    redis_url: str | None = None
    #: Demo mode shows the demo sign-in (pick a seeded user). Refused in production.
    demo_mode: bool = False
    #: Tenants are served at ``<slug>.<base_domain>`` as well as at ``/t/<slug>/``.
    base_domain: str = "localhost"
    #: Working files of the embedded default: SQLite database, documents, generated keys.
    var_dir: Path = PROJECT_ROOT / "var"
    #: The built GOV.UK Frontend package (``node_modules/govuk-frontend/dist/govuk``).
    frontend_dist: Path = PROJECT_ROOT / "node_modules" / "govuk-frontend" / "dist" / "govuk"
    #: Sign-in sessions end after this much inactivity (minutes) ...
    session_idle_minutes: int = 30
    #: ... and this long after sign-in whatever happens (hours).
    session_absolute_hours: int = 12
    #: Lifetime of OAuth2 client-credentials access tokens (seconds). Short by design.
    api_token_seconds: int = 900
    #: How many reverse proxies set ``X-Forwarded-*`` in front of the app (0 = trust none).
    proxy_count: int = 0
    log_level: str = "INFO"
    #: When the daily scheduler sends deadline reminders (HH:MM, Europe/London).
    reminders_at: str = "06:30"
    #: Where e-mail goes: ``file:///path`` (a folder of .eml files: development, tests, the demo)
    #: or ``smtp://`` / ``smtps://`` ``[user:password@]host:port`` (production; STARTTLS on smtp).
    #: GOV.UK Notify replaces SMTP with the notifications plugin (issue #5).
    mail_url: str = ""
    #: The From: of e-mail the platform sends.
    mail_from: str = "SEND services <no-reply@sendbridge.invalid>"
    #: Boot with no plugins at all (STYLE.md section 4).
    safe_mode: bool = False
    #: Which installed plugins (entry-point group ``sendbridge.plugins``) to load: ``None``
    #: loads every one installed; a tuple loads only those named (``PLUGINS=ctf,notify``;
    #: tests load an explicit list). Each council then enables its own.
    plugins: tuple[str, ...] | None = None
    #: Platform operators sign in through this OpenID Connect provider (all three or none):
    #: its issuer, and the client id and secret it issued to the platform (web/ui/sso.py).
    operator_oidc_issuer: str | None = None
    operator_oidc_client_id: str | None = None
    operator_oidc_client_secret: str | None = None
    #: Where document bytes live (issue #5): ``None`` keeps them under ``var_dir/documents``
    #: (development, tests, the demo); a bucket name (``S3_BUCKET``) stores them in S3,
    #: encrypted with SSE-KMS under ``s3_kms_key_id``. Production requires S3 and the key.
    s3_bucket: str | None = None
    #: The KMS key (id, ARN or ``alias/...``) every document object is encrypted with.
    s3_kms_key_id: str | None = None
    #: An S3-compatible endpoint instead of AWS's (``https://...``; ``http://127.0.0.1`` outside production).
    s3_endpoint_url: str | None = None
    s3_region: str = "eu-west-2"
    #: Path-style addressing (``endpoint/bucket/key``), for S3-compatible endpoints without bucket DNS.
    s3_path_style: bool = False
    #: Free-form note of where each value came from, for ``flask --app wsgi settings``.
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def uses_postgresql(self) -> bool:
        return self.database_url.startswith(("postgresql:", "postgres:", "postgresql+"))

    def describe(self) -> dict[str, str]:
        """The settings with secrets masked, for diagnostics. Never log the real values."""
        out: dict[str, str] = {}
        for f in fields(self):
            if f.name == "sources":
                continue
            value = getattr(self, f.name)
            if f.name in ("secret_key", "operator_oidc_client_secret"):
                value = "(set)" if value else "(missing)"
            elif f.name in ("database_url", "redis_url", "mail_url") and value:
                value = _mask_password(str(value))
            out[f.name] = str(value)
        return out


def _mask_password(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    if ":" in creds:
        creds = creds.split(":", 1)[0] + ":***"
    return f"{scheme}://{creds}@{host}"


def _parse_bool(name: str, raw: str, problems: list[str]) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    problems.append(f"{name} must be one of 1/0, true/false, yes/no, on/off (got {raw!r})")
    return False


def _parse_int(name: str, raw: str, lo: int, hi: int, problems: list[str]) -> int | None:
    try:
        value = int(raw)
    except ValueError:
        problems.append(f"{name} must be a whole number (got {raw!r})")
        return None
    if not lo <= value <= hi:
        problems.append(f"{name} must be between {lo} and {hi} (got {value})")
        return None
    return value


def _dev_secret_key(var_dir: Path) -> str:
    """A per-checkout random key kept in ``var/``, so demo sessions survive restarts.

    Only ever used outside production; production must be given ``SECRET_KEY``.
    """
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read and validate settings from ``environ`` (default ``os.environ``).

    ``overrides`` (keyword names of :class:`Settings` fields) win over the environment; tests
    and the app factory use them. Raises :class:`SettingsError` listing every problem.
    """
    env_map = dict(os.environ if environ is None else environ)
    problems: list[str] = []
    values: dict[str, object] = {}
    sources: dict[str, str] = {}

    def take(name: str, key: str) -> str | None:
        if name in overrides:
            sources[name] = "argument"
            return None
        if key in env_map and env_map[key] != "":
            sources[name] = f"${key}"
            return env_map[key]
        return None

    raw = take("env", "SENDBRIDGE_ENV")
    if raw is not None:
        if raw not in _ENVIRONMENTS:
            problems.append(f"SENDBRIDGE_ENV must be one of {', '.join(_ENVIRONMENTS)} (got {raw!r})")
        else:
            values["env"] = raw
    env = str(overrides.get("env", values.get("env", "development")))

    raw = take("var_dir", "VAR_DIR")
    var_dir = Path(raw).resolve() if raw else Path(str(overrides.get("var_dir", PROJECT_ROOT / "var")))
    values["var_dir"] = var_dir

    raw = take("frontend_dist", "FRONTEND_DIST")
    if raw:
        values["frontend_dist"] = Path(raw).resolve()

    raw = take("secret_key", "SECRET_KEY")
    if raw is not None:
        if len(raw) < 32:
            problems.append("SECRET_KEY must be at least 32 characters (use `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
        values["secret_key"] = raw
    elif "secret_key" not in overrides:
        if env == "production":
            problems.append("SECRET_KEY is required in production (at least 32 random characters)")
        else:
            values["secret_key"] = _dev_secret_key(var_dir)
            sources["secret_key"] = "var/secret_key (development only)"

    raw = take("database_url", "DATABASE_URL")
    if raw is not None:
        if not raw.startswith(("postgresql://", "postgres://", "postgresql+psycopg://", "sqlite:///")):
            problems.append(
                "DATABASE_URL must be postgresql://user@host:port/database or sqlite:///path "
                f"(got a URL starting {raw.split(':', 1)[0]!r}:)"
            )
        values["database_url"] = raw
    elif "database_url" not in overrides:
        values["database_url"] = f"sqlite:///{var_dir / 'sendbridge.db'}"
        sources["database_url"] = "embedded default"

    raw = take("redis_url", "REDIS_URL")
    if raw is not None:
        if not raw.startswith(("redis://", "rediss://", "unix://")):
            problems.append(f"REDIS_URL must start with redis://, rediss:// or unix:// (got {raw.split(':', 1)[0]!r}:)")
        values["redis_url"] = raw

    for name, key in (("demo_mode", "DEMO_MODE"), ("safe_mode", "SAFE_MODE")):
        raw = take(name, key)
        if raw is not None:
            values[name] = _parse_bool(key, raw, problems)

    raw = take("plugins", "PLUGINS")
    if raw is not None:
        names = tuple(n.strip() for n in raw.split(",") if n.strip())
        bad = [n for n in names if not re.fullmatch(r"[a-z][a-z0-9_]{1,63}", n)]
        if bad:
            problems.append(f"PLUGINS must be plugin names separated by commas, like ctf,notify (got {raw!r})")
        values["plugins"] = names

    raw = take("base_domain", "BASE_DOMAIN")
    if raw is not None:
        domain = raw.strip().lower().strip(".")
        if not domain or any(c in domain for c in "/:@ "):
            problems.append(f"BASE_DOMAIN must be a bare host name such as councils.example.gov.uk (got {raw!r})")
        values["base_domain"] = domain

    for name, key, lo, hi in (
        ("session_idle_minutes", "SESSION_IDLE_MINUTES", 1, 30),
        ("session_absolute_hours", "SESSION_ABSOLUTE_HOURS", 1, 12),
        ("api_token_seconds", "API_TOKEN_SECONDS", 60, 3600),
        ("proxy_count", "PROXY_COUNT", 0, 5),
    ):
        raw = take(name, key)
        if raw is not None:
            parsed = _parse_int(key, raw, lo, hi, problems)
            if parsed is not None:
                values[name] = parsed

    raw = take("reminders_at", "REMINDERS_AT")
    if raw is not None:
        if not re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", raw.strip()):
            problems.append(f"REMINDERS_AT must be a time of day as HH:MM, like 06:30 (got {raw!r})")
        values["reminders_at"] = raw.strip()

    raw = take("mail_url", "MAIL_URL")
    if raw is not None:
        if not raw.startswith(("file:///", "smtp://", "smtps://")):
            problems.append(f"MAIL_URL must start with file:///, smtp:// or smtps:// (got {raw.split(':', 1)[0]!r}:)")
        values["mail_url"] = raw
    elif "mail_url" not in overrides:
        values["mail_url"] = f"file://{var_dir / 'mail'}"
        sources["mail_url"] = "embedded default"
    raw = take("mail_from", "MAIL_FROM")
    if raw is not None:
        values["mail_from"] = raw

    raw = take("s3_bucket", "S3_BUCKET")
    if raw is not None:
        # S3's bucket naming rules: 3-63 lower-case letters, digits, dots and hyphens.
        if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", raw.strip()):
            problems.append(f"S3_BUCKET must be an S3 bucket name: 3 to 63 lower-case letters, digits, dots or hyphens (got {raw!r})")
        values["s3_bucket"] = raw.strip()
    raw = take("s3_kms_key_id", "S3_KMS_KEY_ID")
    if raw is not None:
        values["s3_kms_key_id"] = raw.strip()
    raw = take("s3_endpoint_url", "S3_ENDPOINT_URL")
    if raw is not None:
        if not (raw.startswith("https://") or (env != "production" and raw.startswith("http://"))):
            problems.append(f"S3_ENDPOINT_URL must be an https:// address (got {raw.split(':', 1)[0]!r}:)")
        values["s3_endpoint_url"] = raw.strip()
    raw = take("s3_region", "S3_REGION")
    if raw is not None:
        if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-[0-9]", raw.strip()):
            problems.append(f"S3_REGION must be an AWS region such as eu-west-2 (got {raw!r})")
        values["s3_region"] = raw.strip()
    raw = take("s3_path_style", "S3_PATH_STYLE")
    if raw is not None:
        values["s3_path_style"] = _parse_bool("S3_PATH_STYLE", raw, problems)

    operator_oidc: dict[str, str] = {}
    for name, key in (("operator_oidc_issuer", "OPERATOR_OIDC_ISSUER"), ("operator_oidc_client_id", "OPERATOR_OIDC_CLIENT_ID"),
                      ("operator_oidc_client_secret", "OPERATOR_OIDC_CLIENT_SECRET")):
        raw = take(name, key)
        if raw is not None:
            values[name] = operator_oidc[key] = raw.strip()
    if operator_oidc and len(operator_oidc) != 3:
        problems.append("OPERATOR_OIDC_ISSUER, OPERATOR_OIDC_CLIENT_ID and OPERATOR_OIDC_CLIENT_SECRET go together: set all "
                        "three (or none, and operators cannot sign in)")
    issuer = operator_oidc.get("OPERATOR_OIDC_ISSUER", "")
    if issuer and not (issuer.startswith("https://") or (env != "production" and re.match(
            r"^http://(127\.0\.0\.1|localhost)(:[0-9]+)?(/|$)", issuer))):
        problems.append(f"OPERATOR_OIDC_ISSUER must be an https:// address (got {issuer!r})")

    raw = take("log_level", "LOG_LEVEL")
    if raw is not None:
        if raw.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            problems.append(f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR (got {raw!r})")
        values["log_level"] = raw.upper()

    values.update(overrides)
    values["sources"] = sources

    # Production refusals (issue #2 item 3). Each is a safety property, not a preference.
    if env == "production":
        if values.get("demo_mode"):
            problems.append("DEMO_MODE must be off in production: the demo sign-in lets anyone act as a seeded user")
        url = str(values.get("database_url", ""))
        if url.startswith("sqlite"):
            problems.append("production needs PostgreSQL (DATABASE_URL=postgresql://...): SQLite has no row-level security")
        if not values.get("redis_url"):
            problems.append("production needs REDIS_URL: jobs must run on workers and survive restarts")
        if str(values.get("mail_url", "")).startswith("file:"):
            problems.append("production needs MAIL_URL=smtp://... or smtps://...: sign-in links and invitations must "
                            "reach people, not a folder")
        if not values.get("s3_bucket"):
            problems.append("production needs S3_BUCKET (and S3_KMS_KEY_ID): documents about children must not sit in "
                            "a local folder on one server")
    # Documents are personal data: never in S3 without SSE-KMS, in any environment.
    if values.get("s3_bucket") and not values.get("s3_kms_key_id"):
        problems.append("S3_BUCKET needs S3_KMS_KEY_ID: documents are encrypted with SSE-KMS under that key")

    if problems:
        raise SettingsError(problems)
    known = {f.name for f in fields(Settings)}
    unknown = set(values) - known
    if unknown:
        raise SettingsError([f"unknown setting(s): {', '.join(sorted(unknown))}"])
    return Settings(**values)  # type: ignore[arg-type]
