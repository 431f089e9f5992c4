"""Transfer package pages: importing a plan from a council not on the platform (every refusal
in the error summary, a 400, nothing saved), the result page, and the sender's download."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from core import clock
from core.cases.models import Case, Document
from core.children.models import Child
from core.transfers import package as pkg
from core.users.models import Role
from tests.conftest import csrf_token, in_tenant, system_actor
from tests.core.transfers.test_package import rezip, unzip
from tests.core.transfers.test_snapshot import _inline_jobs, take, transferable_case  # noqa: F401

FORM = "/transfers/import"


def _summary(body: str) -> list[tuple[str, str]]:
    block = re.search(r'govuk-error-summary__list">(.*?)</ul>', body, re.S)
    assert block, "no error summary on the page"
    return re.findall(r'<a href="([^"]+)">([^<]+)</a>', block.group(1))


def _post(client: Any, data: dict[str, Any]) -> Any:
    return client.post(FORM, data={"csrf_token": csrf_token(client, FORM), **data}, content_type="multipart/form-data")


def _date(day: dt.date) -> dict[str, str]:
    return {"transferred_on-day": str(day.day), "transferred_on-month": str(day.month),
            "transferred_on-year": str(day.year)}


def _counts(tenant: Any) -> tuple[int, int, int]:
    with in_tenant(tenant) as s:
        return tuple(s.execute(select(func.count()).select_from(m)).scalar_one()  # type: ignore[return-value]
                     for m in (Child, Case, Document))


@pytest.fixture
def package(tenant_a: Any, make_case: Any, make_child: Any, make_contact: Any) -> bytes:
    s = take(tenant_a, transferable_case(tenant_a, make_case, make_child, make_contact))
    with in_tenant(tenant_a):
        return pkg.build_package(s)


@pytest.fixture
def cw_b(tenant_b: Any, make_user: Any, client_for: Any) -> Any:
    return client_for(tenant_b, make_user(tenant_b, Role.CASEWORKER))


def test_the_import_form_is_for_those_who_may_receive_plans(tenant_b: Any, cw_b: Any, make_user: Any,
                                                           client_for: Any) -> None:
    body = cw_b.get(FORM).get_data(as_text=True)
    assert 'type="file"' in body and 'name="package"' in body and "transferred_on-day" in body
    officer = client_for(tenant_b, make_user(tenant_b, Role.SEND_OFFICER))
    assert officer.get(FORM).status_code == 403


def test_nothing_chosen_is_refused_with_an_error_summary(tenant_b: Any, cw_b: Any) -> None:
    resp = _post(cw_b, {})
    assert resp.status_code == 400
    assert _summary(resp.get_data(as_text=True)) == [
        ("#package", "Select the transfer package the other council sent"),
        ("#transferred_on-day", "Enter the date the plan transferred")]


def test_a_future_transfer_date_is_refused(tenant_b: Any, cw_b: Any, package: bytes) -> None:
    before = _counts(tenant_b)
    resp = _post(cw_b, {"package": (io.BytesIO(package), "transfer.zip"), **_date(clock.today() + dt.timedelta(days=3))})
    assert resp.status_code == 400
    assert ("#transferred_on-day", "Date the plan transferred must be today or in the past") in \
        _summary(resp.get_data(as_text=True))
    assert _counts(tenant_b) == before


def test_every_problem_with_a_tampered_package_is_listed_and_nothing_is_saved(
        tenant_b: Any, cw_b: Any, package: bytes) -> None:
    members = unzip(package)
    doc = next(n for n in members if n.startswith("documents/"))
    tampered = rezip({**members, doc: members[doc] + b"x", "notes.txt": b"hello"})
    before = _counts(tenant_b)
    resp = _post(cw_b, {"package": (io.BytesIO(tampered), "transfer.zip"), **_date(dt.date(2026, 11, 25))})
    assert resp.status_code == 400
    body = resp.get_data(as_text=True)
    summary = _summary(body)
    assert all(href == "#package" for href, _ in summary) and len(summary) >= 2
    texts = " ".join(t for _, t in summary)
    assert "but the manifest says" in texts and "notes.txt is in the package but not in its manifest" in texts
    assert "see the" in body and "problems above" in body  # the message by the upload itself
    assert _counts(tenant_b) == before


def test_a_file_that_is_not_a_package_is_refused(tenant_b: Any, cw_b: Any) -> None:
    resp = _post(cw_b, {"package": (io.BytesIO(b"%PDF-1.7 a letter"), "letter.pdf"), **_date(dt.date(2026, 11, 25))})
    assert resp.status_code == 400
    [(href, message)] = _summary(resp.get_data(as_text=True))
    assert href == "#package" and "not a transfer package" in message


def test_importing_a_package_opens_the_case_and_shows_the_result(tenant_b: Any, cw_b: Any, package: bytes) -> None:
    resp = _post(cw_b, {"package": (io.BytesIO(package), "transfer.zip"), **_date(dt.date(2026, 11, 25))})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    page = cw_b.get(resp.headers["Location"])
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Plan received" in body and "Plan received from" in body and "LA 901" in body
    assert "25 November 2026" in body
    # What moved, counted (plan versions 4, of which 2 issued; 4 documents; 1 contact).
    assert re.search(r"Plan versions\s*</dt>\s*<dd[^>]*>\s*4\s*</dd>", body), body
    assert re.search(r"Issued plans\s*</dt>\s*<dd[^>]*>\s*2\s*</dd>", body)
    case_id = re.search(r"/cases/([0-9a-f-]{36})/transfer-packages", resp.headers["Location"]).group(1)
    assert f'href="/cases/{case_id}"' in body  # "Go to the case"
    assert "Download the case history from the previous council" in body
    with in_tenant(tenant_b) as s:
        case = s.get(Case, case_id)
        assert case.stage == "plan" and [e.type for e in case.events] == ["plan_transferred"]
    # A second import of the same package is refused: the child already has the case.
    again = _post(cw_b, {"package": (io.BytesIO(package), "transfer.zip"), **_date(dt.date(2026, 11, 25))})
    assert again.status_code == 400
    assert any("already has an open EHC case" in t for _, t in _summary(again.get_data(as_text=True)))


def test_the_sender_downloads_the_package_made_for_a_council_not_on_the_platform(
        tenant_a: Any, make_case: Any, make_child: Any, make_contact: Any, make_user: Any, client_for: Any) -> None:
    from core.cases.access import access_case
    from core.transfers import services as transfers

    case = transferable_case(tenant_a, make_case, make_child, make_contact)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        transfer = transfers.start_transfer(actor, access_case(actor, case.id, for_write=True), to_la_code="999",
                                            to_la_name="Faraway Council", move_on=dt.date(2026, 11, 20),
                                            became_aware_on=dt.date(2026, 11, 2), today=dt.date(2026, 11, 27))
        ref = transfer.ref
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        transfer = transfers.access_transfer(actor, ref, for_write=True)
        transfers.complete_transfer(actor, transfer, transferred_on=dt.date(2026, 11, 20), today=dt.date(2026, 11, 27))
    officer = client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))
    body = officer.get(f"/cases/{case.id}/transfer-packages").get_data(as_text=True)
    assert "Faraway Council (LA 999)" in body and "Transferred on 20 November 2026" in body
    link = re.search(r'href="(/documents/[^"]+)">Download the transfer package', body)
    assert link, body
    data = officer.get(link.group(1)).get_data()
    # The download is a complete package: it reads back as the plan that left.
    snapshot = pkg.read_package(data)
    assert snapshot.from_la_code == "901" and snapshot.current_plan["number"] == 3
    assert json.loads(unzip(data)["manifest.json"])["format"] == "sendbridge-transfer-package"
    # The transfer's own page links to the same download.
    transfer_page = officer.get(f"/plan-transfers/{ref}").get_data(as_text=True)
    assert f'href="{link.group(1)}">Download the transfer package</a>' in transfer_page


def test_the_transfers_page_links_to_the_import_for_those_who_may_import(
        tenant_a: Any, make_user: Any, client_for: Any) -> None:
    cw = client_for(tenant_a, make_user(tenant_a, Role.CASEWORKER))
    assert f'href="{FORM}"' in cw.get("/plan-transfers").get_data(as_text=True)
    officer = client_for(tenant_a, make_user(tenant_a, Role.SEND_OFFICER))
    assert f'href="{FORM}"' not in officer.get("/plan-transfers").get_data(as_text=True)


def test_a_case_with_no_packages_says_so(tenant_a: Any, make_case: Any, make_user: Any, client_for: Any) -> None:
    case = make_case(tenant_a)
    cw = client_for(tenant_a, make_user(tenant_a, Role.CASEWORKER))
    body = cw.get(f"/cases/{case.id}/transfer-packages").get_data(as_text=True)
    assert "No transfer package has been made for this case" in body
    assert "Plan received" not in body
