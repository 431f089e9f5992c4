"""Jobs that bring partners' answers back (issue #5). One job per council, ``tenant_id``
first (STYLE.md section 5); fanned out by the scheduler like the other maintenance jobs.

``poll_partner_advice(tenant_id)`` asks the plugin that sent each open advice request
(``health_advice_for_request`` / ``social_care_advice_for_request``) whether the advice has
come, and records what has: the ``advice_received`` event (which stops the 6-week clock of
SEND Regulations 2014 reg 8(1)), a :class:`Submission` carrying the partner's reference, and
the advice as a :class:`Document`, in one transaction per request. Idempotent: advice whose
partner reference is already recorded is not recorded again, and the workflow refuses a
second ``advice_received`` for one request (under the case's row lock), so two polls at once,
or a poll racing a caseworker recording the same advice by hand, record it once.

Each request is asked and recorded on its own: a partner down (``PartnerUnavailable``) or an
answer refused as invalid (``PermanentFailure``, a file of a type we do not accept) is logged
by ids and left for the next poll; it never stops the other requests.

``refresh_social_care_status(tenant_id)`` asks social care about each child with an active
case and keeps the answer for caseworkers (``core.integrations.social_care``).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import column, select, table

from core import clock
from core.cases.models import Case
from core.cases.services import ACTIVE_STAGES, events_of, policy_from_settings, record_event
from core.cases.workflow import derive_state
from core.children.models import Child
from core.db import db
from core.documents.services import store_document
from core.errors import Conflict, ValidationFailed
from core.integrations.advice import PARTNER_HOOKS, REQUEST_HOOKS, build_advice_request, partner_actor
from core.integrations.social_care import store_social_care_status
from core.jobs import job
from core.plugin_api import AdviceRequest, AdviceReturn, PartnerUnavailable, PermanentFailure
from core.plugins import calls as plugin_calls
from core.plugins.manager import call_plugin, host, implementers
from core.plugins.models import CallStatus, PluginCall
from core.plugins.services import enabled_plugins, tenant_info
from core.submissions.models import Submission, SubmissionKind
from core.tenancy import require_tenant_id
from core.timescales import TimescalePolicy

log = logging.getLogger(__name__)

# Core may not import ``tenants``: the council's timescale options are read through a
# lightweight table clause, as core.plugins.services reads the council's name.
_tenant = table("tenant", column("id"), column("settings"))

#: How a partner's advice shows in the council's submissions list.
SUBMITTED_AS = "partner"

_KIND_TITLES = {"medical": "Health advice", "social_care": "Social care advice"}


def _council_policy() -> TimescalePolicy:
    settings = db.session.execute(select(_tenant.c.settings).where(_tenant.c.id == require_tenant_id())).scalar_one()
    return policy_from_settings(settings or {})


@dataclass(frozen=True)
class _Open:
    plugin: str
    kind: str
    case_id: uuid.UUID
    advice_id: str


def _open_requests(limit: int) -> list[_Open]:
    """Requests a plugin has sent (its call succeeded) whose advice is not on the case yet."""
    calls = db.session.execute(
        select(PluginCall.plugin, PluginCall.hook, PluginCall.arguments)
        .where(PluginCall.hook.in_(list(REQUEST_HOOKS)), PluginCall.status == CallStatus.SUCCEEDED)
        .order_by(PluginCall.created_at)).all()
    received: dict[uuid.UUID, set[str]] = {}
    out: list[_Open] = []
    for plugin, hook, arguments in calls:
        try:
            case_id = uuid.UUID(str(arguments.get("case_id")))
        except ValueError:
            continue
        advice_id = str(arguments.get("advice_id") or "")
        if case_id not in received:
            case = db.session.get(Case, case_id)
            if case is None:
                continue
            received[case_id] = derive_state(events_of(case)).advice_received
        if advice_id and advice_id not in received[case_id]:
            out.append(_Open(plugin, REQUEST_HOOKS[hook], case_id, advice_id))
        if len(out) >= limit:
            break
    return out


def already_recorded(case_id: uuid.UUID, advice_id: str, external_id: str) -> bool:
    rows = db.session.execute(select(Submission.body).where(
        Submission.case_id == case_id, Submission.kind == SubmissionKind.ADVICE, Submission.section == advice_id,
        Submission.submitted_as == SUBMITTED_AS)).scalars()
    return any((body or {}).get("external_id") == external_id for body in rows)


def record_partner_advice(plugin: str, request: AdviceRequest, returned: AdviceReturn, *,
                          policy: TimescalePolicy, today: dt.date | None = None) -> Submission | None:
    """Record advice a partner returned: the event, the submission and the document, all or
    nothing. ``None`` when it is on the case already (this reference, or the request answered
    by another route). Raises :class:`ValidationFailed` for a file we do not accept."""
    today = today or clock.today()
    if returned.advice_id != request.advice_id:
        raise PermanentFailure("the partner returned advice for another request")
    if already_recorded(request.case_id, request.advice_id, returned.external_id):
        return None
    case = db.session.get(Case, request.case_id)
    if case is None:
        return None
    # The day the council received it: the partner's date, but never before the request (the
    # workflow refuses that) nor after today (a partner's clock running ahead).
    day = min(max(returned.received_on, request.requested_on), today)
    event: dict[str, Any] = {"type": "advice_received", "date": day.isoformat(), "advice_id": request.advice_id,
                             "advice": request.kind}
    actor = partner_actor(f"plugin:{plugin}")
    title = host().info(plugin).title if plugin in host().plugins else plugin
    try:
        with db.session.begin_nested():
            row = record_event(actor, case, event, policy=policy, today=today)
            submission = Submission(
                child_id=case.child_id, case_id=case.id, kind=SubmissionKind.ADVICE, section=request.advice_id,
                body={"advice": request.kind, "external_id": returned.external_id, "plugin": plugin},
                text="", submitted_by=f"plugin:{plugin}"[:200], submitted_as=SUBMITTED_AS,
                submitted_by_name=title[:200], case_event_id=row.id)
            db.session.add(submission)
            db.session.flush()
            store_document(actor, child_id=case.child_id, case_id=case.id, kind="advice",
                           title=_KIND_TITLES.get(request.kind, "Advice"), filename=returned.filename,
                           data=returned.content, advice_id=request.advice_id, submission_id=submission.id)
    except Conflict:
        return None  # answered meanwhile (a caseworker, the portal, a second poll): nothing to add
    return submission


@job(queue="default", timeout=600, retries=0)
def poll_partner_advice(limit: int = 500) -> dict[str, int]:
    """Ask partners for the advice still awaited, and record what has come (see module doc)."""
    counts = {"asked": 0, "recorded": 0, "waiting": 0, "problems": 0}
    pending = _open_requests(limit)
    enabled = set(enabled_plugins())
    policy = _council_policy()
    db.session.commit()  # no transaction (nor row lock) is held while partners are asked
    for item in pending:
        if item.plugin not in enabled:
            continue
        fetch = PARTNER_HOOKS[item.kind][1]
        try:
            request, _child = build_advice_request(item.case_id, item.advice_id)
            info = tenant_info(item.plugin)
            db.session.commit()
            counts["asked"] += 1
            returned = call_plugin(info, item.plugin, fetch, request=request)
            if returned is None:
                counts["waiting"] += 1
            elif record_partner_advice(item.plugin, request, returned, policy=policy) is not None:
                counts["recorded"] += 1
            db.session.commit()
        except PartnerUnavailable as exc:
            db.session.rollback()
            counts["problems"] += 1
            log.info("partner unavailable; asking again at the next poll",
                     extra={"plugin": item.plugin, "case_id": str(item.case_id), "error": str(exc)[:300]})
            _note(item, fetch, exc)
            continue
        except (PermanentFailure, ValidationFailed) as exc:
            db.session.rollback()
            counts["problems"] += 1
            log.warning("partner advice could not be taken", extra={
                "plugin": item.plugin, "case_id": str(item.case_id), "error": f"{type(exc).__name__}: {exc}"[:300]})
            _note(item, fetch, exc if isinstance(exc, PermanentFailure) else PermanentFailure(str(exc)))
            continue
        except Exception as exc:  # a plugin's bug must not stop the other requests
            db.session.rollback()
            counts["problems"] += 1
            log.exception("plugin failed while fetching advice", extra={"plugin": item.plugin,
                                                                        "case_id": str(item.case_id)})
            _note(item, fetch, exc)
            continue
        # Asked without trouble (answered or not yet): an earlier problem needs nobody now.
        plugin_calls.clear_problem(item.plugin, poll_key(item.case_id, item.advice_id))
        db.session.commit()
    return counts


def poll_key(case_id: uuid.UUID | str, advice_id: str) -> str:
    return f"poll:{case_id}:{advice_id}"


def _note(item: _Open, fetch: str, exc: BaseException) -> None:
    """Show the admin a poll that failed (Integrations page), with a retry that asks again
    now. Never lets the recording itself stop the poll."""
    try:
        plugin_calls.note_problem(item.plugin, fetch, poll_key(item.case_id, item.advice_id),
                                  {"case_id": str(item.case_id), "advice_id": item.advice_id}, exc)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("could not record the poll's problem", extra={"plugin": item.plugin})


def _fetch_arguments(arguments: Mapping[str, Any]) -> dict[str, Any]:
    request, _child = build_advice_request(arguments["case_id"], str(arguments["advice_id"]))
    return {"request": request}


def _record_fetched(call: PluginCall, returned: Any) -> None:
    """A retried poll's answer is recorded like the scheduled poll's; "not yet" is a success
    too (the next poll asks again)."""
    if returned is None:
        return
    request, _child = build_advice_request(call.arguments["case_id"], str(call.arguments["advice_id"]))
    try:
        record_partner_advice(call.plugin, request, returned, policy=_council_policy())
    except ValidationFailed as exc:
        raise PermanentFailure(str(exc)) from None


for _kind, (_send, _fetch_hook) in PARTNER_HOOKS.items():
    plugin_calls.register_arguments(_fetch_hook)(_fetch_arguments)
    plugin_calls.on_success(_fetch_hook)(_record_fetched)


STATUS_HOOK = "social_care_status_for_child"


@job(queue="default", timeout=600, retries=0)
def refresh_social_care_status(limit: int = 5000) -> dict[str, int]:
    """Ask the enabled social care plugins about each child with an active case and keep the
    answer (``core.integrations.social_care``). Each child is committed on its own; a partner
    that is down ends the run (the next run starts again), one child's bad answer is logged by
    ids and skipped."""
    counts = {"refreshed": 0, "unknown": 0, "problems": 0}
    plugins = implementers(STATUS_HOOK, enabled_plugins())
    if not plugins:
        return counts
    children = db.session.execute(
        select(Child.id, Child.upn, Child.nhs_number).join(Case, Case.child_id == Child.id)
        .where(Case.stage.in_(ACTIVE_STAGES)).distinct().order_by(Child.id).limit(limit)).all()
    infos = {name: tenant_info(name) for name in plugins}
    db.session.commit()  # no transaction is held while the partner is asked
    for child_id, upn, nhs_number in children:
        identifiers = {k: v for k, v in (("upn", upn), ("nhs_number", nhs_number)) if v}
        try:
            status, source = None, plugins[0]
            for name in plugins:  # firstresult, as the hook says: the first that knows the child
                status = call_plugin(infos[name], name, STATUS_HOOK, child_id=child_id, identifiers=identifiers)
                if status is not None:
                    source = name
                    break
            store_social_care_status(partner_actor(f"plugin:{source}"), child_id, status, source)
            db.session.commit()
            counts["refreshed" if status is not None else "unknown"] += 1
        except PartnerUnavailable as exc:
            db.session.rollback()
            counts["problems"] += 1
            log.info("social care system unavailable; the next run tries again", extra={"error": str(exc)[:300]})
            break
        except Exception as exc:  # a bad answer about one child must not stop the others
            db.session.rollback()
            counts["problems"] += 1
            log.warning("social care status not taken", extra={
                "child_id": str(child_id), "error": f"{type(exc).__name__}: {exc}"[:300]})
    return counts
