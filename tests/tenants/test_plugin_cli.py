"""``flask --app wsgi plugins list|enable|disable|configure`` (issue #5 item 2). The CLI
commits for real as the owner, so each test uses a council of its own and removes what the
CLI wrote before the council itself goes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import text

from tenants.plugin_cli import parse_assignments
from tests.core.plugins.test_platform import Finder, Listener


@pytest.fixture
def council(create_tenant: Any, owner_engine: Any, request: pytest.FixtureRequest) -> Any:
    tenant = create_tenant()

    def forget_plugins() -> None:
        with owner_engine.begin() as conn:
            conn.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant.id)})
            conn.execute(text("DELETE FROM tenant_plugin"))

    # Clean-ups run in order after the rollback: the plugin rows must go before the council.
    request.node.after_rollback.insert(0, forget_plugins)
    return tenant


def _json(result: Any) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_list_enable_configure_disable(app: Any, council: Any, use_plugins: Any, monkeypatch: Any) -> None:
    use_plugins(listener=Listener(), finder=Finder())
    cli = app.test_cli_runner()
    installed = [json.loads(line) for line in cli.invoke(args=["plugins", "list"]).output.splitlines()]
    assert [(p["name"], p["hooks"]) for p in installed] == [("finder", ["pupil_for_upn"]),
                                                             ("listener", ["on_integration_event"])]
    assert _json(cli.invoke(args=["plugins", "enable", "--tenant", council.slug, "listener"]))["enabled"] is True
    monkeypatch.setenv("LISTENER_KEY", "from-the-environment")
    shown = _json(cli.invoke(args=["plugins", "configure", "--tenant", council.slug, "listener",
                                   "url=https://partner.example/in", "batch=25", "api_key=@env:LISTENER_KEY"]))
    assert shown["settings"] == {"url": "https://partner.example/in", "batch": 25, "api_key": "set"}
    assert "from-the-environment" not in cli.invoke(args=["plugins", "list", "--tenant", council.slug]).output
    states = {json.loads(line)["name"]: json.loads(line)
              for line in cli.invoke(args=["plugins", "list", "--tenant", council.slug]).output.splitlines()}
    assert states["listener"]["enabled"] and not states["finder"]["enabled"]
    assert _json(cli.invoke(args=["plugins", "disable", "--tenant", council.slug, "listener"]))["enabled"] is False


def test_bad_settings_are_all_listed_and_nothing_changes(app: Any, council: Any, use_plugins: Any) -> None:
    use_plugins(listener=Listener())
    cli = app.test_cli_runner()
    _json(cli.invoke(args=["plugins", "configure", "--tenant", council.slug, "listener", "batch=3"]))
    bad = cli.invoke(args=["plugins", "configure", "--tenant", council.slug, "listener",
                           "url=http://insecure.example", "batch=lots", "colour=red"])
    assert bad.exit_code == 2
    for field in ("url", "batch", "colour"):
        assert f"error: {field}:" in bad.output
    states = [json.loads(line) for line in cli.invoke(args=["plugins", "list", "--tenant", council.slug]).output.splitlines()]
    assert states[0]["settings"]["batch"] == 3
    assert cli.invoke(args=["plugins", "enable", "--tenant", council.slug, "nonesuch"]).exit_code == 2
    assert cli.invoke(args=["plugins", "enable", "--tenant", "no-such-council", "listener"]).exit_code == 2


def test_assignments_parse_json_values_and_environment_secrets() -> None:
    assert parse_assignments(("a=1", "b=true", "c=text", "d=@env:X"), {"X": "s3cret"}) == \
        {"a": 1, "b": True, "c": "text", "d": "s3cret"}
    with pytest.raises(Exception, match="not set"):
        parse_assignments(("d=@env:MISSING",), {})
    with pytest.raises(Exception, match="KEY=VALUE"):
        parse_assignments(("novalue",), {})
