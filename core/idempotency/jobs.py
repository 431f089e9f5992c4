"""Jobs of the idempotency area."""

from __future__ import annotations

import logging

from core.idempotency import services
from core.jobs import job

log = logging.getLogger(__name__)


@job(queue="bulk", timeout=300)
def purge_idempotency_records() -> None:
    """Delete a tenant's expired idempotency records (run per tenant by the fan-out)."""
    removed = services.purge_expired()
    log.info("purged %d expired idempotency records", removed)
