"""The EHC plan as structured data: sections A to K (SEND Regs 2014 reg 12(1); the Code 9.62).

``PlanVersion.content`` has one key per section. Lists of needs (B, C, D), outcomes (E) and
provision (F, G, H1, H2) hold items with ids, so that outcomes can say which needs they
answer and provision which outcomes it delivers, and so that two versions can be compared
item by item (``core.plans.diff``)::

    {"A": {"views": str, "interests": str, "aspirations": str},
     "B": {"needs": [{"id", "area", "primary_need", "description"}]},
     "C": {"needs": [{"id", "description"}]}, "D": {"needs": [{"id", "description"}]},
     "E": {"outcomes": [{"id", "description", "timeframe", "need_ids", "pfa_area"}]},
     "F" | "G" | "H1" | "H2": {"provision": [{"id", "description", "provider", "frequency", "duration",
                                              "outcome_ids"}]},
     "I": {"placement": {"kind", "urn", "name", "type_description"}},
     "J": {"personal_budget": {"requested", "amount", "direct_payment", "arrangements"}},
     "K": {"advice": [{"advice_id", "advice", "requested_on", "received_on", "document_ids"}]}}

:func:`validate_content` is the one gate every write passes (pages, API, demo): a working
draft may be incomplete, but its types and cross-references must hold; a plan being issued
must be complete. Pure apart from the default institution lookup (section I), which reads
the shared GIAS reference table.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from core.errors import ValidationFailed

SECTIONS = ("A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K")

#: Section headings as the Code of Practice (9.62) names them, in plain English.
SECTION_TITLES = {
    "A": "Views, interests and aspirations",
    "B": "Special educational needs",
    "C": "Health care needs",
    "D": "Social care needs",
    "E": "Outcomes",
    "F": "Special educational provision",
    "G": "Health care provision",
    "H1": "Social care provision under the Chronically Sick and Disabled Persons Act 1970",
    "H2": "Other social care provision",
    "I": "School, college or other institution",
    "J": "Personal budget",
    "K": "Advice and information",
}

#: What each section holds, for hints and the PDF (reg 12(1)(a)-(k)).
SECTION_DESCRIPTIONS = {
    "A": "The views, interests and aspirations of the child and their parents, or of the young person.",
    "B": "The child or young person's special educational needs.",
    "C": "The health care needs which relate to their special educational needs.",
    "D": "The social care needs which relate to their special educational needs or to a disability.",
    "E": "The outcomes sought for them, including outcomes for adult life where appropriate.",
    "F": "The special educational provision they need, specified and quantified.",
    "G": "Health care provision reasonably required by the learning difficulties or disabilities which result "
         "in their special educational needs.",
    "H1": "Social care provision which must be made under section 2 of the Chronically Sick and Disabled "
          "Persons Act 1970.",
    "H2": "Any other social care provision reasonably required by their learning difficulties or disabilities.",
    "I": "The name of the school, college or other institution they will attend, or its type, or that there is none.",
    "J": "Details of any personal budget, including direct payments.",
    "K": "The advice and information gathered during the EHC needs assessment.",
}

NEED_SECTIONS = ("B", "C", "D")
PROVISION_SECTIONS = ("F", "G", "H1", "H2")
LIST_SECTIONS = (*NEED_SECTIONS, "E", *PROVISION_SECTIONS)
#: The key of each list section's items.
LIST_KEY = {**{s: "needs" for s in NEED_SECTIONS}, "E": "outcomes", **{s: "provision" for s in PROVISION_SECTIONS}}

#: The four broad areas of need (the Code 6.28-6.35).
AREAS = {
    "communication_interaction": "Communication and interaction",
    "cognition_learning": "Cognition and learning",
    "semh": "Social, emotional and mental health",
    "sensory_physical": "Sensory and/or physical needs",
}

#: Primary type of need, as the DfE codes it in the school census and SEN2.
PRIMARY_NEEDS = {
    "SPLD": "Specific learning difficulty",
    "MLD": "Moderate learning difficulty",
    "SLD": "Severe learning difficulty",
    "PMLD": "Profound and multiple learning difficulty",
    "SEMH": "Social, emotional and mental health",
    "SLCN": "Speech, language and communication needs",
    "HI": "Hearing impairment",
    "VI": "Vision impairment",
    "MSI": "Multi-sensory impairment",
    "PD": "Physical disability",
    "ASD": "Autistic spectrum disorder",
    "OTH": "Other difficulty or disability",
}

#: Preparing for adulthood (the Code 8.5-8.6; reg 20(6) from Year 9).
PFA_AREAS = {
    "employment": "Employment",
    "independent_living": "Independent living",
    "community": "Friends, relationships and community",
    "health": "Good health",
}

PLACEMENT_KINDS = {
    "named": "A named school, college or other institution",
    "type": "A type of school or institution",
    "none": "No school or institution",
}

#: api-v1 advice kinds (advice_requested / advice_received).
ADVICE_KINDS = {
    "educational": "Educational advice",
    "medical": "Medical advice",
    "psychological": "Psychological advice",
    "social_care": "Social care advice",
    "other": "Other advice",
}

#: Field labels, as a parent would read them (the diff, the pages, error messages).
FIELD_LABELS = {
    "A": {"views": "views", "interests": "interests", "aspirations": "aspirations"},
    "need": {"area": "area of need", "primary_need": "primary need", "description": "description"},
    "outcome": {"description": "outcome", "timeframe": "by when", "need_ids": "needs it answers",
                "pfa_area": "preparing for adulthood"},
    "provision": {"description": "what", "provider": "who", "frequency": "how often", "duration": "how long",
                  "outcome_ids": "outcomes it helps achieve"},
    "I": {"kind": "kind", "urn": "URN", "name": "name", "type_description": "type of school or institution"},
    "J": {"requested": "personal budget requested", "amount": "amount", "direct_payment": "direct payment",
          "arrangements": "arrangements"},
    "K": {"advice": "kind of advice", "requested_on": "requested on", "received_on": "received on",
          "document_ids": "documents"},
}

#: Long free text (section A, descriptions) and short fields (who, how often ...).
TEXT_MAX = 10_000
SHORT_MAX = 500
MAX_ITEMS = 200
MAX_AMOUNT = 10_000_000
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")

_ITEM_FIELDS = {
    "B": ("id", "area", "primary_need", "description"),
    "C": ("id", "description"),
    "D": ("id", "description"),
    "E": ("id", "description", "timeframe", "need_ids", "pfa_area"),
    **{s: ("id", "description", "provider", "frequency", "duration", "outcome_ids") for s in PROVISION_SECTIONS},
}
_I_FIELDS = ("kind", "urn", "name", "type_description")
_J_FIELDS = ("requested", "amount", "direct_payment", "arrangements")
_K_FIELDS = ("advice_id", "advice", "requested_on", "received_on", "document_ids")

# Provision must be specified and quantified. CFA 2014 s42(2) puts the council under a duty
# to secure "the specified special educational provision", and the Code 9.69 says provision
# "must be detailed and specific and should normally be quantified, for example, in terms of
# the type, hours and frequency of support and level of expertise". So for every item of F
# we require what, who, how often and how long before a plan is issued, and we refuse the
# stock phrases that quantify nothing (Tribunal case law, e.g. L v Clarke and Somerset CC
# [1998] ELR 129: specific enough "to leave no room for doubt"). The Code asks the same of
# health and social care provision (G, H1, H2: 9.70-9.73, paragraph numbers UNVERIFIED), so
# the same rule applies to them.
VAGUE_TERMS = frozenset({
    "as required", "as needed", "as and when", "as and when required", "as and when needed", "when needed",
    "when required", "when necessary", "as necessary", "as appropriate", "where appropriate", "if appropriate",
    "regularly", "regular", "ongoing", "on going", "tbc", "tbd", "to be confirmed", "to be decided", "varies",
    "flexible", "access to", "opportunities", "daily as required", "as directed", "n/a", "na", "-",
})


class InstitutionInfo(Protocol):
    name: str
    open: bool


InstitutionLookup = Callable[[int], "InstitutionInfo | None"]


def _registry_lookup(urn: int) -> InstitutionInfo | None:
    # Institutions are shared GIAS reference data, not tenant-owned: readable in any tenant.
    from core.db import db
    from core.institutions.models import Institution

    return db.session.get(Institution, urn)


# ---------------------------------------------------------------------------------------
# Defaults and small helpers


def empty_plan() -> dict[str, Any]:
    """A plan with every section present and nothing in it."""
    return {
        "A": {"views": "", "interests": "", "aspirations": ""},
        **{s: {LIST_KEY[s]: []} for s in LIST_SECTIONS},
        "I": {"placement": {"kind": None, "urn": None, "name": None, "type_description": None}},
        "J": {"personal_budget": {"requested": False, "amount": None, "direct_payment": False, "arrangements": ""}},
        "K": {"advice": []},
    }


def empty_item(section: str) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name in _ITEM_FIELDS[section]:
        item[name] = [] if name.endswith("_ids") else (None if name in ("area", "primary_need", "pfa_area") else "")
    return item


def has_content(content: Mapping[str, Any] | None) -> bool:
    """Whether a version holds plan content at all. Versions made only by events recorded from
    another system (no draft ever written here) hold ``{}``."""
    return bool(content)


def with_defaults(content: Mapping[str, Any] | None) -> dict[str, Any]:
    """``content`` with every section and field present (for reading; does not validate)."""
    out = empty_plan()
    for section in SECTIONS:
        value = (content or {}).get(section)
        if not isinstance(value, Mapping):
            continue
        if section in LIST_SECTIONS:
            items = value.get(LIST_KEY[section])
            if isinstance(items, list):
                out[section][LIST_KEY[section]] = [{**empty_item(section), **i} for i in items if isinstance(i, Mapping)]
        elif section == "A":
            out["A"].update({k: v for k, v in value.items() if k in out["A"]})
        elif section == "I" and isinstance(value.get("placement"), Mapping):
            out["I"]["placement"].update(value["placement"])
        elif section == "J" and isinstance(value.get("personal_budget"), Mapping):
            out["J"]["personal_budget"].update(value["personal_budget"])
        elif section == "K" and isinstance(value.get("advice"), list):
            out["K"]["advice"] = [dict(i) for i in value["advice"] if isinstance(i, Mapping)]
    return out


def items(content: Mapping[str, Any], section: str) -> list[dict[str, Any]]:
    """The items of a list section (needs, outcomes or provision)."""
    return list(((content.get(section) or {}).get(LIST_KEY[section])) or [])


def find_item(content: Mapping[str, Any], section: str, item_id: str) -> dict[str, Any] | None:
    return next((i for i in items(content, section) if i.get("id") == item_id), None)


def item_label(item: Mapping[str, Any], limit: int = 60) -> str:
    """A short name for an item: the start of its description, cut at a word."""
    text = " ".join(str(item.get("description") or "").split())
    if not text:
        return f"Item {item.get('id', '')}".strip()
    first = re.split(r"(?<=[.:;])\s", text, maxsplit=1)[0].rstrip(".:;")
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut + "…"


def item_refs(content: Mapping[str, Any]) -> dict[str, str]:
    """Short references for every item, numbered in order: B1, B2, C1, E1, F3 ..."""
    refs: dict[str, str] = {}
    for section in LIST_SECTIONS:
        for n, item in enumerate(items(content, section), start=1):
            if item.get("id"):
                refs[str(item["id"])] = f"{section}{n}"
    return refs


def all_needs(content: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(section, need) for every need in B, C and D, in order: what an outcome can answer."""
    return [(s, n) for s in NEED_SECTIONS for n in items(content, s)]


def all_ids(content: Mapping[str, Any]) -> set[str]:
    return {str(i.get("id")) for s in LIST_SECTIONS for i in items(content, s)}


def new_item_id(content: Mapping[str, Any], section: str) -> str:
    """A fresh id for a new item of ``section``, readable: ``f-3``, ``h1-1``."""
    taken = all_ids(content)
    n = len(items(content, section)) + 1
    while f"{section.lower()}-{n}" in taken:
        n += 1
    return f"{section.lower()}-{n}"


def remove_item(content: Mapping[str, Any], section: str, item_id: str) -> dict[str, Any]:
    """``content`` without the item, and without any link to it (an outcome that answered a
    removed need no longer names it; provision no longer names a removed outcome)."""
    out = copy.deepcopy(dict(content))
    key = LIST_KEY[section]
    out.setdefault(section, {key: []})
    out[section][key] = [i for i in items(out, section) if i.get("id") != item_id]
    if section in NEED_SECTIONS:
        for outcome in items(out, "E"):
            outcome["need_ids"] = [n for n in outcome.get("need_ids") or [] if n != item_id]
    if section == "E":
        for s in PROVISION_SECTIONS:
            for p in items(out, s):
                p["outcome_ids"] = [o for o in p.get("outcome_ids") or [] if o != item_id]
    return out


def linked_to(content: Mapping[str, Any], section: str, item_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Items that link to this one: outcomes answering a need, provision for an outcome."""
    if section in NEED_SECTIONS:
        return [("E", o) for o in items(content, "E") if item_id in (o.get("need_ids") or [])]
    if section == "E":
        return [(s, p) for s in PROVISION_SECTIONS for p in items(content, s) if item_id in (p.get("outcome_ids") or [])]
    return []


def placement_text(placement: Mapping[str, Any] | None) -> str:
    """Section I in a sentence."""
    p = placement or {}
    kind = p.get("kind")
    if kind == "named":
        name = p.get("name") or "A school, college or setting"
        return f"{name} (URN {p['urn']})" if p.get("urn") else name
    if kind == "type":
        return str(p.get("type_description") or "A type of school or institution (not yet described)")
    if kind == "none":
        return "No school or other institution"
    return ""


def is_vague(value: str) -> bool:
    return re.sub(r"[^a-z/ -]", "", value.lower()).strip(" -") in VAGUE_TERMS or value.strip() in VAGUE_TERMS


# ---------------------------------------------------------------------------------------
# Validation


class _Checker:
    def __init__(self, final: bool, lookup: InstitutionLookup):
        self.final = final
        self.lookup = lookup
        self.errors: dict[str, list[str]] = {}

    def add(self, path: str, message: str) -> None:
        self.errors.setdefault(path, []).append(message)

    def mapping(self, path: str, value: Any, fields: Iterable[str], what: str) -> dict[str, Any] | None:
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.add(path, f"Send {what} as an object")
            return None
        allowed = tuple(fields)
        for key in value:
            if key not in allowed:
                self.add(key if path == "content" else f"{path}.{key}", f"{what[0].upper()}{what[1:]} has no field ‘{key}’; its fields are: "
                                           f"{', '.join(allowed)}")
        return dict(value)

    def text(self, path: str, value: Any, *, limit: int, required: str | None = None) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.add(path, "Send text (a string)")
            return ""
        value = value.strip()
        if len(value) > limit:
            self.add(path, f"Use {limit:,} characters or fewer")
        if required and self.final and not value:
            self.add(path, required)
        return value

    def choice(self, path: str, value: Any, options: Mapping[str, str], *, required: str | None = None) -> str | None:
        if value in (None, ""):
            if required and self.final:
                self.add(path, required)
            return None
        if not isinstance(value, str) or value not in options:
            self.add(path, f"Choose one of: {', '.join(options)}")
            return None
        return value

    def flag(self, path: str, value: Any) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.add(path, "Send true or false")
            return False
        return value

    def id_list(self, path: str, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(path, "Send a list of ids")
            return []
        return list(dict.fromkeys(v.strip() for v in value if v.strip()))  # unique, in order

    def date(self, path: str, value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return dt.date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        self.add(path, "Send a date as YYYY-MM-DD")
        return None


def validate_content(content: Any, *, final: bool, lookup: InstitutionLookup | None = None) -> dict[str, Any]:
    """Check plan ``content`` and return it normalised: every section present, text trimmed,
    item fields filled in, section I's name taken from the GIAS register.

    ``final=False`` (a working draft): only types, ids and cross-references are checked, so
    a draft may be written a bit at a time. ``final=True`` (a plan being issued): it must also
    be complete: at least one need in B, one outcome in E and one item of provision in F;
    every need described, every outcome linked to a need and given a timeframe, every item
    of provision specified and quantified and linked to an outcome, and section I set.

    Raises :class:`ValidationFailed` with field paths (``F.provision.0.frequency``).
    """
    c = _Checker(final, lookup or _registry_lookup)
    top = c.mapping("content", content, SECTIONS, "the plan")
    if top is None:
        raise ValidationFailed(c.errors)
    out = empty_plan()
    used_ids: dict[str, str] = {}
    # Ids the sender chose, so that an id made up for an item sent without one never takes them.
    reserved = {i.get("id") for s in LIST_SECTIONS for i in _raw_items(top, s) if isinstance(i.get("id"), str)}

    # A: views, interests and aspirations.
    a = c.mapping("A", top.get("A"), out["A"], "section A")
    if a is not None:
        for key in out["A"]:
            out["A"][key] = c.text(f"A.{key}", a.get(key), limit=TEXT_MAX)

    # B to H2: lists of items with ids.
    for section in LIST_SECTIONS:
        key = LIST_KEY[section]
        body = c.mapping(section, top.get(section), (key,), f"section {section}")
        raw = (body or {}).get(key)
        if raw is None:
            raw = []
        if not isinstance(raw, list):
            c.add(f"{section}.{key}", "Send a list")
            continue
        if len(raw) > MAX_ITEMS:
            c.add(f"{section}.{key}", f"Send at most {MAX_ITEMS} items")
            continue
        for n, value in enumerate(raw):
            out[section][key].append(_item(c, section, f"{section}.{key}.{n}", value, used_ids, reserved))

    _check_references(c, out)
    _check_complete(c, out)

    # I: the placement.
    i = c.mapping("I", top.get("I"), ("placement",), "section I")
    p = c.mapping("I.placement", (i or {}).get("placement"), _I_FIELDS, "the placement")
    if p is not None:
        out["I"]["placement"] = _placement(c, p)

    # J: personal budget.
    j = c.mapping("J", top.get("J"), ("personal_budget",), "section J")
    b = c.mapping("J.personal_budget", (j or {}).get("personal_budget"), _J_FIELDS, "the personal budget")
    if b is not None:
        out["J"]["personal_budget"] = _budget(c, b)

    # K: the advice list (replaced from the case's advice when a version is frozen).
    k = c.mapping("K", top.get("K"), ("advice",), "section K")
    raw_k = (k or {}).get("advice") or []
    if not isinstance(raw_k, list):
        c.add("K.advice", "Send a list")
    else:
        out["K"]["advice"] = [_advice(c, f"K.advice.{n}", v) for n, v in enumerate(raw_k)]
        seen: set[str] = set()
        for n, adv in enumerate(out["K"]["advice"]):
            if adv["advice_id"] in seen:
                c.add(f"K.advice.{n}.advice_id", "Each piece of advice is listed once")
            seen.add(adv["advice_id"])

    if c.errors:
        raise ValidationFailed(c.errors)
    return out


def _raw_items(top: Mapping[str, Any], section: str) -> list[Mapping[str, Any]]:
    body = top.get(section)
    raw = body.get(LIST_KEY[section]) if isinstance(body, Mapping) else None
    return [i for i in raw if isinstance(i, Mapping)] if isinstance(raw, list) else []


def _item(c: _Checker, section: str, path: str, value: Any, used_ids: dict[str, str],
          reserved: set[Any]) -> dict[str, Any]:
    fields = _ITEM_FIELDS[section]
    raw = c.mapping(path, value, fields, f"an item of section {section}") or {}
    item = empty_item(section)
    item_id = raw.get("id")
    if item_id is None:
        # A new item sent without an id gets one (an id is needed to link it).
        n = 1
        while f"{section.lower()}-{n}" in used_ids or f"{section.lower()}-{n}" in reserved:
            n += 1
        item_id = f"{section.lower()}-{n}"
    if not isinstance(item_id, str) or not _ID.match(item_id):
        c.add(f"{path}.id", "Use an id of 1 to 40 letters, digits, dots, dashes or underscores")
    elif item_id in used_ids:
        c.add(f"{path}.id", f"The id ‘{item_id}’ is used twice (also at {used_ids[item_id]}): every need, outcome "
                            "and item of provision needs its own id")
    else:
        used_ids[item_id] = path
    item["id"] = item_id if isinstance(item_id, str) else str(item_id)
    item["description"] = c.text(f"{path}.description", raw.get("description"), limit=TEXT_MAX,
                                 required=_DESCRIBE[section])
    if section == "B":
        item["area"] = c.choice(f"{path}.area", raw.get("area"), AREAS, required="Choose the area of need")
        item["primary_need"] = c.choice(f"{path}.primary_need", raw.get("primary_need"), PRIMARY_NEEDS)
    elif section == "E":
        item["timeframe"] = c.text(f"{path}.timeframe", raw.get("timeframe"), limit=SHORT_MAX,
                                   required="Say by when the outcome should be achieved, for example ‘by the end "
                                            "of Year 6’")
        item["need_ids"] = c.id_list(f"{path}.need_ids", raw.get("need_ids"))
        item["pfa_area"] = c.choice(f"{path}.pfa_area", raw.get("pfa_area"), PFA_AREAS)
    elif section in PROVISION_SECTIONS:
        item["provider"] = c.text(f"{path}.provider", raw.get("provider"), limit=SHORT_MAX,
                                  required="Say who will provide it, for example ‘a speech and language therapist’")
        for name, missing in (("frequency", "Say how often, for example ‘3 sessions of 30 minutes a week’"),
                              ("duration", "Say for how long, for example ‘until the next annual review’")):
            item[name] = c.text(f"{path}.{name}", raw.get(name), limit=SHORT_MAX, required=missing)
            if c.final and item[name] and is_vague(item[name]):
                c.add(f"{path}.{name}", f"‘{item[name]}’ is not specific: say exactly {_HOW[name]} "
                                        "(provision must be specified and quantified, the Code 9.69)")
        item["outcome_ids"] = c.id_list(f"{path}.outcome_ids", raw.get("outcome_ids"))
    return item


_DESCRIBE = {
    "B": "Describe the special educational need",
    "C": "Describe the health care need",
    "D": "Describe the social care need",
    "E": "Describe the outcome",
    **{s: "Say what the provision is" for s in PROVISION_SECTIONS},
}
_HOW = {"frequency": "how often", "duration": "for how long"}


def _check_references(c: _Checker, out: dict[str, Any]) -> None:
    needs = {str(n["id"]) for _, n in all_needs(out)}
    outcomes = {str(o["id"]) for o in items(out, "E")}
    for n, outcome in enumerate(items(out, "E")):
        for ref in outcome["need_ids"]:
            if ref not in needs:
                c.add(f"E.outcomes.{n}.need_ids", f"There is no need with id ‘{ref}’ in section B, C or D")
    for section in PROVISION_SECTIONS:
        for n, item in enumerate(items(out, section)):
            for ref in item["outcome_ids"]:
                if ref not in outcomes:
                    c.add(f"{section}.provision.{n}.outcome_ids", f"There is no outcome with id ‘{ref}’ in section E")


def _check_complete(c: _Checker, out: dict[str, Any]) -> None:
    if not c.final:
        return
    if not items(out, "B"):
        c.add("B.needs", "Add at least one special educational need")
    if not items(out, "E"):
        c.add("E.outcomes", "Add at least one outcome")
    if not items(out, "F"):
        c.add("F.provision", "Add at least one item of special educational provision")
    for n, outcome in enumerate(items(out, "E")):
        if not outcome["need_ids"]:
            c.add(f"E.outcomes.{n}.need_ids", "Link the outcome to at least one need in section B, C or D")
    for section in PROVISION_SECTIONS:
        for n, item in enumerate(items(out, section)):
            if not item["outcome_ids"]:
                c.add(f"{section}.provision.{n}.outcome_ids", "Link the provision to at least one outcome in section E")


def _placement(c: _Checker, p: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": None, "urn": None, "name": None, "type_description": None}
    kind = c.choice("I.placement.kind", p.get("kind"), PLACEMENT_KINDS,
                    required="Name the school or other institution, or its type, or say there is none")
    out["kind"] = kind
    urn = p.get("urn")
    type_description = c.text("I.placement.type_description", p.get("type_description"), limit=SHORT_MAX)
    if kind == "named":
        if urn is None:
            if c.final:
                c.add("I.placement.urn", "Enter the URN of the school, college or other institution")
        elif isinstance(urn, bool) or not isinstance(urn, int) or not 100000 <= urn <= 999999:
            c.add("I.placement.urn", "Enter a URN of 6 digits, like 118945")
        else:
            found = c.lookup(urn)
            if found is None:
                c.add("I.placement.urn", f"There is no school, college or other institution with URN {urn}")
            else:
                if c.final and not found.open:
                    c.add("I.placement.urn", f"{found.name} (URN {urn}) has closed: name an open institution")
                out["urn"], out["name"] = urn, found.name
        if type_description:
            c.add("I.placement.type_description", "Leave the type out when the institution is named")
    else:
        if urn is not None:
            c.add("I.placement.urn", "Give a URN only when the plan names the institution (kind ‘named’)")
        if kind == "type":
            if c.final and not type_description:
                c.add("I.placement.type_description", "Describe the type of school or institution, for example "
                                                      "‘a special school for children with autism’")
            out["type_description"] = type_description
        elif type_description:
            c.add("I.placement.type_description", "Describe a type only when the plan names a type (kind ‘type’)")
    return out


def _budget(c: _Checker, b: dict[str, Any]) -> dict[str, Any]:
    amount = b.get("amount")
    if amount is not None:
        if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not math.isfinite(amount):
            c.add("J.personal_budget.amount", "Enter the amount as a number of pounds, like 1200.50")
            amount = None
        elif not 0 <= amount <= MAX_AMOUNT:
            c.add("J.personal_budget.amount", f"Enter an amount between 0 and {MAX_AMOUNT:,}")
            amount = None
        else:
            amount = round(float(amount), 2)
            amount = int(amount) if amount.is_integer() else amount
    return {
        "requested": c.flag("J.personal_budget.requested", b.get("requested")),
        "amount": amount,
        "direct_payment": c.flag("J.personal_budget.direct_payment", b.get("direct_payment")),
        "arrangements": c.text("J.personal_budget.arrangements", b.get("arrangements"), limit=TEXT_MAX),
    }


def _advice(c: _Checker, path: str, value: Any) -> dict[str, Any]:
    raw = c.mapping(path, value, _K_FIELDS, "an item of section K") or {}
    advice_id = raw.get("advice_id")
    if not isinstance(advice_id, str) or not advice_id.strip() or len(advice_id) > 64:
        c.add(f"{path}.advice_id", "Give the advice_id of the advice request")
        advice_id = ""
    docs = raw.get("document_ids") or []
    if not isinstance(docs, list) or not all(isinstance(d, str) for d in docs):
        c.add(f"{path}.document_ids", "Send a list of document ids")
        docs = []
    return {
        "advice_id": advice_id.strip(),
        "advice": c.choice(f"{path}.advice", raw.get("advice"), ADVICE_KINDS),
        "requested_on": c.date(f"{path}.requested_on", raw.get("requested_on")),
        "received_on": c.date(f"{path}.received_on", raw.get("received_on")),
        "document_ids": list(docs),
    }


# ---------------------------------------------------------------------------------------
# Errors in words


def error_location(path: str, content: Mapping[str, Any]) -> str:
    """Where an error path points, for a person: "Section F, ‘Speech and language therapy’"."""
    parts = path.split(".")
    section = parts[0]
    if section not in SECTIONS:
        return "The plan"
    where = f"Section {section}"
    if section in LIST_SECTIONS and len(parts) >= 3 and parts[2].isdigit():
        found = items(content, section)
        index = int(parts[2])
        if index < len(found):
            where += f", ‘{item_label(found[index])}’"
    return where


def describe_errors(errors: Mapping[str, list[str]], content: Mapping[str, Any]) -> list[str]:
    """Every problem as one sentence that says where it is."""
    out = []
    for path, messages in errors.items():
        where = error_location(path, content)
        for message in messages:
            out.append(f"{where}: {message[0].lower()}{message[1:]}")
    return out
