"""``POST /api/v1/timescales`` (api-v1.md): the deadline calculator; no token, stores nothing (issue #3).

Families, SENDIASS officers and caseworkers ask "given what has happened, when is each step
due?" for a case that exists nowhere. The answer comes from the same engine as a real case's
deadlines (``core.timescales.compute_deadlines``) with the default timescale options (no
council is involved), and the view touches no database and no tenant: it is pure arithmetic
on the request body.

Beyond api-v1:

* ``"today": "YYYY-MM-DD"`` (optional) judges each deadline's status (open, met, missed,
  suspended) on that day instead of today in England, to ask "what was due on ...?".
* The calculator does not apply the case workflow's ordering rules: any well-formed sequence
  of events is answered, even an incomplete or unusual one. Only what the engine itself
  refuses (a malformed event, a ``corrects`` that names no earlier event) is a 422.
* At most :data:`MAX_CALCULATOR_EVENTS` events per request (422 beyond that).
* Rate limit: :data:`RATE_LIMIT` per client address (429 with ``Retry-After`` beyond it).
  A person using the calculator page makes a handful of requests a minute; a SENDIASS office
  behind one address has room for several officers; a script hammering it does not.
"""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from core import clock
from core.errors import ValidationFailed
from core.timescales import InvalidEventsError, compute_deadlines
from web.api.body import json_body
from web.api.cases.schemas import MAX_CALCULATOR_EVENTS, TimescalesRequestSchema, TimescalesResponseSchema
from web.extensions import limiter

__all__ = ["MAX_CALCULATOR_EVENTS", "RATE_LIMIT", "blp"]

#: Per client address (``web.extensions`` keys limits by address), moving window.
RATE_LIMIT = "60 per minute;1000 per day"

blp = Blueprint("timescales_api", __name__, url_prefix="/api/v1/timescales",
                description="Work out the statutory deadlines of a hypothetical case.")


@blp.route("", methods=["POST"])
@limiter.limit(RATE_LIMIT)
@json_body
@blp.doc(security=[])
@blp.arguments(TimescalesRequestSchema)
@blp.response(200, TimescalesResponseSchema)
@blp.alt_response(422, response="PROBLEM",
                  description="A malformed event (`errors` names `events.<index>.<field>`), more than "
                              f"{MAX_CALCULATOR_EVENTS} events, or a `corrects` that names no earlier event")
@blp.alt_response(429, response="PROBLEM", description=f"More than {RATE_LIMIT.replace(';', ' or ')} from your "
                                                       "address; the Retry-After header says when to try again")
def calculate(data: dict[str, Any]) -> dict[str, Any]:
    """Work out the deadlines of a hypothetical case. No token needed; nothing is stored.

    Send what has happened (`events`, api-v1 vocabulary, in any order) and optionally the
    child's date of birth; the answer is every deadline those events start, with its
    citation and its status as of today (or as of `today`, an extension). Rate-limited to
    60 requests a minute and 1000 a day per address.
    """
    child = data.get("child") or {}
    try:
        deadlines = compute_deadlines(
            data["events"],
            child={"date_of_birth": child["date_of_birth"]} if child.get("date_of_birth") else None,
            today=data.get("today") or clock.today(),
        )
    except InvalidEventsError as exc:
        raise ValidationFailed({f"events.{index}.{name}": messages
                                for index, fields in sorted(exc.errors.items())
                                for name, messages in fields.items()}) from None
    return {"deadlines": [d.to_dict() for d in deadlines]}
