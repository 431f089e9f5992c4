"""No transfer can be silently lost (issue 6): the daily check of every open transfer.

Run once a day per council (``flag_transfers(tenant_id)``, fanned out by the scheduler). Each
council checks its own side of its transfers, so a transfer is flagged in BOTH councils:

* ``failed``: a completion broke half-way and nothing moved (retry or cancel it);
* ``overdue``: still planned after the statutory date (reg 15(2): ``transfer_of_plan_between_las``);
* ``due_soon``: still planned and the statutory date is within :data:`DUE_SOON_WORKING_DAYS`
  working days.

The alert shows on the transfers inbox and on the case, and a newly raised (or escalated)
alert is sent to the council's connected systems (the notifications plugin, through the
outbox). Re-running the job the same day changes nothing and tells nobody twice.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from core import clock
from core.db import db
from core.jobs import job
from core.timescales.calendar import count_working_days
from core.transfers.models import ACTIVE_STATUSES, Transfer
from core.transfers.services import _log, _notify

log = logging.getLogger(__name__)

#: "Near" the statutory date: within a working week, time to chase the move and the papers.
DUE_SOON_WORKING_DAYS = 5

_RANK = {None: 0, "due_soon": 1, "overdue": 2, "failed": 3}


def alert_for(transfer: Transfer, today: dt.date) -> str | None:
    """The alert ``transfer`` deserves today (``None``: all is well)."""
    if transfer.status == "failed":
        return "failed"
    if transfer.status != "planned" or transfer.due_on is None:
        return None
    if today > transfer.due_on:
        return "overdue"
    # Working days from today to the statutory date, both included: 1 = due today.
    if count_working_days(today, transfer.due_on) <= DUE_SOON_WORKING_DAYS:
        return "due_soon"
    return None


def check_transfers(*, today: dt.date | None = None) -> dict[str, int]:
    """Flag this council's open transfers; returns how many carry each alert and how many
    alerts were newly raised (and sent)."""
    today = today or clock.today()
    counts = {"due_soon": 0, "overdue": 0, "failed": 0, "raised": 0}
    rows = db.session.execute(select(Transfer).where(Transfer.status.in_(ACTIVE_STATUSES))
                              .order_by(Transfer.ref)).scalars()
    for transfer in rows:
        alert = alert_for(transfer, today)
        if alert is not None:
            counts[alert] += 1
        if alert == transfer.alert:
            continue
        worse = _RANK[alert] > _RANK[transfer.alert]
        transfer.alert = alert
        transfer.alert_raised_on = today if alert else None
        if alert is not None and worse:
            _log(transfer, f"alert: {alert}", "system:flag_transfers")
            _notify(transfer)
            counts["raised"] += 1
    db.session.flush()
    return counts


@job(queue="default", timeout=300, retries=3)
def flag_transfers() -> dict[str, int]:
    """Enqueued as ``flag_transfers(tenant_id)`` once a day for every council."""
    counts = check_transfers()
    log.info("transfers flagged: %s", counts)
    return counts
