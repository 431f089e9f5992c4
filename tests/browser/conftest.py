"""Browser tests: headless Debian Chromium (pytest-playwright) against the real app served by
gunicorn with the demo data (tests/live_server.py), and axe-core on every page.

* Chromium is /usr/bin/chromium (``make chromium``); Playwright cannot download its own here
  (RECIPES.md section 7).
* Contexts use ``bypass_csp`` only so axe can be injected: the app's CSP allows no script but
  its own. ``test_pages_work_under_the_real_csp`` checks the pages without the bypass.
* Signing in is rate limited (20 a minute per address), so each demo user signs in through
  the real form once per session and later contexts reuse that storage state.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, expect

from tenants import demo as _demo
from tests.live_server import ROOT, LiveServer, shared_live_server

AXE_PATH = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SCREENS = ROOT / "artifacts" / "screens"

#: The demo's people (tenants/demo.py): (council slug, display name).
USERS = {
    "caseworker": ("northshire", "Amara Okafor"),
    "manager": ("northshire", "Daniel Hughes"),
    "admin": ("northshire", "Grace Whitfield"),
    "southvale-caseworker": ("southvale", "Priya Shah"),
}
#: People outside the council (the portals), who sign in at /portal/sign-in: "parent",
#: "young_person", "senco", "professional" in Northshire, and "southvale-<role>".
PORTAL_USERS: dict[str, tuple[str, str]] = {}
for _council in _demo.COUNCILS:
    for _role, (_name, _email) in _demo.portal_people(_council).items():
        PORTAL_USERS[_role if _council.slug == "northshire" else f"{_council.slug}-{_role}"] = (_council.slug, _name)
PORTAL_USERS["operator"] = ("northshire", _demo.DEMO_OPERATOR[0])
USERS.update(PORTAL_USERS)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if item.path.resolve().is_relative_to(here) and not item.get_closest_marker("browser"):
            raise pytest.UsageError(f"{item.nodeid}: every browser test must be marked @pytest.mark.browser")


# ---------------------------------------------------------------------------------------
# Server and browser


@pytest.fixture(scope="session")
def live_server(pytestconfig: pytest.Config) -> LiveServer:
    return shared_live_server(pytestconfig)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    return {
        **browser_type_launch_args,
        "executable_path": "/usr/bin/chromium",
        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # bypass_csp only so that axe can be injected; see the module docstring.
    return {**browser_context_args, "bypass_csp": True, "viewport": {"width": 1280, "height": 900}}


# ---------------------------------------------------------------------------------------
# Signed-in contexts


def sign_in(page: Page, server: LiveServer, slug: str, name: str) -> None:
    """Sign in through the demo sign-in form, as a person would (the staff form, or the
    portal's for people outside the council)."""
    if (slug, name) in PORTAL_USERS.values():
        page.goto(server.tenant_url(slug, "/portal/sign-in"))
    else:
        page.goto(server.tenant_url(slug, "/sign-in"))
    page.get_by_role("radio", name=name).check()
    with page.expect_event("load"):
        page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text(f"Signed in as {name}")


@pytest.fixture(scope="session")
def storage_states(browser: Browser, browser_context_args: dict[str, Any], live_server: LiveServer) -> Callable[[str], Any]:
    cache: dict[str, Any] = {}

    def state(who: str) -> Any:
        if who not in cache:
            slug, name = USERS[who]
            ctx = browser.new_context(**browser_context_args)
            stray = _block_non_loopback(ctx)
            try:
                sign_in(ctx.new_page(), live_server, slug, name)
                cache[who] = ctx.storage_state()
            finally:
                ctx.close()
            assert not stray, f"requests beyond 127.0.0.1: {stray}"
        return cache[who]

    return state


@pytest.fixture
def new_page(browser: Browser, browser_context_args: dict[str, Any], storage_states: Callable[[str], Any],
             live_server: LiveServer) -> Iterator[Callable[..., Page]]:
    """``new_page(who=None)``: a page in a fresh context, signed in as ``who`` (a USERS key)."""
    contexts: list[BrowserContext] = []
    strays: list[list[str]] = []

    def make(who: str | None = None, **context_args: Any) -> Page:
        args = {**browser_context_args, **context_args}
        if who is not None:
            args["storage_state"] = storage_states(who)
        ctx = browser.new_context(**args)
        strays.append(_block_non_loopback(ctx))
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()
    stray = [url for urls in strays for url in urls]
    assert not stray, f"the pages asked for addresses beyond 127.0.0.1 (aborted): {stray}"


#: Every URL except the live server's (Playwright never routes data: or blob: URLs).
_NOT_LOOPBACK = re.compile(r"^(?!http://127\.0\.0\.1:\d+/)")


def _block_non_loopback(ctx: BrowserContext) -> list[str]:
    """Abort every request that is not to 127.0.0.1; returns the list those get added to."""
    stray: list[str] = []

    def handle(route: Any) -> None:
        stray.append(route.request.url)
        route.abort()

    ctx.route(_NOT_LOOPBACK, handle)
    return stray


# ---------------------------------------------------------------------------------------
# Data, read through the API as a supplier's system would


@dataclass(frozen=True)
class DemoChild:
    id: str
    given_name: str
    family_name: str

    @property
    def list_name(self) -> str:
        return f"{self.family_name}, {self.given_name}"


def list_children(server: LiveServer, token: str) -> list[DemoChild]:
    out: list[DemoChild] = []
    cursor = ""
    while True:
        status, _, body = server.http("GET", f"/api/v1/children?limit=200{cursor}", token=token)
        assert status == 200, body
        out += [DemoChild(c["id"], c["given_name"], c["family_name"]) for c in body["items"]]
        if not body.get("next_cursor"):
            return out
        cursor = f"&cursor={body['next_cursor']}"


@pytest.fixture(scope="session")
def api_tokens(live_server: LiveServer) -> dict[str, str]:
    return {slug: live_server.api_token(slug, scopes="children:read") for slug in ("northshire", "southvale")}


@pytest.fixture(scope="session")
def northshire_child(live_server: LiveServer, api_tokens: dict[str, str]) -> DemoChild:
    """A seeded Northshire child (the oldest record), for the pages about one child."""
    return list_children(live_server, api_tokens["northshire"])[0]


# ---------------------------------------------------------------------------------------
# axe and screenshots


def check_page(page: Page, name: str) -> None:
    """Save a full-page screenshot, then run axe-core; fail on any violation."""
    page.wait_for_load_state("load")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=AXE_PATH.read_text())
    result = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return {passes: r.passes.length, violations: r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map(n => n.target.join(' '))}))};
        }""",
        AXE_TAGS,
    )
    violations = result["violations"]
    report = "\n".join(f"  {v['id']} ({v['impact']}): {v['help']}\n      " + "\n      ".join(v["targets"])
                       for v in violations)
    assert not violations, f"axe found {len(violations)} violation(s) on {name} ({page.url}):\n{report}"
    assert result["passes"] > 0, "axe ran no rules: is axe-core loaded?"


# ---------------------------------------------------------------------------------------
# Pages: each area's module keeps a PAGES list of PageCase; visit_page_case runs one


@dataclass(frozen=True)
class PageCase:
    #: Test id and screenshot name (artifacts/screens/<name>.png).
    name: str
    #: Opened with GET first; ``{placeholders}`` are filled from the module's ids. The URL-map
    #: walk in test_pages.py matches it.
    path: str
    #: None (signed out) or a key of USERS.
    who: str | None = None
    #: The HTTP status of the page finally shown (after ``act``).
    status: int = 200
    #: Optional: fill in and submit a form; returns the response of the page it leads to.
    act: Callable[[Any], Response] | None = None
    #: What the page must show (given the module's visit object).
    check: Callable[[Any], None] = field(default=lambda v: None)


def visit_page_case(case: PageCase, *, new_page: Callable[..., Page], live_server: LiveServer, ids: Mapping[str, Any],
                    visit: Callable[[Page], Any]) -> None:
    """Open ``case`` as its user, do its act, check the status and content, then axe and a screenshot."""
    page = new_page(case.who)
    response = page.goto(live_server.url(case.path.format(**ids)))
    assert response is not None
    seen = visit(page)
    if case.act is not None:
        assert response.status == 200, f"{case.path} answered {response.status} before the form was sent"
        response = case.act(seen)
    assert response.status == case.status, f"{case.name}: {response.url} answered {response.status}"
    case.check(seen)
    check_page(page, case.name)


def submit(page: Page, button: str) -> Response:
    """Click a form's button and wait for the next document to load; returns the response
    that document came from (after any redirect)."""

    def is_document(r: Response) -> bool:
        return r.request.is_navigation_request() and r.frame == page.main_frame and not 300 <= r.status < 400

    with page.expect_response(is_document) as info:
        with page.expect_event("load"):
            page.get_by_role("button", name=button, exact=True).click()
    return info.value


def press(button: str, fill: Callable[[Page], None] | None = None) -> Callable[[Any], Response]:
    """A PageCase act: fill the form (optionally), then press ``button``."""
    def act(v: Any) -> Response:
        if fill is not None:
            fill(v.page)
        return submit(v.page, button)

    return act


def heading(page: Page, text: str | re.Pattern[str]) -> None:
    expect(page.locator("h1")).to_have_text(text)


def assert_error_summary(page: Page, expected: dict[str, str]) -> None:
    """The GOV.UK error summary: focused by GOV.UK Frontend's JS, the title starts "Error:",
    it lists exactly ``expected`` ({"#anchor": "message"}) in order, and every link's target
    is on the page, with the same message shown at the field."""
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    links = summary.locator(".govuk-error-summary__list a")
    expect(links).to_have_count(len(expected))
    for i, (href, message) in enumerate(expected.items()):
        expect(links.nth(i)).to_have_attribute("href", href)
        expect(links.nth(i)).to_have_text(message)
        expect(page.locator(f"[id='{href[1:]}']")).to_have_count(1)
    for message in expected.values():
        expect(page.locator(".govuk-error-message").filter(has_text=message)).to_have_count(1)
