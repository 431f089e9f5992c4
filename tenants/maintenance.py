"""Cross-tenant maintenance: fan a tenant job out, one job per active council.

STYLE.md section 5: never one job iterating tenants inside a single context; each council's
work runs in its own job, in its own tenant context, and fails or retries on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from core.cases.jobs import send_deadline_reminders
from core.db import db
from core.jobs import enqueue_after_commit
from core.schema import SchemaError
from tenants.models import Tenant, TenantStatus
from tenants.services import active_tenant_ids
from tenants.settings import TENANT_SETTINGS

log = logging.getLogger(__name__)

#: Maintenance jobs operators may fan out by name (``flask --app wsgi maintenance run NAME``).
MAINTENANCE_JOBS: dict[str, str] = {
    "purge-idempotency": "core.idempotency.jobs.purge_idempotency_records",
    # Relay the outbox and re-queue plugin calls that are due (core/plugins/calls.py); the
    # scheduler does this every minute, so work written while Redis was down is delivered.
    "sweep-plugin-calls": "core.plugins.calls.sweep",
    # Partners' answers (core/integrations/jobs.py): advice returned through the NHS or social
    # care plugins (every 15 minutes from the scheduler), and social care status (daily).
    "poll-partner-advice": "core.integrations.jobs.poll_partner_advice",
    "refresh-social-care-status": "core.integrations.jobs.refresh_social_care_status",
}


def fan_out(job: Callable[..., Any]) -> int:
    """Enqueue ``job(tenant_id)`` for every active council; returns how many were queued."""
    with db.isolated_scope() as session:
        tenant_ids = active_tenant_ids()
        for tid in tenant_ids:
            enqueue_after_commit(job, str(tid), session=session)
        session.commit()  # hands the jobs to the queue (or runs them, with no Redis)
    return len(tenant_ids)


# ---------------------------------------------------------------------------------------
# Deadline reminders (issue #3 item 9)


def fan_out_reminders() -> int:
    """Enqueue ``send_deadline_reminders(tenant_id, days_before)`` once per active council,
    with that council's own ``reminder_days_before`` setting; returns how many were queued.

    A council whose stored settings no longer validate still gets its reminders, with the
    default number of days (missing a statutory deadline is worse than a reminder on the
    default notice), and the problem is logged by id.
    """
    default_days = TENANT_SETTINGS.defaults()["reminder_days_before"]
    with db.isolated_scope() as session:
        rows = session.execute(select(Tenant.id, Tenant.settings).where(Tenant.status == TenantStatus.ACTIVE)
                               .order_by(Tenant.id)).all()
        for tid, stored in rows:
            try:
                days = TENANT_SETTINGS.validate(stored or {})["reminder_days_before"]
            except SchemaError:
                log.warning("tenant %s: settings do not validate; reminding %d days ahead", tid, default_days)
                days = default_days
            enqueue_after_commit(send_deadline_reminders, str(tid), int(days), session=session)
        session.commit()  # hands the jobs to the queue (or runs them, with no Redis)
    return len(rows)


#: Maintenance runs that need more than ``job(tenant_id)`` per council: name -> a fan-out
#: function returning how many councils it queued (``flask --app wsgi maintenance run NAME``).
MAINTENANCE_FAN_OUTS: dict[str, Callable[[], int]] = {
    "send-reminders": fan_out_reminders,
}
