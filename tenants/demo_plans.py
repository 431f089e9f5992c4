"""EHC plan content for the demonstration cases (tenants.demo): written through the plan
services, as a caseworker would, so the plan pages, versions, PDFs and "what changed" show
something real.

For each demo case that reaches a draft plan:
  * the draft is written before it is served on the family (version 1, served);
  * after the family's representations the working draft changes (they asked for their
    child's current school to be named; speech and language therapy goes up), and that is
    what is issued (version 2), so the two versions differ;
  * one case with a plan in force has an amendment draft in progress.

Everything is made up. The text is written to read like a real plan: needs described in
plain words, outcomes that say by when, provision that says what, who, how often and how long.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.actors import Actor
from core.clock import academic_year_group
from core.plans import services as plans

#: Which plan each demo case gets, by its index in tenants.demo.seed_cases (others: by age).
_AMEND_IN_PROGRESS = 3


def _year_name(year: int) -> str:
    return "Reception" if year <= 0 else f"Year {year}"


def _plan(child: Any, today: dt.date, *, urn: int | None) -> dict[str, Any]:
    """A complete plan for ``child``, chosen by age: communication needs for younger children,
    learning needs in primary, social, emotional and mental health needs in secondary with
    preparing-for-adulthood outcomes from Year 9."""
    name = child.given_name
    year = academic_year_group(child.date_of_birth, today)
    next_year = _year_name(year + 1)
    placement = ({"kind": "named", "urn": urn} if urn else {"kind": "type", "type_description": "A mainstream school"})
    if year <= 2:
        return {
            "A": {"views": f"{name}'s parents say {name} is happiest outdoors and with familiar adults. They want "
                           f"{name} to be able to tell people what they need without getting upset.",
                  "interests": "Animals, water play, songs with actions.",
                  "aspirations": f"To make friends at school and to talk with the family at the dinner table."},
            "B": {"needs": [
                {"id": "b-1", "area": "communication_interaction", "primary_need": "SLCN",
                 "description": f"{name} uses single words and short phrases. {name} finds it hard to follow "
                                "instructions with more than one step and to take turns in conversation."},
                {"id": "b-2", "area": "communication_interaction", "primary_need": None,
                 "description": f"{name} becomes distressed at changes of routine and transitions between activities."},
            ]},
            "C": {"needs": [{"id": "c-1", "description": "Glue ear: hearing is reduced at times; reviewed by audiology."}]},
            "D": {"needs": []},
            "E": {"outcomes": [
                {"id": "e-1", "description": f"{name} will use sentences of three to four words to ask for help and say "
                                             "what they want.", "timeframe": f"By the end of {next_year}",
                 "need_ids": ["b-1", "c-1"], "pfa_area": None},
                {"id": "e-2", "description": f"{name} will move between activities using a visual timetable, with no "
                                             "more than one prompt.", "timeframe": "By the next annual review",
                 "need_ids": ["b-2"], "pfa_area": None},
            ]},
            "F": {"provision": [
                {"id": "f-1", "description": "Speech and language therapy: direct therapy on expressive language and "
                                             "a programme for staff to follow", "provider": "An NHS speech and "
                 "language therapist", "frequency": "Weekly, 30 minutes", "duration": "For the school year",
                 "outcome_ids": ["e-1"]},
                {"id": "f-2", "description": "Daily language group using the therapist's programme",
                 "provider": "A teaching assistant trained by the therapist", "frequency": "Daily, 15 minutes",
                 "duration": "Until the next annual review", "outcome_ids": ["e-1"]},
                {"id": "f-3", "description": "Visual timetable and a warning before each change of activity",
                 "provider": "Class staff", "frequency": "Throughout every school day",
                 "duration": "Until the next annual review", "outcome_ids": ["e-2"]},
            ]},
            "G": {"provision": [
                {"id": "g-1", "description": "Hearing checks", "provider": "Paediatric audiology",
                 "frequency": "Every 6 months", "duration": "Until discharged by audiology", "outcome_ids": ["e-1"]},
            ]},
            "H1": {"provision": []},
            "H2": {"provision": []},
            "I": {"placement": placement},
            "J": {"personal_budget": {"requested": False}},
        }
    if year <= 8:
        return {
            "A": {"views": f"{name} says: \"I like school when I know what we are doing. Reading is hard and I don't "
                           "like reading out loud.\" Their parents want reading to stop holding them back.",
                  "interests": "Football, building things, cooking with grandparents.",
                  "aspirations": f"{name} would like to be a chef or a football coach."},
            "B": {"needs": [
                {"id": "b-1", "area": "cognition_learning", "primary_need": "SPLD",
                 "description": f"{name}'s reading and spelling are about three years behind their age; {name} has "
                                "difficulty linking letters and sounds and remembering sequences."},
                {"id": "b-2", "area": "cognition_learning", "primary_need": None,
                 "description": f"{name} processes spoken information slowly and needs more time to start tasks."},
                {"id": "b-3", "area": "semh", "primary_need": None,
                 "description": f"{name}'s confidence is low; {name} avoids written work and can become withdrawn."},
            ]},
            "C": {"needs": []},
            "D": {"needs": []},
            "E": {"outcomes": [
                {"id": "e-1", "description": f"{name} will read a book for their age with 90% accuracy.",
                 "timeframe": f"By the end of {next_year}", "need_ids": ["b-1"], "pfa_area": None},
                {"id": "e-2", "description": f"{name} will write a paragraph of five sentences on their own, using a "
                                             "word bank.", "timeframe": f"By the end of {next_year}",
                 "need_ids": ["b-1", "b-2"], "pfa_area": None},
                {"id": "e-3", "description": f"{name} will take part in class discussion at least once a lesson.",
                 "timeframe": "By the next annual review", "need_ids": ["b-3"], "pfa_area": None},
            ]},
            "F": {"provision": [
                {"id": "f-1", "description": "Structured, multi-sensory phonics programme, one to one",
                 "provider": "A specialist teacher (SpLD qualified)", "frequency": "3 sessions of 30 minutes a week",
                 "duration": "For the school year, then reviewed", "outcome_ids": ["e-1", "e-2"]},
                {"id": "f-2", "description": "Extra time and a reader for tests; instructions given in writing as well "
                                             "as spoken", "provider": "Class and subject teachers",
                 "frequency": "In every lesson and test", "duration": "Until the next annual review",
                 "outcome_ids": ["e-2"]},
                {"id": "f-3", "description": "Small-group work on confidence and self-esteem",
                 "provider": "The school's learning mentor", "frequency": "Weekly, 45 minutes",
                 "duration": "For two terms", "outcome_ids": ["e-3"]},
            ]},
            "G": {"provision": []},
            "H1": {"provision": []},
            "H2": {"provision": []},
            "I": {"placement": placement},
            "J": {"personal_budget": {"requested": False}},
        }
    return {
        "A": {"views": f"{name} says school feels too loud and busy, and that they want adults to notice when they "
                       "are struggling before it gets too much. Their family want a plan for life after school.",
              "interests": "Music production, gaming with friends online, looking after the family dog.",
              "aspirations": f"{name} wants to go to college to study music technology and to live independently."},
        "B": {"needs": [
            {"id": "b-1", "area": "semh", "primary_need": "SEMH",
             "description": f"{name} experiences high anxiety, especially in crowded places and at unstructured times, "
                            "which leads to missed lessons and leaving class."},
            {"id": "b-2", "area": "communication_interaction", "primary_need": None,
             "description": f"{name} finds it hard to read social situations and to repair misunderstandings with peers."},
        ]},
        "C": {"needs": [{"id": "c-1", "description": "Anxiety disorder, supported by the children and young people's "
                                                     "mental health service (CAMHS)."}]},
        "D": {"needs": [{"id": "d-1", "description": f"{name}'s family need support to help {name} build independence "
                                                     "skills at home."}]},
        "E": {"outcomes": [
            {"id": "e-1", "description": f"{name} will attend at least 90% of lessons, using a plan to manage anxiety.",
             "timeframe": f"By the end of {next_year}", "need_ids": ["b-1", "c-1"], "pfa_area": "health"},
            {"id": "e-2", "description": f"{name} will travel to school and back on their own by bus.",
             "timeframe": "By the next annual review", "need_ids": ["b-1", "d-1"], "pfa_area": "independent_living"},
            {"id": "e-3", "description": f"{name} will complete a work experience week in a setting linked to music.",
             "timeframe": "By the end of Year 11", "need_ids": ["b-2"], "pfa_area": "employment"},
        ]},
        "F": {"provision": [
            {"id": "f-1", "description": "Individual sessions with a trained counsellor using a cognitive behavioural "
                                         "approach", "provider": "The school counsellor",
             "frequency": "Weekly, 50 minutes", "duration": "For the school year", "outcome_ids": ["e-1"]},
            {"id": "f-2", "description": "A quiet base to go to at break, lunch and when anxious, with a named adult",
             "provider": "The SENCO and pastoral team", "frequency": "Every school day",
             "duration": "Until the next annual review", "outcome_ids": ["e-1"]},
            {"id": "f-3", "description": "Social communication group on friendships and repairing misunderstandings",
             "provider": "A specialist teaching assistant", "frequency": "Weekly, 1 hour", "duration": "For two terms",
             "outcome_ids": ["e-3"]},
            {"id": "f-4", "description": "Careers guidance focused on music and creative industries",
             "provider": "An independent careers adviser", "frequency": "Termly, 45 minutes",
             "duration": "Until the end of Year 11", "outcome_ids": ["e-3"]},
        ]},
        "G": {"provision": [
            {"id": "g-1", "description": "Review of anxiety and medication", "provider": "CAMHS",
             "frequency": "Every 8 weeks", "duration": "Until discharged by CAMHS", "outcome_ids": ["e-1"]},
        ]},
        "H1": {"provision": [
            {"id": "h1-1", "description": "Independent travel training", "provider": "The council's travel training team",
             "frequency": "2 sessions a week", "duration": "For 12 weeks", "outcome_ids": ["e-2"]},
        ]},
        "H2": {"provision": [
            {"id": "h2-1", "description": "Family support worker visits on independence skills at home",
             "provider": "Early help family support", "frequency": "Fortnightly, 1 hour", "duration": "For 6 months",
             "outcome_ids": ["e-2"]},
        ]},
        "I": {"placement": placement},
        "J": {"personal_budget": {"requested": True, "amount": 1800, "direct_payment": True,
                                  "arrangements": "A direct payment to the family for the travel training costs and "
                                                  "a youth music group, paid monthly."}},
    }


def before_event(actor: Actor, case: Any, event: dict[str, Any], *, child: Any, urn: int | None,
                 today: dt.date) -> None:
    """Write the plan at the point of the journey a caseworker would."""
    if event["type"] == "draft_plan_served":
        # The draft as served: the school not yet named (the family may ask for one, s38(2)(b)).
        draft = _plan(child, today, urn=None)
        plans.save_draft(actor, case, draft)
    elif event["type"] == "final_plan_issued":
        plans.edit_draft(actor, case, lambda c: _after_representations(c, urn))


def _after_representations(content: dict[str, Any], urn: int | None) -> dict[str, Any]:
    """What the family asked for in their representations: their child's school named, and
    more speech and language or specialist teaching time."""
    if urn:
        content["I"] = {"placement": {"kind": "named", "urn": urn}}
    first = content["F"]["provision"][0]
    first["frequency"] = {"Weekly, 30 minutes": "Twice a week, 30 minutes",
                          "3 sessions of 30 minutes a week": "4 sessions of 30 minutes a week",
                          "Weekly, 50 minutes": "Weekly, 50 minutes, and a check-in every morning"}.get(
        first["frequency"], first["frequency"])
    return content


def after_events(actor: Actor, case: Any, *, index: int) -> None:
    """One plan in force has an amendment draft in progress (ahead of its annual review)."""
    if index != _AMEND_IN_PROGRESS or plans.latest_issued(case) is None:
        return
    plans.start_draft(actor, case)

    def amend(content: dict[str, Any]) -> dict[str, Any]:
        provision = content["F"]["provision"]
        provision.append({"id": "f-9", "description": "Touch-typing programme to reduce the load of handwriting",
                          "provider": "A teaching assistant", "frequency": "3 sessions of 20 minutes a week",
                          "duration": "For one term", "outcome_ids": [content["E"]["outcomes"][0]["id"]]})
        content["E"]["outcomes"][-1]["timeframe"] = "By the end of the summer term"
        return content

    plans.edit_draft(actor, case, amend)
