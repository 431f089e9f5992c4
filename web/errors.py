"""Error handling: RFC 9457 problems on the API, GOV.UK error pages everywhere else.

A 4xx never leaves a change behind: ``after_request`` rolls back any response of 400 or more.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from core.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from core.idempotency.services import KeyReusedForDifferentRequest
from core.storage import StorageUnavailable
from web.api.problems import flatten_webargs_errors, problem

log = logging.getLogger(__name__)

_PAGES = {
    400: ("Sorry, there is a problem with the service", "The request could not be understood. Go back and try again."),
    403: ("You do not have permission to do this", "Your role does not allow this. Speak to your team manager if you think it should."),
    404: ("Page not found", "If you typed the web address, check it is correct. If you pasted the web address, check you copied the entire address."),
    405: ("Page not found", "If you typed the web address, check it is correct."),
    413: ("The file or form is too large", "Go back and send less, or a smaller file."),
    429: ("Too many attempts", "Wait a minute, then try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you entered has been saved."),
    # Issue #5: document storage down (core.storage.StorageUnavailable).
    503: ("Sorry, the document is unavailable", "The document cannot be opened at the moment. Try again later."),
}


def _is_api() -> bool:
    return bool(g.get("is_api")) or request.path.startswith(("/api/", "/oauth/"))


def _page(status: int, *, title: str | None = None, message: str | None = None) -> tuple[str, int]:
    default_title, default_message = _PAGES.get(status, _PAGES[500 if status >= 500 else 400])
    return render_template("errors/error.html", status=status, title=title or default_title,
                           message=message or default_message), status


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Response | tuple[str, int]:
        if _is_api():
            return problem("bad-request", detail="CSRF token missing or invalid")
        return _page(400, title="Your form has expired",
                     message="For your security, forms expire. Go back, reload the page and try again. "
                             "Nothing has been saved.")

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Response | tuple[str, int]:
        status = exc.code or 500
        if _is_api():
            data = getattr(exc, "data", None) or {}
            headers: dict[str, str] = dict(data.get("headers") or {})
            if status == 405 and exc.get_response().headers.get("Allow"):
                headers["Allow"] = exc.get_response().headers["Allow"]
            if status == 429:
                headers.update({k: v for k, v in exc.get_response().headers.items() if k.lower().startswith(("retry-after", "x-ratelimit"))})
            errors = flatten_webargs_errors(data["messages"]) if "messages" in data else data.get("errors")
            # Werkzeug's stock descriptions ("The request was well-formed but ...") say less
            # than our problem types do; use those unless the raiser said something specific.
            detail = data.get("message") or (None if status in (404, 405, 422, 500) else exc.description)
            return problem(status=status, detail=detail, errors=errors, headers=headers, request_id=g.get("request_id"))
        return _page(status)

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Response | tuple[str, int]:
        if isinstance(exc, NotFound):
            return problem("not-found", request_id=g.get("request_id")) if _is_api() else _page(404)
        if isinstance(exc, Forbidden):
            return problem("insufficient-scope", request_id=g.get("request_id")) if _is_api() else _page(403)
        if isinstance(exc, StorageUnavailable):  # issue #5; before ValidationFailed (DocumentNotSaved is both)
            log.warning("document storage unavailable: %s", exc)
            if _is_api():
                return problem("service-unavailable", headers={"Retry-After": "30"}, request_id=g.get("request_id"))
            return _page(503)
        if isinstance(exc, KeyReusedForDifferentRequest):
            return problem("idempotency-key-reused", detail=exc.message)
        if isinstance(exc, ValidationFailed):
            if _is_api():
                return problem("validation-error", errors=exc.errors)
            return _page(400)
        if isinstance(exc, Conflict):
            if _is_api():
                return problem("conflict", detail=exc.message, errors={exc.field: [exc.message]} if exc.field else None)
            return _page(400, message=exc.message)
        return _unexpected(exc)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response | tuple[str, int]:
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error")
        if _is_api():
            return problem("server-error", request_id=g.get("request_id"))
        return _page(500)

    @app.errorhandler(InternalServerError)
    def _ise(exc: InternalServerError) -> Response | tuple[str, int]:
        original = getattr(exc, "original_exception", None)
        if original is not None:
            log.error("unhandled error", exc_info=original)
        if _is_api():
            return problem("server-error", request_id=g.get("request_id"))
        return _page(500)
