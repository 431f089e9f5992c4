"""Flask CLI: ``db``, ``demo``, ``worker``, ``settings`` here; ``tenants`` and ``clients`` from tenants.cli."""

from __future__ import annotations

import importlib
import json
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from core import db_roles
from core.db import db
from migrations import runner
from tenants.cli import clients_cli, tenants_cli
from tenants.plugin_cli import plugins_cli
from tenants.idp_cli import idp_commands
from tenants.maintenance import MAINTENANCE_FAN_OUTS, MAINTENANCE_JOBS, fan_out


def _urls():  # type: ignore[no-untyped-def]
    assert db.urls is not None
    return db.urls


db_cli = AppGroup("db", help="Database migrations (run as the owner role).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Migrate to REVISION (default head), then create and grant the runtime role."""
    runner.upgrade(_urls(), revision)
    click.echo(f"database at {runner.current(_urls())}")


@db_cli.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    runner.downgrade(_urls(), revision)
    click.echo(f"database at {runner.current(_urls())}")


@db_cli.command("current")
def db_current() -> None:
    click.echo(runner.current(_urls()) or "(empty)")


@db_cli.command("check")
def db_check() -> None:
    """Fail if the models have changes no migration records."""
    runner.check(_urls())


@db_cli.command("revision")
@click.option("-m", "--message", required=True)
@click.option("--autogenerate/--empty", default=True)
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new revision. Add enable_tenant_rls(<table>) for every new tenant-owned table."""
    runner.revision(_urls(), message, autogenerate)


demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Two made-up councils with staff and a dozen children each (idempotent)."""
    from tenants.demo import seed_demo

    with db.as_owner():
        created = seed_demo()
    click.echo(json.dumps({"created": created}))


@click.command("worker")
@click.option("--queues", default="interactive,default,bulk", show_default=True)
@click.option("--burst", is_flag=True, help="Exit when the queues are empty")
def worker(queues: str, burst: bool) -> None:
    """Run an rq worker (JSON serializer) on REDIS_URL."""
    from redis import Redis
    from rq import Queue, Worker
    from rq.serializers import JSONSerializer

    settings = current_app.config["SENDBRIDGE_SETTINGS"]
    if not settings.redis_url:
        click.echo("REDIS_URL is not set: jobs run in-process, there is nothing for a worker to do", err=True)
        sys.exit(2)
    conn = Redis.from_url(settings.redis_url)
    qs = [Queue(name, connection=conn, serializer=JSONSerializer) for name in queues.split(",")]
    Worker(qs, connection=conn, serializer=JSONSerializer).work(burst=burst, with_scheduler=True)


maintenance_cli = AppGroup("maintenance", help="Cross-council maintenance jobs.")


@maintenance_cli.command("run")
@click.argument("name", type=click.Choice(sorted([*MAINTENANCE_JOBS, *MAINTENANCE_FAN_OUTS])))
def maintenance_run(name: str) -> None:
    """Queue job NAME once per active council (or run them now, without Redis)."""
    if name in MAINTENANCE_FAN_OUTS:  # fan-outs that pass each council more than its id
        click.echo(json.dumps({"job": name, "councils": MAINTENANCE_FAN_OUTS[name]()}))
        return
    module, _, attr = MAINTENANCE_JOBS[name].rpartition(".")
    job = getattr(importlib.import_module(module), attr)
    click.echo(json.dumps({"job": name, "councils": fan_out(job)}))


@click.command("scheduler")
@click.option("--at", "at_", default=None,
              help="Time of day (Europe/London) to send deadline reminders [default: REMINDERS_AT, 06:30]")
@click.option("--once", is_flag=True, help="Check once (run what is due now) and exit")
def scheduler(at_: str | None, once: bool) -> None:
    """Run the daily scheduler: every minute, start what is due (deadline reminders at --at).

    With REDIS_URL a per-day lock key makes sure only one scheduler runs each day's reminders;
    the reminder jobs themselves go to the rq queues as JSON (core/scheduler.py says why this
    is not rq's pickle-based CronScheduler).
    """
    import datetime as dt

    from redis import Redis

    from core.scheduler import DailyTask, Scheduler, parse_time_of_day, run_forever
    from core.integrations.jobs import poll_partner_advice, refresh_social_care_status
    from core.plugins.calls import sweep
    from core.transfers.jobs import flag_transfers
    from tenants.maintenance import fan_out, fan_out_reminders

    settings = current_app.config["SENDBRIDGE_SETTINGS"]
    try:
        at = parse_time_of_day(at_ or settings.reminders_at)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--at") from None
    locks = Redis.from_url(settings.redis_url) if settings.redis_url else None
    if locks is None:
        click.echo("REDIS_URL is not set: reminders run in this process, and only one scheduler may run", err=True)

    def send_reminders() -> None:
        click.echo(json.dumps({"job": "send-reminders", "councils": fan_out_reminders()}))

    def sweep_plugin_calls() -> None:
        fan_out(sweep)

    def poll_advice() -> None:
        # Partners are asked every 15 minutes, not every minute: advice takes weeks to write,
        # and 153 councils polling each partner every minute would be a load for nothing.
        if dt.datetime.now(dt.timezone.utc).minute % 15 == 0:
            fan_out(poll_partner_advice)

    runner = Scheduler([DailyTask("send-reminders", at, send_reminders),
                        DailyTask("refresh-social-care-status", dt.time(5, 30),
                                  lambda: fan_out(refresh_social_care_status)),
                        # No transfer can be silently lost (issue 6): flag late and failed ones.
                        DailyTask("flag-transfers", dt.time(6, 0), lambda: fan_out(flag_transfers))], locks=locks,
                       every_tick=[("sweep-plugin-calls", sweep_plugin_calls), ("poll-partner-advice", poll_advice)])
    if once:
        click.echo(json.dumps({"ran": runner.run_pending(dt.datetime.now(dt.timezone.utc))}))
        return
    click.echo(f"scheduler: reminders daily at {at.strftime('%H:%M')} Europe/London")
    try:
        run_forever(runner)
    except KeyboardInterrupt:
        pass


@click.command("settings")
def show_settings() -> None:
    """Print the effective settings (secrets masked)."""
    settings = current_app.config["SENDBRIDGE_SETTINGS"]
    click.echo(json.dumps(settings.describe(), indent=2))


@click.command("check")
def check() -> None:
    """Check the runtime database role cannot escape row-level security."""
    problems = db_roles.runtime_role_problems(db.engine)  # type: ignore[arg-type]
    for p in problems:
        click.echo(f"problem: {p}", err=True)
    if problems:
        sys.exit(1)
    click.echo("ok: the runtime role is subject to row-level security")


def register_commands(app: Flask) -> None:
    for command in (db_cli, demo_cli, tenants_cli, clients_cli, plugins_cli, maintenance_cli, worker, scheduler, show_settings, check,
                    *idp_commands(app.config["SENDBRIDGE_SETTINGS"])):
        app.cli.add_command(command)
