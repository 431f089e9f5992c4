"""State changes and queries for children, contacts and placements.

Services validate, change the session and record the audit event in the same transaction;
they never commit (the request or job boundary does).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from core import clock, permissions
from core.actors import Actor
from core.audit import services as audit
from core.children import identifiers
from core.children.models import Child, Contact, Placement, Relationship, Sex
from core.db import db
from core.errors import Conflict, Forbidden, ValidationFailed
from core.identity.scope import children_filter
from core.identity.services import index_placement
from core.institutions.models import Institution

NAME_MAX = 100
#: Records older than this are refused as typing mistakes. Plans can run to the end of the
#: academic year in which a young person turns 25 (CFA 2014 s46); 30 leaves room for
#: historical records imported after a plan has ended.
MAX_AGE_YEARS = 30

CHILD_FIELDS = ("given_name", "family_name", "date_of_birth", "upn", "uln", "nhs_number", "sex", "postcode")
CHILD_REQUIRED = ("given_name", "family_name", "date_of_birth")
CONTACT_FIELDS = ("given_name", "family_name", "relationship", "parental_responsibility", "email", "phone", "postcode")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{7,20}$")


def _require(actor: Actor, permission: str) -> None:
    if not actor.can(permission):
        raise Forbidden(permission)


def _clean_name(value: Any, label: str, errors: dict[str, list[str]], key: str) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errors.setdefault(key, []).append(f"Enter the {label}")
        return None
    value = " ".join(value.split())
    if len(value) > NAME_MAX:
        errors.setdefault(key, []).append(f"The {label} must be {NAME_MAX} characters or fewer")
        return None
    return value


def _clean_optional(value: Any, normalise: Any, key: str, errors: dict[str, list[str]]) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        errors.setdefault(key, []).append("Enter text")
        return None
    try:
        return normalise(value)
    except ValueError as exc:
        errors.setdefault(key, []).append(str(exc))
        return None


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return dt.date(day.year - years, 2, 28)


def validate_child(data: Mapping[str, Any], *, partial: bool = False, today: dt.date | None = None) -> dict[str, Any]:
    """Check and normalise child fields; raise :class:`ValidationFailed` with every problem.

    ``partial``: a change (PATCH); only the given keys are checked and returned.
    Unknown keys are refused rather than ignored, so a typo never silently drops data.
    """
    today = today or clock.today()
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in CHILD_FIELDS:
            errors.setdefault(key, []).append("Unknown field")
    if not partial:
        for key in CHILD_REQUIRED:
            if data.get(key) in (None, ""):
                label = {"given_name": "first name", "family_name": "last name", "date_of_birth": "date of birth"}[key]
                errors.setdefault(key, []).append(f"Enter the {label}" if key != "date_of_birth" else "Enter the date of birth")
    out: dict[str, Any] = {}
    if "given_name" in data and data["given_name"] not in (None, ""):
        out["given_name"] = _clean_name(data["given_name"], "first name", errors, "given_name")
    elif partial and "given_name" in data:
        errors.setdefault("given_name", []).append("Enter the first name")
    if "family_name" in data and data["family_name"] not in (None, ""):
        out["family_name"] = _clean_name(data["family_name"], "last name", errors, "family_name")
    elif partial and "family_name" in data:
        errors.setdefault("family_name", []).append("Enter the last name")
    if "date_of_birth" in data and data["date_of_birth"] not in (None, ""):
        dob = data["date_of_birth"]
        if not isinstance(dob, dt.date) or isinstance(dob, dt.datetime):
            errors.setdefault("date_of_birth", []).append("Date of birth must be a real date")
        elif dob > today:
            errors.setdefault("date_of_birth", []).append("Date of birth must be today or in the past")
        elif dob < _years_before(today, MAX_AGE_YEARS):
            errors.setdefault("date_of_birth", []).append(f"Date of birth must be within the last {MAX_AGE_YEARS} years")
        else:
            out["date_of_birth"] = dob
    elif partial and "date_of_birth" in data:
        errors.setdefault("date_of_birth", []).append("Enter the date of birth")
    for key, norm in (
        ("upn", identifiers.normalise_upn),
        ("uln", identifiers.normalise_uln),
        ("nhs_number", identifiers.normalise_nhs_number),
        ("postcode", identifiers.normalise_postcode),
    ):
        if key in data:
            out[key] = _clean_optional(data[key], norm, key, errors)
    if "sex" in data:
        value = data["sex"]
        if value in (None, ""):
            out["sex"] = None
        else:
            try:
                out["sex"] = Sex(value)
            except ValueError:
                errors.setdefault("sex", []).append("Select female, male, other or unknown")
    if errors:
        raise ValidationFailed(errors)
    return out


def _check_unique_identifiers(values: Mapping[str, Any], exclude: uuid.UUID | None = None) -> None:
    labels = {"upn": "UPN", "nhs_number": "NHS number", "uln": "ULN"}
    for key, label in labels.items():
        value = values.get(key)
        if not value:
            continue
        stmt = select(Child.id).where(getattr(Child, key) == value)
        if exclude is not None:
            stmt = stmt.where(Child.id != exclude)
        if db.session.execute(stmt.limit(1)).first() is not None:
            raise Conflict(f"A child with this {label} is already recorded", field=key)


def _flush_unique(values: Mapping[str, Any]) -> None:
    """Flush inside a savepoint so a concurrent duplicate becomes a clean :class:`Conflict`."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as exc:
        text = str(exc.orig).lower()
        for key, label in (("upn", "UPN"), ("nhs_number", "NHS number"), ("uln", "ULN")):
            if key in text:
                raise Conflict(f"A child with this {label} is already recorded", field=key) from None
        raise


def create_child(actor: Actor, data: Mapping[str, Any]) -> Child:
    """Record a new child or young person. Audited as ``child.created``."""
    _require(actor, permissions.CHILDREN_WRITE)
    values = validate_child(data)
    _check_unique_identifiers(values)
    child = Child(**values)
    db.session.add(child)
    _flush_unique(values)
    audit.record(actor, "child.created", subject_type="child", subject_ids=[child.id], fields=values.keys())
    return child


def update_child(actor: Actor, child: Child, changes: Mapping[str, Any]) -> list[str]:
    """Apply ``changes`` (already accessed for write); returns the names of fields that changed.

    Audited as ``child.updated`` with the field names (never the values).
    """
    _require(actor, permissions.CHILDREN_WRITE)
    values = validate_child(changes, partial=True)
    changed = [k for k, v in values.items() if getattr(child, k) != v]
    if not changed:
        return []
    _check_unique_identifiers({k: values[k] for k in changed}, exclude=child.id)
    for key in changed:
        setattr(child, key, values[key])
    _flush_unique(values)
    audit.record(actor, "child.updated", subject_type="child", subject_ids=[child.id], fields=changed)
    return changed


def validate_contact(data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in CONTACT_FIELDS:
            errors.setdefault(key, []).append("Unknown field")
    out: dict[str, Any] = {}
    out["given_name"] = _clean_name(data.get("given_name"), "first name", errors, "given_name")
    out["family_name"] = _clean_name(data.get("family_name"), "last name", errors, "family_name")
    try:
        out["relationship_to_child"] = Relationship(data.get("relationship"))
    except ValueError:
        errors.setdefault("relationship", []).append("Select the relationship to the child")
    pr = data.get("parental_responsibility")
    if not isinstance(pr, bool):
        errors.setdefault("parental_responsibility", []).append("Select yes if they have parental responsibility")
    out["parental_responsibility"] = bool(pr)
    email = data.get("email")
    if email not in (None, ""):
        if not isinstance(email, str) or len(email) > 254 or not _EMAIL.match(email.strip()):
            errors.setdefault("email", []).append("Enter an email address in the correct format, like name@example.com")
        else:
            out["email"] = email.strip()
    phone = data.get("phone")
    if phone not in (None, ""):
        if not isinstance(phone, str) or not _PHONE.match(phone.strip()):
            errors.setdefault("phone", []).append("Enter a telephone number, like 01632 960 001 or +44 808 157 0192")
        else:
            out["phone"] = phone.strip()
    out["postcode"] = _clean_optional(data.get("postcode"), identifiers.normalise_postcode, "postcode", errors)
    if errors:
        raise ValidationFailed(errors)
    return out


def add_contact(actor: Actor, child: Child, data: Mapping[str, Any]) -> Contact:
    """Add a contact to ``child`` (already accessed for write). Audited as ``contact.created``."""
    _require(actor, permissions.CHILDREN_WRITE)
    values = validate_contact(data)
    contact = Contact(child=child, **values)
    db.session.add(contact)
    db.session.flush()
    audit.record(actor, "contact.created", subject_type="child", subject_ids=[child.id],
                 object_type="contact", object_id=contact.id, fields=data.keys())
    return contact


def add_placement(actor: Actor, child: Child, *, urn: int, started_on: dt.date, ended_on: dt.date | None = None) -> Placement:
    """Record that ``child`` is on roll at institution ``urn``. Audited as ``placement.created``."""
    _require(actor, permissions.CHILDREN_WRITE)
    errors: dict[str, list[str]] = {}
    if db.session.get(Institution, urn) is None:
        errors["urn"] = ["Enter the URN of a school, college or setting we know"]
    if ended_on is not None and ended_on < started_on:
        errors["ended_on"] = ["The end date must be the same as or after the start date"]
    if errors:
        raise ValidationFailed(errors)
    placement = Placement(child=child, urn=urn, started_on=started_on, ended_on=ended_on)
    db.session.add(placement)
    db.session.flush()
    # The platform's index of which councils place children where (no child data): a
    # school's SENCO signing in is offered exactly these councils (core.identity).
    index_placement(urn, child.tenant_id)
    audit.record(actor, "placement.created", subject_type="child", subject_ids=[child.id],
                 object_type="placement", object_id=placement.id)
    return placement


# ---------------------------------------------------------------------------------------
# Finding children


@dataclass(frozen=True)
class ChildFilter:
    """What to look for. Every field is optional; all given fields must match."""

    #: Free text: a name (each word prefixes the first or last name), or a UPN, ULN or NHS number.
    q: str | None = None
    upn: str | None = None
    nhs_number: str | None = None
    uln: str | None = None
    date_of_birth: dt.date | None = None


def _like_prefix(word: str) -> str:
    return word.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _filtered(stmt: Select[Any], flt: ChildFilter) -> Select[Any]:
    if flt.upn:
        stmt = stmt.where(Child.upn == flt.upn.strip().upper())
    if flt.nhs_number:
        stmt = stmt.where(Child.nhs_number == re.sub(r"[\s-]", "", flt.nhs_number))
    if flt.uln:
        stmt = stmt.where(Child.uln == flt.uln.strip())
    if flt.date_of_birth:
        stmt = stmt.where(Child.date_of_birth == flt.date_of_birth)
    if flt.q and flt.q.strip():
        q = flt.q.strip()
        compact = re.sub(r"[\s-]", "", q).upper()
        if re.fullmatch(r"[A-Z][0-9]{11}[0-9A-Z]", compact):
            stmt = stmt.where(Child.upn == compact)
        elif re.fullmatch(r"[0-9]{10}", compact):
            stmt = stmt.where(or_(Child.nhs_number == compact, Child.uln == compact))
        else:
            for word in q.split()[:5]:
                pattern = _like_prefix(word)
                stmt = stmt.where(or_(
                    func.lower(Child.family_name).like(pattern, escape="\\"),
                    func.lower(Child.given_name).like(pattern, escape="\\"),
                ))
    return stmt


def matching_child_ids(q: str) -> Select[Any]:
    """``SELECT child.id`` for a search box: name words, or a UPN, ULN or NHS number (the same
    matching as the children list), for other areas' lists to filter by child."""
    return _filtered(select(Child.id), ChildFilter(q=q))


def _scoped(actor: Actor, stmt: Select[Any]) -> Select[Any]:
    clause = children_filter(actor)
    return stmt if clause is None else stmt.where(clause)


def list_children_page(actor: Actor, flt: ChildFilter, *, after: uuid.UUID | None, limit: int) -> tuple[list[Child], uuid.UUID | None]:
    """Children in creation order (ids are UUIDv7), keyset-paginated for the API.

    Returns the page and the id to continue after (``None`` on the last page). Every child
    returned is recorded as ``child.listed``.
    """
    _require(actor, permissions.CHILDREN_READ)
    stmt = _scoped(actor, _filtered(select(Child), flt)).order_by(Child.id).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(Child.id > after)
    rows = list(db.session.execute(stmt).scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    audit.record(actor, "child.listed", subject_type="child", subject_ids=[c.id for c in rows])
    return rows, (rows[-1].id if more and rows else None)


def find_children(actor: Actor, flt: ChildFilter, *, page: int, per_page: int) -> tuple[list[Child], int]:
    """Children in name order with the total count, for the caseworker list (offset pages).

    Every child shown is recorded as ``child.listed``.
    """
    _require(actor, permissions.CHILDREN_READ)
    total = db.session.execute(_scoped(actor, _filtered(select(func.count()).select_from(Child), flt))).scalar_one()
    stmt = (
        _scoped(actor, _filtered(select(Child), flt))
        .order_by(func.lower(Child.family_name), func.lower(Child.given_name), Child.id)
        .offset(max(page - 1, 0) * per_page)
        .limit(per_page)
    )
    rows = list(db.session.execute(stmt).scalars())
    audit.record(actor, "child.listed", subject_type="child", subject_ids=[c.id for c in rows])
    return rows, total


def current_setting_names(child_ids: list[uuid.UUID], on: dt.date | None = None) -> dict[uuid.UUID, str]:
    """The name of each child's current school, college or setting, in one query (for lists
    of children already accessed and audited by the caller)."""
    if not child_ids:
        return {}
    on = on or clock.today()
    rows = db.session.execute(
        select(Placement.child_id, Institution.name)
        .join(Institution, Institution.urn == Placement.urn)
        .where(Placement.child_id.in_(child_ids), Placement.started_on <= on)
        .where(or_(Placement.ended_on.is_(None), Placement.ended_on >= on))
        .order_by(Placement.started_on)
    ).all()
    return {child_id: name for child_id, name in rows}


def current_placements(child: Child, on: dt.date | None = None) -> list[Placement]:
    on = on or clock.today()
    return [p for p in child.placements if p.is_current(on)]


__all__ = [
    "ChildFilter", "add_contact", "add_placement", "create_child", "current_placements", "current_setting_names",
    "find_children", "matching_child_ids",
    "list_children_page", "update_child", "validate_child", "validate_contact",
]
