"""Children, contacts and placements: validation, changes and their audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text

from core.actors import Actor
from core.audit.models import AuditEvent
from core.children import services
from core.children.access import access_child
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.permissions import CHILDREN_READ
from core.users.models import Role
from tests.conftest import actor_for, in_tenant, postgres_only, system_actor

pytestmark = pytest.mark.smoke


def _events(tenant: Any, child_id: Any) -> list[AuditEvent]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(AuditEvent).where(AuditEvent.subject_id == child_id).order_by(AuditEvent.occurred_at)).scalars())


def test_validation_reports_every_problem_at_once() -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.validate_child({"given_name": " ", "date_of_birth": dt.date.today() + dt.timedelta(days=1),
                                 "upn": "A123", "nhs_number": "1234567890", "sex": "x", "colour": "blue"})
    assert set(exc.value.errors) == {"given_name", "family_name", "date_of_birth", "upn", "nhs_number", "sex", "colour"}


def test_names_are_tidied_and_identifiers_normalised() -> None:
    out = services.validate_child({"given_name": "  Ann   Marie ", "family_name": "O'Neil", "date_of_birth": dt.date(2014, 2, 3),
                                   "nhs_number": "943 476 5919", "postcode": "sw1a1aa", "upn": None})
    assert out["given_name"] == "Ann Marie" and out["nhs_number"] == "9434765919" and out["postcode"] == "SW1A 1AA"
    assert out["upn"] is None


def test_a_date_of_birth_more_than_thirty_years_ago_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="30 years"):
        services.validate_child({"given_name": "A", "family_name": "B", "date_of_birth": dt.date(1980, 1, 1)})


def test_creating_a_child_is_audited_with_field_names_not_values(tenant_a: Any) -> None:
    with in_tenant(tenant_a):
        child = services.create_child(system_actor(tenant_a), {"given_name": "Ava", "family_name": "Stone",
                                                               "date_of_birth": dt.date(2015, 5, 5), "postcode": "M1 1AE"})
    [event] = _events(tenant_a, child.id)
    assert event.action == "child.created" and event.actor_type == "system" and event.tenant_id == tenant_a.id
    assert event.fields == "date_of_birth,family_name,given_name,postcode"
    assert "Ava" not in repr(vars(event)) and "M1 1AE" not in repr(vars(event))


def test_duplicate_identifiers_in_one_council_are_a_conflict(tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    make_child(tenant_a, nhs_number="9434765919")
    with in_tenant(tenant_a), pytest.raises(Conflict) as exc:
        services.create_child(system_actor(tenant_a), {"given_name": "A", "family_name": "B",
                                                       "date_of_birth": dt.date(2015, 1, 1), "nhs_number": "9434765919"})
    assert exc.value.field == "nhs_number"
    # Another council may hold the same child: identifiers are unique per council only.
    assert make_child(tenant_b, nhs_number="9434765919").nhs_number == "9434765919"


def test_updating_records_only_changed_fields(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a, given_name="Before")
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        loaded = access_child(actor, child.id, for_write=True)
        assert services.update_child(actor, loaded, {"given_name": "After", "family_name": loaded.family_name}) == ["given_name"]
        assert services.update_child(actor, loaded, {"given_name": "After"}) == []
    updates = [e for e in _events(tenant_a, child.id) if e.action == "child.updated"]
    assert len(updates) == 1 and updates[0].fields == "given_name"


def test_reads_and_lists_are_audited(tenant_a: Any, make_child: Any, make_user: Any) -> None:
    child = make_child(tenant_a, family_name="Audited")
    user = make_user(tenant_a, Role.SEND_OFFICER)
    with in_tenant(tenant_a):
        actor = actor_for(user)
        access_child(actor, child.id)
        rows, total = services.find_children(actor, services.ChildFilter(q="Audited"), page=1, per_page=10)
        assert [r.id for r in rows] == [child.id] and total == 1
    actions = [(e.action, e.actor_type, e.actor_id) for e in _events(tenant_a, child.id)]
    assert ("child.viewed", "user", str(user.id)) in actions and ("child.listed", "user", str(user.id)) in actions


def test_access_is_the_same_not_found_for_missing_malformed_and_unpermitted(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    reader = Actor(tenant_id=tenant_a.id, kind="user", id="r", permissions=frozenset({CHILDREN_READ}))
    nobody = Actor(tenant_id=tenant_a.id, kind="user", id="n", permissions=frozenset())
    with in_tenant(tenant_a):
        for actor, cid, for_write in ((reader, "not-a-uuid", False), (reader, "01a21ea2-0000-7000-8000-000000000000", False),
                                      (nobody, child.id, False), (reader, child.id, True)):
            with pytest.raises(NotFound):
                access_child(actor, cid, for_write=for_write)


def test_a_read_only_officer_cannot_create(tenant_a: Any, make_user: Any) -> None:
    officer = make_user(tenant_a, Role.SEND_OFFICER)
    with in_tenant(tenant_a), pytest.raises(Forbidden):
        services.create_child(actor_for(officer), {"given_name": "A", "family_name": "B", "date_of_birth": dt.date(2015, 1, 1)})


def test_contacts_are_validated_and_audited_against_the_child(tenant_a: Any, make_child: Any) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        loaded = access_child(actor, child.id, for_write=True)
        with pytest.raises(ValidationFailed) as exc:
            services.add_contact(actor, loaded, {"given_name": "", "relationship": "uncle", "email": "nope", "phone": "abc"})
        assert set(exc.value.errors) == {"given_name", "family_name", "relationship", "parental_responsibility", "email", "phone"}
        contact = services.add_contact(actor, loaded, {"given_name": "Sam", "family_name": "Stone", "relationship": "father",
                                                       "parental_responsibility": True, "email": "sam@example.com"})
    event = [e for e in _events(tenant_a, child.id) if e.action == "contact.created"][0]
    assert event.object_type == "contact" and event.object_id == contact.id


def test_placements_need_a_known_institution_and_sane_dates(tenant_a: Any, make_child: Any, institution: int) -> None:
    child = make_child(tenant_a)
    with in_tenant(tenant_a):
        actor = system_actor(tenant_a)
        loaded = access_child(actor, child.id, for_write=True)
        with pytest.raises(ValidationFailed) as exc:
            services.add_placement(actor, loaded, urn=123456, started_on=dt.date(2024, 9, 1), ended_on=dt.date(2024, 1, 1))
        assert set(exc.value.errors) == {"urn", "ended_on"}
        placement = services.add_placement(actor, loaded, urn=institution, started_on=dt.date(2024, 9, 1))
        assert placement.is_current(dt.date(2025, 1, 1)) and services.current_placements(loaded, dt.date(2025, 1, 1)) == [placement]


@postgres_only
@pytest.mark.parametrize("statement", ["UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"])
def test_the_app_role_cannot_change_or_delete_audit_events(tenant_a: Any, make_child: Any, statement: str) -> None:
    from sqlalchemy.exc import ProgrammingError

    from core.db import db

    make_child(tenant_a)
    session = db.session()
    session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_a.id)})
    with pytest.raises(ProgrammingError, match="permission denied"):
        session.execute(text(statement))
    session.rollback()
