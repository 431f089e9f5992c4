"""Cross-tenant maintenance: fan a tenant job out, one job per active council.

STYLE.md section 5: never one job iterating tenants inside a single context; each council's
work runs in its own job, in its own tenant context, and fails or retries on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from core.db import db
from core.jobs import enqueue_after_commit
from tenants.services import active_tenant_ids

#: Maintenance jobs operators may fan out by name (``flask --app wsgi maintenance run NAME``).
MAINTENANCE_JOBS: dict[str, str] = {
    "purge-idempotency": "core.idempotency.jobs.purge_idempotency_records",
}


def fan_out(job: Callable[..., Any]) -> int:
    """Enqueue ``job(tenant_id)`` for every active council; returns how many were queued."""
    with db.isolated_scope() as session:
        tenant_ids = active_tenant_ids()
        for tid in tenant_ids:
            enqueue_after_commit(job, str(tid), session=session)
        session.commit()  # hands the jobs to the queue (or runs them, with no Redis)
    return len(tenant_ids)
