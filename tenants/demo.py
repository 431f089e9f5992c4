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
from core.children.models import Placement
from core.db import db
from core.institutions.models import Institution, InstitutionKind, Phase
from core.permissions import ALL
from core.tenancy import tenant_context
from core.users.models import Role
from core.users.services import create_user
from tenants.models import Tenant
from tenants import demo_plans
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
    )),
    DemoCouncil("southvale", "Southvale Borough Council", "992", "send@southvale.example.gov.uk", "01632 960 200", (
        ("Priya Shah", "priya.shah@southvale.example.gov.uk", Role.CASEWORKER),
        ("Tom Fletcher", "tom.fletcher@southvale.example.gov.uk", Role.TEAM_MANAGER),
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
        # A draft out with the family: the 15 days for comments run until next week.
        2: _journey(today, 120)[:-1],
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


def seed_demo() -> list[str]:
    """Seed everything, committing as it goes; returns the slugs of councils created now."""
    seed_institutions()
    db.session.commit()
    return [c.slug for c in COUNCILS if seed_council(c)]
