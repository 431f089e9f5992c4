"""The SEN register pages (issue #5): uploading a Common Transfer File, an import's report of
bad records, and a child's CTF download page, in headless Chromium with axe-core.

Only files with bad records are uploaded here: they import nothing, so the demo councils'
children (which other browser tests count) stay as they are. A successful import is
tested through the Flask client (tests/plugins/ctf/test_pages.py).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Response, expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import PageCase, assert_error_summary, check_page, heading, submit, visit_page_case
from tests.live_server import LiveServer

N = "/t/northshire"
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"

_BAD_CTF = """<?xml version="1.0" encoding="UTF-8"?>
<CTfile>
<Header><SourceSchool><URN>100001</URN></SourceSchool></Header>
<CTFpupilData>
<Pupil>
<UPN>{upn}</UPN>
<Surname>Example</Surname>
<Forename>Pupil</Forename>
<DOB>2015-02-30</DOB>
<SENhistory><SEN><SENprovision>S</SENprovision></SEN></SENhistory>
</Pupil>
</CTFpupilData>
</CTfile>
"""


def _upn(number: int) -> str:
    body = f"901{number:09d}"
    return _UPN_LETTERS[sum(int(c) * p for p, c in enumerate(body, start=2)) % 23] + body


def _tenant_id(conn: Any) -> str:
    tenant = str(conn.execute(text("SELECT id FROM tenant WHERE slug = 'northshire'")).scalar_one())
    conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
    return tenant


@pytest.fixture(scope="module")
def sen_data(live_server: LiveServer) -> Iterator[dict[str, str]]:
    """The ctf plugin on in Northshire, a failed import with its report, and a child."""
    live_server.flask("plugins", "enable", "--tenant", "northshire", "ctf")
    engine = create_engine(live_server.database_url)
    import_id = str(uuid.uuid4())
    with engine.begin() as conn:
        tenant = _tenant_id(conn)
        conn.execute(text(
            "INSERT INTO sen_import (id, tenant_id, filename, checksum, size, storage_key, status, created_by, total, "
            "checkpoint, attempts, matched, created, updated, unchanged, errors, error_report, failure, created_at, "
            "finished_at) VALUES (:id, :t, 'spring-census.xml', :sum, 100, :key, 'failed', 'tests', 0, 0, 1, 0, 0, 0, "
            "0, 2, :report, '', now(), now())"),
            {"id": import_id, "t": tenant, "sum": "a" * 64, "key": f"tenants/{tenant}/documents/{uuid.uuid4()}",
             "report": json.dumps([[12, "UPN is not valid: Enter a valid UPN: the check letter does not match"],
                                   [40, "SENprovision is not N, K or E"]])})
        child_id = str(conn.execute(text("SELECT id FROM child ORDER BY upn IS NULL, family_name LIMIT 1")).scalar_one())
    try:
        yield {"import_id": import_id, "child_id": child_id}
    finally:
        with engine.begin() as conn:
            _tenant_id(conn)
            conn.execute(text("DELETE FROM sen_import"))
        engine.dispose()
        live_server.flask("plugins", "disable", "--tenant", "northshire", "ctf")


def press(button: str, fill: Callable[[Page], None] | None = None) -> Callable[[Page], Response]:
    def act(page: Page) -> Response:
        if fill is not None:
            fill(page)
        return submit(page, button)

    return act


def check_imports(page: Page) -> None:
    heading(page, "Import a Common Transfer File")
    expect(page.get_by_label("Upload a Common Transfer File")).to_have_count(1)
    expect(page.get_by_role("link", name="spring-census.xml")).to_have_count(1)


def check_imports_errors(page: Page) -> None:
    assert_error_summary(page, {"#file": "Select a Common Transfer File"})


def check_report(page: Page) -> None:
    heading(page, "spring-census.xml")
    expect(page.locator("main")).to_contain_text("Not imported")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(1)).to_contain_text("SENprovision is not N, K or E")
    expect(page.get_by_role("button", name="Carry on with the import")).to_have_count(0)


def check_export(page: Page) -> None:
    heading(page, "Download a Common Transfer File")
    expect(page.get_by_label("Receiving school's URN")).to_have_count(1)


def check_export_errors(page: Page) -> None:
    assert_error_summary(page, {"#destination_urn": "Enter the receiving school's URN, a 6 or 7 digit number like 100001"})


PAGES: list[PageCase] = [
    PageCase("sen-imports", f"{N}/sen-register/imports", who="caseworker", check=check_imports),
    PageCase("sen-imports-errors", f"{N}/sen-register/imports", who="caseworker", status=400,
             act=press("Upload and import"), check=check_imports_errors),
    PageCase("sen-import-report", f"{N}/sen-register/imports/{{import_id}}", who="caseworker", check=check_report),
    PageCase("sen-export", f"{N}/sen-register/children/{{child_id}}/ctf", who="caseworker", check=check_export),
    PageCase("sen-export-errors", f"{N}/sen-register/children/{{child_id}}/ctf", who="caseworker", status=400,
             act=press("Download the file", lambda p: p.get_by_label("Receiving school's URN").fill("12")),
             check=check_export_errors),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_sen_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page], live_server: LiveServer,
                                            sen_data: dict[str, str]) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids=sen_data, visit=lambda page: page)


@pytest.mark.browser
def test_a_caseworker_uploads_a_ctf_with_bad_records_and_reads_the_report(
        new_page: Callable[..., Page], live_server: LiveServer, sen_data: dict[str, str], tmp_path: Path) -> None:
    ctf = tmp_path / "from-school.xml"
    ctf.write_text(_BAD_CTF.format(upn=_upn(4242)))
    page = new_page("caseworker")
    page.goto(live_server.tenant_url("northshire", "/sen-register/imports"))
    page.get_by_label("Upload a Common Transfer File").set_input_files(str(ctf))
    response = submit(page, "Upload and import")
    assert response.status == 200
    heading(page, "from-school.xml")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("has been uploaded and will be imported")
    expect(page.locator("main")).to_contain_text("Not imported")
    expect(page.locator("table tbody tr")).to_have_count(2)
    expect(page.locator("main")).to_contain_text("DOB is not a date in the form YYYY-MM-DD")
    check_page(page, "sen-import-uploaded-report")
