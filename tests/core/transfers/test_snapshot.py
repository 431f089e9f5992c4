"""Snapshot of a case in the sending council, and materialising it in the receiving one
(regs 15(2)-(5)): same plan, versions, documents and advice; the new council's own clocks
(statutory-rules §12 worked example 4); the child found by identifier; nothing crossing back."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.cases.access import access_case
from core.cases.models import Case, CaseEvent, Document, PlanVersion
from core.children.models import Child, Contact
from core.documents.services import store_document
from core.errors import Conflict, Forbidden
from core.plans import services as plans
from core.timescales import TimescalePolicy
from core.transfers import snapshot as snap
from tests.conftest import JOURNEY_TO_PLAN, in_tenant, system_actor
from tests.core.plans.factories import complete_plan

TODAY = dt.date(2026, 11, 27)
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
NHS = "9434765919"


@pytest.fixture(autouse=True)
def _inline_jobs() -> Iterator[None]:
    """Plan PDFs render in-process after commit (as tests/core/plans/conftest.py does)."""
    from core.jobs import configure_jobs

    configure_jobs(None)
    yield
    configure_jobs(None)


def upn_for(n: int) -> str:
    from tenants.demo import make_upn

    return make_upn("901", 2001, 2015, n)


def _record(actor: Any, case: Any, event: dict[str, Any]) -> None:
    from core.cases import services as cases

    cases.record_event(actor, case, event, policy=TimescalePolicy(), today=TODAY)


def transferable_case(tenant: Any, make_case: Any, make_child: Any, make_contact: Any, *, upn: str | None = None,
                      nhs_number: str | None = NHS) -> Any:
    """A case of ``tenant`` with: a parent with parental responsibility (and a social worker
    without it), a draft served, a final plan issued 20 May 2026, reviewed and amended
    (issued 20 Nov 2026), a new working draft, advice with a document, and an evidence photo.
    Versions: 1 served, 2 issued, 3 issued, 4 draft; plan PDFs for 2 and 3."""
    child = make_child(tenant, given_name="Ada", family_name="Moved", upn=upn or upn_for(7), nhs_number=nhs_number,
                       date_of_birth=dt.date(2016, 4, 2), sex="female", postcode="M1 1AE")
    make_contact(tenant, child, given_name="Grace", family_name="Moved", email="grace@example.com")
    make_contact(tenant, child, given_name="Sol", family_name="Worker", relationship="social_worker",
                 parental_responsibility=False)
    case = make_case(tenant, JOURNEY_TO_PLAN[:-2], child=child)
    with in_tenant(tenant):
        actor = system_actor(tenant)
        case = access_case(actor, case.id, for_write=True)
        store_document(actor, child_id=child.id, case_id=case.id, kind="advice", title="Educational psychology advice",
                       filename="EP advice.pdf", data=PDF, advice_id="ep1")
        plans.save_draft(actor, case, complete_plan())
        for event in ({"type": "draft_plan_served", "date": "2026-05-01"},
                      {"type": "final_plan_issued", "date": "2026-05-20"},
                      {"type": "review_meeting_held", "date": "2026-10-01"},
                      {"type": "review_decision_sent", "date": "2026-10-10", "outcome": "amend"},
                      {"type": "amendment_notice_sent", "date": "2026-10-12"}):
            _record(actor, case, event)
        amended = complete_plan()
        amended["F"]["provision"][0]["frequency"] = "twice a week"
        plans.save_draft(actor, case, amended)
        _record(actor, case, {"type": "amended_plan_issued", "date": "2026-11-20"})
        store_document(actor, child_id=child.id, case_id=case.id, kind="evidence", title="Photo of work",
                       filename="work.png", data=PNG)
    with in_tenant(tenant):
        actor = system_actor(tenant)
        case = access_case(actor, case.id, for_write=True)
        later = complete_plan()
        later["A"]["views"] = "A new view, not yet issued."
        plans.save_draft(actor, case, later)
    return case


def take(tenant: Any, case: Any) -> snap.CaseSnapshot:
    with in_tenant(tenant):
        actor = system_actor(tenant)
        return snap.snapshot_case(actor, access_case(actor, case.id))


def receive(tenant: Any, snapshot: snap.CaseSnapshot, *, on: dt.date = dt.date(2027, 1, 6),
            from_la_code: str = "901") -> Any:
    with in_tenant(tenant):
        case = snap.materialise(snapshot, transferred_on=on, transfer_id="t-1", from_la_code=from_la_code,
                                today=on)
        case_id = case.id
    return case_id


@pytest.fixture
def sent(tenant_a: Any, make_case: Any, make_child: Any, make_contact: Any) -> Any:
    return transferable_case(tenant_a, make_case, make_child, make_contact)


def test_snapshot_holds_the_child_contacts_case_versions_advice_and_documents(tenant_a: Any, sent: Any) -> None:
    s = take(tenant_a, sent)
    assert (s.from_la_code, s.from_council) == ("901", "Council A")
    assert s.child == {"given_name": "Ada", "family_name": "Moved", "date_of_birth": "2016-04-02", "upn": upn_for(7),
                       "uln": None, "nhs_number": NHS, "sex": "female", "postcode": "M1 1AE"}
    # Only contacts with parental responsibility move with the plan.
    assert [(c["given_name"], c["parental_responsibility"]) for c in s.contacts] == [("Grace", True)]
    assert s.case["status"] == "plan"
    dates = [e["date"] for e in s.case["events"]]
    assert dates == sorted(dates) and s.case["events"][0]["type"] == "request_received"
    assert any(d["key"] == "annual_review" for d in s.case["deadlines"])
    assert [(v["number"], v["state"], v["issued_on"]) for v in s.plan_versions] == [
        (1, "served", None), (2, "issued", "2026-05-20"), (3, "issued", "2026-11-20"), (4, "draft", None)]
    assert s.current_plan["number"] == 3
    assert s.current_plan["content"]["F"]["provision"][0]["frequency"] == "twice a week"
    assert (s.plan_made_on, s.last_reviewed_on) == ("2026-05-20", "2026-10-10")
    [advice] = s.advice
    assert (advice["advice_id"], advice["advice"], advice["received_on"]) == ("ep1", "psychological", "2026-03-20")
    kinds = sorted(d.kind for d in s.documents)
    assert kinds == ["advice", "evidence", "plan_pdf", "plan_pdf"]
    for doc in s.documents:
        assert doc.path.startswith(f"documents/{doc.id}-")
        assert hashlib.sha256(s.files[doc.path]).hexdigest() == doc.sha256 and doc.size == len(s.files[doc.path])
    # JSON round trip (the bytes travel apart).
    back = snap.CaseSnapshot.from_json(json.loads(json.dumps(s.to_json())), s.files)
    assert back == s and back.files == s.files
    assert "files" not in s.to_json() and s.to_json()["plan"]["number"] == 3
    with in_tenant(tenant_a) as session:
        actions = set(session.execute(select(AuditEvent.action).where(AuditEvent.subject_id == sent.child_id)).scalars())
    assert {"transfer.snapshot_taken", "document.read"} <= actions


def test_snapshot_needs_a_permission(tenant_a: Any, sent: Any) -> None:
    from core.actors import Actor

    with in_tenant(tenant_a):
        nobody = Actor(tenant_id=tenant_a.id, kind="user", id="x", permissions=frozenset())
        with pytest.raises(Forbidden):
            snap.snapshot_case(nobody, access_case(system_actor(tenant_a), sent.id))


def test_materialise_gives_the_same_plan_documents_and_the_new_councils_clocks(
        tenant_a: Any, tenant_b: Any, sent: Any) -> None:
    s = take(tenant_a, sent)
    case_id = receive(tenant_b, s)
    with in_tenant(tenant_b) as session:
        case = session.get(Case, case_id)
        child = session.get(Child, case.child_id)
        assert (child.given_name, child.upn, child.nhs_number, child.postcode) == ("Ada", upn_for(7), NHS, "M1 1AE")
        assert [(c.given_name, c.parental_responsibility) for c in child.contacts] == [("Grace", True)]
        assert case.stage == "plan"
        # One event only: the transfer. The old council's events would restart its clocks here.
        [event] = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)).scalars().all()
        assert event.as_event() | {"id": None} == {
            "type": "plan_transferred", "date": "2027-01-06", "id": None, "from_la_code": "901", "to_la_code": "902",
            "plan_made_on": "2026-05-20", "last_reviewed_on": "2026-10-10"}
        versions = plans.versions(case)
        assert [(v.number, v.state, v.issued_on) for v in versions] == [
            (1, "served", None), (2, "issued", dt.date(2026, 5, 20)), (3, "issued", dt.date(2026, 11, 20)), (4, "draft", None)]
        by_number = {v["number"]: v for v in s.plan_versions}
        docs = {d.id: d for d in session.execute(select(Document).where(Document.case_id == case.id)).scalars()}
        new_by_sha = {d.sha256: d for d in docs.values()}
        for version in versions:
            expected = dict(by_number[version.number]["content"])
            assert {k: v for k, v in version.content.items() if k != "K"} == \
                {k: v for k, v in expected.items() if k != "K"}
        assert plans.latest_issued(case).content["F"]["provision"][0]["frequency"] == "twice a week"
        assert plans.current_draft(case).content["A"]["views"] == "A new view, not yet issued."
        assert versions[2].based_on_id == versions[1].id
        # The same bytes under this council's keys.
        from core.storage import storage

        for meta in s.documents:
            copy = new_by_sha[meta.sha256]
            assert copy.storage_key.startswith(f"tenants/{tenant_b.id}/")
            assert hashlib.sha256(storage().get(copy.storage_key)).hexdigest() == meta.sha256
            assert (copy.kind, copy.title, copy.advice_id) == (meta.kind, meta.title, meta.advice_id)
        pdfs = plans.pdf_documents(case)
        assert set(pdfs) == {versions[1].id, versions[2].id}
        ep = new_by_sha[hashlib.sha256(PDF).hexdigest()]
        assert plans.latest_issued(case).content["K"]["advice"][0]["document_ids"] == [str(ep.id)]
        # Section K keeps the advice the old council obtained (kind, dates, documents) on
        # this council's own list too, which is what a new draft here is saved with.
        [inherited] = plans.advice_list(case)
        sent_k = by_number[3]["content"]["K"]["advice"][0]
        assert (inherited["advice_id"], inherited["advice"], inherited["requested_on"], inherited["received_on"]) == \
            (sent_k["advice_id"], sent_k["advice"], sent_k["requested_on"], sent_k["received_on"])
        assert inherited["advice"] and inherited["received_on"]
        assert inherited["document_ids"] == [str(ep.id)]
        # The old council's history is kept, read-only, beside the case.
        history = snap.previous_history(system_actor(tenant_b), case)
        assert history["from_la_code"] == "901"
        assert [e["type"] for e in history["case"]["events"]][-1] == "amended_plan_issued"
        # Worked example 4 shape: reg 15(4) 6 weeks from 6 Jan 2027; reg 15(5) the later of
        # 12 months from the last review (10 Oct 2026 -> 9 Oct 2027) and 3 months (5 Apr 2027).
        deadlines = {d.key: d for d in case_deadlines(session, case)}
        assert deadlines["new_la_notification"].due == dt.date(2027, 2, 17)
        assert deadlines["new_la_review"].due == dt.date(2027, 10, 9)
        actions = set(session.execute(select(AuditEvent.action).where(AuditEvent.subject_id == child.id)).scalars())
        assert {"child.created", "case.opened", "plan.version_received", "document.added", "case.transferred_in"} <= actions
        # Every write here is by this council's system actor for the transfer.
        actors = set(session.execute(select(AuditEvent.actor_id).where(
            AuditEvent.subject_id == child.id, AuditEvent.action != "document.read")).scalars())
        assert actors == {"transfer:t-1"}


def case_deadlines(session: Any, case: Any) -> list[Any]:
    from core.cases.models import CaseDeadline

    return list(session.execute(select(CaseDeadline).where(CaseDeadline.case_id == case.id)).scalars())


def test_worked_example_4_plan_never_reviewed(tenant_a: Any, tenant_b: Any, sent: Any) -> None:
    """statutory-rules §12 example 4: plan made 10 Mar 2026, never reviewed, transferred on
    6 Jan 2027: new_la_notification 17 Feb 2027, new_la_review 5 Apr 2027."""
    s = take(tenant_a, sent)
    s = snap.CaseSnapshot.from_json({**s.to_json(), "plan_made_on": "2026-03-10", "last_reviewed_on": None}, s.files)
    case_id = receive(tenant_b, s)
    with in_tenant(tenant_b) as session:
        deadlines = {d.key: d for d in case_deadlines(session, session.get(Case, case_id))}
    assert deadlines["new_la_notification"].due == dt.date(2027, 2, 17)
    assert deadlines["new_la_review"].due == dt.date(2027, 4, 5)


def test_an_existing_child_is_found_by_upn_not_created_again(
        tenant_a: Any, tenant_b: Any, sent: Any, make_child: Any, make_contact: Any) -> None:
    known = make_child(tenant_b, given_name="Different", family_name="Name", upn=upn_for(7))
    make_contact(tenant_b, known, given_name="Grace", family_name="Moved")
    case_id = receive(tenant_b, take(tenant_a, sent))
    with in_tenant(tenant_b) as session:
        case = session.get(Case, case_id)
        assert case.child_id == known.id
        assert session.execute(select(func.count()).select_from(Child).where(Child.upn == upn_for(7))).scalar_one() == 1
        # The same contact is not added twice.
        names = session.execute(select(Contact.given_name).where(Contact.child_id == known.id)).scalars().all()
        assert names == ["Grace"]
        actions = session.execute(select(AuditEvent.action).where(AuditEvent.subject_id == known.id)).scalars().all()
        assert "child.matched_on_transfer" in actions


def test_a_child_is_found_by_nhs_number_and_never_by_name(
        tenant_a: Any, tenant_b: Any, sent: Any, make_child: Any) -> None:
    same_name = make_child(tenant_b, given_name="Ada", family_name="Moved", date_of_birth=dt.date(2016, 4, 2))
    by_nhs = make_child(tenant_b, given_name="Ada", family_name="Moved-Smith", nhs_number=NHS)
    s = take(tenant_a, sent)
    s = snap.CaseSnapshot.from_json({**s.to_json(), "child": {**s.child, "upn": None}}, s.files)
    case_id = receive(tenant_b, s)
    with in_tenant(tenant_b) as session:
        assert session.get(Case, case_id).child_id == by_nhs.id != same_name.id


def test_identifiers_matching_two_children_are_refused(tenant_a: Any, tenant_b: Any, sent: Any,
                                                       make_child: Any) -> None:
    make_child(tenant_b, upn=upn_for(7))
    make_child(tenant_b, nhs_number=NHS)
    s = take(tenant_a, sent)
    with in_tenant(tenant_b) as session:
        with pytest.raises(Conflict, match="more than one child"):
            snap.materialise(s, transferred_on=dt.date(2027, 1, 6), transfer_id="t-1", from_la_code="901",
                            today=dt.date(2027, 1, 6))
        session.rollback()


def test_a_child_with_an_open_case_here_is_refused(tenant_a: Any, tenant_b: Any, sent: Any, make_child: Any,
                                                   make_case: Any) -> None:
    known = make_child(tenant_b, upn=upn_for(7))
    make_case(tenant_b, child=known)
    s = take(tenant_a, sent)
    with in_tenant(tenant_b) as session:
        with pytest.raises(Conflict, match="already has an open EHC case"):
            snap.materialise(s, transferred_on=dt.date(2027, 1, 6), transfer_id="t-1", from_la_code="901",
                            today=dt.date(2027, 1, 6))
        session.rollback()


def test_nothing_of_the_receiving_council_is_visible_in_the_sender(tenant_a: Any, tenant_b: Any, sent: Any) -> None:
    case_id = receive(tenant_b, take(tenant_a, sent))
    with in_tenant(tenant_a) as session:
        assert session.get(Case, case_id) is None
        assert session.execute(select(func.count()).select_from(PlanVersion)
                               .where(PlanVersion.case_id == case_id)).scalar_one() == 0
        assert session.execute(select(func.count()).select_from(Document)
                               .where(Document.case_id == case_id)).scalar_one() == 0
        # The sender's own case is untouched: same versions, still its plan.
        case = session.get(Case, sent.id)
        assert [v.number for v in plans.versions(case)] == [1, 2, 3, 4] and case.stage == "plan"
    with in_tenant(tenant_b) as session:
        assert session.get(Case, sent.id) is None
        assert session.get(Child, sent.child_id) is None
