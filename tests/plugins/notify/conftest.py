"""Fixtures for the notify plugin: a local Notify API (stub.py) with one service per council."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

import plugins.notify as notify
from core.jobs import configure_jobs
from core.plugins import services as plugin_services
from tests.conftest import in_tenant
from tests.plugins.notify.stub import NotifyStub, Service, Template, new_service

REMINDER_FIELDS = notify.MESSAGES["deadline_reminder"]
NOTICE_FIELDS = notify.MESSAGES["statutory_notice"]


@dataclass(frozen=True)
class Council:
    tenant: Any
    service: Service
    #: setting name -> template id, as configured for this council.
    templates: dict[str, str]


@pytest.fixture(autouse=True)
def _inline_jobs() -> Iterator[None]:
    configure_jobs(None)
    yield
    configure_jobs(None)


@pytest.fixture
def notify_stub() -> Iterator[NotifyStub]:
    stub = NotifyStub().start()
    yield stub
    stub.stop()


def _council(stub: NotifyStub, tenant: Any) -> Council:
    """A Notify service of the council's own, with a template per message kind and channel,
    enabled and configured for the council (each council has different ids and keys)."""
    templates: dict[str, str] = {}
    made: list[Template] = []
    for kind, fields in notify.MESSAGES.items():
        for channel in notify.CHANNELS:
            template = Template(id=str(uuid.uuid4()), type=channel, placeholders=fields)
            made.append(template)
            templates[notify.template_setting(kind, channel)] = template.id
    service = stub.add_service(new_service(made))
    with in_tenant(tenant):
        plugin_services.set_enabled("notify", True)
        plugin_services.configure("notify", {"api_key": service.api_key, "base_url": stub.base_url,
                                             "service_url": f"https://{tenant.slug}.sendbridge.example", **templates})
    return Council(tenant, service, templates)


@pytest.fixture
def notify_plugin(use_plugins: Any) -> Any:
    return use_plugins(notify=notify)


@pytest.fixture
def council_a(notify_stub: NotifyStub, notify_plugin: Any, tenant_a: Any) -> Council:
    return _council(notify_stub, tenant_a)


@pytest.fixture
def council_b(notify_stub: NotifyStub, notify_plugin: Any, tenant_b: Any) -> Council:
    return _council(notify_stub, tenant_b)
