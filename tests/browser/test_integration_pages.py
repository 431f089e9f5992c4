"""The integrations page (issue #5): a tenant admin sees the council's plugins and partner
calls that failed, turns a plugin on and retries a call, in headless Chromium with axe-core."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import PageCase, check_page, heading, visit_page_case
from tests.browser.test_advice_pages import confirm_if_asked
from tests.live_server import LiveServer

N = "/t/northshire"


def _tenant_id(conn: Any, slug: str) -> str:
    return str(conn.execute(text("SELECT id FROM tenant WHERE slug = :s"), {"s": slug}).scalar_one())


@pytest.fixture(scope="module")
def failed_call(live_server: LiveServer) -> Iterator[str]:
    """A call to the notify plugin that Notify refused, as the outbox would have left it."""
    engine = create_engine(live_server.database_url)
    call_id = str(uuid.uuid4())
    with engine.begin() as conn:
        tenant = _tenant_id(conn, "northshire")
        conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": tenant})
        conn.execute(text(
            "INSERT INTO plugin_call (id, tenant_id, plugin, hook, key, arguments, status, attempts, last_error, "
            "created_at, finished_at) VALUES (:id, :t, 'notify', 'delivery_for_notification', :key, '{}', 'failed', "
            "8, 'PermanentFailure: Notify said 400: template not found', now(), now())"),
            {"id": call_id, "t": tenant, "key": f"notification:{call_id}"})
    try:
        yield call_id
    finally:
        with engine.begin() as conn:
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": _tenant_id(conn, "northshire")})
            conn.execute(text("DELETE FROM plugin_call WHERE id = :id"), {"id": call_id})
        engine.dispose()


def check_index(page: Page) -> None:
    heading(page, "Integrations")
    expect(page.locator("main")).to_contain_text("Notify said 400: template not found")
    expect(page.get_by_role("button", name=re.compile(r"^Retry now the notify call made "))).to_have_count(1)
    expect(page.get_by_role("heading", name="Plugins")).to_have_count(1)


PAGES: list[PageCase] = [
    PageCase("integrations", f"{N}/integrations", who="admin", check=check_index),
]


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_integration_page_content_and_accessibility(case: PageCase, new_page: Callable[..., Page],
                                                    live_server: LiveServer, failed_call: str) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids={}, visit=lambda page: page)


@pytest.mark.browser
def test_an_admin_turns_a_plugin_on_and_retries_a_failed_call(new_page: Callable[..., Page], live_server: LiveServer,
                                                             failed_call: str) -> None:
    page = new_page("admin")
    page.goto(live_server.tenant_url("northshire", "/integrations"))
    card = page.locator(".govuk-summary-card").filter(has=page.get_by_role("button", name=re.compile("^Turn on "))).first
    name = card.get_by_role("button").inner_text().removeprefix("Turn on").strip()
    for _ in range(2):  # a sign-in older than 15 minutes is confirmed first, then the action is asked again
        with page.expect_event("load"):
            card.get_by_role("button", name=f"Turn on {name}").click()
        if page.locator("h1").first.inner_text().strip() != "Confirm it is you":
            break
        confirm_if_asked(page)
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"{name} is now on for this council")
    expect(page.locator(".govuk-summary-card").filter(has_text=name).first
           .get_by_role("button", name=f"Turn off {name}")).to_have_count(1)
    with page.expect_event("load"):
        page.get_by_role("button", name=re.compile(r"^Retry now the notify call")).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("The notify call will be tried again now")
    check_page(page, "integrations-retried")
