"""Council staff accounts."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from core.db import db, utcnow
from core.errors import Conflict, ValidationFailed
from core.users.models import Role, User


def create_user(*, email: str, display_name: str, role: Role) -> User:
    """Create a staff account in the current tenant (operators and seeding; SSO in #4)."""
    errors: dict[str, list[str]] = {}
    if "@" not in email or len(email) > 254:
        errors["email"] = ["Enter an email address in the correct format, like name@example.com"]
    if not display_name.strip() or len(display_name) > 200:
        errors["display_name"] = ["Enter the person's name"]
    if errors:
        raise ValidationFailed(errors)
    if db.session.execute(select(User.id).where(func.lower(User.email) == email.lower())).first():
        raise Conflict("A user with this email address already exists", field="email")
    user = User(email=email.strip(), display_name=display_name.strip(), role=role)
    db.session.add(user)
    db.session.flush()
    return user


def demo_sign_in_choices() -> list[User]:
    """Active users of the current tenant, for the demo sign-in page (demo mode only)."""
    return list(db.session.execute(
        select(User).where(User.active.is_(True)).order_by(User.role, User.display_name)
    ).scalars())


def record_sign_in(user_id: uuid.UUID) -> User | None:
    """The active user with this id in the current tenant, stamped as signed in now."""
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return None
    user.last_signed_in_at = utcnow()
    return user


def staff_names(ids: list[str]) -> dict[str, str]:
    """Display names of staff by id (as strings), former staff included: a case's history
    names whoever recorded each step, whether or not they still work here."""
    wanted = set()
    for raw in ids:
        try:
            wanted.add(uuid.UUID(raw))
        except (ValueError, TypeError):
            continue
    if not wanted:
        return {}
    return {str(u.id): u.display_name for u in db.session.execute(select(User).where(User.id.in_(wanted))).scalars()}
