"""Health advice end to end: a caseworker records the request, the durable plugin call sends it
to the FHIR server (once, however often it runs), a partner outage is retried, and the advice
the health body returns is recorded on the case once (SEND Regulations 2014 reg 6(1)(c), 8(1))."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select, update

import plugins.fhir
from core.cases.models import CaseDeadline, CaseEvent, Document
from core.db import db, utcnow
from core.integrations.advice import call_key
from core.integrations.jobs import poll_partner_advice, record_partner_advice
from core.plugin_api import AdviceReturn
from core.plugins.calls import run_call
from core.plugins.models import CallStatus, PluginCall
from core.plugins.services import configure, set_enabled
from core.storage import storage
from core.submissions.models import Submission
from tests.conftest import in_tenant
from tests.plugins.fhir.conftest import NHS_NUMBER, PDF, SETTINGS, FhirStub, complete_with_document, start, stop

ASSESS = {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"}
HEALTH = {"type": "advice_requested", "date": "2026-02-11", "advice": "medical", "advice_id": "health1"}


@pytest.fixture
def enable_fhir(use_plugins: Any, fhir_stub: FhirStub) -> Callable[[Any], None]:
    use_plugins(fhir=plugins.fhir)

    def enable(tenant: Any) -> None:
        with in_tenant(tenant):
            set_enabled("fhir", True)
            configure("fhir", {**SETTINGS, "base_url": fhir_stub.url})

    return enable


@pytest.fixture
def health_case(make_case: Any, make_child: Any) -> Callable[..., Any]:
    def make(tenant: Any, *events: dict[str, Any]) -> Any:
        child = make_child(tenant, nhs_number=NHS_NUMBER)
        return make_case(tenant, [ASSESS, *(events or (HEALTH,))], child=child)
    return make


def calls_in(tenant: Any) -> list[PluginCall]:
    with in_tenant(tenant):
        calls = list(db.session.execute(select(PluginCall).order_by(PluginCall.created_at)).scalars())
        db.session.expunge_all()
    return calls


def test_advice_request_is_sent_once_even_when_the_call_runs_twice(enable_fhir: Any, health_case: Any,
                                                                    fhir_stub: FhirStub, tenant_a: Any) -> None:
    enable_fhir(tenant_a)
    case = health_case(tenant_a)

    [call] = calls_in(tenant_a)
    assert (call.plugin, call.hook, call.key) == ("fhir", "on_health_advice_requested", call_key(case.id, "health1"))
    assert call.arguments == {"case_id": str(case.id), "advice_id": "health1"}  # ids only
    assert call.status == CallStatus.SUCCEEDED
    [sr] = fhir_stub.of_type("ServiceRequest")
    # The due date sent is the case's own 6-week advice clock (reg 8(1)).
    with in_tenant(tenant_a):
        clock = db.session.execute(select(CaseDeadline.last_day).where(
            CaseDeadline.case_id == case.id, CaseDeadline.key == "advice_returned",
            CaseDeadline.ref == "health1")).scalar_one()
    assert sr["occurrencePeriod"]["end"] == clock.isoformat()

    assert run_call(str(tenant_a.id), str(call.id)) == "skipped"  # done already
    # A worker killed after the partner answered but before the outcome was stored: the call
    # runs again in full, and the conditional creates make nothing twice.
    with in_tenant(tenant_a):
        db.session.execute(update(PluginCall).where(PluginCall.id == call.id).values(status=CallStatus.PENDING))
    assert run_call(str(tenant_a.id), str(call.id)) == "succeeded"

    assert len(fhir_stub.of_type("ServiceRequest")) == 1
    assert len(fhir_stub.of_type("Task")) == 1
    assert len([s for s in fhir_stub.requests if s.method == "POST"]) == 4


@pytest.mark.parametrize("outage", ["503", "stopped"])
def test_partner_down_is_retried_later_and_then_succeeds(enable_fhir: Any, health_case: Any, fhir_stub: FhirStub,
                                                         tenant_a: Any, outage: str) -> None:
    enable_fhir(tenant_a)
    port = fhir_stub.server.server_address[1]  # type: ignore[union-attr]
    if outage == "503":
        fhir_stub.fail_with = 503
    else:
        stop(fhir_stub)
    before = utcnow()

    health_case(tenant_a)

    [call] = calls_in(tenant_a)
    assert call.status == CallStatus.RETRYING
    assert call.attempts == 1
    assert call.next_attempt_at is not None and call.next_attempt_at > before
    assert "PartnerUnavailable" in call.last_error
    assert fhir_stub.of_type("ServiceRequest") == []

    if outage == "503":
        fhir_stub.fail_with = None
    else:
        start(fhir_stub, port)
    assert run_call(str(tenant_a.id), str(call.id)) == "succeeded"
    [call] = calls_in(tenant_a)
    assert (call.status, call.last_error) == (CallStatus.SUCCEEDED, "")
    assert len(fhir_stub.of_type("Task")) == 1


def test_invalid_resource_from_the_server_fails_the_call_with_a_clear_error(enable_fhir: Any, health_case: Any,
                                                                           fhir_stub: FhirStub, tenant_a: Any) -> None:
    enable_fhir(tenant_a)
    fhir_stub.overrides[("POST", "/fhir/ServiceRequest")] = (201, {"resourceType": "Practitioner", "id": "p1"})

    health_case(tenant_a)

    [call] = calls_in(tenant_a)
    assert call.status == CallStatus.FAILED
    assert call.last_error.startswith("PermanentFailure: invalid ServiceRequest from the FHIR server: resourceType")
    assert fhir_stub.of_type("Task") == []


def test_only_partner_advice_kinds_are_sent(enable_fhir: Any, health_case: Any, fhir_stub: FhirStub,
                                            tenant_a: Any) -> None:
    enable_fhir(tenant_a)
    health_case(tenant_a, {"type": "advice_requested", "date": "2026-02-11", "advice": "psychological",
                           "advice_id": "ep1"},
                {"type": "advice_requested", "date": "2026-02-11", "advice": "social_care", "advice_id": "sc1"})
    # Psychological advice goes to a person (the portal); social care advice has no plugin here.
    assert calls_in(tenant_a) == []
    assert fhir_stub.requests == []


def test_plugin_enabled_for_one_council_only(enable_fhir: Any, health_case: Any, fhir_stub: FhirStub,
                                             tenant_a: Any, tenant_b: Any) -> None:
    enable_fhir(tenant_a)

    health_case(tenant_b)

    assert calls_in(tenant_b) == []
    assert poll_partner_advice(str(tenant_b.id))["asked"] == 0
    assert fhir_stub.requests == []


def _advice_rows(tenant: Any, case: Any) -> tuple[list[CaseEvent], list[Document], list[Submission]]:
    with in_tenant(tenant):
        events = list(db.session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                                 CaseEvent.type == "advice_received")).scalars())
        docs = list(db.session.execute(select(Document).where(Document.case_id == case.id)).scalars())
        subs = list(db.session.execute(select(Submission).where(Submission.case_id == case.id)).scalars())
        db.session.expunge_all()
    return events, docs, subs


def test_returned_advice_is_recorded_once_even_when_polled_twice(enable_fhir: Any, health_case: Any,
                                                                 fhir_stub: FhirStub, tenant_a: Any) -> None:
    enable_fhir(tenant_a)
    case = health_case(tenant_a)
    assert poll_partner_advice(str(tenant_a.id)) == {"asked": 1, "recorded": 0, "waiting": 1, "problems": 0}
    [task] = fhir_stub.of_type("Task")
    doc = complete_with_document(fhir_stub, task)

    first = poll_partner_advice(str(tenant_a.id))
    second = poll_partner_advice(str(tenant_a.id))

    assert first == {"asked": 1, "recorded": 1, "waiting": 0, "problems": 0}
    assert second["asked"] == 0  # answered: no longer asked about
    [event], [document], [submission] = _advice_rows(tenant_a, case)
    assert (event.date, event.attributes) == (dt.date(2026, 3, 2), {"advice": "medical", "advice_id": "health1"})
    assert event.recorded_by == "plugin:fhir"
    assert (document.kind, document.advice_id, document.submission_id) == ("advice", "health1", submission.id)
    assert document.content_type == "application/pdf"
    assert storage().get(document.storage_key) == PDF
    assert submission.body["external_id"] == f"DocumentReference/{doc['id']}"
    assert submission.case_event_id == event.id
    with in_tenant(tenant_a):
        met = db.session.execute(select(CaseDeadline.met_on).where(
            CaseDeadline.case_id == case.id, CaseDeadline.key == "advice_returned")).scalar_one()
    assert met == dt.date(2026, 3, 2)  # the 6-week clock stopped on the day the advice came

    # The same advice offered again (a second worker racing the first): nothing is added.
    from core.integrations.advice import build_advice_request
    from core.timescales import TimescalePolicy
    with in_tenant(tenant_a):
        request, _child = build_advice_request(case.id, "health1")
        again = AdviceReturn(advice_id="health1", received_on=dt.date(2026, 3, 2), filename="x.pdf", content=PDF,
                             external_id=f"DocumentReference/{doc['id']}")
        assert record_partner_advice("fhir", request, again, policy=TimescalePolicy()) is None
    assert [len(rows) for rows in _advice_rows(tenant_a, case)] == [1, 1, 1]


def test_advice_poll_survives_partner_outage_and_bad_files(enable_fhir: Any, health_case: Any, fhir_stub: FhirStub,
                                                           tenant_a: Any) -> None:
    enable_fhir(tenant_a)
    case = health_case(tenant_a)
    [task] = fhir_stub.of_type("Task")
    complete_with_document(fhir_stub, task, data=b"MZ\x90\x00 an executable, not advice")

    fhir_stub.fail_with = 503
    assert poll_partner_advice(str(tenant_a.id))["problems"] == 1
    fhir_stub.fail_with = None
    assert poll_partner_advice(str(tenant_a.id)) == {"asked": 1, "recorded": 0, "waiting": 0, "problems": 1}
    assert [len(rows) for rows in _advice_rows(tenant_a, case)] == [0, 0, 0]  # nothing half-recorded

    complete_with_document(fhir_stub, task)  # the health body sends the real file
    assert poll_partner_advice(str(tenant_a.id))["recorded"] == 1
    assert [len(rows) for rows in _advice_rows(tenant_a, case)] == [1, 1, 1]


def test_mediation_including_health_is_notified_to_the_health_body_once(enable_fhir: Any, make_case: Any,
                                                                         make_child: Any, fhir_stub: FhirStub,
                                                                         tenant_a: Any) -> None:
    enable_fhir(tenant_a)
    events = [{"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "refuse"},
              {"type": "decision_letter_sent", "date": "2026-02-11", "decision": "refuse_assess"},
              {"type": "mediation_requested", "date": "2026-02-20", "includes_health": True}]
    case = make_case(tenant_a, events, child=make_child(tenant_a, nhs_number=NHS_NUMBER))

    [call] = calls_in(tenant_a)
    assert (call.hook, call.status) == ("on_health_body_notification", CallStatus.SUCCEEDED)
    assert call.arguments == {"case_id": str(case.id), "reason": "mediation_health_notification"}
    with in_tenant(tenant_a):
        db.session.execute(update(PluginCall).where(PluginCall.id == call.id).values(status=CallStatus.PENDING))
    assert run_call(str(tenant_a.id), str(call.id)) == "succeeded"
    [sent] = fhir_stub.of_type("Communication")  # once, however often the call runs
    assert sent["category"] == [{"text": "mediation_health_notification"}]
    assert "reg 36" in sent["payload"][0]["contentString"]
    assert sent["subject"]["identifier"]["value"] == NHS_NUMBER


def test_mediation_without_health_issues_notifies_nobody(enable_fhir: Any, make_case: Any, fhir_stub: FhirStub,
                                                         tenant_a: Any) -> None:
    enable_fhir(tenant_a)
    make_case(tenant_a, [{"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "refuse"},
                         {"type": "decision_letter_sent", "date": "2026-02-11", "decision": "refuse_assess"},
                         {"type": "mediation_requested", "date": "2026-02-20", "includes_health": False}])
    assert calls_in(tenant_a) == []
    assert fhir_stub.requests == []


def test_a_failed_poll_is_shown_to_the_admin_and_their_retry_fetches_and_records_the_advice(
        enable_fhir: Any, health_case: Any, fhir_stub: FhirStub, tenant_a: Any) -> None:
    from core.integrations.jobs import poll_key
    from core.plugins import calls
    from core.plugins.models import CallStatus, PluginCall

    enable_fhir(tenant_a)
    case = health_case(tenant_a)
    [task] = fhir_stub.of_type("Task")
    complete_with_document(fhir_stub, task, data=b"MZ\x90\x00 an executable, not advice")
    assert poll_partner_advice(str(tenant_a.id))["problems"] == 1
    with in_tenant(tenant_a):
        [shown] = [c for c in calls.calls_needing_attention() if c.key == poll_key(case.id, "health1")]
        assert (shown.status, shown.hook) == (CallStatus.FAILED, "health_advice_for_request")
        assert "PermanentFailure" in shown.last_error
        call_id = shown.id
        db.session.rollback()

    complete_with_document(fhir_stub, task)  # the health body fixes the file; the admin retries
    with in_tenant(tenant_a):
        calls.retry_call(call_id)
        db.session.commit()
        db.session.expire_all()
        assert db.session.get(PluginCall, call_id).status == CallStatus.SUCCEEDED
        db.session.rollback()
    assert [len(rows) for rows in _advice_rows(tenant_a, case)] == [1, 1, 1]
    assert poll_partner_advice(str(tenant_a.id))["asked"] == 0  # answered: the poll is done with it


def test_a_poll_that_works_again_clears_the_problem_it_showed(enable_fhir: Any, health_case: Any,
                                                              fhir_stub: FhirStub, tenant_a: Any) -> None:
    from core.plugins import calls

    enable_fhir(tenant_a)
    health_case(tenant_a)
    fhir_stub.fail_with = 503
    assert poll_partner_advice(str(tenant_a.id))["problems"] == 1
    with in_tenant(tenant_a):
        assert [c.status.value for c in calls.calls_needing_attention()] == ["retrying"]
        db.session.rollback()
    fhir_stub.fail_with = None
    assert poll_partner_advice(str(tenant_a.id))["waiting"] == 1
    with in_tenant(tenant_a):
        assert calls.calls_needing_attention() == []
