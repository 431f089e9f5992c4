"""Application logging: one JSON object per line, tagged with request, tenant and job ids.

No personal data goes to logs. Log *identifiers* (ids, counts, action names), never names,
dates of birth, identifiers such as UPN or NHS number, or free text typed by a person. The
access-log filter strips query strings, because search boxes put names there.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
from typing import Any

from core.tenancy import current_tenant_id

_log_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar("sendbridge_log_context", default={})


def bind_log_context(**fields: str) -> contextvars.Token[dict[str, str]]:
    """Add fields (request_id, job_id, job ...) to every log line in the current context."""
    return _log_context.set({**_log_context.get(), **fields})


def reset_log_context(token: contextvars.Token[dict[str, str]]) -> None:
    _log_context.reset(token)


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _log_context.get().items():
            setattr(record, key, value)
        tid = current_tenant_id()
        record.tenant_id = str(tid) if tid else None
        return True


# "GET /children/?q=Smith HTTP/1.1" -> "GET /children/?[redacted] HTTP/1.1"
_QUERY = re.compile(r'(\b(?:GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) [^ ?"]*)\?[^ "]*')


def _redact(value: Any) -> Any:
    return _QUERY.sub(r"\1?[redacted]", value) if isinstance(value, str) else value


class StripQueryStrings(logging.Filter):
    """Removes ``?query`` from request lines (werkzeug's and gunicorn's access logs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):  # gunicorn passes its access-log atoms as a mapping
            record.args = {k: _redact(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_redact(a) for a in record.args)
        record.msg = _redact(record.msg)
        return True


class JsonFormatter(logging.Formatter):
    _FIELDS = ("request_id", "tenant_id", "job_id", "job")

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in self._FIELDS:
            value = getattr(record, key, None)
            if value:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def configure_logging(level: str = "INFO") -> None:
    """Install the JSON handler on the root logger. Called once by the app factory or worker,
    never at import time (STYLE.md section 2)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_sendbridge", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._sendbridge = True  # type: ignore[attr-defined]
    formatter = JsonFormatter()
    formatter.converter = time.gmtime  # UTC timestamps
    handler.setFormatter(formatter)
    handler.addFilter(ContextFilter())
    handler.addFilter(StripQueryStrings())
    root.addHandler(handler)
    root.setLevel(level)
    # Alembic narrates every plugin it loads at INFO; its revisions are what matter.
    logging.getLogger("alembic").setLevel(max(logging.getLevelName(level), logging.WARNING)
                                          if isinstance(logging.getLevelName(level), int) else logging.WARNING)
    for name in ("werkzeug", "gunicorn.access"):
        lg = logging.getLogger(name)
        if not any(isinstance(f, StripQueryStrings) for f in lg.filters):
            lg.addFilter(StripQueryStrings())
