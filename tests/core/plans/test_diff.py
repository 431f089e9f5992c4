"""What changed between two versions: field by field, items matched by id, in plain words."""

from __future__ import annotations

import pytest

from core.plans.content import validate_content
from core.plans.diff import diff_content
from tests.core.plans.factories import complete_plan, fake_lookup

pytestmark = pytest.mark.smoke


def test_the_same_plan_has_no_changes() -> None:
    assert diff_content(complete_plan(), complete_plan()) == []
    assert diff_content({}, {}) == []


def test_a_changed_frequency_reads_as_a_parent_would_say_it() -> None:
    after = complete_plan()
    after["F"]["provision"][0]["frequency"] = "twice a week"
    [change] = diff_content(complete_plan(), after)
    assert (change.section, change.item_id, change.field, change.kind) == ("F", "f-1", "frequency", "changed")
    assert (change.before, change.after) == ("weekly", "twice a week")
    assert change.summary == "Section F: Speech and language therapy — how often: 'weekly' → 'twice a week'"
    assert change.as_dict()["summary"] == change.summary and change.as_dict()["label"] == "Speech and language therapy"


def test_items_are_matched_by_id_so_reordering_is_not_a_change() -> None:
    after = complete_plan()
    after["B"]["needs"].reverse()
    after["F"]["provision"].reverse()
    assert diff_content(complete_plan(), after) == []


def test_added_and_removed_items() -> None:
    after = complete_plan()
    after["F"]["provision"].append({"id": "f-3", "description": "Occupational therapy programme", "provider": "OT",
                                    "frequency": "Fortnightly", "duration": "One year", "outcome_ids": ["e-1"]})
    del after["G"]["provision"][0]
    changes = diff_content(complete_plan(), after)
    assert [(c.section, c.kind, c.item_id) for c in changes] == [("F", "added", "f-3"), ("G", "removed", "g-1")]
    assert changes[0].summary == "Section F: added 'Occupational therapy programme'"
    assert changes[1].summary == "Section G: removed 'Asthma care plan reviewed by the school nurse'"
    assert changes[0].after["provider"] == "OT" and changes[1].before["frequency"] == "Once a term"


def test_changed_links_are_named_by_the_items_they_link_to() -> None:
    after = complete_plan()
    after["E"]["outcomes"][0]["need_ids"] = ["b-1", "b-2"]
    [change] = diff_content(complete_plan(), after)
    assert change.field == "need_ids" and change.before == ["b-1"] and change.after == ["b-1", "b-2"]
    assert change.after_text == "‘Sam finds it hard to put ideas into sentences and to follow…’, " \
                                "‘Sam's reading is about two years behind his peers’"


def test_choices_are_shown_in_words() -> None:
    after = complete_plan()
    after["B"]["needs"][0]["primary_need"] = "ASD"
    [change] = diff_content(complete_plan(), after)
    assert (change.before_text, change.after_text) == ("Speech, language and communication needs", "Autistic spectrum disorder")


def test_section_a_placement_and_budget_changes() -> None:
    after = complete_plan(urn=991002)
    after["A"]["aspirations"] = "To work with animals."
    after["J"]["personal_budget"].update(requested=True, amount=1500)
    after = validate_content(after, final=True, lookup=fake_lookup())
    changes = {(c.section, c.field): c for c in diff_content(complete_plan(), after)}
    assert set(changes) == {("A", "aspirations"), ("I", "placement"), ("J", "requested"), ("J", "amount")}
    assert changes[("A", "aspirations")].summary == "Section A: aspirations: 'To drive a train one day.' → 'To work with animals.'"
    assert changes[("I", "placement")].summary == ("Section I: school, college or other institution: "
                                                   "'A mainstream primary school' → 'Oakfield Primary School (URN 991002)'")
    assert changes[("J", "amount")].summary == "Section J: amount: nothing → '£1,500.00'"
    assert changes[("J", "requested")].after_text == "Yes"


def test_advice_added_to_section_k() -> None:
    after = complete_plan()
    after["K"]["advice"] = [{"advice_id": "ep1", "advice": "psychological", "requested_on": "2026-02-11",
                             "received_on": None, "document_ids": []}]
    later = complete_plan()
    later["K"]["advice"] = [{**after["K"]["advice"][0], "received_on": "2026-03-20", "document_ids": ["d1"]}]
    [added] = diff_content(complete_plan(), after)
    assert added.summary == "Section K: added 'Psychological advice (ep1)'"
    changes = diff_content(after, later)
    assert [(c.field, c.after_text) for c in changes] == [("received_on", "2026-03-20"), ("document_ids", "1 document")]


def test_a_plan_written_from_nothing_is_all_additions() -> None:
    changes = diff_content({}, complete_plan())
    assert {c.kind for c in changes} == {"added", "changed"}
    assert [c.item_id for c in changes if c.kind == "added"] == ["b-1", "b-2", "c-1", "e-1", "e-2", "f-1", "f-2", "g-1"]


def test_long_text_is_shortened_in_the_summary_only() -> None:
    after = complete_plan()
    after["A"]["views"] = "word " * 60
    [change] = diff_content(complete_plan(), after)
    assert change.after == "word " * 60
    assert change.summary.endswith("…'") and len(change.summary) < 260
