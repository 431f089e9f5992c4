"""Single-use e-mail sign-in links, for parents, carers and young people (issue #4 item 3).

How an e-mail-link user is protected, since their identity provider is their inbox and
there is no second factor:

* a link works once, for 15 minutes, and only its hash is stored;
* it works only in the browser that asked for it (a secret in that browser's cookie, hashed
  into the link's row): a forwarded, intercepted or leaked e-mail alone signs nobody in;
* a link is sent only to an address the council has invited (a caseworker checked that this
  person is a contact with parental responsibility, or the young person); anyone else gets
  the same "check your email" page and an e-mail saying no access was found, so the page
  never tells a stranger whether an address has a case here;
* at most :data:`PER_ADDRESS` links per address per 15 minutes per council (and the route
  is rate-limited per client address too);
* sessions end after 30 minutes idle and 12 hours in all, and sensitive actions (giving
  consent, changing who can see the case) ask for a fresh link first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import func, select

from core.db import db, utcnow
from core.errors import NotFound, ValidationFailed
from core.identity.models import EMAIL_ISSUER, Identity, Membership, SignInLink
from core.identity.services import normalise_email, token_hash

LINK_MINUTES = 15
PER_ADDRESS = 3
_EMAIL_SHAPE = ("@", ".")


class LinkRefused(NotFound):
    """The link is unknown, used, expired or opened in another browser (``reason`` says
    which, for the page; all of them sign nobody in)."""

    def __init__(self, reason: str):
        super().__init__("sign-in link")
        self.reason = reason


def browser_hash(secret: str) -> str:
    return hashlib.sha256(f"sendbridge-link-browser:{secret}".encode()).hexdigest()


def check_address(raw: str) -> str:
    address = normalise_email(raw)
    local, _, domain = address.partition("@")
    if not local or "." not in domain or len(address) > 254 or " " in address:
        raise ValidationFailed({"email": ["Enter an email address in the correct format, like name@example.com"]})
    return address


def may_sign_in(address: str) -> bool:
    """Whether this council has ever let ``address`` in: an invitation sent to it (pending or
    accepted by an e-mail identity) that has not been revoked."""
    email_identity_ids = select(Identity.id).where(Identity.issuer == EMAIL_ISSUER, Identity.subject == address)
    row = db.session.execute(select(Membership.id).where(
        Membership.revoked_at.is_(None),
        (Membership.invited_email == address) | Membership.identity_id.in_(email_identity_ids),
    ).limit(1)).first()
    return row is not None


def recent_links(address: str, now: dt.datetime) -> int:
    return db.session.execute(select(func.count()).select_from(SignInLink).where(
        SignInLink.email == address, SignInLink.created_at > now - dt.timedelta(minutes=LINK_MINUTES))).scalar_one()


def create_link(address: str, browser_secret: str, *, purpose: str = "sign_in") -> str | None:
    """A new link's token for ``address`` (already checked), or None when this address has
    had :data:`PER_ADDRESS` links in the last 15 minutes."""
    now = utcnow()
    if recent_links(address, now) >= PER_ADDRESS:
        return None
    token = secrets.token_urlsafe(32)
    db.session.add(SignInLink(email=address, token_hash=token_hash(token), browser_hash=browser_hash(browser_secret),
                              purpose=purpose, created_at=now, expires_at=now + dt.timedelta(minutes=LINK_MINUTES)))
    db.session.flush()
    return token


def use_link(token: str, browser_secret: str | None) -> SignInLink:
    """Spend a link: it must exist, be unused, unexpired and opened in the asking browser."""
    link = db.session.execute(select(SignInLink).where(SignInLink.token_hash == token_hash(token))
                              .with_for_update()).scalar_one_or_none()
    now = utcnow()
    if link is None:
        raise LinkRefused("unknown")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.expires_at <= now:
        raise LinkRefused("expired")
    if not browser_secret or not secrets.compare_digest(link.browser_hash, browser_hash(browser_secret)):
        raise LinkRefused("other_browser")
    link.used_at = now
    return link
