"""The demonstration data ``make run`` seeds: two made-up councils, their staff, a shared set
of schools and settings, and a dozen children in each council with contacts and settings.

Everything is fictional. Identifiers are generated with valid check characters, and NHS
numbers come from the 999 range the NHS reserves for testing, so none belongs to anyone.
Seeding is idempotent: a council that already exists is left alone.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.actors import Actor
from core.audit.services import audit_context
from core.cases import services as cases
from core.children import services as children
from core.cases.models import Case
from core.children.models import Child, Placement
from core.db import db, utcnow
from core.institutions.models import Institution, InstitutionKind, Phase
from core.permissions import ALL
from core.tenancy import tenant_context
from core.users.models import Role
from core.users.services import create_user
from tenants.models import Tenant
from tenants import demo_plans
from tenants.demo_circumstances import seed_circumstances
from core.disagreements import letters as decision_letters
from tenants.services import provision_tenant


@dataclass(frozen=True)
class DemoCouncil:
    slug: str
    name: str
    la_code: str
    email: str
    phone: str
    staff: tuple[tuple[str, str, Role], ...]


COUNCILS = (
    DemoCouncil("northshire", "Northshire County Council", "991", "send@northshire.example.gov.uk", "01632 960 100", (
        ("Amara Okafor", "amara.okafor@northshire.example.gov.uk", Role.CASEWORKER),
        ("Daniel Hughes", "daniel.hughes@northshire.example.gov.uk", Role.TEAM_MANAGER),
        ("Grace Whitfield", "grace.whitfield@northshire.example.gov.uk", Role.TENANT_ADMIN),
    )),
    DemoCouncil("southvale", "Southvale Borough Council", "992", "send@southvale.example.gov.uk", "01632 960 200", (
        ("Priya Shah", "priya.shah@southvale.example.gov.uk", Role.CASEWORKER),
        ("Tom Fletcher", "tom.fletcher@southvale.example.gov.uk", Role.TEAM_MANAGER),
        ("Owen Price", "owen.price@southvale.example.gov.uk", Role.TENANT_ADMIN),
    )),
)

#: (URN, name, kind, GIAS type, phase, LA code, postcode)
INSTITUTIONS = (
    (991001, "Riverside Nursery School", InstitutionKind.EARLY_YEARS, "Local authority nursery school", Phase.NURSERY, "991", "NS1 2AB"),
    (991002, "Oakfield Primary School", InstitutionKind.MAINSTREAM_MAINTAINED, "Community school", Phase.PRIMARY, "991", "NS2 3CD"),
    (991003, "Northshire Academy", InstitutionKind.ACADEMY, "Academy converter", Phase.SECONDARY, "991", "NS3 4EF"),
    (991004, "Beacon Hill Special School", InstitutionKind.SPECIAL_MAINTAINED, "Community special school", Phase.ALL_THROUGH, "991", "NS4 5GH"),
    (991005, "Northshire College", InstitutionKind.FURTHER_EDUCATION, "Further education", Phase.SIXTEEN_PLUS, "991", "NS5 6JK"),
    (992001, "Meadowbank Primary School", InstitutionKind.MAINSTREAM_MAINTAINED, "Voluntary aided school", Phase.PRIMARY, "992", "SV1 2AB"),
    (992002, "Southvale High School", InstitutionKind.ACADEMY, "Academy sponsor led", Phase.SECONDARY, "992", "SV2 3CD"),
    (992003, "Willow Tree Special Academy", InstitutionKind.SPECIAL_ACADEMY, "Academy special converter", Phase.ALL_THROUGH, "992", "SV3 4EF"),
)

GIVEN = ("Aisha", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hamza", "Isla", "Jacob", "Kai", "Layla",
         "Mason", "Nia", "Oscar", "Poppy", "Rory", "Sofia", "Theo", "Zara", "Yusuf", "Maya", "Leo", "Ruby")
FAMILY = ("Adams", "Begum", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hussain", "Iqbal", "Jones", "Khan",
          "Lewis", "Morgan", "Nowak", "O'Brien", "Patel", "Quinn", "Roberts", "Singh", "Taylor", "Walsh", "Young")
PARENTS = (("Sarah", "mother"), ("James", "father"), ("Fatima", "mother"), ("Mark", "father"), ("Emma", "mother"),
           ("Ahmed", "father"), ("Laura", "mother"), ("Chris", "parent"), ("Helen", "mother"), ("Imran", "father"),
           ("Kate", "mother"), ("Paul", "father"))

_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def make_upn(la_code: str, estab: int, year: int, serial: int) -> str:
    body = f"{la_code}{estab:04d}{year % 100:02d}{serial:03d}"
    total = sum(int(c) * p for p, c in enumerate(body, start=2))
    return _UPN_LETTERS[total % 23] + body


def make_nhs_number(serial: int) -> str:
    """A valid NHS number in the 999 test range (never issued to a patient)."""
    n = serial
    while True:
        nine = f"999{n:06d}"
        check = 11 - sum(int(d) * w for d, w in zip(nine, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return nine + str(check)
        n += 1


def make_uln(serial: int) -> str:
    n = serial
    while True:
        nine = f"9{n:08d}"
        total = sum(int(d) * w for d, w in zip(nine, range(10, 1, -1)))
        check = (10 - total % 11) % 11
        if check < 10:
            return nine + str(check)
        n += 1


def seed_institutions() -> int:
    added = 0
    for urn, name, kind, etype, phase, la, pc in INSTITUTIONS:
        if db.session.get(Institution, urn) is None:
            db.session.add(Institution(urn=urn, name=name, kind=kind, establishment_type=etype, phase=phase,
                                       la_code=la, postcode=pc, open=True))
            added += 1
    db.session.flush()
    return added


def _setting_for(age: int, la_code: str) -> int:
    local = [i for i in INSTITUTIONS if i[5] == la_code]
    by_phase = {i[4]: i[0] for i in local}
    if age < 4:
        return by_phase.get(Phase.NURSERY, local[0][0])
    if age < 11:
        return by_phase.get(Phase.PRIMARY, local[0][0])
    if age < 16:
        return by_phase.get(Phase.SECONDARY, local[0][0])
    return by_phase.get(Phase.SIXTEEN_PLUS, by_phase.get(Phase.ALL_THROUGH, local[0][0]))


def seed_council(council: DemoCouncil, *, children_per_council: int = 12, today: dt.date | None = None) -> bool:
    """Create one demo council with staff and children. Returns False if it already existed.

    A command-level unit of work: it commits after provisioning the council (outside any
    tenant) and again after filling it (inside the tenant), because a transaction belongs
    to one tenant context from start to end (core.tenancy).
    """
    today = today or dt.date.today()
    if db.session.execute(select(Tenant.id).where(Tenant.slug == council.slug)).first():
        return False
    tenant = provision_tenant(slug=council.slug, name=council.name, la_code=council.la_code, settings={
        "send_team_email": council.email, "send_team_phone": council.phone,
    })
    db.session.commit()
    rng = random.Random(f"sendbridge-demo-{council.slug}")
    offset = int(council.la_code) * 100
    with tenant_context(tenant.id), audit_context("cli"):
        staff = [create_user(email=email, display_name=display_name, role=role)
                 for display_name, email, role in council.staff]
        seeder = Actor(tenant_id=tenant.id, kind="operator", id="demo-seed", permissions=ALL)
        caseworker = next(u for u in staff if u.role == Role.CASEWORKER)
        made = []
        special = [i[0] for i in INSTITUTIONS if i[5] == council.la_code and i[2] in
                   (InstitutionKind.SPECIAL_MAINTAINED, InstitutionKind.SPECIAL_ACADEMY)]
        for n in range(children_per_council):
            age = 3 + (n * 16) // children_per_council + rng.randint(0, 1)
            dob = today.replace(year=today.year - age, month=1 + rng.randrange(12), day=1 + rng.randrange(28))
            if n == YEAR_6_CHILD:
                dob = _year_6_birthday(today)
            family = FAMILY[(n * 7 + offset) % len(FAMILY)]
            child = children.create_child(seeder, {
                "given_name": GIVEN[(n * 5 + offset) % len(GIVEN)],
                "family_name": family,
                "date_of_birth": dob,
                "sex": rng.choice(["female", "male"]),
                "upn": make_upn(council.la_code, 2000 + n % 7, today.year - age + 5, n + 1) if age >= 4 else None,
                "uln": make_uln(offset + n * 11) if age >= 14 else None,
                "nhs_number": make_nhs_number(offset + n * 13),
                "postcode": f"{'NS' if council.slug == 'northshire' else 'SV'}{1 + n % 5} {1 + n % 9}{'ABDEFGHJ'[n % 8]}{'LNPQRSTU'[n % 8]}",
            })
            parent_name, relationship = PARENTS[(n + offset) % len(PARENTS)]
            children.add_contact(seeder, child, {
                "given_name": parent_name, "family_name": family,
                "relationship": relationship, "parental_responsibility": True,
                "email": f"parent{n + 1}@{council.slug}-family.example.com", "phone": f"07700 900{n + 100:03d}",
            })
            if n % 4 == 0:
                children.add_contact(seeder, child, {
                    "given_name": "Jo", "family_name": "Carter", "relationship": "social_worker",
                    "parental_responsibility": False, "email": f"jo.carter@{council.slug}.example.gov.uk",
                })
            urn = special[0] if (n % 5 == 2 and special) else _setting_for(age, council.la_code)
            started = max(dob + dt.timedelta(days=365 * 3), today - dt.timedelta(days=rng.randint(30, 900)))
            children.add_placement(seeder, child, urn=urn, started_on=min(started, today))
            made.append(child)
        seed_cases(seeder, made, caseworker_id=caseworker.id, today=today)
        # A few children's specific circumstances, CoP ch.10 (issue 6).
        seed_circumstances(seeder, made, la_code=council.la_code, today=today)
        # The council's decision-letter template with its (made-up) mediation adviser (issue 6).
        decision_letters.save_template(seeder, decision_letters.demo_template(council.name))
        db.session.commit()
    return True


def _days(today: dt.date, n: int) -> str:
    return (today - dt.timedelta(days=n)).isoformat()


def _journey(today: dt.date, requested_days_ago: int) -> list[dict[str, object]]:
    """Request to final plan, spread as a well-run council would (all on time)."""
    r = requested_days_ago
    return [
        {"type": "request_received", "date": _days(today, r), "requester": "parent"},
        {"type": "decision_to_assess_made", "date": _days(today, r - 35), "outcome": "assess"},
        {"type": "advice_requested", "date": _days(today, r - 36), "advice": "educational", "advice_id": "edu-1"},
        {"type": "advice_requested", "date": _days(today, r - 36), "advice": "psychological", "advice_id": "ep-1"},
        {"type": "advice_received", "date": _days(today, r - 70), "advice": "educational", "advice_id": "edu-1"},
        {"type": "advice_received", "date": _days(today, r - 76), "advice": "psychological", "advice_id": "ep-1"},
        {"type": "decision_to_issue_made", "date": _days(today, r - 90), "outcome": "issue"},
        {"type": "draft_plan_served", "date": _days(today, r - 100)},
        {"type": "final_plan_issued", "date": _days(today, r - 125)},
    ]


def _review(today: dt.date, *, meeting_days_ago: int, outcome: str) -> list[dict[str, object]]:
    """A review done by the book: invitations and papers two weeks ahead (reg 20(3)-(4)),
    the report within two weeks (20(7)) and the decision within four (20(10))."""
    m = meeting_days_ago
    return [
        {"type": "review_meeting_scheduled", "date": _days(today, m + 30), "meeting_on": _days(today, m)},
        {"type": "review_invitations_sent", "date": _days(today, m + 21)},
        {"type": "review_papers_sent", "date": _days(today, m + 15)},
        {"type": "review_meeting_held", "date": _days(today, m)},
        {"type": "review_report_sent", "date": _days(today, m - 10)},
        {"type": "review_decision_sent", "date": _days(today, m - 20), "outcome": outcome},
    ]


#: The child of each demo council who is in Year 6 now and moves to secondary next September.
YEAR_6_CHILD = 4


def _academic_year_end(today: dt.date) -> int:
    """The calendar year in which the current academic year (1 Sep to 31 Aug) ends."""
    return today.year + (1 if today.month >= 9 else 0)


def _year_6_birthday(today: dt.date) -> dt.date:
    # Year 6 this academic year: 11 on the 31 August that ends it (core.clock.academic_year_group).
    return dt.date(_academic_year_end(today) - 11, 3, 14)


def seed_cases(actor: Actor, kids: list[Any], *, caseworker_id: Any, today: dt.date) -> None:
    """EHC cases at every stage, dated relative to ``today`` so the clocks are live."""
    policy = cases.policy_from_settings({})
    plan_for = {
        # A new request: the decision whether to assess is due in about a month.
        0: [{"type": "request_received", "date": _days(today, 10), "requester": "parent"}],
        # Assessing: one piece of advice back, the health advice still awaited.
        1: [{"type": "request_received", "date": _days(today, 60), "requester": "setting"},
            {"type": "decision_to_assess_made", "date": _days(today, 30), "outcome": "assess"},
            {"type": "advice_requested", "date": _days(today, 29), "advice": "educational", "advice_id": "edu-1"},
            {"type": "advice_requested", "date": _days(today, 29), "advice": "medical", "advice_id": "med-1"},
            {"type": "advice_received", "date": _days(today, 5), "advice": "educational", "advice_id": "edu-1"}],
        # A draft out with the family, served 8 days ago: the 15 days for comments (served + 14,
        # reg 13(1)(a)) run for six more days.
        2: _journey(today, 108)[:-1],
        # A plan about a year old: the annual review is due within weeks.
        3: _journey(today, 470),
        # A request with no decision after seven weeks: overdue (reg 5).
        5: [{"type": "request_received", "date": _days(today, 49), "requester": "parent"}],
        # Plans with reviews behind them.
        7: _journey(today, 900) + _review(today, meeting_days_ago=400, outcome="maintain"),
        9: _journey(today, 700),
        11: _journey(today, 300),
    }
    for index, events in plan_for.items():
        if index >= len(kids):
            continue
        first, rest = events[0], events[1:]
        case = cases.open_case(actor, kids[index], first, policy=policy, caseworker_id=caseworker_id, today=today)
        for event in rest:
            _record(actor, case, event, kid=kids[index], policy=policy, today=today)
        demo_plans.after_events(actor, case, index=index)
    # A Year 6 pupil with a plan moves to secondary school on 1 September at the end of this
    # academic year: the phase-transfer cohort, due "before 15 February" (reg 18(1)(b)).
    if YEAR_6_CHILD < len(kids) and YEAR_6_CHILD not in plan_for:
        kid = kids[YEAR_6_CHILD]
        case = cases.open_case(actor, kid, _journey(today, 500)[0], policy=policy, caseworker_id=caseworker_id,
                               today=today)
        for event in _journey(today, 500)[1:]:
            _record(actor, case, event, kid=kid, policy=policy, today=today)
        september = dt.date(_academic_year_end(today), 9, 1)
        cases.record_event(actor, case, {"type": "phase_transfer_planned", "date": today.isoformat(),
                                         "transfer_on": september.isoformat(), "kind": "school"},
                           policy=policy, today=today)


def _record(actor: Actor, case: Any, event: dict[str, object], *, kid: Any, policy: Any, today: dt.date) -> None:
    """Record a demo event, writing the plan first where a caseworker would (tenants.demo_plans)."""
    urn = db.session.execute(select(Placement.urn).where(Placement.child_id == kid.id)
                             .order_by(Placement.started_on.desc()).limit(1)).scalar()
    demo_plans.before_event(actor, case, event, child=kid, urn=urn, today=today)
    cases.record_event(actor, case, event, policy=policy, today=today)


# ---------------------------------------------------------------------------------------
# People outside the council, for the portals (issue #4): a parent, a young person, a school
# SENCO and a health professional in each council, each with an accepted membership, so the
# demo's portal sign-in can show each portal. (In real use they are invited, or come through
# their school's identity provider.)

#: Which demo child each family member belongs to: the draft out for comments (index 2), and
#: the oldest, a young person with a plan (index 11). The professional is asked for the
#: health advice still awaited on case 1.
PARENT_CHILD, YOUNG_PERSON_CHILD, ADVICE_CHILD, ADVICE_ID = 2, 11, 1, "med-1"


def _child_name(council: DemoCouncil, n: int) -> tuple[str, str]:
    offset = int(council.la_code) * 100
    return GIVEN[(n * 5 + offset) % len(GIVEN)], FAMILY[(n * 7 + offset) % len(FAMILY)]


def portal_people(council: DemoCouncil) -> dict[str, tuple[str, str]]:
    """``{role: (display name, e-mail)}`` of the council's demo portal people."""
    offset = int(council.la_code) * 100
    parent_given, _rel = PARENTS[(PARENT_CHILD + offset) % len(PARENTS)]
    family = _child_name(council, PARENT_CHILD)[1]
    yp_given, yp_family = _child_name(council, YOUNG_PERSON_CHILD)
    school = next(i for i in INSTITUTIONS if i[5] == council.la_code and i[4] == Phase.PRIMARY)
    school_domain = school[1].split()[0].lower()
    return {
        "parent": (f"{parent_given} {family}", f"parent{PARENT_CHILD + 1}@{council.slug}-family.example.com"),
        "young_person": (f"{yp_given} {yp_family}", f"{yp_given.lower()}.{yp_family.lower().replace(chr(39), '')}@example.com"),
        "senco": ("Ruth Adeyemi" if council.slug == "northshire" else "Gareth Price",
                  f"senco@{school_domain}.example.sch.uk"),
        "professional": ("Dr Ravi Menon" if council.slug == "northshire" else "Dr Claire Boyd",
                         f"paediatrics@{council.slug}-health.example.nhs.uk"),
    }


def seed_portal_people(council: DemoCouncil, *, today: dt.date | None = None) -> int:
    """Give the council's demo portal people their memberships (idempotent). Returns how many
    memberships were made now."""
    from core.identity.models import EMAIL_ISSUER, Membership, MembershipRole
    from core.identity.services import _index_membership, record_identity

    today = today or dt.date.today()
    tenant_id = db.session.execute(select(Tenant.id).where(Tenant.slug == council.slug)).scalar_one_or_none()
    db.session.rollback()  # a transaction belongs to one tenant context (core.tenancy)
    if tenant_id is None:
        return 0
    people = portal_people(council)
    made = 0
    with tenant_context(tenant_id), audit_context("cli"):
        kids = list(db.session.execute(select(Child).order_by(Child.id)).scalars())  # ids are time-ordered
        if len(kids) <= YOUNG_PERSON_CHILD:
            db.session.rollback()
            return 0
        advice_case = db.session.execute(select(Case).where(Case.child_id == kids[ADVICE_CHILD].id)).scalars().first()
        school_urn = next(i[0] for i in INSTITUTIONS if i[5] == council.la_code and i[4] == Phase.PRIMARY)
        scopes: dict[str, dict[str, Any]] = {
            "parent": {"child_id": kids[PARENT_CHILD].id},
            "young_person": {"child_id": kids[YOUNG_PERSON_CHILD].id},
            "senco": {"urn": school_urn},
            "professional": {"case_id": advice_case.id if advice_case else None, "advice_id": ADVICE_ID,
                             "expires_at": dt.datetime.combine(today + dt.timedelta(days=42), dt.time(),
                                                               tzinfo=dt.timezone.utc)},
        }
        for role, (name, email) in people.items():
            scope = scopes[role]
            if role == "professional" and scope["case_id"] is None:
                continue
            identity = record_identity(issuer=EMAIL_ISSUER, subject=email, email=email, email_verified=True,
                                       display_name=name)
            exists = db.session.execute(select(Membership.id).where(Membership.identity_id == identity.id)).first()
            if exists:
                continue
            db.session.add(Membership(identity_id=identity.id, role=MembershipRole(role), invited_email=email,
                                      granted_by="demo-seed", accepted_at=utcnow(), **scope))
            db.session.flush()
            _index_membership(identity.id, tenant_id)
            made += 1
        db.session.commit()
    return made


#: The demo's platform operator (sees no child data without a break-glass).
DEMO_OPERATOR = ("Sam Okoro (platform support)", "support@sendbridge.example")


def seed_operator() -> None:
    from core.identity.models import EMAIL_ISSUER, Operator
    from core.identity.services import record_identity

    name, email = DEMO_OPERATOR
    identity = record_identity(issuer=EMAIL_ISSUER, subject=email, email=email, email_verified=True, display_name=name)
    if db.session.get(Operator, identity.id) is None:
        db.session.add(Operator(identity_id=identity.id))
    db.session.commit()


def seed_demo() -> list[str]:
    """Seed everything, committing as it goes; returns the slugs of councils created now."""
    seed_institutions()
    seed_operator()
    db.session.commit()
    created = [c.slug for c in COUNCILS if seed_council(c)]
    for council in COUNCILS:
        seed_portal_people(council)
    return created
