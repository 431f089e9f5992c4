"""The child's page shows what the social care system last said (issue #5), to staff only."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.integrations.social_care import store_social_care_status
from core.plugin_api import SocialCareStatus
from tests.conftest import in_tenant, system_actor


def test_staff_see_the_childs_social_care_status_and_its_date(tenant_a: Any, make_child: Any, make_user: Any,
                                                             client_for: Any) -> None:
    child = make_child(tenant_a)
    plain = client_for(tenant_a, make_user(tenant_a)).get(f"/children/{child.id}").get_data(as_text=True)
    assert 'id="social-care"' not in plain  # nothing known: nothing shown
    with in_tenant(tenant_a):
        store_social_care_status(system_actor(tenant_a), child.id, SocialCareStatus(
            child_id=child.id, looked_after=True, child_in_need=False, child_protection_plan=False,
            social_worker="Jo Bloggs", as_of=dt.date(2026, 11, 20)), source="social_care")
    body = client_for(tenant_a, make_user(tenant_a)).get(f"/children/{child.id}").get_data(as_text=True)
    assert 'id="social-care"' in body and "Jo Bloggs" in body and "20 November 2026" in body
