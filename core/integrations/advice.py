"""Advice requests that go to partner systems, and what the health body must hear (issue #5).

When a council records ``advice_requested`` on a case (SEND Regulations 2014 reg 6(1)), the
kinds a partner system can answer are sent on through plugins:

* ``medical``: the health body's advice, reg 6(1)(c): ``on_health_advice_requested``;
* ``social_care``: social care advice, reg 6(1)(e): ``on_social_care_advice_requested``.

Educational and psychological advice (reg 6(1)(b) and (d)) go to people, through the
professionals' portal (``core.portal.advice``), not to a partner system.

:func:`schedule_advice_request` runs inside ``record_event``'s transaction and writes one
durable :class:`PluginCall` per enabled plugin (``core.plugins.calls.schedule_call``), keyed
``advice:<case_id>:<advice_id>``: the request leaves exactly when the event commits, is retried
while the partner is down, and is never sent twice. The call stores ids only; the builders
below look the child up when the call runs, so no personal data waits in the queue.

A mediation that includes health issues is notified to the health body
(``on_health_body_notification``, reg 36), once per case.

The 6-week clock (reg 8(1)) is the case's ``advice_returned`` deadline for that advice id, as
the timescale engine computed it; the partner is told that date.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from core import permissions
from core.actors import Actor
from core.audit import services as audit
from core.cases.models import Case, CaseDeadline, CaseEvent
from core.children.models import Child
from core.db import db
from core.plugin_api import AdviceRequest, PermanentFailure
from core.plugins.calls import register_arguments, schedule_call
from core.plugins.models import PluginCall
from core.tenancy import require_tenant_id
from core.timescales import apply_corrections

#: Advice kind (api-v1 ``advice``) -> (the hook that sends the request, the hook that fetches
#: the advice back).
PARTNER_HOOKS: dict[str, tuple[str, str]] = {
    "medical": ("on_health_advice_requested", "health_advice_for_request"),
    "social_care": ("on_social_care_advice_requested", "social_care_advice_for_request"),
}
REQUEST_HOOKS = {send: kind for kind, (send, _fetch) in PARTNER_HOOKS.items()}

#: Reg 8(1): advice is to be given within six weeks of the request. Used only when the case
#: has no computed deadline for the request (it always should).
ADVICE_WEEKS = 6


def call_key(case_id: uuid.UUID | str, advice_id: str) -> str:
    return f"advice:{case_id}:{advice_id}"


#: The hook that tells the health body what the law requires it to hear.
NOTIFICATION_HOOK = "on_health_body_notification"


def schedule_partner_calls(case: Case, event: CaseEvent) -> list[PluginCall]:
    """What a newly recorded ``event`` asks of partner systems, scheduled in the current
    transaction (``record_event`` calls this): a request for health or social care advice,
    or a notification the health body must have. Anything else: nothing."""
    if event.type == "advice_requested":
        return schedule_advice_request(case, event)
    if event.type == "mediation_requested" and (event.attributes or {}).get("includes_health") is True:
        # SEND Regulations 2014 reg 36: when mediation includes health issues, the council
        # tells the health commissioning body (deadline mediation_health_notification). The
        # hook is idempotent per (case, reason), so the call is keyed the same way.
        return schedule_call(NOTIFICATION_HOOK, f"notify:{case.id}:mediation_health_notification",
                             {"case_id": str(case.id), "reason": "mediation_health_notification"})
    return []


def schedule_advice_request(case: Case, event: CaseEvent) -> list[PluginCall]:
    """If ``event`` asks for advice a partner system gives, schedule the call to each enabled
    plugin that sends such requests, in the current transaction. Anything else: nothing."""
    if event.type != "advice_requested":
        return []
    attrs = event.attributes or {}
    advice_id, kind = attrs.get("advice_id"), attrs.get("advice")
    if not advice_id or kind not in PARTNER_HOOKS:
        return []  # without an advice id the advice cannot be matched when it comes back
    return schedule_call(PARTNER_HOOKS[kind][0], call_key(case.id, str(advice_id)),
                         {"case_id": str(case.id), "advice_id": str(advice_id)})


def _current_events(case: Case) -> list[Mapping[str, Any]]:
    rows = db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)).scalars()
    return [e for _, e in apply_corrections([row.as_event() for row in rows])]


def build_advice_request(case_id: uuid.UUID | str, advice_id: str) -> tuple[AdviceRequest, Child]:
    """The request as a partner sees it, from the case as it is now. Raises
    ``PermanentFailure`` if the case or the request has gone (deleted, or corrected away)."""
    try:
        cid = uuid.UUID(str(case_id))
    except ValueError:
        raise PermanentFailure("the call names no case") from None
    case = db.session.get(Case, cid)
    if case is None:
        raise PermanentFailure("the case no longer exists in this council")
    asked = [e for e in _current_events(case) if e["type"] == "advice_requested" and str(e.get("advice_id")) == advice_id]
    if not asked:
        raise PermanentFailure(f"the case no longer has a request for advice {advice_id!r}")
    event = asked[-1]
    requested_on = dt.date.fromisoformat(event["date"])
    child = db.session.get(Child, case.child_id)
    if child is None:
        raise PermanentFailure("the child's record no longer exists")
    clocks = db.session.execute(
        select(CaseDeadline.last_day).where(CaseDeadline.case_id == case.id, CaseDeadline.key == "advice_returned",
                                            CaseDeadline.ref == advice_id, CaseDeadline.due >= requested_on)
        .order_by(CaseDeadline.due.desc())).scalars().first()
    due_on = clocks or requested_on + dt.timedelta(weeks=ADVICE_WEEKS)
    request = AdviceRequest(case_id=case.id, advice_id=advice_id, child_id=child.id, nhs_number=child.nhs_number,
                            requested_on=requested_on, due_on=due_on, kind=str(event.get("advice") or "other"))
    return request, child


def partner_actor(name: str) -> Actor:
    """The system acting for a partner (``name``: the plugin, or the step): it reads and
    records case events and documents, nothing more."""
    return Actor(tenant_id=require_tenant_id(), kind="system", id=name[:120],
                 permissions=frozenset({permissions.CASES_READ, permissions.CASES_WRITE}))


def _request_arguments(hook: str) -> Any:
    def build(arguments: Mapping[str, Any]) -> dict[str, Any]:
        request, child = build_advice_request(arguments.get("case_id", ""), str(arguments.get("advice_id", "")))
        # The child's identifiers leave the council here: that is a read of the child's
        # record, audited like any other (it rolls back with the call if the call fails).
        audit.record(partner_actor("send_advice_request"), "child.shared_with_partner", subject_type="child", subject_ids=[child.id],
                     object_type="case", object_id=request.case_id, fields=["nhs_number", hook])
        return {"request": request}
    return build


for _hook in REQUEST_HOOKS:
    register_arguments(_hook)(_request_arguments(_hook))


@register_arguments(NOTIFICATION_HOOK)
def _notification_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    try:
        case = db.session.get(Case, uuid.UUID(str(arguments.get("case_id"))))
    except ValueError:
        case = None
    if case is None:
        raise PermanentFailure("the case no longer exists in this council")
    child = db.session.get(Child, case.child_id)
    if child is None:
        raise PermanentFailure("the child's record no longer exists")
    audit.record(partner_actor("notify_health_body"), "child.shared_with_partner", subject_type="child",
                 subject_ids=[child.id], object_type="case", object_id=case.id, fields=["nhs_number", NOTIFICATION_HOOK])
    return {"case_id": case.id, "child_id": child.id, "reason": str(arguments.get("reason")),
            "nhs_number": child.nhs_number}
