"""What changed between two versions of a plan, field by field, in words a parent can read.

List items (needs, outcomes, provision, advice) are matched by id, not by position, so
reordering changes nothing and an edited item is one "changed" entry per field rather than a
removal and an addition. Links between items (an outcome's needs, provision's outcomes) are
shown by the linked items' names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from core.plans.content import (
    ADVICE_KINDS, AREAS, FIELD_LABELS, LIST_SECTIONS, NEED_SECTIONS, PFA_AREAS, PRIMARY_NEEDS,
    item_label, items, placement_text, with_defaults,
)

ChangeKind = Literal["added", "removed", "changed"]

_ITEM_KIND = {**{s: "need" for s in NEED_SECTIONS}, "E": "outcome", **{s: "provision" for s in ("F", "G", "H1", "H2")}}
_CHOICES = {"area": AREAS, "primary_need": PRIMARY_NEEDS, "pfa_area": PFA_AREAS, "advice": ADVICE_KINDS}
_SUMMARY_LIMIT = 120


@dataclass(frozen=True)
class Change:
    """One difference. ``field`` is None when a whole item was added or removed."""

    section: str
    kind: ChangeKind
    item_id: str | None = None
    #: The item's short name (its description's start), as of the later version if it has one.
    label: str | None = None
    field: str | None = None
    #: The field's name in plain English ("how often").
    field_label: str | None = None
    before: Any = None
    after: Any = None
    #: ``before`` and ``after`` in words (linked ids as the linked items' names).
    before_text: str = ""
    after_text: str = ""

    @property
    def summary(self) -> str:
        """One line: "Section F: Speech and language therapy — how often: 'weekly' → 'twice a week'"."""
        head = f"Section {self.section}"
        if self.kind == "added":
            return f"{head}: added {_quote(self.label or self.after_text)}"
        if self.kind == "removed":
            return f"{head}: removed {_quote(self.label or self.before_text)}"
        where = f"{head}: {self.label} — " if self.label else f"{head}: "
        return f"{where}{self.field_label}: {_words(self.before_text)} → {_words(self.after_text)}"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "summary": self.summary}


def _quote(text: str) -> str:
    if len(text) > _SUMMARY_LIMIT:
        text = text[:_SUMMARY_LIMIT].rsplit(" ", 1)[0] + "…"
    return f"'{text}'"


def _words(text: str) -> str:
    return _quote(text) if text else "nothing"


def diff_content(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[Change]:
    """The changes from ``before`` to ``after`` (plan content), in section order."""
    old, new = with_defaults(before), with_defaults(after)
    changes: list[Change] = []
    for key, label in FIELD_LABELS["A"].items():
        _field(changes, "A", None, None, key, label, old["A"][key], new["A"][key])
    for section in LIST_SECTIONS:
        _lists(changes, section, old, new)
    _placement(changes, old["I"]["placement"], new["I"]["placement"])
    for key, label in FIELD_LABELS["J"].items():
        b, a = old["J"]["personal_budget"].get(key), new["J"]["personal_budget"].get(key)
        _field(changes, "J", None, None, key, label, b, a, text=_budget_text(key))
    _advice(changes, old, new)
    return changes


def _field(changes: list[Change], section: str, item_id: str | None, label: str | None, key: str, field_label: str,
           before: Any, after: Any, *, text: Any = None, after_text: Any = None) -> None:
    """Add a "changed" entry if ``before`` and ``after`` differ. ``text`` renders a value in
    words (``after_text`` the later one, when the two need different renderings)."""
    if _same(before, after):
        return
    render = text or _plain
    changes.append(Change(section=section, kind="changed", item_id=item_id, label=label, field=key,
                          field_label=field_label, before=before, after=after,
                          before_text=render(before), after_text=(after_text or render)(after)))


def _same(a: Any, b: Any) -> bool:
    empty = (None, "", [])
    return (a in empty and b in empty) or a == b


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return " ".join(str(value).split())


def _lists(changes: list[Change], section: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    before = {str(i["id"]): i for i in items(old, section)}
    after = {str(i["id"]): i for i in items(new, section)}
    labels_old, labels_new = _labels(old), _labels(new)
    fields = FIELD_LABELS[_ITEM_KIND[section]]
    for item_id, item in after.items():
        label = item_label(item)
        if item_id not in before:
            changes.append(Change(section=section, kind="added", item_id=item_id, label=label, after=item,
                                  after_text=_plain(item.get("description"))))
            continue
        prior = before[item_id]
        for key, field_label in fields.items():
            if key.endswith("_ids"):
                # Links are named by the linked items, each as its own version calls it.
                _field(changes, section, item_id, label, key, field_label, prior.get(key) or [], item.get(key) or [],
                       text=lambda ids: _names(ids, labels_old), after_text=lambda ids: _names(ids, labels_new))
            else:
                _field(changes, section, item_id, label, key, field_label, prior.get(key), item.get(key),
                       text=_choice_text(key))
    for item_id, item in before.items():
        if item_id not in after:
            changes.append(Change(section=section, kind="removed", item_id=item_id, label=item_label(item), before=item,
                                  before_text=_plain(item.get("description"))))


def _labels(content: dict[str, Any]) -> dict[str, str]:
    return {str(i["id"]): item_label(i) for s in LIST_SECTIONS for i in items(content, s)}


def _names(ids: list[str], labels: Mapping[str, str]) -> str:
    return ", ".join(f"‘{labels.get(i, i)}’" for i in ids)


def _choice_text(key: str) -> Any:
    options = _CHOICES.get(key)
    if options is None:
        return None
    return lambda value: options.get(value, _plain(value)) if value else ""


def _budget_text(key: str) -> Any:
    if key == "amount":
        return lambda value: "" if value is None else f"£{value:,.2f}"
    return None


def _placement(changes: list[Change], before: dict[str, Any], after: dict[str, Any]) -> None:
    keys = ("kind", "urn", "type_description")
    if all(_same(before.get(k), after.get(k)) for k in keys):
        return
    changes.append(Change(section="I", kind="changed", field="placement", field_label="school, college or other institution",
                          before=before, after=after, before_text=placement_text(before),
                          after_text=placement_text(after)))


def _advice(changes: list[Change], old: dict[str, Any], new: dict[str, Any]) -> None:
    before = {str(a.get("advice_id")): a for a in old["K"]["advice"]}
    after = {str(a.get("advice_id")): a for a in new["K"]["advice"]}
    for advice_id, adv in after.items():
        label = f"{ADVICE_KINDS.get(adv.get('advice') or '', 'Advice')} ({advice_id})"
        if advice_id not in before:
            changes.append(Change(section="K", kind="added", item_id=advice_id, label=label, after=adv, after_text=label))
            continue
        for key, field_label in FIELD_LABELS["K"].items():
            text = (lambda v: f"{len(v)} document{'s' if len(v) != 1 else ''}" if v else "") if key == "document_ids" \
                else _choice_text(key)
            _field(changes, "K", advice_id, label, key, field_label, before[advice_id].get(key), adv.get(key), text=text)
    for advice_id, adv in before.items():
        if advice_id not in after:
            label = f"{ADVICE_KINDS.get(adv.get('advice') or '', 'Advice')} ({advice_id})"
            changes.append(Change(section="K", kind="removed", item_id=advice_id, label=label, before=adv,
                                  before_text=label))


def item_kind_key(section: str) -> str:
    """Which field table (``FIELD_LABELS``) an item of ``section`` uses."""
    return _ITEM_KIND[section]
