"""Plan content: the schema of sections A to K, what a draft may leave out, what an issued plan
must have (provision specified and quantified: CFA 2014 s42, the Code 9.69)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import ValidationFailed
from core.plans.content import (
    PROVISION_SECTIONS, describe_errors, empty_plan, is_vague, item_label, item_refs, linked_to, new_item_id,
    remove_item, validate_content, with_defaults,
)
from tests.core.plans.factories import SLT, complete_plan, fake_lookup

pytestmark = pytest.mark.smoke


def errors_of(content: Any, *, final: bool) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as info:
        validate_content(content, final=final, lookup=fake_lookup())
    return info.value.errors


def test_an_empty_plan_is_a_valid_draft_and_every_section_is_filled_in() -> None:
    assert validate_content({}, final=False, lookup=fake_lookup()) == empty_plan()
    assert list(empty_plan()) == ["A", "B", "C", "D", "E", "F", "G", "H1", "H2", "I", "J", "K"]


def test_a_complete_plan_can_be_issued_and_comes_back_normalised() -> None:
    plan = complete_plan()
    plan["A"]["views"] = "  Sam says school is best when it is quiet.  \n"
    out = validate_content(plan, final=True, lookup=fake_lookup())
    assert out["A"]["views"] == "Sam says school is best when it is quiet."
    assert out["F"]["provision"][0]["frequency"] == "weekly"
    assert out["I"]["placement"] == {"kind": "type", "urn": None, "name": None, "type_description": "A mainstream primary school"}


def test_an_empty_plan_cannot_be_issued_and_says_what_is_missing() -> None:
    errors = errors_of({}, final=True)
    assert set(errors) == {"B.needs", "E.outcomes", "F.provision", "I.placement.kind"}
    assert errors["F.provision"] == ["Add at least one item of special educational provision"]


@pytest.mark.parametrize("field", ["description", "provider", "frequency", "duration"])
@pytest.mark.parametrize("section", PROVISION_SECTIONS)
def test_provision_must_say_what_who_how_often_and_how_long_before_issue(section: str, field: str) -> None:
    plan = complete_plan()
    item = {"id": "p-9", "description": "Support", "provider": "Someone", "frequency": "Daily", "duration": "A year",
            "outcome_ids": ["e-1"]}
    item[field] = "  "
    plan[section] = {"provision": [item]}
    assert validate_content(plan, final=False, lookup=fake_lookup())[section]["provision"][0][field] == ""
    errors = errors_of(plan, final=True)
    assert list(errors) == [f"{section}.provision.0.{field}"]


@pytest.mark.parametrize("vague", ["As required", "as and when needed", "Regularly.", "TBC", "Ongoing"])
def test_vague_quantities_are_refused_when_issuing_but_allowed_in_a_draft(vague: str) -> None:
    plan = complete_plan()
    plan["F"]["provision"][0]["frequency"] = vague
    validate_content(plan, final=False, lookup=fake_lookup())
    errors = errors_of(plan, final=True)
    assert list(errors) == ["F.provision.0.frequency"]
    assert "not specific" in errors["F.provision.0.frequency"][0] and "9.69" in errors["F.provision.0.frequency"][0]


def test_specific_quantities_are_not_mistaken_for_vague_ones() -> None:
    for text in ("weekly", "3 sessions of 30 minutes a week", "Daily, as required by the care plan", "Termly"):
        assert not is_vague(text), text


def test_every_outcome_must_answer_a_need_that_exists() -> None:
    plan = complete_plan()
    plan["E"]["outcomes"][0]["need_ids"] = ["b-404"]
    # A link to nothing is wrong even in a draft.
    assert errors_of(plan, final=False) == {"E.outcomes.0.need_ids": ["There is no need with id ‘b-404’ in section B, C or D"]}
    plan["E"]["outcomes"][0]["need_ids"] = []
    validate_content(plan, final=False, lookup=fake_lookup())  # a draft may not have linked it yet
    assert errors_of(plan, final=True) == {
        "E.outcomes.0.need_ids": ["Link the outcome to at least one need in section B, C or D"]}


def test_an_outcome_may_answer_health_and_social_care_needs_too() -> None:
    plan = complete_plan()
    plan["D"]["needs"] = [{"id": "d-1", "description": "Needs help with personal care."}]
    plan["E"]["outcomes"][0]["need_ids"] = ["c-1", "d-1", "c-1"]
    out = validate_content(plan, final=True, lookup=fake_lookup())
    assert out["E"]["outcomes"][0]["need_ids"] == ["c-1", "d-1"]  # duplicates dropped, order kept


def test_every_item_of_provision_must_deliver_an_outcome_that_exists() -> None:
    plan = complete_plan()
    plan["G"]["provision"][0]["outcome_ids"] = ["e-9"]
    assert errors_of(plan, final=False) == {"G.provision.0.outcome_ids": ["There is no outcome with id ‘e-9’ in section E"]}
    plan["G"]["provision"][0]["outcome_ids"] = []
    assert errors_of(plan, final=True) == {
        "G.provision.0.outcome_ids": ["Link the provision to at least one outcome in section E"]}


def test_ids_are_unique_across_the_whole_plan() -> None:
    plan = complete_plan()
    plan["C"]["needs"][0]["id"] = "b-1"
    errors = errors_of(plan, final=False)
    assert list(errors) == ["C.needs.0.id"] and "used twice (also at B.needs.0)" in errors["C.needs.0.id"][0]


def test_items_sent_without_an_id_get_one_that_no_other_item_has() -> None:
    plan = complete_plan()
    plan["F"]["provision"].insert(0, {"description": "New support", "outcome_ids": []})
    plan["F"]["provision"][1]["id"] = "f-1"
    out = validate_content(plan, final=False, lookup=fake_lookup())
    ids = [p["id"] for p in out["F"]["provision"]]
    assert ids[1:] == ["f-1", "f-2"] and ids[0] not in ("f-1", "f-2") and ids[0].startswith("f-")


@pytest.mark.parametrize(("change", "path"), [
    (lambda p: p["B"]["needs"][0].update(area="hearing"), "B.needs.0.area"),
    (lambda p: p["B"]["needs"][0].update(primary_need="XYZ"), "B.needs.0.primary_need"),
    (lambda p: p["B"]["needs"][0].update(description=42), "B.needs.0.description"),
    (lambda p: p["B"]["needs"][0].update(id="has spaces"), "B.needs.0.id"),
    (lambda p: p["E"]["outcomes"][0].update(need_ids="b-1"), "E.outcomes.0.need_ids"),
    (lambda p: p["E"]["outcomes"][0].update(pfa_area="jobs"), "E.outcomes.0.pfa_area"),
    (lambda p: p["F"]["provision"][0].update(cost=100), "F.provision.0.cost"),
    (lambda p: p.update(Z={}), "Z"),
    (lambda p: p["F"].update(provision={"id": "x"}), "F.provision"),
    (lambda p: p["J"]["personal_budget"].update(amount="lots"), "J.personal_budget.amount"),
    (lambda p: p["J"]["personal_budget"].update(amount=-5), "J.personal_budget.amount"),
    (lambda p: p["J"]["personal_budget"].update(requested="yes"), "J.personal_budget.requested"),
    (lambda p: p["I"]["placement"].update(kind="named", urn="991002", type_description=None), "I.placement.urn"),
    (lambda p: p["I"]["placement"].update(kind="home"), "I.placement.kind"),
    (lambda p: p["K"].update(advice=[{"advice_id": "ep1", "requested_on": "11/02/2026"}]), "K.advice.0.requested_on"),
    (lambda p: p["A"].update(views="x" * 10_001), "A.views"),
])
def test_wrong_types_are_refused_even_in_a_draft_with_the_path_of_the_field(change: Any, path: str) -> None:
    plan = complete_plan()
    change(plan)
    errors = errors_of(plan, final=False)
    assert path in errors, errors
    assert all(isinstance(m, str) and m for m in errors[path])


def test_content_that_is_not_an_object_is_refused() -> None:
    assert errors_of(["A"], final=False) == {"content": ["Send the plan as an object"]}


def test_a_named_placement_must_be_a_known_institution_and_takes_its_registered_name() -> None:
    plan = complete_plan(urn=991002)
    plan["I"]["placement"]["name"] = "Oakfeild Primary"  # the register's name wins over a typo
    assert validate_content(plan, final=True, lookup=fake_lookup())["I"]["placement"] == {
        "kind": "named", "urn": 991002, "name": "Oakfield Primary School", "type_description": None}
    plan["I"]["placement"]["urn"] = 999999
    assert errors_of(plan, final=False) == {
        "I.placement.urn": ["There is no school, college or other institution with URN 999999"]}


def test_a_plan_cannot_be_issued_naming_a_closed_institution() -> None:
    plan = complete_plan(urn=991009)
    validate_content(plan, final=False, lookup=fake_lookup())
    assert errors_of(plan, final=True) == {"I.placement.urn": ["Closed School (URN 991009) has closed: name an open institution"]}


def test_a_placement_says_a_school_or_a_type_or_none_and_nothing_else() -> None:
    plan = complete_plan()
    plan["I"]["placement"] = {"kind": "type", "urn": 991002, "type_description": "A special school"}
    assert "I.placement.urn" in errors_of(plan, final=False)
    plan["I"]["placement"] = {"kind": "type", "type_description": ""}
    assert list(errors_of(plan, final=True)) == ["I.placement.type_description"]
    plan["I"]["placement"] = {"kind": "named"}
    validate_content(plan, final=False, lookup=fake_lookup())  # the school may not be chosen yet
    assert errors_of(plan, final=True) == {"I.placement.urn": ["Enter the URN of the school, college or other institution"]}
    plan["I"]["placement"] = {"kind": "none"}
    assert validate_content(plan, final=True, lookup=fake_lookup())["I"]["placement"]["kind"] == "none"


def test_a_personal_budget_amount_is_kept_to_the_penny() -> None:
    plan = complete_plan()
    plan["J"]["personal_budget"] = {"requested": True, "amount": 1200.555, "direct_payment": True, "arrangements": "Paid monthly"}
    assert validate_content(plan, final=True, lookup=fake_lookup())["J"]["personal_budget"]["amount"] == 1200.56


def test_errors_read_as_sentences_that_say_where_the_problem_is() -> None:
    plan = complete_plan()
    plan["F"]["provision"][0]["frequency"] = ""
    errors = errors_of(plan, final=True)
    assert describe_errors(errors, plan) == [
        "Section F, ‘Speech and language therapy’: say how often, for example ‘3 sessions of 30 minutes a week’"]


def test_removing_a_need_or_an_outcome_removes_the_links_to_it() -> None:
    plan = complete_plan()
    assert [i["id"] for _, i in linked_to(plan, "B", "b-1")] == ["e-1"]
    assert [i["id"] for _, i in linked_to(plan, "E", "e-1")] == ["f-1", "g-1"]
    without = remove_item(plan, "B", "b-1")
    assert [n["id"] for n in without["B"]["needs"]] == ["b-2"]
    assert without["E"]["outcomes"][0]["need_ids"] == []
    without = remove_item(plan, "E", "e-1")
    assert without["F"]["provision"][0]["outcome_ids"] == [] and without["G"]["provision"][0]["outcome_ids"] == []
    assert plan["E"]["outcomes"][0]["need_ids"] == ["b-1"]  # the original is untouched


def test_items_have_short_labels_references_and_fresh_ids() -> None:
    plan = complete_plan()
    assert item_label(plan["F"]["provision"][0]) == "Speech and language therapy"
    assert item_label({"description": SLT.replace(":", "")}, limit=30) == "Speech and language therapy…"
    assert item_refs(plan) == {"b-1": "B1", "b-2": "B2", "c-1": "C1", "e-1": "E1", "e-2": "E2", "f-1": "F1", "f-2": "F2",
                               "g-1": "G1"}
    assert new_item_id(plan, "F") == "f-3" and new_item_id(plan, "H1") == "h1-1"


def test_reading_old_or_empty_content_fills_in_every_section() -> None:
    read = with_defaults({"F": {"provision": [{"id": "f-1", "description": "x"}]}})
    assert read["F"]["provision"][0] == {"id": "f-1", "description": "x", "provider": "", "frequency": "", "duration": "",
                                         "outcome_ids": []}
    assert read["I"]["placement"]["kind"] is None and read["K"] == {"advice": []}
