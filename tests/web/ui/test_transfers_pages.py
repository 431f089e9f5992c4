"""Transfer pages: the inbox in both councils, starting from the case page, completing (and the
sender's case page becoming read-only), cancelling, and every form with bad input (a GOV.UK
error summary, a 4xx, and nothing saved)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import func, select

import core.clock
from core.cases.models import Case, CaseEvent
from core.transfers import snapshot as snap
from core.transfers.models import Transfer
from core.users.models import Role
from tests.conftest import JOURNEY_TO_PLAN, csrf_token, in_tenant

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(core.clock, "today", lambda: TODAY)


@pytest.fixture(autouse=True)
def _inline_jobs() -> None:
    from core.jobs import configure_jobs

    configure_jobs(None)


def _summary(body: str) -> list[tuple[str, str]]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))


def _date(prefix: str, day: dt.date) -> dict[str, str]:
    return {f"{prefix}-day": str(day.day), f"{prefix}-month": str(day.month), f"{prefix}-year": str(day.year)}


def _post(client: Any, path: str, data: dict[str, str]) -> Any:
    return client.post(path, data={"csrf_token": csrf_token(client, path), **data})


def _count(tenant: Any, model: Any) -> int:
    with in_tenant(tenant) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def cw_a(client_for: Any, tenant_a: Any, make_user: Any) -> Any:
    return client_for(tenant_a, make_user(tenant_a, Role.CASEWORKER))


@pytest.fixture
def cw_b(client_for: Any, tenant_b: Any, make_user: Any) -> Any:
    return client_for(tenant_b, make_user(tenant_b, Role.CASEWORKER))


@pytest.fixture
def plan_case(tenant_a: Any, make_case: Any) -> Any:
    return make_case(tenant_a, JOURNEY_TO_PLAN, today=TODAY)


START = {"to_la_code": "902", "health_body_changes": "yes", **_date("move_on", TODAY),
         **_date("became_aware_on", dt.date(2026, 11, 2))}


def _start(client: Any, case: Any, **over: str) -> Any:
    return _post(client, f"/cases/{case.id}/transfer", {**START, **over})


def test_walk_start_inbox_complete_and_the_senders_case_is_read_only(
        cw_a: Any, cw_b: Any, plan_case: Any, tenant_a: Any, tenant_b: Any) -> None:
    page = cw_a.get(f"/cases/{plan_case.id}")
    assert f"/cases/{plan_case.id}/transfer" in page.get_data(as_text=True)
    resp = _start(cw_a, plan_case)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    view_path = resp.headers["Location"]
    body = cw_a.get(view_path).get_data(as_text=True)
    assert "Council B (902)" in body and "Transfer the plan now" in body and "transfer-clocks" in body
    # The receiver's inbox shows who is coming, and no case or plan yet.
    inbox = cw_b.get("/plan-transfers").get_data(as_text=True)
    assert "Plans coming to this council" in inbox and "Council A" in inbox
    incoming_path = re.search(r'href="(/plan-transfers/[^"]+)"', inbox).group(1)  # type: ignore[union-attr]
    incoming = cw_b.get(incoming_path).get_data(as_text=True)
    assert "reach this council when Council A completes the transfer" in incoming
    assert str(plan_case.id) not in incoming and "Go to the case" not in incoming
    assert cw_b.get(f"/cases/{plan_case.id}").status_code == 404
    # Complete, as the sender.
    done = _post(cw_a, f"{view_path}/complete", _date("transferred_on", TODAY))
    assert done.status_code == 302, done.get_data(as_text=True)
    # The receiver finds the new case.
    incoming = cw_b.get(incoming_path).get_data(as_text=True)
    new_case = re.search(r'href="/cases/([^"]+)">Go to the case in this council', incoming).group(1)  # type: ignore[union-attr]
    case_page = cw_b.get(f"/cases/{new_case}")
    assert case_page.status_code == 200
    assert "This plan came from Council A" in case_page.get_data(as_text=True)
    # The sender's case page says it moved and offers no way to change it.
    sent = cw_a.get(f"/cases/{plan_case.id}").get_data(as_text=True)
    assert "This plan was transferred to Council B" in sent
    assert "Record what happened" not in sent and f"/cases/{plan_case.id}/transfer" not in sent
    before = _count(tenant_a, CaseEvent)
    refused = _post(cw_a, f"/cases/{plan_case.id}/events/review_meeting_held",
                    _date("date", TODAY))
    assert refused.status_code in (400, 404, 409)
    assert _count(tenant_a, CaseEvent) == before


@pytest.mark.parametrize(("over", "field"), [
    ({"to_la_code": ""}, "to_la_code"),
    ({"to_la_code": "901"}, "to_la_code"),
    ({"to_la_code": "12"}, "to_la_code"),
    ({"move_on-day": "31", "move_on-month": "2"}, "move_on"),
    ({"became_aware_on-year": ""}, "became_aware_on"),
    ({"became_aware_on-day": "30", "became_aware_on-month": "11", "became_aware_on-year": "2026"}, "became_aware_on"),
    ({"health_body_changes": ""}, "health_body_changes"),
])
def test_start_form_errors_change_nothing(cw_a: Any, plan_case: Any, tenant_a: Any, tenant_b: Any,
                                          over: dict[str, str], field: str) -> None:
    resp = _start(cw_a, plan_case, **over)
    assert resp.status_code == 400
    hrefs = [h for h, _ in _summary(resp.get_data(as_text=True))]
    assert any(h.startswith(f"#{field}") for h in hrefs), hrefs
    assert _count(tenant_a, Transfer) == 0 and _count(tenant_b, Transfer) == 0


def test_a_second_start_is_refused(cw_a: Any, plan_case: Any, tenant_a: Any) -> None:
    assert _start(cw_a, plan_case).status_code == 302
    page = cw_a.get(f"/cases/{plan_case.id}/transfer").get_data(as_text=True)
    assert "already being transferred" in page
    assert _count(tenant_a, Transfer) == 1


def test_complete_form_errors_change_nothing(cw_a: Any, plan_case: Any, tenant_a: Any, tenant_b: Any) -> None:
    view_path = _start(cw_a, plan_case).headers["Location"]
    for data in ({}, _date("transferred_on", dt.date(2026, 11, 26)), _date("transferred_on", dt.date(2026, 11, 28))):
        resp = _post(cw_a, f"{view_path}/complete", data)
        assert resp.status_code == 400
        assert _summary(resp.get_data(as_text=True))[0][0] == "#transferred_on-day"
    assert _count(tenant_b, Case) == 0
    with in_tenant(tenant_a) as s:
        assert s.execute(select(Transfer.status)).scalar_one() == "planned"


def test_a_failed_completion_is_shown_to_both_and_can_be_retried(
        cw_a: Any, cw_b: Any, plan_case: Any, tenant_b: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    view_path = _start(cw_a, plan_case).headers["Location"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    real = snap._copy_versions
    monkeypatch.setattr(snap, "_copy_versions", broken)
    resp = _post(cw_a, f"{view_path}/complete", _date("transferred_on", TODAY))
    assert resp.status_code == 409
    assert "nothing has moved" in _summary(resp.get_data(as_text=True))[0][1]
    assert _count(tenant_b, Case) == 0
    assert "Try the transfer again" in cw_a.get(view_path).get_data(as_text=True)
    inbox = cw_b.get("/plan-transfers").get_data(as_text=True)
    assert "1 transfer needs attention" in inbox and "failed and nothing moved" in inbox
    monkeypatch.setattr(snap, "_copy_versions", real)
    assert _post(cw_a, f"{view_path}/complete", _date("transferred_on", TODAY)).status_code == 302
    assert _count(tenant_b, Case) == 1


def test_cancel(cw_a: Any, cw_b: Any, plan_case: Any, tenant_a: Any) -> None:
    view_path = _start(cw_a, plan_case).headers["Location"]
    assert cw_a.get(f"{view_path}/cancel").status_code == 200
    assert _post(cw_a, f"{view_path}/cancel", {}).status_code == 302
    assert "Cancelled" in cw_a.get(view_path).get_data(as_text=True)
    # The receiver can neither complete nor cancel.
    inbox = cw_b.get("/plan-transfers").get_data(as_text=True)
    path = re.search(r'href="(/plan-transfers/[^"]+)"', inbox).group(1)  # type: ignore[union-attr]
    assert _post(cw_b, f"{path}/cancel", {}).status_code == 409


def test_a_send_officer_reads_but_cannot_start(client_for: Any, tenant_a: Any, make_user: Any, cw_a: Any,
                                              plan_case: Any) -> None:
    officer = client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))
    view_path = _start(cw_a, plan_case).headers["Location"]
    assert officer.get("/plan-transfers").status_code == 200
    body = officer.get(view_path).get_data(as_text=True)
    assert "Transfer the plan now" not in body
    assert officer.get(f"{view_path}/complete").status_code == 404
    assert officer.get(f"/cases/{plan_case.id}/transfer").status_code == 404


def test_other_councils_transfers_are_404(cw_a: Any, client_for: Any, create_tenant: Any, make_user: Any,
                                         plan_case: Any) -> None:
    view_path = _start(cw_a, plan_case).headers["Location"]
    other = create_tenant()
    stranger = client_for(other, make_user(other, Role.CASEWORKER))
    for path in (view_path, f"{view_path}/complete", f"{view_path}/cancel", f"/cases/{plan_case.id}/transfer"):
        assert stranger.get(path).status_code == 404, path
