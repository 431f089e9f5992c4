"""The tenant registry: provisioning, settings schema, resolution, and the operator CLI."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from core.errors import Conflict, ValidationFailed
from core.schema import SchemaError
from tenants.resolution import resolve_tenant, slug_from_host
from tenants.services import provision_tenant
from tenants.settings import TENANT_SETTINGS
from tests.conftest import BASE_DOMAIN, set_tenant_status

pytestmark = pytest.mark.smoke


@pytest.mark.parametrize("slug, name, la_code, field", [
    ("Kent", "Kent County Council", "886", "slug"),
    ("k", "Kent County Council", "886", "slug"),
    ("api", "Kent County Council", "886", "slug"),
    ("kent", "", "886", "name"),
    ("kent", "Kent County Council", "88", "la_code"),
    ("kent", "Kent County Council", "ABC", "la_code"),
])
def test_provisioning_refuses_bad_fields(app: Any, slug: str, name: str, la_code: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        provision_tenant(slug=slug, name=name, la_code=la_code)
    assert field in exc.value.errors


def test_provisioning_refuses_duplicate_slugs_and_la_codes(tenant_a: Any) -> None:
    with pytest.raises(Conflict, match="slug"):
        provision_tenant(slug=tenant_a.slug, name="X", la_code="123")
    with pytest.raises(Conflict, match="la_code"):
        provision_tenant(slug="fresh-slug", name="X", la_code=tenant_a.la_code)


def test_tenant_settings_have_a_schema_with_defaults_and_no_unknown_keys() -> None:
    assert TENANT_SETTINGS.validate({})["reminder_days_before"] == 10
    assert TENANT_SETTINGS.validate({})["deem_weekend_receipt_next_working_day"] is False
    with pytest.raises(SchemaError) as exc:
        TENANT_SETTINGS.validate({"reminder_days_before": 0, "send_team_email": "nope", "colour": "red",
                                  "deem_weekend_receipt_next_working_day": "yes", "deemed_service_days_post": True})
    assert set(exc.value.errors) == {"reminder_days_before", "send_team_email", "colour",
                                     "deem_weekend_receipt_next_working_day", "deemed_service_days_post"}


@pytest.mark.parametrize("host, slug", [
    (f"kent.{BASE_DOMAIN}", "kent"), (f"KENT.{BASE_DOMAIN}:443", "kent"), (f"{BASE_DOMAIN}", None),
    (f"a.b.{BASE_DOMAIN}", None), ("kent.elsewhere.test", None), (f"-bad.{BASE_DOMAIN}", None),
])
def test_slug_from_host(host: str, slug: str | None) -> None:
    assert slug_from_host(host, BASE_DOMAIN) == slug


def test_resolution_by_host_and_by_path(tenant_a: Any, tenant_b: Any) -> None:
    assert resolve_tenant(f"council-a.{BASE_DOMAIN}", BASE_DOMAIN)[1].id == tenant_a.id
    assert resolve_tenant(BASE_DOMAIN, BASE_DOMAIN, "council-b")[1].id == tenant_b.id
    assert resolve_tenant(BASE_DOMAIN, BASE_DOMAIN) == (False, None)
    assert resolve_tenant(f"nowhere.{BASE_DOMAIN}", BASE_DOMAIN) == (True, None)
    # A host and a path that disagree resolve to nothing, never to either.
    assert resolve_tenant(f"council-a.{BASE_DOMAIN}", BASE_DOMAIN, "council-b") == (True, None)


def test_unknown_and_disabled_tenants_get_the_same_404(create_tenant: Any, owner_engine: Any, client_for: Any, app: Any) -> None:
    # Both states are set before the first request: on SQLite the test's one transaction
    # keeps the snapshot of its first read (each real request is its own transaction).
    active, extra = create_tenant(), create_tenant()
    set_tenant_status(owner_engine, extra.slug, "disabled")
    client = app.test_client()
    assert client.get(f"/t/{active.slug}/", base_url=f"https://{BASE_DOMAIN}").status_code == 200
    disabled = client.get(f"/t/{extra.slug}/sign-in", base_url=f"https://{BASE_DOMAIN}")
    unknown = client.get("/t/no-such-council/sign-in", base_url=f"https://{BASE_DOMAIN}")
    assert disabled.status_code == unknown.status_code == 404
    strip = lambda r: re.sub(r'nonce="[^"]+"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(disabled) == strip(unknown)
    by_host = client.get("/sign-in", base_url=f"https://{extra.slug}.{BASE_DOMAIN}")
    assert by_host.status_code == 404
    assert client.get("/t/Not_A_Slug/", base_url=f"https://{BASE_DOMAIN}").status_code == 404


def test_path_without_trailing_slash_redirects_into_the_tenant(tenant_a: Any, app: Any) -> None:
    resp = app.test_client().get("/t/council-a", base_url=f"https://{BASE_DOMAIN}")
    assert resp.status_code == 308 and resp.headers["Location"].endswith("/t/council-a/")


def test_links_keep_the_tenant_path_prefix(tenant_a: Any, app: Any) -> None:
    body = app.test_client().get("/t/council-a/", base_url=f"https://{BASE_DOMAIN}").get_data(as_text=True)
    assert 'href="/t/council-a/sign-in"' in body


# ---------------------------------------------------------------------------------------
# The operator CLI (api-v1.md): commits for real as the owner, so it cleans up after itself


@pytest.fixture
def cli(app: Any, owner_engine: Any) -> Any:
    runner = app.test_cli_runner()
    created: list[str] = []
    runner.created = created  # type: ignore[attr-defined]
    yield runner
    with owner_engine.begin() as conn:
        for slug in created:
            conn.execute(text("DELETE FROM tenant WHERE slug = :s"), {"s": slug})


def test_tenants_create_list_disable_enable_configure(cli: Any) -> None:
    slug = f"cli-{uuid.uuid4().hex[:6]}"
    cli.created.append(slug)
    la_code = str(300 + uuid.uuid4().int % 500)  # fixtures use 901/902; this range is free
    result = cli.invoke(args=["tenants", "create", "--slug", slug, "--name", "Kent County Council", "--la-code", la_code])
    assert result.exit_code == 0, result.output
    created = json.loads(result.output)
    assert created["slug"] == slug and created["status"] == "active" and created["settings"]["reminder_days_before"] == 10
    listing = cli.invoke(args=["tenants", "list", "--json"])
    assert slug in {json.loads(line)["slug"] for line in listing.output.splitlines()}
    assert json.loads(cli.invoke(args=["tenants", "disable", "--slug", slug]).output)["status"] == "disabled"
    assert json.loads(cli.invoke(args=["tenants", "enable", "--slug", slug]).output)["status"] == "active"
    configured = cli.invoke(args=["tenants", "configure", "--slug", slug, "reminder_days_before=5",
                                  "send_team_email=send@kent.gov.uk"])
    assert json.loads(configured.output)["settings"]["reminder_days_before"] == 5


@pytest.mark.parametrize("args, message", [
    (["--slug", "BAD SLUG", "--name", "X", "--la-code", "123"], "slug"),
    (["--slug", "fine-slug", "--name", "X", "--la-code", "12"], "la_code"),
    (["--slug", "fine-slug", "--name", "X", "--la-code", "123", "--settings", "{not json"], "not valid JSON"),
    (["--slug", "fine-slug", "--name", "X", "--la-code", "123", "--settings", '{"colour": "red"}'], "colour"),
])
def test_tenants_create_refuses_bad_input_and_creates_nothing(cli: Any, owner_engine: Any, args: list[str], message: str) -> None:
    result = cli.invoke(args=["tenants", "create", *args])
    assert result.exit_code == 2 and message in result.output
    with owner_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM tenant WHERE slug = 'fine-slug'")).scalar_one() == 0


def test_configure_refuses_unknown_settings(cli: Any, tenant_a: Any) -> None:
    result = cli.invoke(args=["tenants", "configure", "--slug", tenant_a.slug, "colour=red"])
    assert result.exit_code == 2 and "colour" in result.output


def test_disabling_an_unknown_tenant_fails_clearly(cli: Any) -> None:
    result = cli.invoke(args=["tenants", "disable", "--slug", "no-such-council"])
    assert result.exit_code == 2 and "not found" in result.output


def test_maintenance_jobs_fan_out_per_council_from_the_cli(cli: Any, tenant_a: Any, tenant_b: Any) -> None:
    result = cli.invoke(args=["maintenance", "run", "purge-idempotency"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["councils"] >= 2
    assert cli.invoke(args=["maintenance", "run", "no-such-job"]).exit_code == 2
