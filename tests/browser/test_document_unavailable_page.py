"""The "document unavailable" page (issue #5 item 7: S3 down), with axe.

The shared live server keeps documents in a local folder, so its S3 cannot be stopped from
here; the page is rendered by the app under test (web.errors, exactly as a download renders
it when core.storage raises StorageUnavailable) and served to Chromium at a live-server
address, so its styles and scripts load from the real server."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import check_page, heading
from tests.live_server import LiveServer


@pytest.mark.browser
def test_the_document_unavailable_page(app: Any, new_page: Callable[..., Page], live_server: LiveServer) -> None:
    from core.storage import StorageUnavailable

    with app.test_request_context("/documents/unavailable", base_url="https://council-a.localhost"):
        rendered = app.make_response(app.handle_user_exception(StorageUnavailable()))
    body = rendered.get_data(as_text=True)
    assert rendered.status_code == 503 and "Sorry, the document is unavailable" in body

    page = new_page(None)
    url = live_server.url("/documents/unavailable")
    page.route(url, lambda route: route.fulfill(status=503, body=body, content_type="text/html; charset=utf-8"))
    response = page.goto(url)
    assert response is not None and response.status == 503
    heading(page, "Sorry, the document is unavailable")
    expect(page.locator("main")).to_contain_text("The document cannot be opened at the moment. Try again later.")
    check_page(page, "document-unavailable")
