"""Hook ``oidc_claims_for_user`` (issue #5 item 1): a plugin a council enabled rewrites the
claims of people signing in there before they are mapped to a person and a role; in a council
that did not enable it nothing changes, and no plugin can change who someone is."""

from __future__ import annotations

import types
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select

from core.identity.models import Identity
from core.plugin_api import PLUGIN_API_VERSION, Setting, SettingsSchema, TenantInfo, hookimpl
from core.plugins.services import configure, set_enabled
from core.users.models import Role, User
from tests.conftest import in_tenant
from tests.web.sso.conftest import sso_sign_in
from tests.web.sso.test_refusals import assert_refused, assert_signed_out


def _directory_groups_plugin(seen: list[tuple[str, str, dict[str, Any]]]) -> types.ModuleType:
    """A council's directory calls its SEND team "finance" (issue #5's example of claim
    mapping): this plugin turns that group into the one the council's role mapping reads.
    It also tries to change the subject, which the platform must ignore."""
    plugin = types.ModuleType("directory_groups")
    plugin.NAME = "directory_groups"  # type: ignore[attr-defined]
    plugin.TITLE = "Directory groups"  # type: ignore[attr-defined]
    plugin.PLUGIN_API = (PLUGIN_API_VERSION, (PLUGIN_API_VERSION[0] + 1, 0))  # type: ignore[attr-defined]
    plugin.SETTINGS = SettingsSchema("directory_groups", {  # type: ignore[attr-defined]
        "issuer": Setting(str, "", "The directory whose groups are renamed")})

    @hookimpl
    def oidc_claims_for_user(tenant: TenantInfo, issuer: str, claims: Mapping[str, Any]) -> Mapping[str, Any] | None:
        seen.append((tenant.slug, issuer, dict(claims)))
        if issuer != tenant.settings["issuer"] or "finance" not in claims.get("groups", []):
            return None
        return {**claims, "groups": ["send-caseworkers"], "sub": "somebody-else"}

    plugin.oidc_claims_for_user = oidc_claims_for_user  # type: ignore[attr-defined]
    return plugin


def _user(tenant: Any, email: str) -> User | None:
    with in_tenant(tenant) as s:
        return s.execute(select(User).where(func.lower(User.email) == email)).scalar_one_or_none()


def test_hook_oidc_claims_for_user(tenant_a: Any, tenant_b: Any, client_for: Any, council_idp: Any,
                                   oidc_provider: Any, use_plugins: Any) -> None:
    seen: list[tuple[str, str, dict[str, Any]]] = []
    use_plugins(directory_groups=_directory_groups_plugin(seen))
    with in_tenant(tenant_a):
        set_enabled("directory_groups", True)
        configure("directory_groups", {"issuer": oidc_provider.a.url})
    a_provider = council_idp(tenant_a, oidc_provider.a)
    b_provider = council_idp(tenant_b, oidc_provider.a)

    # Council B did not enable the plugin: "finance" maps to no role there, as before.
    assert_refused(sso_sign_in(client_for(tenant_b), f"/sign-in/sso/{b_provider}", "nobody"), "no_role", 403)
    assert seen == []
    assert _user(tenant_b, "finance.officer@council.example.gov.uk") is None

    # Council A did: the plugin saw the verified claims and its answer decided the role.
    resp = sso_sign_in(client_for(tenant_a), f"/sign-in/sso/{a_provider}", "nobody")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/children/")
    assert [(slug, issuer) for slug, issuer, _ in seen] == [("council-a", oidc_provider.a.url)]
    assert seen[0][2]["sub"] == "nobody" and seen[0][2]["groups"] == ["finance"]
    user = _user(tenant_a, "finance.officer@council.example.gov.uk")
    assert user is not None and user.role == Role.CASEWORKER
    with in_tenant(tenant_a) as s:
        identity = s.get(Identity, user.identity_id)
        # The plugin's "sub" was ignored: the person is who the provider's signed token says.
        assert (identity.issuer, identity.subject) == (oidc_provider.a.url, "nobody")


def test_a_plugin_answering_none_leaves_the_claims_as_they_were(tenant_a: Any, client_for: Any, council_idp: Any,
                                                                oidc_provider: Any, use_plugins: Any) -> None:
    seen: list[tuple[str, str, dict[str, Any]]] = []
    use_plugins(directory_groups=_directory_groups_plugin(seen))
    with in_tenant(tenant_a):
        set_enabled("directory_groups", True)
        configure("directory_groups", {"issuer": "https://another-directory.example"})
    provider = council_idp(tenant_a, oidc_provider.a)
    assert sso_sign_in(client_for(tenant_a), f"/sign-in/sso/{provider}", "daniel").status_code == 302
    assert len(seen) == 1  # asked, and said None
    assert _user(tenant_a, "daniel.hughes@council.example.gov.uk").role == Role.TEAM_MANAGER


def test_a_failing_plugin_refuses_the_sign_in_with_a_page_and_creates_nobody(
        tenant_a: Any, client_for: Any, council_idp: Any, oidc_provider: Any, use_plugins: Any) -> None:
    broken = _directory_groups_plugin([])

    @hookimpl
    def oidc_claims_for_user(tenant: TenantInfo, claims: Mapping[str, Any]) -> Mapping[str, Any]:
        raise RuntimeError("the directory plugin is broken")

    broken.oidc_claims_for_user = oidc_claims_for_user  # type: ignore[attr-defined]
    use_plugins(directory_groups=broken)
    with in_tenant(tenant_a):
        set_enabled("directory_groups", True)
    provider = council_idp(tenant_a, oidc_provider.a)
    client = client_for(tenant_a)
    # Amara's groups would map to a role without the plugin: a broken plugin is not skipped.
    resp = sso_sign_in(client, f"/sign-in/sso/{provider}", "amara")
    assert_refused(resp, "claims_plugin_failed", 502)
    assert "the directory plugin is broken" not in resp.get_data(as_text=True)
    assert _user(tenant_a, "amara.okafor@council.example.gov.uk") is None
    assert_signed_out(client)
