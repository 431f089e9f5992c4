"""The master table of deadline keys (statutory-rules.md §2, §8.5-§8.7).

One ``Rule`` per key: the citation shown to users, a plain-English label for families,
how the due date is compared, who holds the duty, and which exception codes the law
allows to suspend it. The arithmetic that produces each due date lives in
``engine.py`` beside the same citation; this table is the single place that says what
a key *means*, so the API, the UI and SEN2 reporting all read the same words.

Exceptions (§1.3 item 4) never move a due date. A recorded exception suspends a key
only when its code is listed in ``exception_codes`` for that key and the recorded
period is long enough for the regulation concerned (``min_exception_days``). The
per-key choices, with the regulation that allows them:

* reg 5(4)(a)-(d), reg 10(4)(a)-(d), reg 13(3), reg 27(3): closure of a setting,
  exceptional personal circumstances, absence from the area for >= 4 weeks.
  Failure of professionals to supply advice is *not* an exception (no code for it).
* reg 8(2): the same three plus a missed appointment -- for ``advice_returned`` only.
* DP regs 5, 10(4)(a)-(c), 13(3): closure and personal circumstances only; a detained
  person cannot be "absent from the area".
* reg 44(3) (Tribunal orders): closure, personal circumstances, absence >= 2 weeks.
  (The "representations after the 15-day window" ground has no event code yet.)
* Every other key (reviews, amendments, transfers, mediation, appeals, unopposed
  appeals, re-assessment decision): the regulations list no exception, so none
  suspends it. Reg 45 (unopposed appeals) is not known to carry exceptions; we do not
  invent any.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "BACKWARD_KEYS",
    "DEADLINE_KEYS",
    "EXCEPTION_CODES",
    "KEY_ALIASES",
    "OMITTED_KEYS",
    "RULES",
    "SLA_KEYS",
    "Rule",
]

Comparison = Literal["on_or_before", "before"]
#: Who must act. The non-working-day hint is given to every holder except the family
#: (a family's window is theirs to use in full) and the Tribunal-rolled appeal deadline.
DutyHolder = Literal["la", "health_body", "institution", "advice_giver", "mediation_adviser",
                     "family"]
#: ``duty``: met by a closing event; ``window``: a period the family is entitled to
#: (breached if the council acts inside it); ``reminder``: the opening of a guidance
#: window, never "missed"; ``ongoing``: a standing order, breached only by contrary action.
RuleKind = Literal["duty", "window", "reminder", "ongoing"]

EXCEPTION_CODES = ("setting_closure", "personal_circumstances", "absent_from_area",
                   "missed_appointment")

_REG_10_4 = frozenset({"setting_closure", "personal_circumstances", "absent_from_area"})
_REG_8_2 = _REG_10_4 | {"missed_appointment"}
_DP_10_4_A_C = frozenset({"setting_closure", "personal_circumstances"})
_NONE: frozenset[str] = frozenset()

# "Not less than 4 weeks" (regs 5(4)(a)/(d), 10(4)) and "2 weeks" (reg 44(3)) absences
# and closures, as a number of calendar days the recorded period must cover.
_FOUR_WEEKS = {"setting_closure": 28, "absent_from_area": 28}
_TRIBUNAL_MINIMA = {"setting_closure": 28, "absent_from_area": 14}


@dataclass(frozen=True)
class Rule:
    """What one deadline key means; see the module docstring for the exception policy."""

    #: Stable snake_case key from statutory-rules.md §2.
    key: str
    #: Regulation (and CoP paragraph) shown beside the date.
    citation: str
    #: One plain-English sentence for families.
    label: str
    statutory: bool = True
    comparison: Comparison = "on_or_before"
    duty_holder: DutyHolder = "la"
    kind: RuleKind = "duty"
    #: Exception codes the law allows to suspend this key.
    exception_codes: frozenset[str] = _NONE
    #: Minimum length in calendar days of the recorded exception period, per code.
    min_exception_days: tuple[tuple[str, int], ...] = ()
    #: A caveat shown with every deadline of this key (e.g. an unverified period).
    note: str | None = None

    def minimum_days(self, code: str) -> int:
        """Return how many days an exception with ``code`` must cover to apply (0 = any)."""
        return dict(self.min_exception_days).get(code, 0)


def _rule(key: str, citation: str, label: str, **options: object) -> tuple[str, Rule]:
    return key, Rule(key, citation, label, **options)  # type: ignore[arg-type]


_ASSESSMENT_EXCEPTIONS = {"exception_codes": _REG_10_4,
                          "min_exception_days": tuple(_FOUR_WEEKS.items())}
_DP_EXCEPTIONS = {"exception_codes": _DP_10_4_A_C,
                  "min_exception_days": (("setting_closure", 28),)}
_TRIBUNAL_EXCEPTIONS = {"exception_codes": _REG_10_4,
                        "min_exception_days": tuple(_TRIBUNAL_MINIMA.items())}

RULES: dict[str, Rule] = dict([
    # ---- §2.1 EHC needs assessment and plan
    _rule("decision_to_assess", "SEND Regs 2014 reg 5(1); CoP 9.14",
          "The council must tell you whether it will carry out an EHC needs assessment",
          **_ASSESSMENT_EXCEPTIONS),
    _rule("advice_returned", "SEND Regs 2014 reg 8(1); CoP 9.52",
          "Advice the council asked for must reach the council",
          duty_holder="advice_giver", exception_codes=_REG_8_2,
          min_exception_days=tuple(_FOUR_WEEKS.items())),
    _rule("decision_not_to_issue", "SEND Regs 2014 reg 10(1)",
          "If the council decides not to issue an EHC plan, it must tell you",
          **_ASSESSMENT_EXCEPTIONS),
    _rule("draft_plan_representations", "SEND Regs 2014 reg 13(1)(a); CoP 9.77",
          "Last day to comment on the draft plan, ask for a school or college, "
          "or ask to meet the council",
          duty_holder="family", kind="window"),
    _rule("institution_consultation_response", "CoP 9.79-9.80 (guidance)",
          "The school or college the council consulted should reply",
          statutory=False, duty_holder="institution",
          note="Guidance, not law: a warning, never a breach."),
    _rule("draft_plan_latest", "Derived from SEND Regs 2014 regs 13(1)-(2)",
          "Latest day for the council to send the draft plan and still leave you "
          "a full 15 days before the 20-week deadline",
          statutory=False, **_ASSESSMENT_EXCEPTIONS),
    _rule("final_plan_issued", "SEND Regs 2014 reg 13(2); CoP 9.40",
          "The council must issue the final EHC plan",
          **_ASSESSMENT_EXCEPTIONS),
    # ---- §2.2 Reviews and amendments
    _rule("annual_review", "CFA 2014 s44(1); SEND Regs 2014 regs 18-21; CoP 9.166, 9.176",
          "The EHC plan must be reviewed and the council must send its decision"),
    _rule("under5_review_earliest", "CoP 9.178 (guidance)",
          "From this date the council should consider reviewing the plan of a child under five",
          statutory=False, kind="reminder"),
    _rule("under5_review", "CoP 9.178 (guidance)",
          "The council should have reviewed the plan of a child under five",
          statutory=False),
    _rule("review_meeting_notice", "SEND Regs 2014 reg 20(3), reg 21(3)",
          "Invitations to the review meeting must be sent at least two weeks before it"),
    _rule("review_papers_circulated", "SEND Regs 2014 reg 20(4), reg 21(4)",
          "Advice and information for the review meeting must be sent to everyone invited"),
    _rule("review_report_circulation", "SEND Regs 2014 reg 20(7)-(8), reg 21(7)",
          "The review report must be sent to the council and everyone invited"),
    _rule("post_review_decision", "SEND Regs 2014 reg 20(10)",
          "The council must tell you whether it will keep, change or end the plan"),
    _rule("amendment_notice_representations", "SEND Regs 2014 reg 22(2)(c)",
          "Last day to comment on the proposed changes to the plan or ask for a school "
          "or college",
          duty_holder="family", kind="window"),
    _rule("amended_plan_issued", "SEND Regs 2014 reg 22(3)",
          "The council must issue the amended EHC plan"),
    _rule("decision_not_to_amend", "SEND Regs 2014 reg 22(4)",
          "If the council decides not to amend the plan, it must tell you and give reasons"),
    _rule("amended_plan_after_review_latest",
          "R (L and others) v Devon CC [2022] EWHC 493 (Admin); SEND Regs 2014 regs 20(10), 22",
          "The amended plan should be issued no later than 12 weeks after the review meeting",
          statutory=False),
    _rule("phase_transfer_school", "SEND Regs 2014 reg 18(1)(b); CoP 9.179",
          "The plan must be reviewed and amended to name the next school before this date",
          comparison="before"),
    _rule("phase_transfer_post16", "SEND Regs 2014 reg 18(1)(a)",
          "The plan must be reviewed and amended to name the post-16 placement before this date",
          comparison="before"),
    _rule("post16_institution_transfer", "SEND Regs 2014 reg 18(2)",
          "The plan must be reviewed and amended at least five months before the move "
          "to a new post-16 institution",
          comparison="before"),
    # ---- §2.3 Re-assessment
    _rule("reassessment_decision", "SEND Regs 2014 reg 25(1)",
          "The council must tell you whether it will carry out a re-assessment"),
    _rule("reassessment_final_plan", "SEND Regs 2014 reg 27(2)",
          "The council must issue the EHC plan after the re-assessment",
          **_ASSESSMENT_EXCEPTIONS),
    # ---- §2.4 Transfer between LAs and change of health body
    _rule("transfer_of_plan_between_las", "SEND Regs 2014 reg 15(2); CoP 9.157-9.161",
          "Your old council must transfer the EHC plan to your new council"),
    _rule("new_la_notification", "SEND Regs 2014 reg 15(4)",
          "Your new council must tell you the plan has transferred, whether it will assess, "
          "and when it will review the plan"),
    _rule("new_la_review", "SEND Regs 2014 reg 15(5)",
          "Your new council must review the EHC plan"),
    _rule("health_body_notification_on_transfer", "SEND Regs 2014 reg 16",
          "Your old health body must tell the new one about the move",
          duty_holder="health_body"),
    # ---- §2.6 Disagreement resolution and the Tribunal
    _rule("mediation_adviser_contact", "SEND Regs 2014 reg 33",
          "Last day to contact the mediation adviser if you may want to appeal",
          duty_holder="family"),
    _rule("mediation_certificate", "SEND Regs 2014 reg 34",
          "The mediation adviser must give you a mediation certificate",
          duty_holder="mediation_adviser"),
    _rule("mediation_arranged", "SEND Regs 2014 regs 35-36",
          "Mediation must take place"),
    _rule("mediation_health_notification", "SEND Regs 2014 reg 36",
          "The council must tell the health body which health issues go to mediation"),
    _rule("mediation_certificate_not_arranged", "SEND Regs 2014 reg 37",
          "The mediation adviser must give you a certificate because mediation could not "
          "be arranged in time",
          duty_holder="mediation_adviser"),
    _rule("mediation_certificate_after_mediation", "SEND Regs 2014 reg 39",
          "The mediation adviser must give you a certificate after the mediation",
          duty_holder="mediation_adviser"),
    _rule("mediation_agreement_action", "SEND Regs 2014 reg 42(3)",
          "The council or health body must do what was agreed in mediation"),
    _rule("mediation_agreement_notify_la", "SEND Regs 2014 reg 42(4)",
          "The health body must tell the council about the mediation agreement",
          duty_holder="health_body"),
    _rule("appeal_deadline", "HESC Rules 2008 r.20(1)(c), r.12",
          "Last day to register an appeal with the SEND Tribunal",
          duty_holder="family",
          note="The Tribunal can allow a late appeal, for example if the decision letter "
               "left out required information."),
    _rule("appeal_la_response", "HESC Rules 2008 r.12 (Tribunal working days); "
          "Tribunal registration letter",
          "The council must send its response to the Tribunal",
          note="Default of 30 Tribunal working days; the date in the Tribunal's letter wins."),
    _rule("tribunal_order_cease", "SEND Regs 2014 reg 44(2)",
          "The council may now stop maintaining the plan, as the Tribunal dismissed the appeal"),
    _rule("tribunal_order_assess_notify", "SEND Regs 2014 reg 44(2)",
          "The council must tell you it will carry out the assessment the Tribunal ordered",
          **_TRIBUNAL_EXCEPTIONS),
    _rule("tribunal_order_assess_no_plan", "SEND Regs 2014 reg 44(2)",
          "If the council decides not to issue a plan after the ordered assessment, "
          "it must tell you",
          **_TRIBUNAL_EXCEPTIONS),
    _rule("tribunal_order_assess_final_plan", "SEND Regs 2014 reg 44(2)",
          "The council must issue the final plan after the ordered assessment",
          **_TRIBUNAL_EXCEPTIONS),
    _rule("tribunal_order_issue_draft", "SEND Regs 2014 reg 44(2)",
          "The council must send you the draft plan the Tribunal ordered",
          **_TRIBUNAL_EXCEPTIONS),
    _rule("tribunal_order_issue_final", "SEND Regs 2014 reg 44(2)",
          "The council must issue the final plan the Tribunal ordered",
          **_TRIBUNAL_EXCEPTIONS),
    _rule("tribunal_order_amend", "SEND Regs 2014 reg 44(2)",
          "The council must issue the plan amended as the Tribunal ordered",
          **_TRIBUNAL_EXCEPTIONS),
    _rule("tribunal_order_name_school", "SEND Regs 2014 reg 44(2)",
          "The council must issue the plan naming the school or college the Tribunal ordered",
          **_TRIBUNAL_EXCEPTIONS),
    _rule("tribunal_order_continue_maintain", "SEND Regs 2014 reg 44(2)",
          "The council must keep maintaining the plan, as the Tribunal ordered",
          kind="ongoing"),
    _rule("unopposed_appeal_notify", "SEND Regs 2014 reg 45 (as substituted by SI 2015/359)",
          "The council did not oppose the appeal and must tell you it will assess"),
    _rule("unopposed_appeal_no_plan", "SEND Regs 2014 reg 45 (as substituted by SI 2015/359)",
          "If the council decides not to issue a plan after the assessment, it must tell you"),
    _rule("unopposed_appeal_final_plan", "SEND Regs 2014 reg 45 (as substituted by SI 2015/359)",
          "The council must issue the final plan after the assessment"),
    _rule("unopposed_appeal_amended_plan", "SEND Regs 2014 reg 45(4)",
          "The council did not oppose the appeal and must issue the amended plan"),
    _rule("unopposed_appeal_name_school", "SEND Regs 2014 reg 45 (as substituted by SI 2015/359)",
          "The council did not oppose the appeal and must name the school or college"),
    _rule("unopposed_appeal_issue_draft", "SEND Regs 2014 reg 45 (as substituted by SI 2015/359)",
          "The council did not oppose the appeal and must send you a draft plan"),
    _rule("unopposed_appeal_issue_final", "SEND Regs 2014 reg 45 (as substituted by SI 2015/359)",
          "The council did not oppose the appeal and must issue the final plan"),
    # ---- §2.7 Detained persons (SEND (Detained Persons) Regs 2015)
    _rule("dp_decision_to_assess", "SEND (Detained Persons) Regs 2015 regs 4(1), 5",
          "The council must tell you whether it will carry out an EHC needs assessment "
          "while you are in youth custody",
          **_DP_EXCEPTIONS),
    _rule("dp_decision_not_to_issue", "SEND (Detained Persons) Regs 2015 reg 10",
          "If the council decides not to issue an EHC plan, it must tell you",
          statutory=False,
          note="The 16-week period is assumed to mirror SEND Regs 2014 reg 10 and is not "
               "verified; shown as a warning until it is.",
          **_DP_EXCEPTIONS),
    _rule("dp_draft_representations", "SEND (Detained Persons) Regs 2015 reg 13(1)",
          "Last day to comment on the draft plan or ask for a school or college",
          duty_holder="family", kind="window"),
    _rule("dp_final_plan_issued", "SEND (Detained Persons) Regs 2015 reg 13(2)",
          "The council must issue the final EHC plan",
          **_DP_EXCEPTIONS),
])

#: Other spellings accepted in ``exception_recorded.affects`` (statutory-rules.md §2.4).
KEY_ALIASES: dict[str, str] = {"new_la_reassessment_decision": "new_la_notification"}

#: Council SLA keys (§2.8). Never statutory; computed only when a tenant configures them.
SLA_KEYS = frozenset({"request_acknowledged", "panel_date", "draft_plan_target",
                      "ar_reminder_term_before",
                      # Review on release from youth custody (CoP ch.10; statutory-rules §9:
                      # the timing is UNVERIFIED, so it is each council's own target).
                      "release_review"})

#: Keys deliberately counted backwards from a later date (a meeting or a transfer), so
#: their due date precedes the date they derive from.
BACKWARD_KEYS = frozenset({"review_meeting_notice", "review_papers_circulated",
                           "phase_transfer_school", "phase_transfer_post16",
                           "post16_institution_transfer"})

#: §2 keys the engine does not compute, with the reason (reported to the API docs).
OMITTED_KEYS: dict[str, str] = {
    "reassessment_decision_not_to_amend": "UNVERIFIED period; not enforced until verified (§2.3)",
    "new_la_assessment_completion": "UNVERIFIED period; not enforced until verified (§2.4)",
    "tribunal_recommendation_response": "UNVERIFIED period; not enforced until verified (§2.6)",
    "year9_pfa_review": "a checklist item for every review from Year 9, not a date (§2.2)",
    "independent_school_fees_on_transfer": "a rule about fees, not a date (§2.4)",
    "ceasing_consultation": "no statutory period (§2.5)",
    "ceasing_notice": "no statutory period (§2.5)",
    "cease_effective_earliest": "a 'not before' guard, not a deadline; the workflow must "
                                "not cease before appeal_deadline has passed (§2.5)",
}

#: Every key the engine can emit, plus aliases and configurable SLA keys.
DEADLINE_KEYS = frozenset(RULES) | frozenset(KEY_ALIASES) | SLA_KEYS
