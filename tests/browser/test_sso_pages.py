"""Single sign-on in the browser, against the real OpenID Connect provider (tests/oidc/):
council staff sign in through their council's provider and land on the children list; a
SENCO signs in through their school's provider and lands on their pupils; a family member
goes through GOV.UK One Login (a form POST, then on to the provider despite the page's CSP).

The providers are registered in the live server's database with the operators' own CLI
(``flask --app wsgi idp ...``), as an operator would.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PageCase, check_page, heading, visit_page_case
from tests.live_server import LiveServer
from tests.oidc_provider import OidcProvider, oidc_provider  # noqa: F401  (a fixture)

STAFF_MAPPING = {"claim": "groups", "roles": {"send-caseworkers": "caseworker", "send-managers": "team_manager"}}
SCHOOL_MAPPING = {"senco_claim": "roles", "senco_values": ["SENCO"], "urn_claim": "urn"}
#: Oakfield Primary School, where Northshire places children (tenants/demo.py).
OAKFIELD = 991002


@pytest.fixture(scope="module")
def sso_live(live_server: LiveServer, oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Southvale's staff provider, Northshire's GOV.UK One Login, and Oakfield Primary
    School's provider, registered in the live server through the CLI."""
    key_file = Path(tmp_path_factory.mktemp("keys")) / "one-login.pem"
    key_file.write_text(oidc_provider.private_key_pem)
    a, b = oidc_provider.a, oidc_provider.b
    staff = json.loads(live_server.flask(
        "idp", "council-add", "--tenant", "southvale", "--purpose", "staff", "--name", "Southvale staff account",
        "--issuer", a.url, "--client-id", "staff", "--client-secret", oidc_provider.secret(a, "staff"),
        "--claim-mapping", json.dumps(STAFF_MAPPING)).strip().splitlines()[-1])
    one_login = json.loads(live_server.flask(
        "idp", "council-add", "--tenant", "northshire", "--purpose", "public", "--name", "GOV.UK One Login",
        "--issuer", a.url, "--client-id", "pkjwt", "--auth-method", "private_key_jwt",
        "--private-key-file", str(key_file)).strip().splitlines()[-1])
    school = json.loads(live_server.flask(
        "idp", "org-add", "--slug", "oakfield-primary", "--name", "Oakfield Primary School", "--issuer", b.url,
        "--client-id", "school", "--client-secret", oidc_provider.secret(b, "school"), "--urns", str(OAKFIELD),
        "--claim-mapping", json.dumps(SCHOOL_MAPPING)).strip().splitlines()[-1])
    return {"staff": staff, "one_login": one_login, "school": school}


def sign_in_at_provider(page: Page, login: str) -> None:
    """The provider's own login form (a page of the test provider, not ours)."""
    expect(page.locator("h1")).to_contain_text("Sign in to test provider")
    page.get_by_label("Username").fill(login)
    with page.expect_event("load"):
        page.get_by_role("button", name="Sign in").click()


# ---------------------------------------------------------------------------------------
# Pages


def check_choose_school(page: Page) -> None:
    heading(page, "Sign in with your school or college account")
    expect(page.get_by_role("button", name="Sign in with your Oakfield Primary School account")).to_have_attribute(
        "href", "/t/northshire/portal/sign-in/school/oakfield-primary")


def check_refused(page: Page) -> None:
    heading(page, "You could not be signed in")
    expect(page.get_by_text("state_unknown")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the sign-in page")).to_have_attribute("href", "/t/northshire/portal/sign-in")


def check_staff_sign_in_offers_sso(page: Page) -> None:
    heading(page, "Sign in to Southvale Borough Council")
    expect(page.get_by_role("button", name="Sign in with Southvale staff account")).to_be_visible()


PAGES = [
    PageCase("sso-choose-school", "/t/northshire/portal/sign-in/school", check=check_choose_school),
    PageCase("sso-refused", "/t/northshire/sso/callback?state=not-one-of-ours", status=400, check=check_refused),
    PageCase("sso-staff-sign-in", "/t/southvale/sign-in", check=check_staff_sign_in_offers_sso),
]

NOT_PAGES = {
    "sso.start_staff": "redirects to the council's identity provider",
    "sso.start_school": "redirects to the school's identity provider",
    "sso.start_operator": "redirects to the operators' identity provider",
    "sso.reauthenticate": "redirects to the identity provider the person signed in with",
}


@pytest.mark.browser
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_sso_page_content_and_accessibility(case: PageCase, sso_live: Any, new_page: Callable[..., Page],
                                            live_server: LiveServer) -> None:
    visit_page_case(case, new_page=new_page, live_server=live_server, ids={}, visit=lambda page: page)


# ---------------------------------------------------------------------------------------
# Journeys


@pytest.mark.browser
def test_a_council_user_signs_in_through_their_councils_provider(sso_live: Any, new_page: Callable[..., Page],
                                                                 live_server: LiveServer) -> None:
    page = new_page()
    page.goto(live_server.tenant_url("southvale", "/sign-in"))
    with page.expect_event("load"):
        page.get_by_role("button", name="Sign in with Southvale staff account").click()
    sign_in_at_provider(page, "priya")
    expect(page).to_have_url(live_server.tenant_url("southvale", "/children/"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Signed in as Priya Nair")
    heading(page, "Children and young people")
    check_page(page, "sso-staff-signed-in")


@pytest.mark.browser
def test_a_senco_signs_in_with_their_school_account_and_sees_their_pupils(
        sso_live: Any, new_page: Callable[..., Page], live_server: LiveServer) -> None:
    page = new_page()
    page.goto(live_server.tenant_url("northshire", "/portal/sign-in"))
    with page.expect_event("load"):
        page.get_by_role("link", name="Sign in with your school or college account").click()
    with page.expect_event("load"):
        page.get_by_role("button", name="Sign in with your Oakfield Primary School account").click()
    sign_in_at_provider(page, "ruth")
    expect(page).to_have_url(live_server.tenant_url("northshire", "/portal/school/"))
    expect(page.locator(".govuk-notification-banner")).to_contain_text("You are signed in")
    expect(page.locator(".govuk-service-navigation")).to_contain_text("Ruth Adeyemi")
    # Oakfield's pupils in Northshire are listed.
    expect(page.locator("main table tbody tr")).not_to_have_count(0)
    check_page(page, "sso-senco-signed-in")


@pytest.mark.browser
def test_a_family_member_goes_through_one_login(sso_live: Any, new_page: Callable[..., Page],
                                                live_server: LiveServer) -> None:
    """The sign-in page's CSP allows forms to post only to us; the One Login button posts to
    us and our page moves on to the provider. Nobody has invited this person, so they are
    told they have no access yet (and nothing else)."""
    page = new_page()
    page.goto(live_server.tenant_url("northshire", "/portal/sign-in"))
    with page.expect_event("load"):
        page.get_by_role("button", name="Sign in with GOV.UK One Login").click()
    page.wait_for_url(re.compile(r"^http://127\.0\.0\.1:\d+/interaction/"))
    sign_in_at_provider(page, "parent")
    expect(page).to_have_url(re.compile(r"/t/northshire/sso/callback\?"))
    heading(page, "You do not have access yet")
    check_page(page, "sso-one-login-no-access")
