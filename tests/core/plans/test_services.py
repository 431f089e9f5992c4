"""Plan services: drafts, freezing on case events, refusing to issue an incomplete plan, section K,
amendments, and the permission-checked lookups."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.cases.access import access_case
from core.cases.models import CaseEvent, Document, PlanVersion
from core.documents.services import store_document
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.permissions import PLANS_READ
from core.plans import services as plans
from core.plans.access import access_plan_case, access_version
from core.plans.content import empty_plan
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, actor_for, in_tenant, system_actor
from tests.core.plans.conftest import ISSUED, SERVED
from tests.core.plans.factories import complete_plan

pytestmark = pytest.mark.smoke


def _case(tenant: Any, case: Any) -> Any:
    return access_case(system_actor(tenant), case.id, for_write=True)


def _counts(tenant: Any, case: Any) -> tuple[int, int, int]:
    with in_tenant(tenant) as s:
        events = s.execute(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id)).scalar_one()
        versions = s.execute(select(func.count()).select_from(PlanVersion).where(PlanVersion.case_id == case.id)).scalar_one()
        pdfs = s.execute(select(func.count()).select_from(Document).where(Document.case_id == case.id,
                                                                          Document.kind == "plan_pdf")).scalar_one()
    return events, versions, pdfs


# ---------------------------------------------------------------------------------------
# Drafts


def test_saving_a_draft_starts_it_stores_the_checked_content_and_audits_it(tenant_a: Any, drafting_case: Any) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        draft = plans.save_draft(actor, _case(tenant_a, drafting_case), complete_plan())
        draft_id = draft.id
    with in_tenant(tenant_a) as s:
        case = _case(tenant_a, drafting_case)
        [version] = plans.versions(case)
        assert (version.id, version.number, version.state, version.based_on_id) == (draft_id, 1, "draft", None)
        assert version.content["F"]["provision"][0]["frequency"] == "weekly"
        # Section K is the case's own advice, whatever was sent.
        assert version.content["K"]["advice"] == [{"advice_id": "ep1", "advice": "psychological", "requested_on": "2026-02-11",
                                                   "received_on": "2026-03-20", "document_ids": []}]
        audit = s.execute(select(AuditEvent).where(AuditEvent.action == "plan.draft_saved")).scalars().all()
        assert [(a.subject_id, a.object_id) for a in audit] == [(drafting_case.child_id, draft_id)]
        assert audit[0].fields == "A,B,C,E,F,G,I,K"  # the sections that changed


def test_a_second_save_changes_the_same_draft_and_audits_only_what_changed(tenant_a: Any, drafting_case: Any) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        first = plans.save_draft(actor, _case(tenant_a, drafting_case), complete_plan())
        changed = complete_plan()
        changed["F"]["provision"][0]["frequency"] = "twice a week"
        second = plans.save_draft(actor, _case(tenant_a, drafting_case), changed)
        assert second.id == first.id
    with in_tenant(tenant_a) as s:
        fields = s.execute(select(AuditEvent.fields).where(AuditEvent.action == "plan.draft_saved")
                           .order_by(AuditEvent.occurred_at)).scalars().all()
        assert fields[-1] == "F"


def test_an_invalid_draft_is_refused_and_nothing_is_stored(tenant_a: Any, drafting_case: Any) -> None:
    plan = complete_plan()
    plan["E"]["outcomes"][0]["need_ids"] = ["nope"]
    with in_tenant(tenant_a):
        with pytest.raises(ValidationFailed) as info:
            plans.save_draft(system_actor(tenant_a), _case(tenant_a, drafting_case), plan)
    assert list(info.value.errors) == ["E.outcomes.0.need_ids"]
    assert _counts(tenant_a, drafting_case)[1] == 0


def test_writing_a_plan_needs_the_plans_write_permission(tenant_a: Any, drafting_case: Any, make_user: Any) -> None:
    officer = make_user(tenant_a, Role.SEND_OFFICER)
    with in_tenant(tenant_a):
        case = _case(tenant_a, drafting_case)
        for write in (lambda a: plans.save_draft(a, case, {}), lambda a: plans.start_draft(a, case),
                      lambda a: plans.edit_draft(a, case, lambda c: c)):
            with pytest.raises(Forbidden):
                write(actor_for(officer))
    assert _counts(tenant_a, drafting_case)[1] == 0


def test_edit_draft_changes_one_part_of_the_working_content(tenant_a: Any, drafting_case: Any) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        plans.save_draft(actor, _case(tenant_a, drafting_case), complete_plan())

        def add_need(content: dict[str, Any]) -> dict[str, Any]:
            content["D"]["needs"].append({"id": "d-1", "description": "Respite care"})
            return content

        draft = plans.edit_draft(actor, _case(tenant_a, drafting_case), add_need)
        assert [n["id"] for n in draft.content["D"]["needs"]] == ["d-1"]
        assert [n["id"] for n in draft.content["B"]["needs"]] == ["b-1", "b-2"]


def test_a_ceased_or_transferred_plan_takes_no_new_drafts(tenant_a: Any, drafting_case: Any) -> None:
    with in_tenant(tenant_a):
        case = _case(tenant_a, drafting_case)
        case.stage = "ceased"  # derived from events; set directly to test the guard alone
        with pytest.raises(Conflict, match="ceased or moved"):
            plans.start_draft(system_actor(tenant_a), case)
        with pytest.raises(Conflict):
            plans.save_draft(system_actor(tenant_a), case, {})


# ---------------------------------------------------------------------------------------
# Serving and issuing


def test_serving_freezes_the_draft_and_opens_a_new_working_draft(tenant_a: Any, drafting_case: Any, record: Any) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = _case(tenant_a, drafting_case)
        plans.save_draft(actor, case, complete_plan())
        record(actor, case, SERVED)
    with in_tenant(tenant_a):
        case = _case(tenant_a, drafting_case)
        served, draft = plans.versions(case)
        assert (served.state, served.event_id is not None, draft.state, draft.based_on_id) == ("served", True, "draft", served.id)
        assert draft.content == served.content
        assert plans.latest_issued(case) is None and plans.latest_frozen(case).id == served.id


def test_issuing_a_complete_plan_freezes_it_fills_section_k_and_keeps_a_pdf(tenant_a: Any, drafting_case: Any,
                                                                            record: Any, institution: int) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = _case(tenant_a, drafting_case)
        plans.save_draft(actor, case, complete_plan(urn=institution))
        record(actor, case, SERVED)
        # Advice filed after the draft was written still makes it into section K.
        store_document(actor, child_id=case.child_id, case_id=case.id, kind="advice", title="EP report",
                       filename="ep.pdf", data=b"%PDF-1.7\n%%EOF\n", advice_id="ep1")
        record(actor, case, ISSUED)
    with in_tenant(tenant_a) as s:
        case = _case(tenant_a, drafting_case)
        issued = plans.latest_issued(case)
        assert issued is not None and issued.number == 2 and str(issued.issued_on) == "2026-05-20"
        assert plans.current_draft(case) is None
        assert issued.content["I"]["placement"]["name"] == "Test Primary School"
        [advice] = issued.content["K"]["advice"]
        doc_id = s.execute(select(Document.id).where(Document.kind == "advice", Document.case_id == case.id)).scalar_one()
        assert advice["document_ids"] == [str(doc_id)] and advice["received_on"] == "2026-03-20"
        # The PDF job ran after the commit (inline backend) and kept one PDF of the issued version.
        pdf = plans.pdf_documents(case)[issued.id]
        assert (pdf.content_type, pdf.plan_version_id, pdf.child_id) == ("application/pdf", issued.id, case.child_id)
        assert pdf.title == "EHC plan version 2 (issued plan, 20 May 2026)"
    assert _counts(tenant_a, drafting_case) == (7, 2, 1)


def test_an_incomplete_plan_cannot_be_issued_and_the_event_is_refused(tenant_a: Any, drafting_case: Any, record: Any) -> None:
    plan = complete_plan()
    plan["F"]["provision"][0]["frequency"] = "as required"
    plan["I"]["placement"] = {"kind": None}
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = _case(tenant_a, drafting_case)
        plans.save_draft(actor, case, plan)
        record(actor, case, SERVED)
    before = _counts(tenant_a, drafting_case)
    with in_tenant(tenant_a) as s:
        case = _case(tenant_a, drafting_case)
        with pytest.raises(Conflict) as info:
            record(system_actor(tenant_a), case, ISSUED)
        # The web layer rolls back every 4xx; here the test does, as a caller must.
        s.rollback()
    message = info.value.message
    assert message.startswith("The plan is not complete enough to issue.")
    assert "Section F, ‘Speech and language therapy’: ‘as required’ is not specific" in message
    assert "Section I: name the school or other institution" in message
    assert info.value.field == "type"
    assert _counts(tenant_a, drafting_case) == before
    with in_tenant(tenant_a):
        case = _case(tenant_a, drafting_case)
        assert case.stage == "draft" and plans.latest_issued(case) is None
        assert plans.current_draft(case).content["F"]["provision"][0]["frequency"] == "as required"


def test_on_case_event_refuses_before_it_changes_any_version(tenant_a: Any, drafting_case: Any, record: Any) -> None:
    """The refusal comes first: no version is frozen or created in the refused transaction."""
    with in_tenant(tenant_a) as s:
        actor = system_actor(tenant_a)
        case = _case(tenant_a, drafting_case)
        plans.save_draft(actor, case, empty_plan() | {"A": {"views": "Written here", "interests": "", "aspirations": ""}})
        record(actor, case, SERVED)
        states = [(v.number, v.state) for v in plans.versions(case)]
        with pytest.raises(Conflict, match="Section B: add at least one special educational need;"):
            record(actor, case, ISSUED)
        assert [(v.number, v.state) for v in plans.versions(case)] == states
        s.rollback()


def test_check_case_event_is_the_same_check_without_changing_anything(tenant_a: Any, drafting_case: Any,
                                                                     make_case: Any) -> None:
    plan = complete_plan()
    plan["B"]["needs"] = []
    plan["E"]["outcomes"][0]["need_ids"] = []
    plan["E"]["outcomes"][1]["need_ids"] = []
    with in_tenant(tenant_a):
        case = _case(tenant_a, drafting_case)
        plans.check_case_event(case, "final_plan_issued")  # nothing written yet: nothing to check
        plans.save_draft(system_actor(tenant_a), case, plan)
        for event_type in ("final_plan_issued", "amended_plan_issued"):
            with pytest.raises(Conflict, match="Section B: add at least one special educational need"):
                plans.check_case_event(case, event_type)
        plans.check_case_event(case, "draft_plan_served")  # a draft may be served incomplete
        plans.check_case_event(case, "review_meeting_held")
        plans.save_draft(system_actor(tenant_a), case, complete_plan())
        plans.check_case_event(case, "final_plan_issued")
        assert [(v.number, v.state) for v in plans.versions(case)] == [(1, "draft")]


def test_a_case_with_no_plan_content_issues_as_before(tenant_a: Any, make_case: Any) -> None:
    """Suppliers recording events from another system write no plan here: nothing to check."""
    case = make_case(tenant_a, JOURNEY_TO_PLAN)
    with in_tenant(tenant_a):
        c = _case(tenant_a, case)
        assert [(v.number, v.state, v.content) for v in plans.versions(c)] == [(1, "served", {}), (2, "issued", {})]
        assert plans.pdf_documents(c) == {}  # nothing to render


def test_an_amendment_starts_from_the_plan_in_force_and_is_checked_when_issued(
        tenant_a: Any, drafting_case: Any, record: Any) -> None:
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = _case(tenant_a, drafting_case)
        plans.save_draft(actor, case, complete_plan())
        for event in (SERVED, ISSUED, {"type": "review_meeting_held", "date": "2026-10-01"},
                      {"type": "review_decision_sent", "date": "2026-10-10", "outcome": "amend"},
                      {"type": "amendment_notice_sent", "date": "2026-10-12"}):
            record(actor, case, event)
        issued = plans.latest_issued(case)
        draft = plans.start_draft(actor, case)
        assert plans.start_draft(actor, case).id == draft.id  # starting twice is one draft
        assert (draft.number, draft.based_on_id, draft.content) == (3, issued.id, issued.content)
        changed = complete_plan()
        changed["F"]["provision"][0].update(frequency="", duration="")
        plans.save_draft(actor, case, changed)
    with in_tenant(tenant_a) as s:
        case = _case(tenant_a, drafting_case)
        with pytest.raises(Conflict, match="say how often.*say for how long"):
            record(system_actor(tenant_a), case, {"type": "amended_plan_issued", "date": "2026-11-20"})
        s.rollback()
    with in_tenant(tenant_a):
        case = _case(tenant_a, drafting_case)
        changed["F"]["provision"][0].update(frequency="twice a week", duration="Until the next review")
        plans.save_draft(system_actor(tenant_a), case, changed)
        record(system_actor(tenant_a), case, {"type": "amended_plan_issued", "date": "2026-11-20"})
    with in_tenant(tenant_a):
        case = _case(tenant_a, drafting_case)
        assert [(v.number, v.state) for v in plans.versions(case)] == [(1, "served"), (2, "issued"), (3, "issued")]
        assert plans.latest_issued(case).content["F"]["provision"][0]["frequency"] == "twice a week"
        assert set(plans.pdf_documents(case)) == {v.id for v in plans.versions(case) if v.state == "issued"}


def test_section_k_lists_advice_requested_received_and_corrected(tenant_a: Any, make_case: Any, record: Any) -> None:
    case = make_case(tenant_a, [
        {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
        {"type": "advice_requested", "date": "2026-02-11", "advice": "educational", "advice_id": "ed1"},
        {"type": "advice_requested", "date": "2026-02-12", "advice": "medical", "advice_id": "med1"},
        {"type": "advice_received", "date": "2026-03-01", "advice": "educational", "advice_id": "ed1"},
    ])
    with in_tenant(tenant_a) as s:
        c = _case(tenant_a, case)
        wrong = s.execute(select(CaseEvent).where(CaseEvent.case_id == c.id, CaseEvent.type == "advice_received")).scalar_one()
        record(system_actor(tenant_a), c, {"type": "advice_received", "date": "2026-03-02", "advice": "educational",
                                           "advice_id": "ed1", "corrects": str(wrong.id)})
        assert plans.advice_list(c) == [
            {"advice_id": "ed1", "advice": "educational", "requested_on": "2026-02-11", "received_on": "2026-03-02",
             "document_ids": []},
            {"advice_id": "med1", "advice": "medical", "requested_on": "2026-02-12", "received_on": None, "document_ids": []},
        ]


def test_problems_if_issued_and_working_content(tenant_a: Any, drafting_case: Any) -> None:
    with in_tenant(tenant_a):
        case = _case(tenant_a, drafting_case)
        assert plans.working_content(case) == empty_plan()
        assert set(plans.problems_if_issued(plans.working_content(case))) == {
            "B.needs", "E.outcomes", "F.provision", "I.placement.kind"}
        assert plans.problems_if_issued(complete_plan()) == {}


# ---------------------------------------------------------------------------------------
# Lookups


def test_access_plan_case_needs_the_plans_permissions(tenant_a: Any, drafting_case: Any, make_user: Any) -> None:
    officer = make_user(tenant_a, Role.SEND_OFFICER)
    with in_tenant(tenant_a):
        assert access_plan_case(actor_for(officer), drafting_case.id).id == drafting_case.id
        with pytest.raises(NotFound):
            access_plan_case(actor_for(officer), drafting_case.id, for_write=True)
        no_plans = dataclasses.replace(system_actor(tenant_a), permissions=frozenset({"cases.read"}))
        with pytest.raises(NotFound):
            access_plan_case(no_plans, drafting_case.id)
        writer = dataclasses.replace(system_actor(tenant_a), permissions=frozenset({"plans.read", "plans.write", "cases.read"}))
        assert access_plan_case(writer, drafting_case.id, for_write=True).id == drafting_case.id


def test_access_version_finds_only_versions_of_that_case(tenant_a: Any, tenant_b: Any, make_case: Any) -> None:
    mine = make_case(tenant_a, JOURNEY_TO_PLAN)
    other = make_case(tenant_a, JOURNEY_TO_PLAN)
    theirs = make_case(tenant_b, JOURNEY_TO_PLAN)
    with in_tenant(tenant_b):
        their_version = plans.versions(_case(tenant_b, theirs))[0].id
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        case = _case(tenant_a, mine)
        version = plans.versions(case)[0]
        assert access_version(actor, case, str(version.id)).id == version.id
        for bad in (plans.versions(_case(tenant_a, other))[0].id, their_version, "not-an-id",
                    "01a21ea2-0000-7000-8000-000000000000"):
            with pytest.raises(NotFound):
                access_version(actor, case, bad)
        reader = dataclasses.replace(actor, permissions=frozenset({"cases.read"}))
        assert PLANS_READ not in reader.permissions
        with pytest.raises(NotFound):
            access_version(reader, case, version.id)
