"""Layer 2 of isolation on its own: the ORM criterion, fail-closed, and the flush checks."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from core.children.models import Child, Contact
from core.db import db
from core.tenancy import CrossTenantWrite, TenantContextRequired, tenant_context
from tests.conftest import in_tenant

pytestmark = pytest.mark.smoke


def test_querying_tenant_data_with_no_tenant_raises(app: Any) -> None:
    with pytest.raises(TenantContextRequired):
        db.session.execute(select(Child)).all()
    db.session.rollback()
    with pytest.raises(TenantContextRequired):
        db.session.get(Child, uuid.uuid4())
    db.session.rollback()


def test_all_tenants_option_is_the_explicit_escape_hatch(app: Any) -> None:
    db.session.execute(select(Child).execution_options(all_tenants=True)).all()
    db.session.rollback()


def test_queries_see_only_the_current_tenant(tenant_a: Any, tenant_b: Any, make_child: Any, make_contact: Any) -> None:
    a, b = make_child(tenant_a), make_child(tenant_b)
    make_contact(tenant_a, a)
    make_contact(tenant_b, b)
    with in_tenant(tenant_a) as s:
        assert {c.id for c in s.execute(select(Child)).scalars()} >= {a.id}
        assert b.id not in {c.id for c in s.execute(select(Child)).scalars()}
        assert s.get(Child, b.id) is None
        # Joins and aliases are filtered on every tenant-owned side.
        rows = s.execute(select(Contact, Child).join(Child, Contact.child_id == Child.id)).all()
        assert {child.id for _, child in rows} >= {a.id} and b.id not in {child.id for _, child in rows}


def test_bulk_updates_and_deletes_are_filtered_too(tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    a = make_child(tenant_a, given_name="Original")
    with in_tenant(tenant_b) as s:
        s.execute(update(Child).where(Child.id == a.id).values(given_name="Changed"))
        s.execute(delete(Child).where(Child.id == a.id))
    with in_tenant(tenant_a) as s:
        assert s.get(Child, a.id).given_name == "Original"


def test_new_rows_are_stamped_with_the_current_tenant(tenant_a: Any) -> None:
    import datetime as dt

    with in_tenant(tenant_a) as s:
        child = Child(given_name="A", family_name="B", date_of_birth=dt.date(2016, 1, 1))
        s.add(child)
        s.flush()
        assert child.tenant_id == tenant_a.id


def test_writing_a_row_for_another_tenant_is_refused(tenant_a: Any, tenant_b: Any) -> None:
    import datetime as dt

    with tenant_context(tenant_b.id):
        s = db.session()
        s.add(Child(tenant_id=tenant_a.id, given_name="A", family_name="B", date_of_birth=dt.date(2016, 1, 1)))
        with pytest.raises(CrossTenantWrite):
            s.flush()
        s.rollback()
    db.session.remove()


def test_creating_tenant_data_outside_a_tenant_is_refused(app: Any) -> None:
    import datetime as dt

    s = db.session()
    s.add(Child(given_name="A", family_name="B", date_of_birth=dt.date(2016, 1, 1)))
    with pytest.raises(TenantContextRequired):
        s.flush()
    s.rollback()


def test_changing_an_object_loaded_in_another_tenant_is_refused(tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    a = make_child(tenant_a)
    with in_tenant(tenant_a) as s:
        loaded = s.get(Child, a.id)
    # The object outlives its session; a later session in tenant B must not write it.
    with tenant_context(tenant_b.id):
        s = db.session()
        s.add(loaded)
        loaded.given_name = "Leak"
        with pytest.raises(CrossTenantWrite):
            s.flush()
        s.rollback()
    db.session.remove()


def test_switching_tenant_inside_an_open_transaction_is_refused(tenant_a: Any, tenant_b: Any) -> None:
    with tenant_context(tenant_a.id):
        s = db.session()
        s.execute(select(Child)).all()
        with tenant_context(tenant_b.id):
            with pytest.raises(TenantContextRequired, match="changed inside an open transaction"):
                s.execute(select(Child)).all()
        s.rollback()
    db.session.remove()


def test_counts_and_subqueries_over_tenant_tables_are_filtered(tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    from sqlalchemy import func

    make_child(tenant_a, family_name="Countme")
    with in_tenant(tenant_b) as s:
        assert s.execute(select(func.count()).select_from(Child).where(Child.family_name == "Countme")).scalar_one() == 0
        sub = select(Child.id).where(Child.family_name == "Countme").subquery()
        assert s.execute(select(func.count()).select_from(sub)).scalar_one() == 0
    with in_tenant(tenant_a) as s:
        assert s.execute(select(func.count()).select_from(Child).where(Child.family_name == "Countme")).scalar_one() == 1


def test_a_count_with_no_tenant_fails_closed_too(app: Any) -> None:
    from sqlalchemy import func

    with pytest.raises(TenantContextRequired):
        db.session.execute(select(func.count()).select_from(Child)).scalar_one()
    db.session.rollback()


def test_a_session_reused_after_a_platform_wide_transaction_may_enter_a_council(app: Any, tenant_a: Any) -> None:
    """The tenant is judged per transaction: a committed tenantless read leaves nothing behind
    that would refuse the next transaction, while switching inside one is still refused."""
    from tenants.models import Tenant

    session = db.session()
    session.get(Tenant, tenant_a.id)  # platform-wide, no tenant
    session.commit()
    with tenant_context(tenant_a.id):
        session.add(Child(given_name="Reuse", family_name="Test", date_of_birth=dt.date(2015, 1, 1)))
        session.flush()
        session.rollback()
    session.get(Tenant, tenant_a.id)
    with tenant_context(tenant_a.id), pytest.raises(TenantContextRequired):
        session.execute(select(Child)).all()
    session.rollback()


# ---------------------------------------------------------------------------------------
# crossing_into: the one door between councils inside a transaction (plan transfers)


def test_crossing_writes_both_councils_in_one_transaction(tenant_a: Any, tenant_b: Any) -> None:
    from core.tenancy import crossing_into, current_tenant_id

    with tenant_context(tenant_a.id):
        s = db.session()
        s.add(Child(given_name="Sent", family_name="A", date_of_birth=dt.date(2016, 1, 1)))
        with crossing_into(s, tenant_b.id):
            assert current_tenant_id() == tenant_b.id
            # Inside the door the receiver's rows are all that can be seen or written.
            assert s.execute(select(Child).where(Child.given_name == "Sent")).all() == []
            s.add(Child(given_name="Received", family_name="B", date_of_birth=dt.date(2016, 1, 1)))
        assert current_tenant_id() == tenant_a.id
        assert [c.given_name for c in s.execute(select(Child)).scalars()] == ["Sent"]
        s.commit()
    db.session.remove()
    with in_tenant(tenant_b) as s:
        assert [c.given_name for c in s.execute(select(Child)).scalars()] == ["Received"]


def test_a_failure_inside_the_crossing_leaves_neither_council_changed(tenant_a: Any, tenant_b: Any) -> None:
    from core.tenancy import crossing_into, current_tenant_id

    with tenant_context(tenant_a.id):
        s = db.session()
        s.add(Child(given_name="Sent", family_name="A", date_of_birth=dt.date(2016, 1, 1)))
        with pytest.raises(RuntimeError, match="half-way"):
            with crossing_into(s, tenant_b.id):
                s.add(Child(given_name="Received", family_name="B", date_of_birth=dt.date(2016, 1, 1)))
                s.flush()
                raise RuntimeError("half-way")
        assert current_tenant_id() == tenant_a.id
        s.rollback()
    db.session.remove()
    for tenant in (tenant_a, tenant_b):
        with in_tenant(tenant) as s:
            assert s.execute(select(Child)).all() == []


def test_a_row_of_the_sender_changed_inside_the_crossing_is_refused(tenant_a: Any, tenant_b: Any,
                                                                     make_child: Any) -> None:
    from core.tenancy import crossing_into

    a = make_child(tenant_a)
    with tenant_context(tenant_a.id):
        s = db.session()
        loaded = s.get(Child, a.id)
        with pytest.raises(CrossTenantWrite):
            with crossing_into(s, tenant_b.id):
                loaded.given_name = "Leak"
        s.rollback()
    db.session.remove()


@pytest.mark.postgres_only
def test_row_level_security_judges_statements_inside_the_crossing_by_the_receiver(
        tenant_a: Any, tenant_b: Any, make_child: Any) -> None:
    from sqlalchemy import text

    import core.tenancy as tenancy
    from core.tenancy import crossing_into

    make_child(tenant_a)
    with tenant_context(tenant_a.id):
        s = db.session()
        assert s.execute(text("SELECT count(*) FROM child")).scalar() == 1
        with crossing_into(s, tenant_b.id):
            # Raw SQL skips the ORM criterion: only RLS stands between the councils here.
            assert s.execute(text("SELECT current_setting('app.tenant_id')")).scalar() == str(tenant_b.id)
            assert s.execute(text("SELECT count(*) FROM child")).scalar() == 0
        assert s.execute(text("SELECT count(*) FROM child")).scalar() == 1
        s.rollback()
    db.session.remove()
    assert tenancy._orm_criterion_enabled


def test_crossing_needs_an_open_transaction_in_a_council(app: Any, tenant_b: Any) -> None:
    from core.tenancy import crossing_into

    s = db.session()
    with pytest.raises(TenantContextRequired):
        with crossing_into(s, tenant_b.id):
            pass
    db.session.remove()


def test_only_the_transfer_service_uses_the_door_between_councils() -> None:
    root = Path(__file__).resolve().parents[2]
    callers = sorted(
        str(path.relative_to(root))
        for top in ("core", "plugins", "tenants", "web", "migrations")
        for path in (root / top).rglob("*.py")
        if "crossing_into(" in path.read_text(encoding="utf-8") and path.name != "tenancy.py"
    )
    assert all(c.startswith("core/transfers/") for c in callers), callers
