"""Plan pages: the plan, the editor (section A, the add/change/remove lists, I and J), versions,
what changed, and downloading documents.

Every form is also tested with bad input: a GOV.UK error summary, a 400, and nothing saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit.models import AuditEvent
from core.cases.access import access_case
from core.cases.models import PlanVersion
from core.plans import services as plans
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, csrf_token, in_tenant, system_actor
from tests.core.plans.factories import complete_plan

pytestmark = pytest.mark.smoke

TO_DRAFTING = JOURNEY_TO_PLAN[:-2]


def _summary(body: str) -> list[tuple[str, str]]:
    """(href, text) of each error summary link."""
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))


def _post(client: Any, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def _working(tenant: Any, case: Any) -> dict[str, Any] | None:
    with in_tenant(tenant):
        draft = plans.current_draft(access_case(system_actor(tenant), case.id))
        return None if draft is None else draft.content


def _version_count(tenant: Any, case: Any) -> int:
    with in_tenant(tenant) as s:
        return s.execute(select(func.count()).select_from(PlanVersion).where(PlanVersion.case_id == case.id)).scalar_one()


@pytest.fixture(autouse=True)
def _inline_jobs() -> Iterator[None]:
    """Plan PDFs are rendered by a job run in-process after the commit (the embedded default).
    Some other tests build a production app that points the process-wide job backend at
    Redis and leave it there; put the default back for these tests."""
    from core.jobs import configure_jobs

    configure_jobs(None)
    yield
    configure_jobs(None)


@pytest.fixture
def caseworker(tenant_a: Any, make_user: Any) -> Any:
    return make_user(tenant_a, Role.CASEWORKER, name="Casey Worker")


@pytest.fixture
def cw(client_for: Any, tenant_a: Any, caseworker: Any) -> Any:
    return client_for(tenant_a, caseworker)


@pytest.fixture
def case(tenant_a: Any, make_case: Any) -> Any:
    """A case whose plan is being drafted, with no draft written yet."""
    return make_case(tenant_a, TO_DRAFTING)


@pytest.fixture
def drafted(tenant_a: Any, case: Any) -> Any:
    """The same case with a complete working draft."""
    with in_tenant(tenant_a):
        plans.save_draft(system_actor(tenant_a), access_case(system_actor(tenant_a), case.id), complete_plan())
    return case


def _issue(tenant: Any, case: Any) -> None:
    from core.cases import services as cases
    from core.timescales import TimescalePolicy
    from tests.core.plans.conftest import TODAY

    with in_tenant(tenant):
        actor = system_actor(tenant)
        c = access_case(actor, case.id, for_write=True)
        for event in JOURNEY_TO_PLAN[-2:]:
            cases.record_event(actor, c, event, policy=TimescalePolicy(), today=TODAY)


# ---------------------------------------------------------------------------------------
# The plan page


def test_signed_out_people_are_sent_to_sign_in(client_for: Any, tenant_a: Any, case: Any) -> None:
    resp = client_for(tenant_a).get(f"/cases/{case.id}/plan")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/sign-in?next=")


def test_a_case_with_no_plan_offers_to_start_one(cw: Any, tenant_a: Any, case: Any) -> None:
    body = cw.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert "Nothing has been written for this plan yet." in body
    assert f'href="/cases/{case.id}/plan/start"' in body and "Start a draft plan" in body
    page = cw.get(f"/cases/{case.id}/plan/start").get_data(as_text=True)
    assert "The draft starts empty." in page
    resp = _post(cw, f"/cases/{case.id}/plan/start", {})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/cases/{case.id}/plan"
    assert _working(tenant_a, case) == {}
    body = cw.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert "Version 1 has been started as a working draft" in body and "Working draft (version 1)" in body
    # Starting again (a double click) makes no second draft.
    _post(cw, f"/cases/{case.id}/plan/start", {})
    assert _version_count(tenant_a, case) == 1


def test_the_plan_page_shows_every_section_of_the_draft_with_change_links(cw: Any, drafted: Any) -> None:
    body = cw.get(f"/cases/{drafted.id}/plan").get_data(as_text=True)
    for section in ("A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K"):
        assert f'id="section-{section}"' in body
    assert "This draft is complete enough to be issued as the plan." in body
    assert f'href="/cases/{drafted.id}/plan/draft/F">Change<span class="govuk-visually-hidden"> section F' in body
    assert f'href="/cases/{drafted.id}/plan/draft/A"' in body and f'href="/cases/{drafted.id}/plan/draft/I"' in body
    # Provision in a table with column headers, the advice of the case in section K.
    assert '<th scope="col" class="govuk-table__header">How often</th>' in body
    assert "4 sessions of 20 minutes a week" in body and "Psychological advice" in body and "20 March 2026" in body


def test_the_plan_page_says_what_stops_a_draft_being_issued(cw: Any, tenant_a: Any, case: Any) -> None:
    plan = complete_plan()
    plan["F"]["provision"][0]["frequency"] = ""
    with in_tenant(tenant_a):
        plans.save_draft(system_actor(tenant_a), access_case(system_actor(tenant_a), case.id), plan)
    body = cw.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert "This draft is not ready to be issued as the plan yet." in body
    assert "Section F, ‘Speech and language therapy’: say how often" in body


def test_read_only_staff_see_the_plan_but_cannot_change_it(client_for: Any, tenant_a: Any, make_user: Any,
                                                           drafted: Any) -> None:
    officer = client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))
    body = officer.get(f"/cases/{drafted.id}/plan").get_data(as_text=True)
    assert "Section F: Special educational provision" in body
    assert "/plan/draft/" not in body and "/plan/start" not in body
    for path in ("draft/A", "draft/F", "draft/F/item", "draft/F/remove", "draft/I", "draft/J", "start"):
        assert officer.get(f"/cases/{drafted.id}/plan/{path}").status_code == 404, path


def test_an_issued_plan_offers_an_amendment_draft(cw: Any, tenant_a: Any, drafted: Any) -> None:
    _issue(tenant_a, drafted)
    body = cw.get(f"/cases/{drafted.id}/plan").get_data(as_text=True)
    assert "Start an amendment draft" in body and "Version 2" in body and "issued on 20 May 2026" in body
    assert "/plan/draft/" not in body  # nothing to change until a draft is started
    page = cw.get(f"/cases/{drafted.id}/plan/start").get_data(as_text=True)
    assert "starts as a copy of version 2, issued on 20 May 2026" in page and "regulation 22" in page
    _post(cw, f"/cases/{drafted.id}/plan/start", {})
    with in_tenant(tenant_a):
        c = access_case(system_actor(tenant_a), drafted.id)
        draft = plans.current_draft(c)
        assert draft.number == 3 and draft.based_on_id == plans.latest_issued(c).id


def test_a_plan_kept_in_another_system_says_so(cw: Any, tenant_a: Any, make_case: Any) -> None:
    case = make_case(tenant_a, JOURNEY_TO_PLAN)  # events only, as a supplier's system records them
    body = cw.get(f"/cases/{case.id}/plan").get_data(as_text=True)
    assert "Nothing of this plan has been written in this service" in body and "Start an amendment draft" in body
    version = _versions(tenant_a, case)[1]
    body = cw.get(f"/cases/{case.id}/plan/versions/{version.id}").get_data(as_text=True)
    assert "Nothing of this version was written in this service" in body
    versions_page = cw.get(f"/cases/{case.id}/plan/versions").get_data(as_text=True)
    assert "/documents/" not in versions_page and "Not available" in versions_page  # no content, no PDF kept


def test_unknown_sections_are_not_found(cw: Any, drafted: Any) -> None:
    for path in ("draft/Z", "draft/K", "draft/K/item", "draft/X/remove", "draft/F/item?id=nope", "draft/F/remove?id=nope"):
        assert cw.get(f"/cases/{drafted.id}/plan/{path}").status_code == 404, path


# ---------------------------------------------------------------------------------------
# Section A


def test_section_a_is_saved_and_audited(cw: Any, tenant_a: Any, drafted: Any) -> None:
    path = f"/cases/{drafted.id}/plan/draft/A"
    assert "Sam says school is best when it is quiet." in cw.get(path).get_data(as_text=True)
    resp = _post(cw, path, {"views": "I like maths.\n\nAnd lunch.", "interests": "Football", "aspirations": "Teacher"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/cases/{drafted.id}/plan#section-A"
    assert _working(tenant_a, drafted)["A"] == {"views": "I like maths.\n\nAnd lunch.", "interests": "Football",
                                                "aspirations": "Teacher"}
    body = cw.get(f"/cases/{drafted.id}/plan").get_data(as_text=True)
    assert '<p class="govuk-body">I like maths.</p><p class="govuk-body">And lunch.</p>' in body
    with in_tenant(tenant_a) as s:
        fields = s.execute(select(AuditEvent.fields).where(AuditEvent.action == "plan.draft_saved")
                           .order_by(AuditEvent.occurred_at.desc()).limit(1)).scalar_one()
    assert fields == "A"


def test_section_a_with_too_much_text_shows_errors_and_saves_nothing(cw: Any, tenant_a: Any, drafted: Any) -> None:
    before = _working(tenant_a, drafted)
    resp = _post(cw, f"/cases/{drafted.id}/plan/draft/A", {"views": "x" * 10_001, "interests": "y", "aspirations": ""})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    assert _summary(body) == [("#views", "Use 10,000 characters or fewer")]
    assert "<title>Error: " in body and 'id="views-error"' in body
    assert _working(tenant_a, drafted) == before


def test_a_form_without_its_csrf_token_is_refused_and_saves_nothing(cw: Any, tenant_a: Any, drafted: Any) -> None:
    before = _working(tenant_a, drafted)
    resp = cw.post(f"/cases/{drafted.id}/plan/draft/A", data={"views": "Forged"})
    assert resp.status_code == 400 and "Your form has expired" in resp.get_data(as_text=True)
    assert _working(tenant_a, drafted) == before


def test_the_first_save_on_an_issued_plan_starts_an_amendment_draft(cw: Any, tenant_a: Any, drafted: Any) -> None:
    _issue(tenant_a, drafted)
    body = cw.get(f"/cases/{drafted.id}/plan/draft/A").get_data(as_text=True)
    assert "There is no working draft. Saving this page starts one, copied from version 2." in body
    _post(cw, f"/cases/{drafted.id}/plan/draft/A", {"views": "New views", "interests": "", "aspirations": ""})
    content = _working(tenant_a, drafted)
    assert content["A"]["views"] == "New views" and content["F"] == complete_plan()["F"]


# ---------------------------------------------------------------------------------------
# Lists: add, change, remove


def test_the_section_page_lists_items_with_change_and_remove_links(cw: Any, drafted: Any) -> None:
    body = cw.get(f"/cases/{drafted.id}/plan/draft/F").get_data(as_text=True)
    assert "F1: Speech and language therapy" in body and "F2: Small-group phonics teaching" in body
    assert f'href="/cases/{drafted.id}/plan/draft/F/item?id=f-1">Change' in body
    assert f'href="/cases/{drafted.id}/plan/draft/F/remove?id=f-1">Remove' in body
    assert "Add another item of provision" in body and "section 42" in body
    assert "No social care needs yet." in cw.get(f"/cases/{drafted.id}/plan/draft/D").get_data(as_text=True)


def test_an_outcome_or_provision_with_nothing_to_link_to_says_where_to_add_it(cw: Any, case: Any) -> None:
    body = cw.get(f"/cases/{case.id}/plan/draft/E/item").get_data(as_text=True)
    assert f'<a class="govuk-link" href="/cases/{case.id}/plan/draft/B">Add the needs in section B</a>' in body
    body = cw.get(f"/cases/{case.id}/plan/draft/G/item").get_data(as_text=True)
    assert f'<a class="govuk-link" href="/cases/{case.id}/plan/draft/E">Add the outcomes in section E</a>' in body


def test_adding_a_need_to_section_b(cw: Any, tenant_a: Any, case: Any) -> None:
    path = f"/cases/{case.id}/plan/draft/B/item"
    form = cw.get(path).get_data(as_text=True)
    assert "Add a special educational need" in form and 'name="area"' in form and 'name="primary_need"' in form
    resp = _post(cw, path, {"area": "semh", "primary_need": "SEMH", "description": "Finds changes of routine hard."})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/cases/{case.id}/plan/draft/B"
    assert _working(tenant_a, case)["B"]["needs"] == [
        {"id": "b-1", "area": "semh", "primary_need": "SEMH", "description": "Finds changes of routine hard."}]
    assert "The special educational need has been added" in cw.get(f"/cases/{case.id}/plan/draft/B").get_data(as_text=True)


def test_adding_a_need_without_its_area_or_description_shows_errors_and_saves_nothing(cw: Any, tenant_a: Any,
                                                                                      case: Any) -> None:
    resp = _post(cw, f"/cases/{case.id}/plan/draft/B/item", {"description": "  ", "primary_need": "ZZZ"})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#area", "Select the area of need"),
                                                     ("#description", "Enter the description of the need")]
    assert _working(tenant_a, case) is None and _version_count(tenant_a, case) == 0
    # A value no option offers (a tampered form) is refused by the plan's own checks.
    resp = _post(cw, f"/cases/{case.id}/plan/draft/B/item", {"area": "semh", "description": "x", "primary_need": "ZZZ"})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True))[0][0] == "#primary_need"
    assert _version_count(tenant_a, case) == 0


def test_changing_an_outcome_and_the_needs_it_answers(cw: Any, tenant_a: Any, drafted: Any) -> None:
    path = f"/cases/{drafted.id}/plan/draft/E/item?id=e-1"
    form = cw.get(path).get_data(as_text=True)
    assert "Change the outcome" in form and 'value="b-1" checked' in form and 'value="b-2"' in form
    assert "B1: Sam finds it hard to put ideas into sentences" in form and "C1: Sam has asthma" in form
    resp = _post(cw, path, {"description": "Sam will tell a story of ten sentences.", "timeframe": "By July 2027",
                            "need_ids": ["b-1", "c-1"], "pfa_area": ""})
    assert resp.status_code == 302
    outcome = _working(tenant_a, drafted)["E"]["outcomes"][0]
    assert outcome == {"id": "e-1", "description": "Sam will tell a story of ten sentences.", "timeframe": "By July 2027",
                       "need_ids": ["b-1", "c-1"], "pfa_area": None}


def test_an_outcome_linked_to_a_need_that_is_not_there_is_refused(cw: Any, tenant_a: Any, drafted: Any) -> None:
    before = _working(tenant_a, drafted)
    resp = _post(cw, f"/cases/{drafted.id}/plan/draft/E/item", {"description": "New outcome", "need_ids": ["b-404"]})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#need_ids", "There is no need with id ‘b-404’ in section B, C or D")]
    assert _working(tenant_a, drafted) == before


def test_adding_provision_with_the_outcomes_it_delivers(cw: Any, tenant_a: Any, drafted: Any) -> None:
    path = f"/cases/{drafted.id}/plan/draft/H2/item"
    form = cw.get(path).get_data(as_text=True)
    assert "Add an item of provision" in form and "E1: Sam will tell a short story" in form
    for field in ("provider", "frequency", "duration"):
        assert f'name="{field}"' in form
    resp = _post(cw, path, {"description": "Short breaks at a holiday club", "provider": "Northshire short breaks team",
                            "frequency": "One day a week in school holidays", "duration": "For a year",
                            "outcome_ids": ["e-2"]})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/cases/{drafted.id}/plan/draft/H2"
    [added] = _working(tenant_a, drafted)["H2"]["provision"]
    assert added["id"] == "h2-1" and added["outcome_ids"] == ["e-2"] and added["frequency"] == "One day a week in school holidays"


def test_provision_without_what_it_is_shows_errors_and_saves_nothing(cw: Any, tenant_a: Any, drafted: Any) -> None:
    before = _working(tenant_a, drafted)
    resp = _post(cw, f"/cases/{drafted.id}/plan/draft/F/item?id=f-1",
                 {"description": "", "provider": "x" * 501, "frequency": "weekly", "duration": ""})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#description", "Enter the provision: what will be provided")]
    assert _working(tenant_a, drafted) == before
    resp = _post(cw, f"/cases/{drafted.id}/plan/draft/F/item?id=f-1",
                 {"description": "Therapy", "provider": "x" * 501, "frequency": "weekly", "duration": ""})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [("#provider", "Use 500 characters or fewer")]
    assert _working(tenant_a, drafted) == before


def test_removing_an_outcome_also_removes_the_links_to_it(cw: Any, tenant_a: Any, drafted: Any) -> None:
    page = cw.get(f"/cases/{drafted.id}/plan/draft/E/remove?id=e-1").get_data(as_text=True)
    assert "Which outcome do you want to remove?" in page and 'value="e-1" checked' in page
    assert "Also unlinks it from F1, G1" in page
    resp = _post(cw, f"/cases/{drafted.id}/plan/draft/E/remove", {"id": "e-1"})
    assert resp.status_code == 302 and resp.headers["Location"] == f"/cases/{drafted.id}/plan/draft/E"
    content = _working(tenant_a, drafted)
    assert [o["id"] for o in content["E"]["outcomes"]] == ["e-2"]
    assert content["F"]["provision"][0]["outcome_ids"] == [] and content["G"]["provision"][0]["outcome_ids"] == []


def test_removing_without_choosing_shows_an_error_and_removes_nothing(cw: Any, tenant_a: Any, drafted: Any) -> None:
    before = _working(tenant_a, drafted)
    for data in ({}, {"id": "nope"}):
        resp = _post(cw, f"/cases/{drafted.id}/plan/draft/F/remove", data)
        assert resp.status_code == 400
        assert _summary(resp.get_data(as_text=True)) == [("#id", "Select the item of provision to remove")]
    assert _working(tenant_a, drafted) == before
    assert "section D is empty" in cw.get(f"/cases/{drafted.id}/plan/draft/D/remove").get_data(as_text=True)


# ---------------------------------------------------------------------------------------
# Sections I and J


def test_section_i_names_a_school_by_urn(cw: Any, tenant_a: Any, drafted: Any, institution: int) -> None:
    path = f"/cases/{drafted.id}/plan/draft/I"
    form = cw.get(path).get_data(as_text=True)
    assert 'name="kind" type="radio" value="type" checked' in form
    assert '<span class="govuk-caption-l">Section I of ' in form and "&lt;span" not in form
    resp = _post(cw, path, {"kind": "named", "urn": str(institution)})
    assert resp.status_code == 302
    assert _working(tenant_a, drafted)["I"]["placement"] == {"kind": "named", "urn": institution,
                                                             "name": "Test Primary School", "type_description": None}
    assert f"Test Primary School (URN {institution})" in cw.get(f"/cases/{drafted.id}/plan").get_data(as_text=True)


@pytest.mark.parametrize(("data", "expected"), [
    ({}, [("#kind", "Select where Child")]),
    ({"kind": "named", "urn": ""}, [("#urn", "Enter the URN of the school, college or other institution")]),
    ({"kind": "named", "urn": "12AB"}, [("#urn", "Enter a URN of 6 digits, like 118945")]),
    ({"kind": "named", "urn": "999998"}, [("#urn", "There is no school, college or other institution with URN 999998")]),
    ({"kind": "type", "type_description": " "}, [("#type_description", "Describe the type of school or institution")]),
])
def test_section_i_with_bad_input_shows_errors_and_saves_nothing(cw: Any, tenant_a: Any, drafted: Any,
                                                                 data: dict[str, str], expected: list[tuple[str, str]]) -> None:
    before = _working(tenant_a, drafted)
    resp = _post(cw, f"/cases/{drafted.id}/plan/draft/I", data)
    assert resp.status_code == 400
    summary = _summary(resp.get_data(as_text=True))
    assert [(h, t[:len(expected[0][1])]) for h, t in summary] == expected
    assert _working(tenant_a, drafted) == before


def test_section_j_records_a_personal_budget(cw: Any, tenant_a: Any, drafted: Any) -> None:
    path = f"/cases/{drafted.id}/plan/draft/J"
    resp = _post(cw, path, {"requested": "yes", "amount": "£1,250.50", "direct_payment": "yes",
                            "arrangements": "Paid monthly to the family"})
    assert resp.status_code == 302
    assert _working(tenant_a, drafted)["J"]["personal_budget"] == {
        "requested": True, "amount": 1250.5, "direct_payment": True, "arrangements": "Paid monthly to the family"}
    assert "£1,250.50" in cw.get(f"/cases/{drafted.id}/plan").get_data(as_text=True)
    assert 'value="1250.50"' in cw.get(path).get_data(as_text=True)
    _post(cw, path, {"requested": "no", "amount": "99"})
    assert _working(tenant_a, drafted)["J"]["personal_budget"] == {
        "requested": False, "amount": None, "direct_payment": False, "arrangements": ""}


def test_section_j_with_bad_input_shows_errors_and_saves_nothing(cw: Any, tenant_a: Any, drafted: Any) -> None:
    before = _working(tenant_a, drafted)
    resp = _post(cw, f"/cases/{drafted.id}/plan/draft/J", {"requested": "yes", "amount": "lots"})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [
        ("#amount", "Enter the amount in pounds, like 1200 or 1200.50"),
        ("#direct_payment", "Select yes if any of it is paid as a direct payment")]
    resp = _post(cw, f"/cases/{drafted.id}/plan/draft/J", {})
    assert _summary(resp.get_data(as_text=True)) == [("#requested", "Select yes if a personal budget has been requested")]
    assert _working(tenant_a, drafted) == before


# ---------------------------------------------------------------------------------------
# Versions, one version, what changed


@pytest.fixture
def amended(tenant_a: Any, drafted: Any) -> Any:
    """Issued (version 2), then a working draft (version 3) with speech therapy twice a week."""
    _issue(tenant_a, drafted)
    changed = complete_plan()
    changed["F"]["provision"][0]["frequency"] = "twice a week"
    with in_tenant(tenant_a):
        plans.save_draft(system_actor(tenant_a), access_case(system_actor(tenant_a), drafted.id), changed)
    return drafted


def _versions(tenant: Any, case: Any) -> list[Any]:
    with in_tenant(tenant):
        return plans.versions(access_case(system_actor(tenant), case.id))


def test_the_versions_page_lists_every_version_with_its_pdf(cw: Any, tenant_a: Any, amended: Any) -> None:
    served, issued, draft = _versions(tenant_a, amended)
    body = cw.get(f"/cases/{amended.id}/plan/versions").get_data(as_text=True)
    assert body.index("Version 3") < body.index("Version 2") < body.index("Version 1")  # newest first
    assert f'href="/cases/{amended.id}/plan/versions/{issued.id}">Version 2</a>' in body
    assert "Issued 20 May 2026" in body and "Draft served" in body and "Working draft" in body
    with in_tenant(tenant_a):
        pdf = plans.pdf_documents(access_case(system_actor(tenant_a), amended.id))[issued.id]
    assert f'href="/documents/{pdf.id}" download>PDF of version 2</a>' in body


def test_one_version_section_by_section(cw: Any, tenant_a: Any, amended: Any) -> None:
    served, issued, _ = _versions(tenant_a, amended)
    body = cw.get(f"/cases/{amended.id}/plan/versions/{issued.id}").get_data(as_text=True)
    assert "EHC plan version 2" in body and "This version is fixed: it cannot be changed." in body
    assert "weekly" in body and "twice a week" not in body and "/plan/draft/" not in body
    assert f"/cases/{amended.id}/plan/diff?from={served.id}&amp;to={issued.id}" in body
    assert cw.get(f"/cases/{amended.id}/plan/versions/not-an-id").status_code == 404


def test_what_changed_between_two_versions(cw: Any, tenant_a: Any, amended: Any) -> None:
    served, issued, draft = _versions(tenant_a, amended)
    body = cw.get(f"/cases/{amended.id}/plan/diff").get_data(as_text=True)  # the latest two by default
    assert "1 change from version 2 to version 3" in body
    assert "Section F: Speech and language therapy — how often: &#39;weekly&#39; → &#39;twice a week&#39;" in body
    assert '<th scope="col" class="govuk-table__header">Version 2</th>' in body
    body = cw.get(f"/cases/{amended.id}/plan/diff?from={served.id}&to={issued.id}").get_data(as_text=True)
    assert "No changes from version 1 to version 2" in body


@pytest.mark.parametrize(("query", "expected"), [
    ("from={a}&to={a}", [("#to", "Select a different version to compare with")]),
    ("from=nope&to={a}", [("#from", "Select the earlier version")]),
    ("from={a}&to=", [("#to", "Select the later version")]),
])
def test_comparing_with_bad_choices_shows_errors(cw: Any, tenant_a: Any, amended: Any, query: str,
                                                 expected: list[tuple[str, str]]) -> None:
    first = _versions(tenant_a, amended)[0]
    resp = cw.get(f"/cases/{amended.id}/plan/diff?{query.format(a=first.id)}")
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == expected


def test_comparing_needs_two_versions(cw: Any, case: Any) -> None:
    body = cw.get(f"/cases/{case.id}/plan/diff").get_data(as_text=True)
    assert "There are no versions of this plan, so there is nothing to compare yet." in body


# ---------------------------------------------------------------------------------------
# Downloading documents


def test_a_document_downloads_as_an_attachment_in_its_stored_type(cw: Any, tenant_a: Any, amended: Any) -> None:
    issued = _versions(tenant_a, amended)[1]
    with in_tenant(tenant_a):
        pdf = plans.pdf_documents(access_case(system_actor(tenant_a), amended.id))[issued.id]
    resp = cw.get(f"/documents/{pdf.id}")
    assert resp.status_code == 200 and resp.data.startswith(b"%PDF-") and len(resp.data) == pdf.size
    assert resp.headers["Content-Type"] == "application/pdf"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{pdf.filename}"'
    assert resp.headers["X-Content-Type-Options"] == "nosniff" and resp.headers["Cache-Control"] == "no-store"
    with in_tenant(tenant_a) as s:
        reads = s.execute(select(AuditEvent).where(AuditEvent.action == "document.read",
                                                   AuditEvent.object_id == pdf.id)).scalars().all()
    assert len(reads) == 1
    assert cw.get("/documents/01a21ea2-0000-7000-8000-000000000000").status_code == 404
    assert cw.get("/documents/nope").status_code == 404
