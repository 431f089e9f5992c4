"""Transfer package pages in headless Chromium: the import form, its error states (nothing
chosen; a file that is not a package), a package made by another council's system imported
through the form, and the result page, each with zero axe-core violations and a screenshot.

The package is made here by hand, as a council not on Sendbridge would make it (only the
published format: manifest.json with checksums, case.json in the api-v1 shapes, a document).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import random
import re
import string
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Response, expect

from tests.browser.conftest import (
    press,
    PageCase, _block_non_loopback, assert_error_summary, heading, submit, visit_page_case,
)
from tests.core.plans.factories import complete_plan
from tests.live_server import LiveServer

PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _fill_date(page: Page, legend: str, day: dt.date) -> None:
    group = page.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def other_councils_package(family_name: str) -> bytes:
    """A transfer package from LA 999 (not on the platform): an issued plan and one advice document."""
    today = dt.date.today()
    plan = complete_plan()
    doc_id = "ep-advice-1"
    doc_path = f"documents/{doc_id}-EP advice.pdf"
    plan["K"] = {"advice": [{"advice_id": "ep1", "advice": "psychological", "requested_on": "2025-02-11",
                             "received_on": "2025-03-20", "document_ids": [doc_id]}]}
    case_json = {
        "format": "sendbridge-transfer", "format_version": 1, "from_la_code": "999",
        "from_council": "Faraway Borough Council", "taken_at": f"{today.isoformat()}T09:00:00Z",
        "child": {"given_name": "Moved", "family_name": family_name, "date_of_birth": "2016-05-04", "upn": None,
                  "uln": None, "nhs_number": None, "sex": "male", "postcode": None},
        "contacts": [{"given_name": "Pat", "family_name": family_name, "relationship": "father",
                      "parental_responsibility": True, "email": None, "phone": None, "postcode": None}],
        "case": {"id": "faraway-1", "status": "plan", "opened_on": "2025-01-06", "deadlines": [], "events": [
            {"id": "e1", "type": "request_received", "date": "2025-01-06", "requester": "parent"},
            {"id": "e2", "type": "final_plan_issued", "date": "2025-05-20"}]},
        "plan_versions": [{"id": "v1", "number": 1, "state": "issued", "issued_on": "2025-05-20",
                           "based_on_id": None, "content": plan}],
        "advice": [{"advice_id": "ep1", "advice": "psychological", "document_ids": [doc_id], "submissions": []}],
        "documents": [{"id": doc_id, "kind": "advice", "title": "Educational psychology advice",
                       "filename": "EP advice.pdf", "content_type": "application/pdf", "size": len(PDF),
                       "sha256": hashlib.sha256(PDF).hexdigest(), "path": doc_path, "advice_id": "ep1",
                       "plan_version_id": None, "submission_id": None, "created_at": None}],
        "plan_made_on": "2025-05-20", "last_reviewed_on": None,
    }
    files = {"case.json": json.dumps(case_json).encode(), doc_path: PDF}
    manifest = {"format": "sendbridge-transfer-package", "format_version": 1, "from_la_code": "999",
                "from_council": "Faraway Borough Council", "created_at": f"{today.isoformat()}T09:00:00Z",
                "files": [{"path": p, "size": len(d), "sha256": hashlib.sha256(d).hexdigest()} for p, d in files.items()]}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest))
        for path, data in files.items():
            zf.writestr(path, data)
    return out.getvalue()


@dataclass(frozen=True)
class PackageData:
    received: str
    child_name: str

    def ids(self) -> dict[str, str]:
        return {"received": self.received}


@pytest.fixture(scope="session")
def package_caseworker_page(browser: Browser, browser_context_args: dict[str, Any],
                            storage_states: Callable[[str], Any]) -> Iterator[Page]:
    ctx = browser.new_context(**browser_context_args, storage_state=storage_states("caseworker"))
    stray = _block_non_loopback(ctx)
    yield ctx.new_page()
    ctx.close()
    assert not stray, f"requests beyond 127.0.0.1: {stray}"


def upload(page: Page, data: bytes, name: str = "transfer.zip") -> None:
    page.get_by_label("Upload the transfer package").set_input_files(
        {"name": name, "mimeType": "application/zip", "buffer": data})


@pytest.fixture(scope="session")
def package_data(live_server: LiveServer, package_caseworker_page: Page) -> PackageData:
    """A package from LA 999 imported through the form, as a Northshire caseworker would."""
    page = package_caseworker_page
    family = "".join(random.choices(string.ascii_lowercase, k=9)).capitalize()
    page.goto(live_server.tenant_url("northshire", "/transfers/import"))
    upload(page, other_councils_package(family))
    _fill_date(page, "Date the plan transferred", dt.date.today())
    response = submit(page, "Import the plan")
    assert response.status == 200, page.content()
    match = re.search(r"/cases/([0-9a-f-]{36})/transfer-packages", page.url)
    assert match, page.url
    return PackageData(received=match.group(1), child_name=f"Moved {family}")


@dataclass
class PackageVisit:
    page: Page
    server: LiveServer
    data: PackageData



def check_import(v: PackageVisit) -> None:
    heading(v.page, "Receive a plan from a council not on Sendbridge")
    expect(v.page.get_by_label("Upload the transfer package")).to_be_visible()
    expect(v.page.get_by_role("group", name="Date the plan transferred")).to_be_visible()
    expect(v.page.locator("main")).to_contain_text("regulation 15(4)")


def check_import_errors(v: PackageVisit) -> None:
    assert_error_summary(v.page, {"#package": "Select the transfer package the other council sent",
                                  "#transferred_on-day": "Enter the date the plan transferred"})


def check_import_refused(v: PackageVisit) -> None:
    summary = v.page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("a")).to_have_text(
        ["The selected file is not a transfer package: it must be the ZIP file the other council sent"])
    expect(v.page.locator(".govuk-error-message")).to_contain_text("see the problem above")


def check_received(v: PackageVisit) -> None:
    heading(v.page, "Transfer packages")
    expect(v.page.locator(".govuk-panel")).to_contain_text("Plan received")
    expect(v.page.locator(".govuk-caption-l")).to_have_text(v.data.child_name)
    main = v.page.locator("main")
    expect(main).to_contain_text("Plan received from Faraway Borough Council")
    expect(main).to_contain_text("Pieces of advice")
    expect(v.page.get_by_role("button", name="Go to the case")).to_have_attribute(
        "href", f"/t/northshire/cases/{v.data.received}")


def _refused_upload(page: Page) -> None:
    upload(page, b"%PDF-1.7 a letter, not a package", "letter.pdf")
    _fill_date(page, "Date the plan transferred", dt.date.today())


PAGES: list[PageCase] = [
    PageCase("transfer-package-import", "/t/northshire/transfers/import", who="caseworker", check=check_import),
    PageCase("transfer-package-import-errors", "/t/northshire/transfers/import", who="caseworker", status=400,
             act=press("Import the plan"), check=check_import_errors),
    PageCase("transfer-package-import-refused", "/t/northshire/transfers/import", who="caseworker", status=400,
             act=press("Import the plan", _refused_upload), check=check_import_refused),
    PageCase("transfer-package-received", "/t/northshire/cases/{received}/transfer-packages?received=1",
             who="caseworker", check=check_received),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_transfer_package_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page],
                                                         live_server: LiveServer, package_data: PackageData) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=package_data.ids(),
                    visit=lambda page: PackageVisit(page, live_server, package_data))


@pytest.mark.browser
def test_the_received_case_holds_the_plan_and_its_advice(new_page: Callable[..., Page], live_server: LiveServer,
                                                         package_data: PackageData) -> None:
    page = new_page("caseworker")
    page.goto(live_server.tenant_url("northshire", f"/cases/{package_data.received}"))
    heading(page, package_data.child_name)
    # Reg 15(4): the family must hear within 6 weeks of the transfer.
    due = dt.date.today() + dt.timedelta(days=42)
    expect(page.locator("main")).to_contain_text(f"{due.day} {due:%B %Y}")
