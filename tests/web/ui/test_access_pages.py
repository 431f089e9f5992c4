"""Council staff pages for the portals (web/ui/access.py): people with access, inviting,
resending and withdrawing (after a recent sign-in), consent, and what was sent in through the
portals. Bad input gets a GOV.UK error summary and changes nothing."""

from __future__ import annotations

import datetime as dt
import html
import re
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock, mail
from core.audit.models import AuditEvent
from core.identity import services as identities
from core.identity.models import Consent, Membership, MembershipRole
from core.submissions.models import Submission, SubmissionKind
from core.users.models import Role
from tests.conftest import csrf_token, in_tenant

TODAY = dt.date(2026, 2, 20)
ASSESSING = [
    {"type": "decision_to_assess_made", "date": "2026-02-10", "outcome": "assess"},
    {"type": "advice_requested", "date": "2026-02-11", "advice": "medical", "advice_id": "med1"},
]


def _text(body: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def _summary(body: str) -> list[tuple[str, str]]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return [(h, html.unescape(t)) for h, t in re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))]


def _address() -> str:
    return f"person-{uuid.uuid4().hex[:10]}@example.org"


def _members(tenant: Any) -> list[Membership]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(Membership).order_by(Membership.created_at)).scalars())


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def caseworker(tenant_a: Any, make_user: Any) -> Any:
    return make_user(tenant_a, Role.CASEWORKER, name="Casey Worker")


@pytest.fixture
def cw(client_for: Any, tenant_a: Any, caseworker: Any) -> Any:
    return client_for(tenant_a, caseworker)


@pytest.fixture
def stale(client_for: Any, tenant_a: Any, caseworker: Any) -> Any:
    """The same caseworker, signed in 16 minutes ago (and busy since)."""
    return client_for(tenant_a, caseworker, signed_in_at=time.time() - 16 * 60)


@pytest.fixture
def family(tenant_a: Any, make_child: Any, make_contact: Any, make_case: Any) -> dict[str, Any]:
    child = make_child(tenant_a, given_name="Noor", family_name="Shah", date_of_birth=dt.date(2016, 7, 9))
    mother = make_contact(tenant_a, child, given_name="Ruth", family_name="Shah", email=_address())
    worker = make_contact(tenant_a, child, given_name="Jo", family_name="Carter", relationship="social_worker",
                          email=_address(), parental_responsibility=False)
    case = make_case(tenant_a, ASSESSING, child=child, today=TODAY)
    return {"child": child, "mother": mother, "worker": worker, "case": case,
            "people": f"/children/{child.id}/access"}


# ---------------------------------------------------------------------------------------
# People with access


def test_the_people_page_lists_memberships_with_their_status_and_consent(
        tenant_a: Any, family: dict[str, Any], make_member: Any, make_identity: Any, cw: Any) -> None:
    make_member(tenant_a, "parent", child_id=family["child"].id, identity=make_identity(name="Ruth Shah"))
    make_member(tenant_a, "professional", case_id=family["case"].id, advice_id="med1",
                identity=make_identity(name="Dr Ravi Menon"))
    with in_tenant(tenant_a) as s:
        s.add(Consent(child_id=family["child"].id, recipient="Young Carers Trust", purpose="Respite",
                      given_by="identity:x"))
    resp = cw.get(family["people"])
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    page = _text(body)
    assert "Ruth Shah" in page and "Parent or carer" in page and "Noor Shah's records" in page
    assert "Dr Ravi Menon" in page and "Medical advice (reference med1)" in page
    assert page.count("Has access") == 2 and "Young Carers Trust" in page and "The family, online" in page
    assert "Withdraw" in page and "Invite a parent or carer" in page


def test_a_read_only_officer_sees_the_people_but_cannot_change_anything(
        tenant_a: Any, family: dict[str, Any], make_member: Any, make_user: Any, client_for: Any) -> None:
    make_member(tenant_a, "parent", child_id=family["child"].id)
    officer = client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))
    page = _text(officer.get(family["people"]).get_data(as_text=True))
    assert "Has access" in page and "Withdraw" not in page and "Invite a parent" not in page
    assert officer.get(f"{family['people']}/parent").status_code == 403


def test_the_child_and_case_pages_link_to_access_and_count_new_submissions(
        tenant_a: Any, family: dict[str, Any], cw: Any) -> None:
    assert family["people"] in cw.get(f"/children/{family['child'].id}").get_data(as_text=True)
    case_page = cw.get(f"/cases/{family['case'].id}").get_data(as_text=True)
    assert family["people"] in case_page and f"/cases/{family['case'].id}/submissions" in case_page
    assert " new</strong>" not in case_page
    _submission(tenant_a, family)
    assert "1 new" in _text(cw.get(f"/cases/{family['case'].id}").get_data(as_text=True))


# ---------------------------------------------------------------------------------------
# Inviting a parent or carer


def test_inviting_a_parent_sends_an_invitation_that_names_the_council_not_the_child(
        tenant_a: Any, family: dict[str, Any], cw: Any, client_for: Any) -> None:
    path = f"{family['people']}/parent"
    form = cw.get(path).get_data(as_text=True)
    assert family["mother"].email in form and family["worker"].email not in form
    assert "Jo Carter: no parental responsibility" in _text(form)
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "contact": str(family["mother"].id)})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(family["people"])
    (membership,) = _members(tenant_a)
    assert membership.role == MembershipRole.PARENT and membership.invited_email == family["mother"].email
    (message,) = mail.read_outbox(family["mother"].email)
    body = message.get_content()
    token = re.search(r"https://[^\s]+/invitations/([A-Za-z0-9_-]+)", body).group(1)
    assert "Council A" in body and "Noor" not in body and "Shah" not in body
    # The link in the e-mail is the invitation's, for a browser that has never signed in.
    landing = client_for(tenant_a).get(f"/invitations/{token}")
    assert landing.status_code == 200 and "You have been invited" in landing.get_data(as_text=True)


def test_a_contact_without_parental_responsibility_is_refused_and_nothing_changes(
        tenant_a: Any, family: dict[str, Any], cw: Any) -> None:
    path = f"{family['people']}/parent"
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "contact": str(family["worker"].id)})
    assert resp.status_code == 400
    (problem,) = _summary(resp.get_data(as_text=True))
    assert problem[0] == f"#contact-{family['mother'].id}"
    assert "Jo Carter cannot be invited as a parent or carer because they do not have parental responsibility" \
        in problem[1]
    assert _members(tenant_a) == [] and mail.read_outbox(family["worker"].email) == []
    nothing = cw.post(path, data={"csrf_token": csrf_token(cw, path)})
    assert nothing.status_code == 400 and _summary(nothing.get_data(as_text=True))[0][1] == \
        "Select the parent or carer to invite"


# ---------------------------------------------------------------------------------------
# Young people


def test_a_child_under_compulsory_school_age_cannot_be_invited_as_a_young_person(
        tenant_a: Any, family: dict[str, Any], cw: Any) -> None:
    path = f"{family['people']}/young-person"
    page = _text(cw.get(path).get_data(as_text=True))
    # Born 9 July 2016: Year 11 in 2031/32, so compulsory school age ends on the last Friday of
    # June 2032, the 25th (Education Act 1996 s8).
    assert "is not over compulsory school age yet" in page and "They can be invited from 26 June 2032" in page
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, "/children/"), "email": _address()})
    assert resp.status_code == 409
    (problem,) = _summary(resp.get_data(as_text=True))
    assert problem[0] == "#email" and "not over compulsory school age yet" in problem[1]
    assert _members(tenant_a) == []


def test_a_young_person_is_invited_at_the_address_the_caseworker_types(
        tenant_a: Any, make_child: Any, cw: Any) -> None:
    child = make_child(tenant_a, date_of_birth=dt.date(2008, 1, 5))
    path = f"/children/{child.id}/access/young-person"
    bad = cw.post(path, data={"csrf_token": csrf_token(cw, path), "email": "not an address"})
    assert bad.status_code == 400 and _summary(bad.get_data(as_text=True)) == [
        ("#email", "Enter an email address in the correct format, like name@example.com")]
    address = _address()
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "email": address})
    assert resp.status_code == 302
    (membership,) = _members(tenant_a)
    assert membership.role == MembershipRole.YOUNG_PERSON and membership.child_id == child.id
    assert len(mail.read_outbox(address)) == 1


# ---------------------------------------------------------------------------------------
# Professionals


def test_a_professional_is_invited_for_an_advice_request_until_14_days_after_it_is_due(
        tenant_a: Any, family: dict[str, Any], cw: Any) -> None:
    path = f"/cases/{family['case'].id}/access/professional"
    form = _text(cw.get(path).get_data(as_text=True))
    # Due 25 March 2026 (reg 8(1)); access until 8 April unless the caseworker chooses.
    assert "Medical advice (reference med1)" in form and "due 25 March 2026" in form and "8 April 2026" in form
    bad = cw.post(path, data={"csrf_token": csrf_token(cw, path), "email": "x", "ends-day": "31", "ends-month": "2",
                              "ends-year": "2026"})
    assert bad.status_code == 400
    assert [h for h, _ in _summary(bad.get_data(as_text=True))] == ["#advice_id-med1", "#email", "#ends-day"]
    assert _members(tenant_a) == []
    address = _address()
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "advice_id": "med1", "email": address})
    assert resp.status_code == 302
    (membership,) = _members(tenant_a)
    assert (membership.case_id, membership.advice_id) == (family["case"].id, "med1")
    assert membership.expires_at == dt.datetime(2026, 4, 8, 23, 0, tzinfo=dt.timezone.utc)
    assert "Your access ends when you have sent your advice" in mail.read_outbox(address)[0].get_content()


# ---------------------------------------------------------------------------------------
# Sensitive actions: a recent sign-in first


def _invite_parent(tenant: Any, family: dict[str, Any], cw: Any) -> Membership:
    path = f"{family['people']}/parent"
    cw.post(path, data={"csrf_token": csrf_token(cw, path), "contact": str(family["mother"].id)})
    (membership,) = _members(tenant)
    return membership


def test_withdrawing_access_with_an_old_sign_in_asks_the_caseworker_to_confirm_it_is_them(
        tenant_a: Any, family: dict[str, Any], cw: Any, stale: Any) -> None:
    membership = _invite_parent(tenant_a, family, cw)
    path = f"{family['people']}/revoke"
    resp = stale.get(f"{path}?membership={membership.id}")
    assert resp.status_code == 302 and "/confirm-it-is-you" in resp.headers["Location"]
    token = csrf_token(stale, family["people"])
    resp = stale.post(path, data={"csrf_token": token, "membership": str(membership.id)},
                      headers={"Referer": f"{stale.base_url}{path}?membership={membership.id}"})
    assert resp.status_code == 302 and "/confirm-it-is-you" in resp.headers["Location"]
    assert _members(tenant_a)[0].revoked_at is None


def test_inviting_with_an_old_sign_in_asks_first_and_invites_nobody(tenant_a: Any, family: dict[str, Any],
                                                                    stale: Any) -> None:
    for path in (f"{family['people']}/parent", f"{family['people']}/young-person", f"{family['people']}/senco",
                 f"/cases/{family['case'].id}/access/professional"):
        resp = stale.get(path)
        assert resp.status_code == 302 and "/confirm-it-is-you?next=" in resp.headers["Location"], path
    token = csrf_token(stale, family["people"])
    resp = stale.post(f"{family['people']}/parent", data={"csrf_token": token, "contact": str(family["mother"].id)})
    assert resp.status_code == 302 and "/confirm-it-is-you" in resp.headers["Location"]
    assert _members(tenant_a) == [] and mail.read_outbox(family["mother"].email) == []


def test_withdrawing_access_ends_it_at_once(tenant_a: Any, family: dict[str, Any], make_member: Any, cw: Any,
                                           identity_client: Any) -> None:
    parent = make_member(tenant_a, "parent", child_id=family["child"].id)
    family_client = identity_client(tenant_a, parent)
    assert family_client.get("/portal/").status_code == 200
    (membership,) = _members(tenant_a)
    path = f"{family['people']}/revoke"
    page = cw.get(f"{path}?membership={membership.id}").get_data(as_text=True)
    assert f'value="{membership.id}" checked' in page
    missing = cw.post(path, data={"csrf_token": csrf_token(cw, path)})
    assert missing.status_code == 400 and _summary(missing.get_data(as_text=True)) == [
        (f"#membership-{membership.id}", "Select whose access to withdraw")]
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "membership": str(membership.id)})
    assert resp.status_code == 302
    assert _members(tenant_a)[0].revoked_at is not None
    # The parent's very next request: nothing left here, signed out.
    resp = family_client.get("/portal/")
    assert resp.status_code == 302 and "ended=no_access" in resp.headers["Location"]
    assert "Withdrawn" in _text(cw.get(family["people"]).get_data(as_text=True))


def test_resending_an_invitation_sends_a_new_link_and_the_old_one_stops_working(
        tenant_a: Any, family: dict[str, Any], cw: Any, stale: Any) -> None:
    membership = _invite_parent(tenant_a, family, cw)
    first = re.search(r"/invitations/([A-Za-z0-9_-]+)", mail.read_outbox(family["mother"].email)[-1].get_content())
    path = f"{family['people']}/resend"
    assert "/confirm-it-is-you" in stale.get(path).headers["Location"]
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "membership": str(membership.id)})
    assert resp.status_code == 302
    messages = mail.read_outbox(family["mother"].email)
    assert len(messages) == 2
    second = re.search(r"/invitations/([A-Za-z0-9_-]+)", messages[-1].get_content())
    assert first and second and first.group(1) != second.group(1)
    with in_tenant(tenant_a):
        assert identities.pending_invitation(first.group(1)) is None
        assert identities.pending_invitation(second.group(1)).id == membership.id


# ---------------------------------------------------------------------------------------
# Consent


def test_consent_is_recorded_and_withdrawn_through_the_pages(tenant_a: Any, family: dict[str, Any], cw: Any,
                                                            stale: Any) -> None:
    path = f"/children/{family['child'].id}/consents/new"
    assert "/confirm-it-is-you" in stale.get(path).headers["Location"]
    bad = cw.post(path, data={"csrf_token": csrf_token(cw, path), "recipient": "", "purpose": ""})
    assert bad.status_code == 400 and [h for h, _ in _summary(bad.get_data(as_text=True))] == ["#recipient", "#purpose"]
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path), "recipient": "Young Carers Trust",
                               "purpose": "Respite planning, agreed by phone"})
    assert resp.status_code == 302
    with in_tenant(tenant_a) as s:
        (consent,) = s.execute(select(Consent)).scalars()
        assert s.execute(select(AuditEvent.action).where(AuditEvent.object_id == consent.id)).scalar_one() == \
            "consent.recorded"
    page = _text(cw.get(family["people"]).get_data(as_text=True))
    assert "Young Carers Trust" in page and "Recorded by Casey Worker" in page
    withdraw = f"/children/{family['child'].id}/consents/withdraw"
    resp = cw.post(withdraw, data={"csrf_token": csrf_token(cw, withdraw), "consent": str(consent.id)})
    assert resp.status_code == 302
    with in_tenant(tenant_a) as s:
        assert s.get(Consent, consent.id).revoked_at is not None
    again = cw.post(withdraw, data={"csrf_token": csrf_token(cw, family["people"]), "consent": str(consent.id)})
    assert again.status_code == 409


# ---------------------------------------------------------------------------------------
# Sent in through the portal


def _submission(tenant: Any, family: dict[str, Any], **kw: Any) -> Any:
    with in_tenant(tenant) as s:
        row = Submission(child_id=family["child"].id, case_id=family["case"].id,
                         kind=kw.pop("kind", SubmissionKind.PREFERRED_SCHOOL),
                         body=kw.pop("body", {"school": "Hill Top School", "reasons": "Close to home"}),
                         text="Hill Top School", submitted_by="identity:x", submitted_as="parent",
                         submitted_by_name="Ruth Shah", **kw)
        s.add(row)
        s.flush()
        return row.id


def test_a_caseworker_reads_a_submission_and_marks_it_as_dealt_with(tenant_a: Any, family: dict[str, Any],
                                                                   cw: Any, make_user: Any, client_for: Any) -> None:
    sid = _submission(tenant_a, family)
    listing = cw.get(f"/cases/{family['case'].id}/submissions")
    assert listing.status_code == 200
    row = _text(listing.get_data(as_text=True))
    assert "Preferred school or college" in row and "Ruth Shah" in row and "New" in row
    path = f"/cases/{family['case'].id}/submissions/{sid}"
    page = _text(cw.get(path).get_data(as_text=True))
    assert "Hill Top School" in page and "Close to home" in page and "Mark as dealt with" in page
    officer = client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))
    assert "Mark as dealt with" not in officer.get(path).get_data(as_text=True)
    assert officer.post(path, data={"csrf_token": csrf_token(officer, path)}).status_code == 403
    resp = cw.post(path, data={"csrf_token": csrf_token(cw, path)})
    assert resp.status_code == 302
    with in_tenant(tenant_a) as s:
        found = s.get(Submission, sid)
        assert found.acknowledged_at is not None and found.acknowledged_by.startswith("staff:")
    assert "Dealt with" in _text(cw.get(path).get_data(as_text=True))
    assert "Casey Worker" in _text(cw.get(path).get_data(as_text=True))


def test_advice_sent_through_the_portal_shows_its_answers_file_and_the_event_it_recorded(
        tenant_a: Any, family: dict[str, Any], make_member: Any, cw: Any) -> None:
    from core.db import db
    from core.identity.models import Identity
    from core.portal import advice
    from core.timescales import TimescalePolicy

    doctor = make_member(tenant_a, "professional", case_id=family["case"].id, advice_id="med1")
    with in_tenant(tenant_a):
        actor = identities.actor_for_identity(db.session.get(Identity, doctor.id))
        case, request = advice.access_advice_request(actor, family["case"].id, "med1", policy=TimescalePolicy(),
                                                     today=TODAY)
        sent = advice.submit_advice(actor, case, request, {"summary": "Needs first", "provision": "Provision second\n"
                                                          "and more", "outcomes": "Outcomes third"},
                                    advice.AdviceFile("letter.pdf", b"%PDF-1.7\n%%EOF\n"), policy=TimescalePolicy(),
                                    today=TODAY)
        sid, event_id = sent.id, sent.case_event_id
    body = cw.get(f"/cases/{family['case'].id}/submissions/{sid}").get_data(as_text=True)
    assert re.search(rf'<a class="govuk-link" href="/cases/{family["case"].id}#event-{event_id}">Advice received</a>',
                     body)
    page = _text(body)
    assert page.index("Needs first") < page.index("Provision second") < page.index("Outcomes third")
    assert "Provision second<br>and more" in body and re.search(r'href="/documents/[0-9a-f-]{36}"', body)
    assert "Medical advice (reference med1)" in page and "(Professional)" in page


@pytest.mark.parametrize("orm_criterion", ["on", "off"], indirect=True)
def test_submission_page_of_another_council_is_not_found(orm_criterion: str, tenant_a: Any, tenant_b: Any,
                                                        object_graph: Any, make_user: Any, client_for: Any) -> None:
    """The positive control for ``access.submission`` in tests/isolation/access.py: each
    council's caseworker reads their own submission; the other council's is the same 404 as
    a made-up id, and marking it as dealt with changes nothing."""
    graphs = {t.slug: (t, object_graph(t)) for t in (tenant_a, tenant_b)}
    ids = {slug: _submission(t, {"child": g["child"], "case": g["case"]}) for slug, (t, g) in graphs.items()}
    for mine, theirs in (("council-a", "council-b"), ("council-b", "council-a")):
        tenant, graph = graphs[mine]
        client = client_for(tenant, make_user(tenant))
        assert client.get(f"/cases/{graph['case_id']}/submissions/{ids[mine]}").status_code == 200
        assert client.get(f"/cases/{graph['case_id']}/submissions/{ids[theirs]}").status_code == 404
        other_case = graphs[theirs][1]["case_id"]
        found = client.get(f"/cases/{other_case}/submissions/{ids[theirs]}")
        missing = client.get(f"/cases/{other_case}/submissions/{uuid.uuid4()}")
        assert found.status_code == missing.status_code == 404
        assert re.sub(r'nonce="[^"]+"|[0-9a-f]{32}', "", found.get_data(as_text=True)) == \
            re.sub(r'nonce="[^"]+"|[0-9a-f]{32}', "", missing.get_data(as_text=True))
        token = csrf_token(client, "/children/")
        assert client.post(f"/cases/{other_case}/submissions/{ids[theirs]}",
                           data={"csrf_token": token}).status_code == 404
        assert "Preferred school or college" not in client.get(f"/cases/{other_case}/submissions").get_data(as_text=True)
    for tenant, _graph in graphs.values():
        with in_tenant(tenant) as s:
            assert s.execute(select(func.count()).select_from(Submission)
                             .where(Submission.acknowledged_at.is_not(None))).scalar_one() == 0


def test_portal_users_are_sent_to_the_staff_sign_in(tenant_a: Any, family: dict[str, Any], make_member: Any,
                                                   identity_client: Any) -> None:
    parent = identity_client(tenant_a, make_member(tenant_a, "parent", child_id=family["child"].id))
    for path in (family["people"], f"{family['people']}/revoke", f"/cases/{family['case'].id}/submissions"):
        resp = parent.get(path)
        assert resp.status_code == 302 and "/sign-in" in resp.headers["Location"] and "/portal/" not in \
            resp.headers["Location"]
