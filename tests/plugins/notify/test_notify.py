"""The notify plugin (issue #5 item 5): GOV.UK Notify for e-mail, SMS and letters with each
council's own templates and key, replacing the log delivery of deadline reminders.

Everything runs against a real HTTP server on 127.0.0.1 (stub.py) that checks the JWT each
request carries, as Notify does; only that boundary is stubbed.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy import select

import plugins.notify as notify
from core import clock
from core.audit.models import AuditEvent
from core.cases import jobs as reminder_jobs
from core.cases.models import Notification
from core.errors import ValidationFailed
from core.plugin_api import DeliveryReceipt, Notification as Message, PartnerUnavailable, PermanentFailure
from core.plugins import calls
from core.plugins import services as plugin_services
from core.plugins.manager import call_plugin
from core.plugins.models import CallStatus, PluginCall
from core.users.models import Role, User
from tests.conftest import in_tenant
from tests.plugins.notify.conftest import REMINDER_FIELDS, Council
from tests.plugins.notify.stub import NotifyStub

TODAY = dt.date(2026, 11, 27)


def _decision_due_in(days: int, today: dt.date = TODAY) -> dict[str, Any]:
    """A request whose reg 5(1) decision (6 weeks, CoP 9.14) falls ``days`` after ``today``."""
    return {"type": "request_received", "date": (today + dt.timedelta(days=days - 42)).isoformat(),
            "requester": "parent"}


@pytest.fixture
def caseworker_a(tenant_a: Any, make_user: Any) -> User:
    return make_user(tenant_a, Role.CASEWORKER, name="Casey Worker")


def _send(tenant: Any, message: Message) -> Any:
    with in_tenant(tenant):
        return call_plugin(plugin_services.tenant_info("notify"), "notify", "delivery_for_notification",
                           notification=message)


def _remind(tenant: Any, today: dt.date = TODAY) -> reminder_jobs.ReminderRun:
    with in_tenant(tenant):
        return reminder_jobs.remind_deadlines(10, today=today)


def _notifications(tenant: Any) -> list[Notification]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(Notification).order_by(Notification.created_at)).scalars())


def _calls(tenant: Any) -> list[PluginCall]:
    with in_tenant(tenant) as s:
        return list(s.execute(select(PluginCall).where(PluginCall.hook == "delivery_for_notification")).scalars())


def _reminder(**personalisation: str) -> dict[str, str]:
    return {name: personalisation.get(name, f"<{name}>") for name in REMINDER_FIELDS}


# ---------------------------------------------------------------------------------------
# The hook: each council's templates and key, every channel


def test_hook_delivery_for_notification(notify_stub: NotifyStub, council_a: Council, council_b: Council) -> None:
    reply_to = str(uuid.uuid4())
    with in_tenant(council_a.tenant):
        plugin_services.configure("notify", {"email_reply_to_id": reply_to})
    sent: list[tuple[Council, Message, DeliveryReceipt]] = []
    for council in (council_a, council_b):
        for message in (
            Message(uuid.uuid4(), "email", "deadline_reminder", "casey@council.example.gov.uk", _reminder()),
            Message(uuid.uuid4(), "sms", "statutory_notice", "07700900123",
                    {"recipient_name": "A Parent", "notice": "n", "citation": "c", "date": "d", "case_reference": "r"}),
            Message(uuid.uuid4(), "letter", "statutory_notice", "A Parent\n1 High Street\nAnytown\nAT1 1AA",
                    {"recipient_name": "A Parent", "notice": "n", "citation": "c", "date": "d", "case_reference": "r"}),
        ):
            sent.append((council, message, _send(council.tenant, message)))
    posts = notify_stub.posts()
    assert len(posts) == 6
    for (council, message, receipt), post in zip(sent, posts, strict=True):
        # Each request was signed with its own council's key (the stub checked the JWT).
        assert post.service_id == council.service.id
        assert post.path == f"/v2/notifications/{message.channel}"
        assert post.body["template_id"] == council.templates[f"template_{message.template}_{message.channel}"]
        assert post.body["reference"] == str(message.id)
        assert receipt == DeliveryReceipt(message.id, "notify", post.notification_id)
    email, sms, letter = (p.body for p in posts[:3])
    assert email["email_address"] == "casey@council.example.gov.uk"
    assert email["email_reply_to_id"] == reply_to and "email_reply_to_id" not in posts[3].body
    assert sms["phone_number"] == "07700900123"
    assert [letter["personalisation"][f"address_line_{i}"] for i in (1, 2, 3, 4)] == [
        "A Parent", "1 High Street", "Anytown", "AT1 1AA"]
    assert council_a.templates != council_b.templates and council_a.service.secret != council_b.service.secret


def test_a_kind_without_a_template_fails_permanently_naming_the_setting(notify_stub: NotifyStub,
                                                                        council_a: Council) -> None:
    with in_tenant(council_a.tenant):
        plugin_services.configure("notify", {"template_deadline_reminder_sms": None})
    with pytest.raises(PermanentFailure, match="template_deadline_reminder_sms"):
        _send(council_a.tenant, Message(uuid.uuid4(), "sms", "deadline_reminder", "07700900123", _reminder()))
    assert notify_stub.requests == []


def test_notify_errors_are_translated_without_personal_data(notify_stub: NotifyStub, council_a: Council,
                                                            caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    message = Message(uuid.uuid4(), "email", "deadline_reminder", "zebedee.q@example.org", _reminder())
    for status in (500, 503, 429):
        notify_stub.fail_next(status)
        with pytest.raises(PartnerUnavailable, match=str(status)):
            _send(council_a.tenant, message)
    notify_stub.fail_next(400)
    with pytest.raises(PermanentFailure) as refused:
        _send(council_a.tenant, message)
    assert "Can't send to this recipient: [redacted]" in str(refused.value)
    assert "zebedee" not in str(refused.value)
    assert "zebedee" in str(notify_stub.requests[-1].body)  # what the stub quoted back, and we dropped
    # A template Notify does not know is refused by Notify itself (400 BadRequestError).
    with in_tenant(council_a.tenant):
        plugin_services.configure("notify", {"template_deadline_reminder_email": str(uuid.uuid4())})
    with pytest.raises(PermanentFailure, match="Template not found"):
        _send(council_a.tenant, message)
    notify_stub.stop()
    with pytest.raises(PartnerUnavailable):
        _send(council_a.tenant, message)
    assert not any(r.method == "POST" and r.notification_id for r in notify_stub.requests)
    assert "zebedee" not in caplog.text  # neither in our logs nor in the client's


def test_a_key_notify_does_not_know_is_a_permanent_failure(notify_stub: NotifyStub, council_a: Council) -> None:
    wrong = f"sendbridge_live-{council_a.service.id}-{uuid.uuid4()}"  # right service, wrong secret
    with in_tenant(council_a.tenant):
        plugin_services.configure("notify", {"api_key": wrong})
    with pytest.raises(PermanentFailure, match="403"):
        _send(council_a.tenant, Message(uuid.uuid4(), "email", "deadline_reminder", "a@b.example", _reminder()))
    assert notify_stub.requests == []  # refused before anything was looked at


# ---------------------------------------------------------------------------------------
# Settings


def test_bad_settings_are_refused_and_nothing_is_stored(notify_stub: NotifyStub, council_a: Council) -> None:
    good_key = council_a.service.api_key
    for bad in ("not-a-key", str(uuid.uuid4()), f"{uuid.uuid4()}-{uuid.uuid4()}", good_key[:-1],
                f"name-{uuid.uuid4()}-not-a-uuid-at-all-but-36-chars-long!"):
        with in_tenant(council_a.tenant), pytest.raises(ValidationFailed) as refused:
            plugin_services.configure("notify", {"api_key": bad, "email_reply_to_id": str(uuid.uuid4())})
        assert set(refused.value.errors) == {"api_key"}
        assert bad not in str(refused.value)  # a secret is never echoed, even a wrong one
    for change in ({"base_url": "http://api.notifications.service.gov.uk"}, {"template_deadline_reminder_email": "42"},
                   {"email_reply_to_id": "me@example.org"}, {"template_deadline_reminder_fax": str(uuid.uuid4())}):
        with in_tenant(council_a.tenant), pytest.raises(ValidationFailed) as refused:
            plugin_services.configure("notify", change)
        assert set(refused.value.errors) == set(change)
    with in_tenant(council_a.tenant):
        stored = plugin_services.settings_of("notify")
    assert stored["api_key"] == good_key and stored["base_url"] == notify_stub.base_url
    assert stored["email_reply_to_id"] is None
    assert stored["template_deadline_reminder_email"] == council_a.templates["template_deadline_reminder_email"]
    assert notify.SETTINGS.keys["api_key"].secret
    assert notify.SETTINGS.defaults()["base_url"] == "https://api.notifications.service.gov.uk"


# ---------------------------------------------------------------------------------------
# Deadline reminders through Notify


def test_the_reminder_job_e_mails_the_caseworker_through_notify(notify_stub: NotifyStub, council_a: Council,
                                                                 caseworker_a: User, make_case: Any,
                                                                 make_child: Any, caplog: Any) -> None:
    today = clock.today()
    child = make_child(council_a.tenant, given_name="Zebedee", family_name="Quillfeather",
                       date_of_birth=dt.date(2014, 2, 28))
    case = make_case(council_a.tenant, [_decision_due_in(4, today)], child=child, caseworker_id=caseworker_a.id,
                     today=today)
    caplog.set_level(logging.INFO)
    assert reminder_jobs.send_deadline_reminders(str(council_a.tenant.id), 10) == {"recorded": 1, "delivered": 1}
    [post] = notify_stub.posts()
    [notification] = _notifications(council_a.tenant)
    assert post.service_id == council_a.service.id
    assert post.body["template_id"] == council_a.templates["template_deadline_reminder_email"]
    assert post.body["email_address"] == caseworker_a.email
    assert post.body["reference"] == str(notification.id)
    due = today + dt.timedelta(days=4)
    assert post.body["personalisation"] == {
        "caseworker_name": "Casey Worker", "child_initials": "ZQ",
        "deadline": "The council must tell you whether it will carry out an EHC needs assessment",
        "citation": "SEND Regs 2014 reg 5(1); CoP 9.14", "due_date": f"{due.day} {due.strftime('%B %Y')}",
        "status": "is due", "case_link": f"https://{council_a.tenant.slug}.sendbridge.example/cases/{case.id}"}
    assert notification.delivered_at is not None and notification.channel == "email"
    [call] = _calls(council_a.tenant)
    assert (call.status, call.key, call.arguments) == (CallStatus.SUCCEEDED, f"notification:{notification.id}",
                                                       {"notification_id": str(notification.id)})
    # Only initials left the council, and reading the name for them is audited.
    assert "Zebedee" not in str(post.body) and "Quillfeather" not in str(post.body)
    with in_tenant(council_a.tenant) as s:
        audited = s.execute(select(AuditEvent).where(AuditEvent.subject_id == child.id,
                                                     AuditEvent.actor_id == "deliver_notification")).scalars().all()
    assert [(a.action, a.object_id) for a in audited] == [("child.viewed", notification.id)]
    for personal in ("Zebedee", "Quillfeather", caseworker_a.email, "Casey Worker"):
        assert personal not in caplog.text
    # The next run finds nothing to do: nobody is told twice.
    assert reminder_jobs.send_deadline_reminders(str(council_a.tenant.id), 10) == {"recorded": 0, "delivered": 0}
    assert len(notify_stub.posts()) == 1


def test_notify_down_retries_later_and_delivers_once(notify_stub: NotifyStub, council_a: Council,
                                                     caseworker_a: User, make_case: Any) -> None:
    make_case(council_a.tenant, [_decision_due_in(3)], caseworker_id=caseworker_a.id)
    notify_stub.stop()
    assert _remind(council_a.tenant).recorded == 1
    [call] = _calls(council_a.tenant)
    assert call.status == CallStatus.RETRYING and call.attempts == 1 and "PartnerUnavailable" in call.last_error
    assert [n.delivered_at for n in _notifications(council_a.tenant)] == [None]
    with in_tenant(council_a.tenant):
        assert [c.id for c in calls.calls_needing_attention()] == [call.id]
    # The daily job running again meanwhile neither skips the backoff nor makes a second call.
    assert _remind(council_a.tenant, TODAY + dt.timedelta(days=1)).delivered == 0
    assert [(c.id, c.attempts) for c in _calls(council_a.tenant)] == [(call.id, 1)]
    # Notify answers 500 and then 429 on the next attempts: still waiting, still undelivered.
    notify_stub.start()
    for status in (500, 429):
        notify_stub.fail_next(status)
        assert calls.run_call(str(council_a.tenant.id), str(call.id)) == "retrying"
    assert [n.delivered_at for n in _notifications(council_a.tenant)] == [None]
    # Back: the retry (what sweep queues when it is due) delivers it, once.
    assert calls.run_call(str(council_a.tenant.id), str(call.id)) == "succeeded"
    assert calls.run_call(str(council_a.tenant.id), str(call.id)) == "skipped"
    [notification] = _notifications(council_a.tenant)
    assert notification.delivered_at is not None
    assert [p.body["reference"] for p in notify_stub.posts() if p.notification_id] == [str(notification.id)]
    with in_tenant(council_a.tenant):
        assert calls.calls_needing_attention() == []


def test_notify_refusing_a_reminder_fails_the_call_for_the_admin(notify_stub: NotifyStub, council_a: Council,
                                                                 caseworker_a: User, make_case: Any) -> None:
    make_case(council_a.tenant, [_decision_due_in(3)], caseworker_id=caseworker_a.id)
    notify_stub.fail_next(400)
    _remind(council_a.tenant)
    [call] = _calls(council_a.tenant)
    assert call.status == CallStatus.FAILED and call.attempts == 1
    assert "PermanentFailure: Notify refused the message (400)" in call.last_error
    assert caseworker_a.email not in call.last_error
    assert [n.delivered_at for n in _notifications(council_a.tenant)] == [None]
    with in_tenant(council_a.tenant):
        assert [(c.id, c.status) for c in calls.calls_needing_attention()] == [(call.id, CallStatus.FAILED)]
    # The next daily run leaves it for the admin; the admin's retry sends it.
    assert _remind(council_a.tenant, TODAY + dt.timedelta(days=1)).delivered == 0
    assert not any(p.notification_id for p in notify_stub.posts())
    with in_tenant(council_a.tenant):
        calls.retry_call(call.id)  # runs inline after the commit
    assert [c.status for c in _calls(council_a.tenant)] == [CallStatus.SUCCEEDED]
    assert [n.delivered_at is not None for n in _notifications(council_a.tenant)] == [True]
    assert len([p for p in notify_stub.posts() if p.notification_id]) == 1


def test_a_reminder_is_never_sent_twice_even_when_a_worker_dies_after_sending(
        notify_stub: NotifyStub, council_a: Council, caseworker_a: User, make_case: Any) -> None:
    make_case(council_a.tenant, [_decision_due_in(3)], caseworker_id=caseworker_a.id)
    _remind(council_a.tenant)
    _remind(council_a.tenant)
    [call] = _calls(council_a.tenant)
    [notification] = _notifications(council_a.tenant)
    assert len(notify_stub.posts()) == 1
    # A worker killed after Notify accepted but before its commit: the call is found
    # "running" past its time limit, the reminder undelivered, and the call runs again.
    with in_tenant(council_a.tenant) as s:
        row = s.get(PluginCall, call.id)
        row.status = CallStatus.RUNNING
        row.next_attempt_at = row.next_attempt_at - dt.timedelta(seconds=calls.CALL_TIME_LIMIT + 1)
        s.get(Notification, notification.id).delivered_at = None
    assert calls.run_call(str(council_a.tenant.id), str(call.id)) == "succeeded"
    assert len(notify_stub.posts()) == 1  # Notify already had it under this reference: not sent again
    assert [r.body.get("reference") for r in notify_stub.requests if r.method == "GET"][-1] == [str(notification.id)]
    assert _notifications(council_a.tenant)[0].delivered_at is not None


def test_councils_without_the_plugin_keep_log_delivery(notify_stub: NotifyStub, council_a: Council,
                                                       caseworker_a: User, tenant_b: Any, make_case: Any,
                                                       make_user: Any, caplog: Any) -> None:
    worker_b = make_user(tenant_b, Role.CASEWORKER)
    make_case(council_a.tenant, [_decision_due_in(3)], caseworker_id=caseworker_a.id)
    case_b = make_case(tenant_b, [_decision_due_in(3)], caseworker_id=worker_b.id)
    caplog.set_level(logging.INFO, logger="core.cases.jobs")
    assert _remind(tenant_b).delivered == 1
    [notification_b] = _notifications(tenant_b)
    assert notification_b.channel == "log" and notification_b.delivered_at is not None
    assert f"reminder delivered notification={notification_b.id} user={worker_b.id} case={case_b.id}" in caplog.text
    assert notify_stub.requests == [] and _calls(tenant_b) == []
    _remind(council_a.tenant)
    assert {p.service_id for p in notify_stub.posts()} == {council_a.service.id}
    with in_tenant(council_a.tenant):
        plugin_services.set_enabled("notify", False)
        assert reminder_jobs.delivery_plugin() is None


@pytest.mark.redis
def test_the_reminder_goes_through_redis_as_ids_and_reaches_notify(notify_stub: NotifyStub, council_a: Council,
                                                                    caseworker_a: User, make_case: Any,
                                                                    make_child: Any) -> None:
    """As production runs it: the reminder job and then the plugin call are rq jobs with the
    JSON serializer, each carrying the council's id and ids only."""
    import json
    import zlib

    from redis import Redis
    from rq import SimpleWorker
    from rq.serializers import JSONSerializer

    from core.jobs import configure_jobs, enqueue_after_commit
    from tests.conftest import REDIS_TEST_URL

    redis = Redis.from_url(REDIS_TEST_URL)
    redis.flushdb()
    try:
        queue = configure_jobs(REDIS_TEST_URL).queue("default")  # type: ignore[attr-defined]
        today = clock.today()
        child = make_child(council_a.tenant, given_name="Rosalind", family_name="Quenby")
        make_case(council_a.tenant, [_decision_due_in(3, today)], child=child, caseworker_id=caseworker_a.id,
                  today=today)
        with in_tenant(council_a.tenant):
            enqueue_after_commit(reminder_jobs.send_deadline_reminders, str(council_a.tenant.id), 10)
        worker = SimpleWorker([queue], connection=redis, serializer=JSONSerializer)
        worker.work(burst=True, max_jobs=1)  # the reminder job: records and hands over
        assert notify_stub.posts() == []
        [queued] = queue.get_jobs()
        [notification] = _notifications(council_a.tenant)
        [call] = _calls(council_a.tenant)
        assert queued.func_name == "core.plugins.calls.run_call"
        payload = zlib.decompress(redis.hget(queued.key, "data")).decode()
        assert json.loads(payload)[2] == [str(council_a.tenant.id), str(call.id)]
        for personal in ("Rosalind", "Quenby", caseworker_a.email):
            assert personal not in payload
        worker.work(burst=True, max_jobs=1)  # the plugin call: sends through Notify
        [post] = notify_stub.posts()
        assert post.body["reference"] == str(notification.id) and post.body["personalisation"]["child_initials"] == "RQ"
        assert _notifications(council_a.tenant)[0].delivered_at is not None
    finally:
        configure_jobs(None)
        redis.flushdb()
