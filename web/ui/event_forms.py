"""Plain English for the EHC case pages and the deadline calculator, and the event forms.

* ``EVENT_TEXT``: for every event type of ``core.timescales.events.EVENT_TYPES``, what a
  caseworker calls it, where it sits in the journey, and how to ask for its date.
* ``ATTRIBUTE_TEXT`` (plus per-event overrides): the question, hint and choices for every
  attribute, so the forms are driven by the engine's attribute specs and the timeline can
  say what was recorded in words.
* ``DEADLINE_TEXT``: what each deadline asks of the council, in a caseworker's words (the
  engine's own labels in ``core.timescales.rules`` speak to families; the calculator uses
  those).
* ``describe_deadline``: status tag, dates, hints and the statutory-or-not line of one
  computed deadline, as the case page, the cohort view and the calculator show it.
* ``event_fields`` / ``parse_event_form`` / ``form_values_of``: the form for one event type,
  reading it back into an api-v1 event, and pre-filling it from an event (corrections).

Tests check that every event type, attribute and deadline key has its words here, so a new
event type in the engine cannot reach a caseworker as a raw identifier.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from werkzeug.datastructures import MultiDict

from core.timescales import EVENT_TYPES, RULES, Deadline
from core.timescales.calendar import is_bank_holiday
from core.timescales.rules import SLA_KEYS
from web.ui.forms import FormErrors, date_parts, parse_date, text

# ---------------------------------------------------------------------------------------
# Dates in words


def long_date(day: dt.date) -> str:
    """``16 February 2026``."""
    return f"{day.day} {day.strftime('%B %Y')}"


def weekday_date(day: dt.date) -> str:
    """``Monday 16 February 2026`` (GOV.UK style: no comma, no ordinal)."""
    return f"{day.strftime('%A')} {long_date(day)}"


_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def pretty_dates(message: str) -> str:
    """Replace ISO dates in an engine or workflow message with ``16 April 2026``."""

    def repl(m: re.Match[str]) -> str:
        try:
            return long_date(dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
        except ValueError:
            return m.group(0)

    return _ISO.sub(repl, message)


# ---------------------------------------------------------------------------------------
# Stages (core.cases.workflow.STAGES)

STAGE_TEXT: dict[str, str] = {
    "request": "Request received",
    "assessment": "Assessing needs",
    "not_assessing": "Decided not to assess",
    "drafting": "Writing the draft plan",
    "not_issuing": "Decided not to issue a plan",
    "draft": "Draft plan with the family",
    "plan": "Plan in place",
    "review": "Annual review under way",
    "amendment": "Amending the plan",
    "reassessment": "Re-assessment requested",
    "ceased": "Plan ended",
    "transferred": "Moved to another council",
    "empty": "No events yet",
}

#: Stages in which a case is no longer open: a child may then have a new case.
CLOSED_STAGES = frozenset({"ceased", "transferred"})


# ---------------------------------------------------------------------------------------
# Events


@dataclass(frozen=True)
class AttrText:
    """How to ask for one attribute and how to say what was recorded."""

    #: The question (radios and dates: the legend; text: the label).
    label: str
    #: What to call it on the timeline ("Outcome: ...").
    short: str
    hint: str | None = None
    #: Enum value -> words (the order is the order offered).
    choices: Mapping[str, str] = field(default_factory=dict)
    #: Error when a required value is missing ("Select what the council decided").
    missing: str | None = None
    #: Enum values never offered on a form (accepted synonyms), still shown in words.
    not_offered: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventText:
    #: What happened, as a timeline heading and page title ("Decision whether to assess").
    title: str
    #: The option on the "What happened?" page.
    choice: str
    #: Hint under that option: what it starts or stops.
    hint: str
    #: Which part of the journey (the groups on the "What happened?" page).
    group: str
    #: The event date as a question (the date input's legend).
    date_question: str
    #: The same as a noun phrase, for errors ("Enter the date of the decision").
    date_noun: str
    date_hint: str | None = None
    #: Attribute wording that differs from ``ATTRIBUTE_TEXT`` for this type.
    fields: Mapping[str, AttrText] = field(default_factory=dict)


GROUPS = (
    "Request and assessment",
    "Advice and information",
    "Draft and final plan",
    "Annual reviews",
    "Changing the plan and moving on",
    "Re-assessment",
    "Moving to another council",
    "Decisions, mediation and appeals",
    "Exceptions and ending the plan",
)

_DECISIONS = {
    "refuse_assess": "Not to carry out an EHC needs assessment",
    "not_issue": "Not to issue an EHC plan",
    "plan_content": "What the issued plan says (including the school or college named)",
    "refuse_reassess": "Not to carry out a re-assessment",
    "refuse_amend": "Not to amend the plan after a review",
    "cease": "To stop maintaining the plan",
}

ATTRIBUTE_TEXT: dict[str, AttrText] = {
    "requester": AttrText(
        "Who asked?", "Asked by",
        choices={"parent": "A parent or carer", "young_person": "The young person",
                 "setting": "Their school, college or early years setting",
                 "youth_custody": "Youth custody (the young person is detained)", "other": "Someone else"},
        missing="Select who asked"),
    "brought_to_attention": AttrText(
        "How did the council find out?", "How the council found out",
        hint="Children and Families Act 2014: section 36 (a request) or section 24 (brought to the council's attention). "
             "The clocks are the same.",
        choices={"no": "A request for an EHC needs assessment (section 36)",
                 "yes": "The child or young person was brought to the council's attention (section 24)"},
        missing="Select how the council found out"),
    "outcome": AttrText("What was decided?", "Outcome", missing="Select what was decided"),
    "advice": AttrText(
        "What kind of advice?", "Kind of advice",
        hint="SEND Regulations 2014, regulation 6",
        choices={"educational": "Educational (from the school, college or setting)", "medical": "Medical (health)",
                 "psychological": "Psychological (educational psychologist)", "social_care": "Social care",
                 "other": "Other advice"},
        missing="Select the kind of advice"),
    "advice_id": AttrText("Reference", "Reference", hint="A short reference that tells this request apart, like ep-1",
                          missing="Enter a reference"),
    "sent_at": AttrText("Date it was sent", "Sent on"),
    "served_at": AttrText(
        "When was it served, if not the day it was sent? (optional)", "Served on",
        hint="Leave this blank for e-mail or hand delivery. The family's 15 days begin on the day it was served."),
    "urn": AttrText("School or college URN", "School or college (URN)",
                    hint="The 6-digit unique reference number from Get Information about Schools, like 118945",
                    missing="Enter the URN of the school or college"),
    "transfer_on": AttrText("When do they move?", "Moving on", hint="Usually the first day of the autumn term",
                            missing="Enter the date they move"),
    "kind": AttrText(
        "What kind of move is it?", "Kind of move",
        choices={"school": "To the next school phase (for example, primary to secondary)",
                 "post16": "From secondary school to a post-16 institution",
                 "post16_institution": "From one post-16 institution to another"},
        missing="Select what kind of move it is"),
    "move_on": AttrText("When do they move (or when did they move)?", "Moving on",
                        missing="Enter the date of the move"),
    "to_la_code": AttrText("New council's LA code (optional)", "New council (LA code)", hint="3 digits, like 886"),
    # Youth custody (issue 6): the relevant youth accommodation (CFA 2014 s70(5)).
    "establishment": AttrText("Youth custody establishment (optional)", "Establishment"),
    "began_on": AttrText("When did the detention begin, if before the case opened? (optional)", "Detained since"),
    "from_la_code": AttrText("Old council's LA code (optional)", "Old council (LA code)", hint="3 digits, like 886"),
    "plan_made_on": AttrText("When was the plan first made? (optional)", "Plan first made"),
    "last_reviewed_on": AttrText("When was it last reviewed? (optional)", "Last reviewed",
                                 hint="Leave this blank if it has not been reviewed"),
    "decision": AttrText("Which decision was it about?", "Decision", choices=_DECISIONS,
                         missing="Select which decision it was about"),
    "includes_health": AttrText("Does the mediation include health provision?", "Includes health provision",
                                choices={"yes": "Yes", "no": "No"}),
    "response_due": AttrText("Date the Tribunal gave for the council's response (optional)", "Response due",
                             hint="From the Tribunal's registration letter. Leave it blank to use the usual 30 Tribunal working days."),
    "lodged_on": AttrText("When did the family send the appeal, if earlier? (optional)", "Appeal sent",
                          hint="The family is in time if they sent it in time, even if the Tribunal registered it later"),
    "late_permission_granted": AttrText("Did the Tribunal allow a late appeal?", "Late appeal allowed",
                                        choices={"yes": "Yes", "no": "No"}),
    "order": AttrText(
        "What did the Tribunal order?", "Order",
        choices={"assess": "Carry out an EHC needs assessment", "issue_plan": "Issue an EHC plan",
                 "amend": "Amend the plan (for example sections B and F)",
                 "name_school": "Change only the school or college named (section I)",
                 "continue": "Continue to maintain the plan", "cease": "The plan may stop (appeal dismissed)"},
        missing="Select what the Tribunal ordered"),
    "code": AttrText(
        "Why does the exception apply?", "Reason",
        hint="Only these reasons are allowed by the regulations. Advice that arrives late is not an exception.",
        choices={"setting_closure": "The school, college or setting was closed for at least 4 weeks",
                 "personal_circumstances": "Exceptional personal circumstances of the child, young person or family",
                 "absent_from_area": "The child, young person or family was away from the area for at least 4 weeks",
                 "missed_appointment": "An appointment for an examination or test was missed (advice only)"},
        missing="Select why the exception applies"),
    "from": AttrText("When did it start?", "From", missing="Enter the date it started"),
    "to": AttrText("When did it end? (optional)", "Until", hint="Leave this blank if it is still going on"),
    "affects": AttrText("Which deadlines does it affect?", "Affects", hint="Select all that apply",
                        missing="Select the deadlines the exception affects"),
    "meeting_on": AttrText("When is the meeting?", "Meeting on", missing="Enter the date of the meeting"),
    "appealable": AttrText("Could the matter agreed have been appealed to the Tribunal?", "Appealable",
                           choices={"yes": "Yes", "no": "No"}),
    "la_party": AttrText("Was the council a party to the agreement?", "Council a party",
                         hint="If not, the health body must tell the council within a week",
                         choices={"yes": "Yes", "no": "No"}),
    "agreed_due": AttrText("Date agreed in writing for acting on it (optional)", "Agreed date",
                           hint="Only if the parties agreed a different timescale in writing"),
    "requires": AttrText(
        "If it could have been appealed, what does the agreement require? (optional)", "Requires",
        hint="Regulation 42(2): it must be done within the time limit for the matching Tribunal order",
        choices={"assess": "Carry out an EHC needs assessment", "issue_plan": "Issue an EHC plan",
                 "amend": "Amend the plan (for example sections B and F)",
                 "name_school": "Change only the school or college named (section I)",
                 "continue": "Continue to maintain the plan", "cease": "The plan may stop"}),
}

_YES_NO = {"yes": "Yes", "no": "No"}


def _event(title: str, choice: str, hint: str, group: str, question: str, noun: str,
           date_hint: str | None = None, **fields: AttrText) -> EventText:
    return EventText(title, choice, hint, group, question, noun, date_hint, fields)


_G = GROUPS
EVENT_TEXT: dict[str, EventText] = {
    "request_received": _event(
        "Request for an EHC needs assessment received", "Request for an EHC needs assessment received",
        "Starts the 6, 16 and 20-week clocks", _G[0], "When did the council receive the request?",
        "Date the council received the request", "The day it arrived, not the day it was logged. For example, 5 1 2026"),
    "decision_to_assess_made": _event(
        "Decision whether to assess", "Decision whether to carry out an EHC needs assessment",
        "Stops the 6-week clock (regulation 5)", _G[0], "When was the decision sent to the family?",
        "Date of the decision",
        outcome=AttrText("What did the council decide?", "Decision",
                         choices={"assess": "To carry out an EHC needs assessment",
                                  "refuse": "Not to carry out an assessment"},
                         missing="Select what the council decided")),
    "decision_to_issue_made": _event(
        "Decision whether to issue a plan", "Decision whether to issue an EHC plan",
        "Stops the 16-week clock (regulation 10)", _G[0], "When was the decision made?", "Date of the decision",
        outcome=AttrText("What did the council decide?", "Decision",
                         choices={"issue": "To issue an EHC plan", "not_issue": "Not to issue an EHC plan"},
                         missing="Select what the council decided")),
    "advice_requested": _event(
        "Advice requested", "Advice requested", "Starts the adviser's 6-week clock (regulation 8)", _G[1],
        "When was the advice requested?", "Date the advice was requested"),
    "advice_received": _event(
        "Advice received", "Advice received", "Stops the adviser's 6-week clock. You can attach the advice.", _G[1],
        "When did the advice arrive?", "Date the advice arrived",
        advice_id=AttrText("Which request does it answer?", "Reference",
                           missing="Select which request the advice answers")),
    "draft_plan_served": _event(
        "Draft plan sent to the family", "Draft plan sent to the family",
        "Starts the family's 15 days to comment (regulation 13)", _G[2], "When was the draft plan sent?",
        "Date the draft plan was sent"),
    "institution_consulted": _event(
        "School or college consulted", "School or college consulted on the draft plan",
        "The school or college should reply within 15 days (guidance)", _G[2], "When was it consulted?",
        "Date it was consulted"),
    "institution_responded": _event(
        "School or college replied", "School or college replied to the consultation", "Stops the 15-day guidance clock",
        _G[2], "When did it reply?", "Date of the reply",
        urn=AttrText("Which school or college replied?", "School or college (URN)",
                     missing="Select which school or college replied")),
    "final_plan_issued": _event(
        "Final EHC plan issued", "Final EHC plan issued", "Stops the 20-week clock and starts the annual review",
        _G[2], "When was the final plan issued?", "Date the final plan was issued"),
    "review_meeting_scheduled": _event(
        "Review meeting arranged", "Review meeting arranged",
        "Shows when invitations and papers must go out (2 weeks before)", _G[3], "When was the meeting arranged?",
        "Date the meeting was arranged"),
    "review_invitations_sent": _event(
        "Review meeting invitations sent", "Invitations to the review meeting sent", "Regulation 20(3)", _G[3],
        "When were the invitations sent?", "Date the invitations were sent"),
    "review_papers_sent": _event(
        "Review papers sent", "Advice and information for the review meeting sent", "Regulation 20(4)", _G[3],
        "When were the papers sent?", "Date the papers were sent"),
    "review_meeting_held": _event(
        "Review meeting held", "Review meeting held", "Starts the 2-week report and 4-week decision clocks",
        _G[3], "When was the meeting held?", "Date of the meeting"),
    "review_report_sent": _event(
        "Review report sent", "Review report sent", "Regulation 20(7)", _G[3], "When was the report sent?",
        "Date the report was sent"),
    "review_decision_sent": _event(
        "Review decision sent", "Decision after the review sent to the family",
        "Concludes the review and restarts the 12-month clock (regulation 20(10))", _G[3],
        "When was the decision sent?", "Date the decision was sent",
        outcome=AttrText("What did the council decide?", "Decision",
                         choices={"maintain": "Keep the plan as it is", "amend": "Amend the plan",
                                  "cease": "Stop maintaining the plan"},
                         missing="Select what the council decided")),
    "amendment_notice_sent": _event(
        "Amendment notice sent", "Proposed amendments sent to the family",
        "Starts the family's 15 days and the 8-week clock (regulation 22)", _G[4], "When was the notice sent?",
        "Date the notice was sent"),
    "amended_plan_issued": _event(
        "Amended plan issued", "Amended plan issued", "Stops the 8-week clock", _G[4],
        "When was the amended plan issued?", "Date the amended plan was issued"),
    "phase_transfer_planned": _event(
        "Phase transfer planned", "Move to a new school or college phase planned",
        "The plan must name the next setting before 15 February or 31 March (regulation 18)", _G[4],
        "When was the move planned?", "Date the move was planned", "The date you are recording it is fine"),
    "reassessment_request_received": _event(
        "Request for a re-assessment received", "Request for a re-assessment received",
        "Starts the 15-day decision clock (regulation 25)", _G[5], "When was the request received?",
        "Date the request was received"),
    "reassessment_decision_notified": _event(
        "Decision whether to re-assess", "Decision whether to re-assess sent",
        "A re-assessment starts the 14-week clock (regulation 27)", _G[5], "When was the decision sent?",
        "Date the decision was sent",
        outcome=AttrText("What did the council decide?", "Decision",
                         choices={"reassess": "To carry out a re-assessment", "refuse": "Not to re-assess",
                                  "assess": "To carry out a re-assessment"},
                         not_offered=("assess",), missing="Select what the council decided")),
    "move_notified": _event(
        "Told of a move to another council", "Told the family is moving to another council",
        "The plan must transfer (regulation 15)", _G[6], "When did the council find out?",
        "Date the council found out"),
    "plan_transferred": _event(
        "Plan transferred between councils", "Plan transferred between councils",
        "The new council must write within 6 weeks and review the plan", _G[6], "When did the plan transfer?",
        "Date the plan transferred"),
    "health_body_aware_of_move": _event(
        "Health body told of a move", "Health body told of a move", "Regulation 16", _G[6],
        "When did the old health body find out?", "Date the health body found out"),
    "new_la_notification_sent": _event(
        "New council wrote to the family", "New council wrote to the family about the transferred plan",
        "Regulation 15(4)", _G[6], "When was the letter sent?", "Date the letter was sent"),
    "health_body_notified": _event(
        "New health body told", "Old health body told the new one", "Regulation 16", _G[6],
        "When was the new health body told?", "Date the new health body was told"),
    "decision_letter_sent": _event(
        "Decision letter with appeal rights sent", "Decision letter with appeal rights sent",
        "Starts the family's 2 months to contact a mediation adviser or appeal", _G[7], "When was the letter sent?",
        "Date the letter was sent"),
    "mediation_declined": _event(
        "Family told the adviser they do not want mediation", "Family does not want mediation",
        "The adviser must issue a certificate within 3 working days", _G[7],
        "When did the family tell the mediation adviser?", "Date the family told the adviser"),
    "mediation_requested": _event(
        "Family asked for mediation", "Family asked for mediation", "Mediation must happen within 30 days", _G[7],
        "When was the council told?", "Date the council was told"),
    "mediation_health_notified": _event(
        "Health body told about mediation", "Health body told which health issues go to mediation",
        "Regulation 36", _G[7], "When was the health body told?", "Date the health body was told"),
    "mediation_not_arranged_notified": _event(
        "Told mediation could not be arranged", "Mediation could not be arranged in time", "Regulation 37", _G[7],
        "When was the family told?", "Date the family was told"),
    "mediation_concluded": _event(
        "Mediation finished", "Mediation finished", "The adviser must issue a certificate within 3 working days",
        _G[7], "When did mediation finish?", "Date mediation finished"),
    "mediation_certificate_issued": _event(
        "Mediation certificate issued", "Mediation certificate issued",
        "The family can appeal for at least a month after it", _G[7], "When was the certificate issued?",
        "Date the certificate was issued"),
    "mediation_agreement_made": _event(
        "Mediation agreement made", "Agreement reached in mediation", "Regulation 42", _G[7],
        "When was the agreement made?", "Date of the agreement"),
    "mediation_agreement_actioned": _event(
        "Mediation agreement carried out", "What was agreed in mediation has been done", "Regulation 42(3)", _G[7],
        "When was it done?", "Date it was done"),
    "mediation_agreement_la_notified": _event(
        "Council told of the mediation agreement", "Health body told the council about the mediation agreement",
        "Regulation 42(4)", _G[7], "When was the council told?", "Date the council was told"),
    "appeal_registered": _event(
        "Appeal registered by the Tribunal", "Appeal registered by the Tribunal",
        "Starts the council's response deadline", _G[7], "When did the Tribunal register the appeal?",
        "Date the appeal was registered"),
    "appeal_response_submitted": _event(
        "Council's response sent to the Tribunal", "Council's response sent to the Tribunal",
        "Stops the response deadline", _G[7], "When was the response sent?", "Date the response was sent"),
    "appeal_unopposed": _event(
        "Council told the Tribunal it will not oppose the appeal", "Council will not oppose the appeal",
        "Starts the regulation 45 clocks", _G[7], "When was the Tribunal told?", "Date the Tribunal was told",
        decision=AttrText("Which decision was appealed?", "Decision appealed",
                          choices={**_DECISIONS, "name_school": "Only the school or college named"},
                          missing="Select which decision was appealed")),
    "appeal_decided": _event(
        "Appeal decided", "Appeal decided", "Record any order the Tribunal made as well", _G[7],
        "When was the appeal decided?", "Date of the decision",
        outcome=AttrText("What did the Tribunal decide? (optional)", "Outcome",
                         hint="In a few words, like 'appeal allowed in part'")),
    "tribunal_order_made": _event(
        "Tribunal order made", "Tribunal order made", "Starts the regulation 44 clocks", _G[7],
        "When was the order made?", "Date of the order"),
    "exception_recorded": _event(
        "Exception recorded", "An exception to the timescales applies",
        "Suspends the deadlines it affects; the duty becomes 'as soon as practicable'", _G[8],
        "When are you recording it?", "Date you are recording it"),
    "plan_ceased": _event(
        "Plan ended", "The plan has stopped", "Only after the appeal window, or any appeal, is over", _G[8],
        "When did the plan stop?", "Date the plan stopped"),
    # Recorded by the transfers service (issue 6), not chosen on the "What happened?" page.
    "plan_transferred_out": _event(
        "Plan transferred to another council", "Plan transferred to another council",
        "The case becomes read-only here (regulation 15(3))", _G[6], "When did the plan transfer?",
        "Date the plan transferred"),
    "transfer_cancelled": _event(
        "Transfer to another council called off", "The move will not happen",
        "Stops the transfer clocks", _G[6], "When was the transfer called off?", "Date it was called off"),
    # Recorded from the child's youth custody record (core/circumstances, issue 6).
    "detention_started": _event(
        "Detained in youth custody", "Detained in youth custody",
        "The council keeps the plan during detention (CFA 2014 s74); the annual review clock keeps running",
        _G[8], "When did the detention begin?", "Date the detention began"),
    "released_from_detention": _event(
        "Released from youth custody", "Released from youth custody",
        "The council maintains the plan again; starts its own target for reviewing it", _G[8],
        "When was the young person released?", "Date of release"),
}

#: Event types only the transfers service records (core/transfers): not offered on the forms.
SERVICE_ONLY_EVENTS = frozenset({"plan_transferred_out", "transfer_cancelled",
                                 # Recorded from the child's youth custody record (issue 6).
                                 "detention_started", "released_from_detention"})

#: Attributes never asked on a form, and why.
NOT_ASKED = {
    # The event's own date is the day it was sent; asking again invites two dates that disagree.
    "sent_at": "the event date is the day it was sent",
}


def attr_text(event_type: str, name: str) -> AttrText:
    """The wording of attribute ``name`` of ``event_type`` (the event's override, else the default)."""
    own = EVENT_TEXT[event_type].fields.get(name)
    return own or ATTRIBUTE_TEXT[name]


def event_title(event_type: str) -> str:
    found = EVENT_TEXT.get(event_type)
    return found.title if found else event_type.replace("_", " ").capitalize()


# ---------------------------------------------------------------------------------------
# Deadlines

#: What each deadline asks, in a caseworker's words. Families' words are the engine's
#: ``Rule.label`` (the calculator shows those).
DEADLINE_TEXT: dict[str, str] = {
    "decision_to_assess": "Decide whether to carry out an EHC needs assessment, and tell the family",
    "advice_returned": "Advice due back from the adviser",
    "decision_not_to_issue": "If not issuing a plan, tell the family",
    "draft_plan_representations": "Family's last day to comment on the draft plan",
    "institution_consultation_response": "School or college should reply to the consultation",
    "draft_plan_latest": "Latest day to send the draft plan and still leave the family 15 days",
    "final_plan_issued": "Issue the final EHC plan",
    "annual_review": "Complete the annual review (send the decision)",
    "under5_review_earliest": "From this date, consider reviewing the plan (child under 5)",
    "under5_review": "Review the plan of a child under 5",
    "review_meeting_notice": "Send the invitations to the review meeting",
    "review_papers_circulated": "Send the advice and information for the review meeting",
    "review_report_circulation": "Send the review report",
    "post_review_decision": "Tell the family whether the plan will be kept, amended or ended",
    "amendment_notice_representations": "Family's last day to comment on the proposed amendments",
    "amended_plan_issued": "Issue the amended plan",
    "decision_not_to_amend": "If not amending the plan, tell the family with reasons",
    "amended_plan_after_review_latest": "Issue the amended plan, at the latest 12 weeks after the review meeting",
    "phase_transfer_school": "Review and amend the plan to name the next school",
    "phase_transfer_post16": "Review and amend the plan to name the post-16 placement",
    "post16_institution_transfer": "Review and amend the plan before the move to a new post-16 institution",
    "reassessment_decision": "Decide whether to re-assess, and tell the family",
    "reassessment_final_plan": "Issue the plan after the re-assessment",
    "transfer_of_plan_between_las": "Transfer the plan to the new council",
    "new_la_notification": "New council: tell the family the plan has transferred",
    "new_la_review": "New council: review the plan",
    "health_body_notification_on_transfer": "Old health body: tell the new one about the move",
    "mediation_adviser_contact": "Family's last day to contact a mediation adviser",
    "mediation_certificate": "Mediation adviser to issue the certificate",
    "mediation_arranged": "Hold the mediation",
    "mediation_health_notification": "Tell the health body which health issues go to mediation",
    "mediation_certificate_not_arranged": "Mediation adviser to issue a certificate (mediation not arranged in time)",
    "mediation_certificate_after_mediation": "Mediation adviser to issue a certificate after mediation",
    "mediation_agreement_action": "Do what was agreed in mediation",
    "mediation_agreement_notify_la": "Health body to tell the council about the mediation agreement",
    "appeal_deadline": "Family's last day to register an appeal",
    "appeal_la_response": "Send the council's response to the Tribunal",
    "tribunal_order_cease": "The plan may stop: the Tribunal dismissed the appeal",
    "tribunal_order_assess_notify": "Tell the family the assessment the Tribunal ordered will go ahead",
    "tribunal_order_assess_no_plan": "After the ordered assessment, if not issuing a plan, tell the family",
    "tribunal_order_assess_final_plan": "Issue the final plan after the ordered assessment",
    "tribunal_order_issue_draft": "Send the draft plan the Tribunal ordered",
    "tribunal_order_issue_final": "Issue the final plan the Tribunal ordered",
    "tribunal_order_amend": "Issue the plan amended as the Tribunal ordered",
    "tribunal_order_name_school": "Issue the plan naming the school or college the Tribunal ordered",
    "tribunal_order_continue_maintain": "Keep maintaining the plan, as the Tribunal ordered",
    "unopposed_appeal_notify": "Appeal not opposed: tell the family the assessment will go ahead",
    "unopposed_appeal_no_plan": "Appeal not opposed: if not issuing a plan after the assessment, tell the family",
    "unopposed_appeal_final_plan": "Appeal not opposed: issue the final plan after the assessment",
    "unopposed_appeal_amended_plan": "Appeal not opposed: issue the amended plan",
    "unopposed_appeal_name_school": "Appeal not opposed: name the school or college",
    "unopposed_appeal_issue_draft": "Appeal not opposed: send the draft plan",
    "unopposed_appeal_issue_final": "Appeal not opposed: issue the final plan",
    "dp_decision_to_assess": "Decide whether to assess (youth custody), and tell the young person",
    "dp_decision_not_to_issue": "If not issuing a plan (youth custody), tell the young person",
    "dp_draft_representations": "Young person's last day to comment on the draft plan (youth custody)",
    "dp_final_plan_issued": "Issue the final EHC plan (youth custody)",
}

_EXCEPTION_WORDS = ATTRIBUTE_TEXT["code"].choices


def deadline_label(key: str, *, audience: str = "staff", fallback: str = "") -> str:
    """What deadline ``key`` asks: a caseworker's words, or the engine's words for families."""
    if audience == "staff" and key in DEADLINE_TEXT:
        return DEADLINE_TEXT[key]
    rule = RULES.get(key)
    return rule.label if rule else (fallback or key.replace("_", " ").capitalize())


@dataclass(frozen=True)
class DeadlineView:
    """One deadline as a page shows it."""

    key: str
    label: str
    #: ``Monday 16 February 2026``, or ``by Sunday 14 February 2027`` for "before" dates.
    date_text: str
    #: For "before" comparisons: ``(before 15 February 2027)``.
    before_text: str | None
    #: ``Falls on a bank holiday: act by Friday 22 May 2026``.
    hint: str | None
    tag_text: str
    #: A GOV.UK tag modifier ("govuk-tag--red"), or "" for the default (blue).
    tag_class: str
    #: What the status means for this case ("Done on ...", "3 days overdue", the exception).
    status_detail: str | None
    #: ``Statutory`` / ``Guidance, not a legal deadline`` / ``Council target, not a legal deadline``.
    kind_text: str
    statutory: bool
    citation: str
    provisional: bool
    note: str | None
    #: Still to do (shown under "Clocks running"), rather than done or past.
    running: bool
    ref: str | None
    last_day: dt.date


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def describe_deadline(d: Deadline, today: dt.date, *, audience: str = "staff") -> DeadlineView:
    """Words and colours for one deadline, relative to ``today``.

    Tags: met green; open blue (the default tag); due within 7 days orange; missed red;
    suspended yellow. A family's own window or time limit is never "overdue": when it has
    passed it is grey ("Passed"), because nobody breached anything.
    """
    rule = RULES.get(d.key)
    kind = rule.kind if rule else "duty"
    family = bool(rule and rule.duty_holder == "family")
    last = d.last_compliant_day
    left = (last - today).days
    detail: str | None = None
    running = False
    if d.status == "suspended":
        tag, cls, running = "Suspended", "govuk-tag--yellow", True
        exc = d.exception or {}
        until = f" to {long_date(exc['to'])}" if exc.get("to") else ", still going on"
        reason = _EXCEPTION_WORDS.get(str(exc.get("code")), str(exc.get("code")))
        detail = (f"Exception: {reason[0].lower() + reason[1:]} (from {long_date(exc['from'])}{until}). "
                  "The duty is now to act as soon as practicable.") if exc.get("from") else "An exception applies."
        if d.met_on:
            detail += f" Done on {weekday_date(d.met_on)}."
            running = False
    elif kind == "window":
        if d.status == "missed":
            tag, cls = "Cut short", "govuk-tag--red"
            detail = "The council acted before the family's time was up."
        elif d.status == "met":
            tag, cls = "Ended", "govuk-tag--grey"
            detail = "The family had its full time."
        else:
            running = True
            tag, cls = (("Ends today" if left == 0 else f"Ends in {_days(left)}"), "govuk-tag--orange") \
                if left <= 7 else ("Open", "")
    elif kind == "ongoing":
        tag, cls = ("Not kept to", "govuk-tag--red") if d.status == "missed" else ("In force", "govuk-tag--green")
    elif kind == "reminder":
        if d.status == "met":
            tag, cls = "Done", "govuk-tag--green"
            detail = f"Done on {weekday_date(d.met_on)}." if d.met_on else None
        else:
            running = True
            tag, cls = ("From today" if left == 0 else "Open", "") if left >= 0 else ("Now", "govuk-tag--grey")
    elif d.status == "met":
        tag, cls = "Met", "govuk-tag--green"
        detail = f"Done on {weekday_date(d.met_on)}." if d.met_on else None
    elif d.status == "missed" and d.met_on is not None:
        tag, cls = "Late", "govuk-tag--red"
        detail = f"Done on {weekday_date(d.met_on)}, {_days((d.met_on - last).days)} late."
    elif d.status == "missed":
        if family:
            tag, cls = "Passed", "govuk-tag--grey"
            detail = "The time for this has passed."
        else:
            running = True
            tag, cls = "Overdue", "govuk-tag--red"
            detail = f"{_days(-left)} overdue."
    else:
        running = True
        if left <= 7:
            tag = "Due today" if left == 0 else ("Due tomorrow" if left == 1 else f"Due in {_days(left)}")
            cls = "govuk-tag--orange"
        else:
            tag, cls = "Open", ""
    if d.comparison == "before":
        date_text = f"by {weekday_date(last)}"
        before_text = f"(before {long_date(d.due)})"
    else:
        date_text, before_text = weekday_date(d.due), None
    hint = None
    if d.non_working_day_hint is not None:
        why = "a bank holiday" if is_bank_holiday(last) and last.weekday() < 5 else "a weekend"
        hint = f"Falls on {why}: act by {weekday_date(d.non_working_day_hint)}"
    if d.statutory:
        kind_text = "Statutory deadline"
    elif d.key in SLA_KEYS or rule is None:
        kind_text = "Council target, not a legal deadline"
    else:
        kind_text = "Guidance, not a legal deadline"
    return DeadlineView(
        key=d.key, label=deadline_label(d.key, audience=audience, fallback=d.label), date_text=date_text,
        before_text=before_text, hint=hint, tag_text=tag, tag_class=cls, status_detail=detail, kind_text=kind_text,
        statutory=d.statutory, citation=d.citation, provisional=d.provisional,
        note=pretty_dates(d.note) if d.note else None, running=running, ref=d.ref, last_day=last)


#: What "provisional" means, said once wherever a provisional date is shown.
PROVISIONAL_TEXT = ("Provisional: worked out from the latest day an earlier step is allowed to happen. "
                    "It changes when that step is recorded.")


# ---------------------------------------------------------------------------------------
# The event forms


@dataclass(frozen=True)
class Item:
    value: str
    text: str
    hint: str | None = None


@dataclass(frozen=True)
class FormField:
    """One question on an event form; ``kind`` is date, radios, text, checkboxes or file."""

    name: str
    kind: str
    label: str
    hint: str | None = None
    required: bool = False
    items: tuple[Item, ...] = ()
    #: The input the error summary links to.
    anchor: str = ""


@dataclass
class EventContext:
    """What a case offers an event form: open advice requests, consulted schools, deadlines."""

    #: Advice requests not yet answered: (advice_id, kind of advice, requested on).
    open_advice: list[tuple[str, str | None, dt.date]] = field(default_factory=list)
    #: Every advice id already used on the case (new ids must differ).
    advice_ids: set[str] = field(default_factory=set)
    #: Schools and colleges consulted: (URN, consulted on).
    consulted: list[tuple[str, dt.date]] = field(default_factory=list)
    #: Deadline keys an exception may be recorded against, in the order to offer them.
    exception_keys: list[str] = field(default_factory=list)
    #: The event being corrected, if any (its values pre-fill the form).
    correcting: Mapping[str, Any] | None = None


#: The earliest date an EHC event can have: Part 3 of the Children and Families Act 2014
#: came into force on 1 September 2014.
EARLIEST = dt.date(2014, 9, 1)
#: Latest attribute date (a planned move): the bank-holiday table ends in 2100.
LATEST = dt.date(2099, 12, 31)
_URN = re.compile(r"^\d{6}$")
_LA_CODE = re.compile(r"^\d{3}$")


def _advice_words(advice: str | None) -> str:
    return ATTRIBUTE_TEXT["advice"].choices.get(advice or "", "Advice").split(" (")[0]


def event_fields(event_type: str, ctx: EventContext) -> list[FormField]:
    """The questions for ``event_type`` after its date, in the engine's attribute order."""
    fields: list[FormField] = []
    for name, spec in EVENT_TYPES[event_type].items():
        if name in NOT_ASKED:
            continue
        words = attr_text(event_type, name)
        if event_type == "advice_requested" and name == "advice_id":
            continue  # the platform gives each request its own reference
        if event_type == "advice_received" and name == "advice":
            continue  # taken from the request it answers
        required = spec.required
        if event_type == "advice_received" and name == "advice_id":
            items = [Item(a_id, f"{_advice_words(kind)} advice requested on {long_date(on)}", f"Reference {a_id}")
                     for a_id, kind, on in ctx.open_advice]
            if items:
                fields.append(FormField(name, "radios", words.label, words.hint, True, tuple(items), name))
                continue
            required = True
        if event_type == "institution_responded" and name == "urn" and ctx.consulted:
            items = [Item(urn, f"URN {urn}", f"Consulted on {long_date(on)}") for urn, on in ctx.consulted]
            fields.append(FormField(name, "radios", words.label, words.hint, True, tuple(items), name))
            continue
        if event_type == "advice_requested" and name == "advice":
            required = True  # optional in the API, but an unnamed request cannot be followed up
        if spec.kind == "enum":
            items = tuple(Item(v, words.choices.get(v, v)) for v in spec.choices if v not in words.not_offered)
            fields.append(FormField(name, "radios", words.label, words.hint, required, items, name))
        elif spec.kind == "bool":
            choices = words.choices or _YES_NO
            items = tuple(Item(v, t) for v, t in choices.items())
            fields.append(FormField(name, "radios", words.label, words.hint, required, items, name))
        elif spec.kind == "date":
            fields.append(FormField(name, "date", words.label, words.hint, required, (), f"{name}-day"))
        elif spec.kind == "keys":
            keys = list(ctx.exception_keys)
            items = tuple(Item(k, deadline_label(k), RULES[k].citation if k in RULES else None) for k in keys)
            fields.append(FormField(name, "checkboxes", words.label, words.hint, required, items, name))
        else:
            fields.append(FormField(name, "text", words.label, words.hint, required, (), name))
    if event_type == "advice_received":
        fields.append(FormField("advice_file", "file", "Attach the advice (optional)",
                                "PDF, Word (.docx), OpenDocument text (.odt), PNG or JPEG, up to 20MB", False, (),
                                "advice_file"))
    return fields


def form_values_of(event: Mapping[str, Any]) -> dict[str, Any]:
    """Raw form values that show ``event`` (api-v1 shape) on its form: for corrections."""
    values: dict[str, Any] = {}
    spec = EVENT_TYPES.get(event["type"], {})
    day = dt.date.fromisoformat(str(event["date"]))
    values["date"] = {"day": str(day.day), "month": str(day.month), "year": str(day.year)}
    for name, attr in spec.items():
        if name not in event or event[name] is None:
            continue
        value = event[name]
        if attr.kind == "date":
            d = dt.date.fromisoformat(str(value))
            values[name] = {"day": str(d.day), "month": str(d.month), "year": str(d.year)}
        elif attr.kind == "bool":
            values[name] = "yes" if value else "no"
        elif attr.kind == "keys":
            values[name] = [str(k) for k in value]
        else:
            values[name] = str(value)
    return values


def _read_date(form: MultiDict[str, str], name: str, noun: str, *, required: bool, errors: FormErrors,
               values: dict[str, Any], not_after: dt.date | None = None) -> dt.date | None:
    parts = date_parts(form, name)
    values[name] = parts
    day, error = parse_date(parts, noun, required=required)
    if error:
        errors.add(name, error)
        return None
    if day is None:
        return None
    if day < EARLIEST:
        errors.add(name, f"{noun} must be on or after 1 September 2014")
        return None
    if not_after is not None and day > not_after:
        errors.add(name, f"{noun} must be today or in the past")
        return None
    if day > LATEST:
        errors.add(name, f"{noun} must be before 2100")
        return None
    return day


def _noun(label: str) -> str:
    """A date question as a noun for error messages: 'When did it start?' -> 'The date it started'."""
    return re.sub(r"\s*\(optional\)$", "", label).rstrip("?")


_ATTR_NOUNS = {
    "served_at": "Date it was served", "transfer_on": "Date of the move", "move_on": "Date of the move",
    "plan_made_on": "Date the plan was first made", "last_reviewed_on": "Date it was last reviewed",
    "response_due": "Date for the council's response", "lodged_on": "Date the family sent the appeal",
    "from": "Date it started", "to": "Date it ended", "meeting_on": "Date of the meeting",
    "agreed_due": "Agreed date",
}


def parse_event_form(event_type: str, form: MultiDict[str, str], ctx: EventContext, *,
                     today: dt.date) -> tuple[dict[str, Any], FormErrors, dict[str, Any]]:
    """Read the form for ``event_type`` into an api-v1 event.

    Returns ``(event, errors, values)``: ``values`` is what was typed, to show again. Only
    the shape is checked here (dates real, choices offered, URNs six digits); whether the
    event can happen now is the workflow's question (``record_event`` raises Conflict).
    """
    texts = EVENT_TEXT[event_type]
    errors = FormErrors()
    values: dict[str, Any] = {}
    event: dict[str, Any] = {"type": event_type}
    day = _read_date(form, "date", texts.date_noun, required=True, errors=errors, values=values, not_after=today)
    if day is not None:
        event["date"] = day.isoformat()
    for f in event_fields(event_type, ctx):
        words = attr_text(event_type, f.name) if f.name in ATTRIBUTE_TEXT else None
        missing = (words.missing if words and words.missing else f"Enter {f.label[0].lower()}{f.label[1:]}")
        if f.kind == "date":
            got = _read_date(form, f.name, _ATTR_NOUNS.get(f.name, _noun(f.label)), required=f.required,
                             errors=errors, values=values)
            if got is not None:
                event[f.name] = got.isoformat()
        elif f.kind == "radios":
            raw = text(form, f.name)
            values[f.name] = raw
            allowed = {i.value for i in f.items}
            if not raw:
                if f.required:
                    errors.add(f.name, missing)
            elif raw not in allowed:
                errors.add(f.name, missing)
            elif EVENT_TYPES[event_type][f.name].kind == "bool":
                event[f.name] = raw == "yes"
            else:
                event[f.name] = raw
        elif f.kind == "checkboxes":
            raw_list = [v for v in form.getlist(f.name) if v]
            values[f.name] = raw_list
            allowed = {i.value for i in f.items}
            if not raw_list:
                if f.required:
                    errors.add(f.name, missing)
            elif not set(raw_list) <= allowed:
                errors.add(f.name, "Select deadlines from the list")
            else:
                event[f.name] = [i.value for i in f.items if i.value in raw_list]
        elif f.kind == "text":
            raw = text(form, f.name)
            values[f.name] = raw
            if not raw:
                if f.required:
                    errors.add(f.name, missing)
            elif len(raw) > 64:
                errors.add(f.name, f"{f.label.replace(' (optional)', '')} must be 64 characters or fewer")
            elif f.name == "urn" and not _URN.match(raw):
                errors.add(f.name, "Enter a URN of 6 digits, like 118945")
            elif f.name.endswith("la_code") and not _LA_CODE.match(raw):
                errors.add(f.name, "Enter an LA code of 3 digits, like 886")
            else:
                event[f.name] = raw
    _check_order(event_type, event, errors)
    _complete(event_type, event, ctx)
    return event, errors, values


def _check_order(event_type: str, event: Mapping[str, Any], errors: FormErrors) -> None:
    """The engine's date-order rules (validate_event), asked in the form's own words."""
    if event.get("from") and event.get("to") and event["to"] < event["from"]:
        errors.add("to", "Date it ended must be the same as or after the date it started")
    day = event.get("date")
    if day is None:
        return
    noun = EVENT_TEXT[event_type].date_noun
    for name in ("served_at", "response_due", "agreed_due"):
        if event.get(name) and event[name] < day:
            errors.add(name, f"{_ATTR_NOUNS[name]} must be the same as or after the {noun[0].lower()}{noun[1:]}")
    if event.get("lodged_on") and event["lodged_on"] > day:
        errors.add("lodged_on", f"{_ATTR_NOUNS['lodged_on']} must be the same as or before the "
                                f"{noun[0].lower()}{noun[1:]}")


def _complete(event_type: str, event: dict[str, Any], ctx: EventContext) -> None:
    """Fill in what the platform, not the person, decides."""
    correcting = ctx.correcting or {}
    if event_type == "advice_requested" and "advice" in event:
        # Keep a corrected request's reference, so its reply and documents still match it.
        if correcting.get("type") == "advice_requested" and correcting.get("advice_id"):
            event["advice_id"] = str(correcting["advice_id"])
        else:
            n = 1
            while f"{event['advice']}-{n}" in ctx.advice_ids:
                n += 1
            event["advice_id"] = f"{event['advice']}-{n}"
    if event_type == "advice_received" and "advice_id" in event:
        kind = next((k for a_id, k, _ in ctx.open_advice if a_id == event["advice_id"]), None)
        if kind:
            event["advice"] = kind


def words_for(event: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What an event recorded, in words: ``[("Decision", "To carry out an EHC needs assessment"), ...]``."""
    spec = EVENT_TYPES.get(str(event.get("type")), {})
    out: list[tuple[str, str]] = []
    for name, attr in spec.items():
        if name not in event:
            continue
        value = event[name]
        words = attr_text(str(event["type"]), name) if name in ATTRIBUTE_TEXT else AttrText(name, name)
        if value is None:
            shown = "Still going on" if name == "to" else "Not given"
        elif attr.kind == "date":
            try:
                shown = long_date(dt.date.fromisoformat(str(value)))
            except ValueError:
                shown = str(value)
        elif attr.kind == "bool":
            choices = words.choices or _YES_NO
            shown = choices.get("yes" if value else "no", "Yes" if value else "No")
        elif attr.kind == "enum":
            shown = words.choices.get(str(value), str(value))
        elif attr.kind == "keys":
            shown = "; ".join(deadline_label(str(k)) for k in (value or []))
        else:
            shown = str(value)
        out.append((words.short, shown))
    return out


def choosable_types() -> list[tuple[str, list[str]]]:
    """Event types a caseworker may pick on the "What happened?" page, grouped.

    ``request_received`` opens a case (the "Start a request" page), so it is offered only
    when correcting the request itself.
    """
    grouped: dict[str, list[str]] = {g: [] for g in GROUPS}
    for event_type, texts in EVENT_TEXT.items():
        if event_type == "request_received" or event_type in SERVICE_ONLY_EVENTS:
            continue
        grouped[texts.group].append(event_type)
    return [(g, types) for g, types in grouped.items() if types]


def sorted_keys(keys: Sequence[str]) -> list[str]:
    """Deadline keys in the master table's order (RULES), unknown ones last."""
    order = {k: i for i, k in enumerate(RULES)}
    return sorted(set(keys), key=lambda k: (order.get(k, len(order)), k))


__all__ = [
    "ATTRIBUTE_TEXT", "CLOSED_STAGES", "DEADLINE_TEXT", "EVENT_TEXT", "GROUPS", "NOT_ASKED", "PROVISIONAL_TEXT",
    "STAGE_TEXT", "DeadlineView", "EventContext", "FormField", "Item", "attr_text", "choosable_types",
    "deadline_label", "describe_deadline", "event_fields", "event_title", "form_values_of",
    "long_date", "parse_event_form", "pretty_dates", "sorted_keys", "weekday_date", "words_for",
]
