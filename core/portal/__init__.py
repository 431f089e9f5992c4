"""Services behind the portals (issue #4): what families (``family``), schools' SENCOs
(``school``) and professionals (``advice``) do, and the council staff's side of it (``access``)."""

from __future__ import annotations

import dataclasses

from core import permissions
from core.actors import Actor


def acting_for(person: Actor) -> Actor:
    """The person from outside the council, allowed ``cases.write`` for one call that records a
    statutory step they took themselves (a request for an assessment, advice returned, review
    papers or a report sent).

    Why elevate at all: the step *is* their act, and recording it the day it arrives is what
    starts or stops the statutory clock that day; waiting for a caseworker would move the date.
    Why it stays narrow: it is built only inside the portal services, after they have checked
    the child, the case and the step; it is never returned or kept; the scope is unchanged, so
    every ``access_*`` check inside the call is still limited to their part of the council; and
    the kind and id are theirs, so the case event (``recorded_by``) and its audit rows name them.
    """
    if person.kind != "identity" or person.scope is None:
        raise AssertionError("only people outside the council act through the portals")
    return dataclasses.replace(person, permissions=person.permissions | {permissions.CASES_WRITE})
