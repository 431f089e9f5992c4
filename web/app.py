"""The application factory (STYLE.md section 2): one ordered block, no import-time work."""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import uuid
from pathlib import Path
from typing import Any

import click
from flask import Flask, Response, abort, g, request, send_from_directory
from flask.globals import request_ctx
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from werkzeug.middleware.proxy_fix import ProxyFix

import core.models  # noqa: F401  (complete mapper registry before first use)
import tenants.models  # noqa: F401
from core import db_roles
from core.actors import Actor
from core.audit.services import reset_audit_context, set_audit_context
from core.config import Settings, SettingsError, load_settings
from core.crypto import configure_crypto
from core.mail import configure_mail
from core.db import db, derive_urls, utcnow
from core.jobs import configure_jobs
from core.plugins.manager import load_plugins
from core.logs import bind_log_context, configure_logging, reset_log_context
from core.storage import LocalStorage, S3Storage, configure_storage
from core.permissions import permissions_for_role
from core.tenancy import enter_tenant, exit_tenant
from core.users.sessions import resume
from tenants.resolution import resolve_tenant
from web import errors, security
from web.api.base import Api
from web.extensions import csrf, limiter
from web.middleware import PATH_SLUG_KEY, TenantPathMiddleware

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# Endpoints that never need a tenant, a user or the database (the deadline calculator is
# public and stores nothing: on any host it must not touch the database at all).
_STATIC_ENDPOINTS = frozenset({"static", "govuk_assets", "govuk_dist", "public.healthz", "timescales_api.calculate"})


def rate_limit_config(settings: Settings) -> dict[str, Any]:
    """flask-limiter's settings. With Redis down the limits fall back to each process's memory
    (looser, never off) rather than failing every rate-limited page: pages keep serving while
    Redis is away (issue #5 item 7), and go back to the shared counts when it returns."""
    return {
        "RATELIMIT_STORAGE_URI": settings.redis_url or "memory://",
        "RATELIMIT_STRATEGY": "moving-window",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    }


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build the app. ``settings`` (tests) or the environment plus ``overrides``.

    Outside tests a settings problem ends the process with the list of problems, no traceback.
    """
    if settings is None:
        try:
            settings = load_settings(**overrides)
        except SettingsError as exc:
            raise SystemExit(str(exc)) from None

    # 1. config
    app = Flask(__name__, template_folder=str(HERE / "templates"), static_folder=str(HERE / "static"))
    app.config.update(
        SENDBRIDGE_SETTINGS=settings,
        SECRET_KEY=settings.secret_key,
        TESTING=settings.env == "test",
        # The __Host- prefix pins the cookie to this exact host, HTTPS-only, path /: one
        # council's subdomain can never set or read another's session cookie.
        SESSION_COOKIE_NAME="__Host-sendbridge",
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_DOMAIN=None,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=settings.session_absolute_hours),
        # CSRF tokens live as long as the sign-in session they belong to.
        WTF_CSRF_TIME_LIMIT=settings.session_absolute_hours * 3600,
        # Uploads (documents.MAX_BYTES plus the form around them); API JSON bodies have their
        # own, smaller limit (web.api.body).
        MAX_CONTENT_LENGTH=21 * 1024 * 1024,
        JSON_SORT_KEYS=False,
        **rate_limit_config(settings),
        API_TITLE="Sendbridge API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )

    # 2. logging
    configure_logging(settings.log_level)

    # 3. database and jobs
    urls = derive_urls(settings.database_url, settings.secret_key)
    db.configure(urls)
    configure_jobs(settings.redis_url)
    configure_crypto(settings.secret_key)
    configure_mail(settings.mail_url or f"file://{settings.var_dir / 'mail'}", settings.mail_from)
    # Documents: S3 with SSE-KMS when configured (required in production), else a local folder.
    configure_storage(S3Storage(settings.s3_bucket, kms_key_id=settings.s3_kms_key_id or "", region=settings.s3_region,
                                endpoint_url=settings.s3_endpoint_url, path_style=settings.s3_path_style)
                      if settings.s3_bucket else LocalStorage(settings.var_dir / "documents"))

    # 4. WSGI middleware: proxies first (they fix the host), then the /t/<slug>/ prefix.
    app.wsgi_app = TenantPathMiddleware(app.wsgi_app)  # type: ignore[method-assign]
    if settings.proxy_count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_count, x_proto=settings.proxy_count,  # type: ignore[method-assign]
                                x_host=settings.proxy_count)

    # 5. templates: ours first, then GOV.UK Frontend's macros under their own prefix.
    app.jinja_loader = ChoiceLoader([
        FileSystemLoader(str(HERE / "templates")),
        PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
    ])
    app.jinja_env.globals["csp_nonce"] = security.csp_nonce

    # 6. extensions (CSRF before blueprints, so every form view is protected)
    csrf.init_app(app)
    limiter.init_app(app)
    from web.api.oauth import init_oauth

    init_oauth(app)
    api = Api()
    app.extensions["sendbridge_api"] = api
    api.init_app(app, spec_kwargs={
        "info": {"description": "The Sendbridge public API, version 1. See /api/v1/docs."},
        "servers": [{"url": "/"}],
    })

    # 7. request lifecycle: request id and tenant before anything touches the database.
    _register_request_hooks(app)

    # 8. blueprints
    from web.api.cases.routes import blp as cases_api
    from web.api.children.routes import blp as children_api
    from web.api.docs import bp as api_docs
    from web.api.oauth import bp as oauth_bp
    from web.api.plans.routes import blp as plans_api
    from web.api.timescales import blp as timescales_api
    from web.ui.auth import bp as auth_bp
    from web.ui.calculator import bp as calculator_ui
    from web.ui.cases import bp as cases_ui
    from web.ui.children import bp as children_ui
    from web.ui.plans import bp as plans_ui
    from web.ui.public import bp as public_bp
    from web.ui.portal.advice import bp as portal_advice
    from web.ui.portal.family import bp as portal_family
    from web.ui.portal.school import bp as portal_school
    from web.ui.portal.sign_in import bp as portal_bp
    from web.ui.operator import bp as operator_bp
    from web.ui.reauth import bp as reauth_bp
    from web.ui.access import bp as access_ui
    from web.ui.integrations import bp as integrations_ui
    from web.ui.sen import bp as sen_ui
    from web.ui.circumstances import bp as circumstances_ui
    from web.api.circumstances.routes import blp as circumstances_api
    from web.api.transfers.routes import blp as transfers_api
    from web.api.disagreements.routes import blp as disagreements_api
    from web.ui.reviews import bp as reviews_ui
    from web.ui.sso import bp as sso_bp

    # flask-smorest registers ERROR_SCHEMA (ProblemSchema) as the "Problem" component.
    api.spec.components.response("PROBLEM", {
        "description": "An RFC 9457 problem",
        "content": {"application/problem+json": {"schema": "Problem"}},
    })
    for api_blueprint in (children_api, cases_api, plans_api, timescales_api, circumstances_api, transfers_api,
                          disagreements_api):
        api.register_blueprint(api_blueprint)
        csrf.exempt(api_blueprint)  # bearer tokens, not cookies: no cross-site request to forge
    api.spec.components.security_scheme("oauth2", {
        "type": "oauth2",
        "flows": {"clientCredentials": {"tokenUrl": "/oauth/token", "scopes": _scope_docs()}},
    })
    for bp in (public_bp, auth_bp, children_ui, cases_ui, plans_ui, reviews_ui, calculator_ui, oauth_bp, api_docs,
               portal_bp, portal_family, portal_school, portal_advice, reauth_bp, sso_bp, operator_bp):
        app.register_blueprint(bp)
    app.register_blueprint(access_ui)  # staff pages for portal access and submissions (issue #4)
    app.register_blueprint(integrations_ui)  # the council's plugins and failed partner calls (issue #5)
    app.register_blueprint(sen_ui)  # SEN register: CTF import and export (issue #5)
    app.register_blueprint(circumstances_ui)  # a child's specific circumstances, CoP ch.10 (issue 6)
    from web.ui.disagreements import bp as disagreements_ui
    from web.ui.letters import bp as letters_ui
    app.register_blueprint(letters_ui)  # decision letters with appeal rights, and their template (issue 6)
    app.register_blueprint(disagreements_ui)  # mediation, appeals, DR, complaints; the workbench (issue 6)
    from web.ui.transfers import bp as transfers_ui
    app.register_blueprint(transfers_ui)  # plans moving between councils: inbox, start, complete (issue 6)
    from web.ui.transfer_packages import bp as transfer_packages_ui
    app.register_blueprint(transfer_packages_ui)  # transfer packages to/from councils not on the platform (issue 6)
    csrf.exempt(oauth_bp)
    _register_assets(app, settings)

    # 9. errors
    errors.register(app)

    # 10. plugins: the installed ones (or those PLUGINS names; none in SAFE_MODE), checked
    # against the hook specs; each council enables its own (core/plugins).
    load_plugins(safe_mode=settings.safe_mode, only=settings.plugins)

    # 11. command line
    from web.cli import register_commands

    register_commands(app)

    # 12. production start-up checks: refuse to serve with an unsafe database role.
    if settings.is_production and not _running_maintenance_command():
        problems = db_roles.runtime_role_problems(db.engine)  # type: ignore[arg-type]
        if problems:
            raise SystemExit("Sendbridge refuses to start in production:\n" + "\n".join(f"  - {p}" for p in problems))
    return app


def _scope_docs() -> dict[str, str]:
    from core.permissions import SCOPES

    return {s: f"{s.split(':')[1].capitalize()} access to {s.split(':')[0]}" for s in sorted(SCOPES)}


def _running_maintenance_command() -> bool:
    """True while ``flask db ...`` and other operator commands load the app: they run as the
    owner role and are what creates the runtime role, so its check cannot apply to them."""
    ctx = click.get_current_context(silent=True)
    while ctx is not None:
        if ctx.info_name in ("db", "tenants", "clients", "demo", "settings", "maintenance", "idp", "operators"):
            return True
        ctx = ctx.parent
    return False


def _register_assets(app: Flask, settings: Settings) -> None:
    dist = settings.frontend_dist
    if not (dist / "govuk-frontend.min.css").exists():
        log.warning("GOV.UK Frontend not found at %s: run `npm ci` (make run does)", dist)

    # The compiled GOV.UK CSS refers to /assets/fonts and /assets/images (RECIPES.md section 6).
    @app.get("/assets/<path:filename>", endpoint="govuk_assets")
    def govuk_assets(filename: str) -> Response:
        return send_from_directory(dist / "assets", filename, max_age=86400)

    @app.get("/govuk-frontend/<path:filename>", endpoint="govuk_dist")
    def govuk_dist(filename: str) -> Response:
        if filename not in ("govuk-frontend.min.css", "govuk-frontend.min.js"):
            abort(404)
        return send_from_directory(dist, filename, max_age=3600)


def _register_request_hooks(app: Flask) -> None:
    settings: Settings = app.config["SENDBRIDGE_SETTINGS"]

    @app.before_request
    def _begin() -> None:
        supplied = request.headers.get("X-Request-ID", "")
        g.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        g.is_api = request.path.startswith(("/api/", "/oauth/"))
        g._log_token = bind_log_context(request_id=g.request_id)
        g._audit_token = set_audit_context("api" if g.is_api else "ui", g.request_id)
        if request.endpoint in _STATIC_ENDPOINTS:
            return
        path_slug = request.environ.get(PATH_SLUG_KEY)
        if path_slug == "":
            _leave_tenant_path(app)
            abort(404)
        requested, tenant = resolve_tenant(request.host, settings.base_domain, path_slug)
        if requested and tenant is None:
            # Unknown and disabled councils look exactly alike, and the error page links to
            # the platform, not into a council that is not there.
            _leave_tenant_path(app)
            abort(404)
        g.tenant = tenant
        if tenant is not None:
            g._tenant_token = enter_tenant(tenant.id)
            if not g.is_api:
                _load_signed_in_user(app, tenant.id)

    @app.after_request
    def _finish(response: Response) -> Response:
        # The request boundary: commit what the view did (including audit rows of reads), or
        # roll back anything a failed request may have started. Services never commit.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return security.set_security_headers(response)

    @app.teardown_request
    def _teardown(exc: BaseException | None) -> None:
        try:
            db.session.remove()
        finally:
            for name, reset in (("_tenant_token", exit_tenant), ("_audit_token", reset_audit_context),
                                ("_log_token", reset_log_context)):
                token = g.pop(name, None)
                if token is not None:
                    reset(token)


def _leave_tenant_path(app: Flask) -> None:
    """Build this response's links without the ``/t/<slug>`` prefix (see TenantPathMiddleware)."""
    if request.environ.get(PATH_SLUG_KEY) is not None:
        request.environ["SCRIPT_NAME"] = ""
        request_ctx.url_adapter = app.create_url_adapter(request)


def _load_signed_in_user(app: Flask, tenant_id: uuid.UUID) -> None:
    """Who is signed in to this council: a member of staff (``g.user``), or a person from
    outside it with memberships here (``g.identity``: SENCO, family, professional, or an
    operator). Either way ``g.actor`` carries their permissions and, for outsiders, the scope
    their memberships grant."""
    from core.identity.models import Identity
    from core.identity.services import actor_for_identity

    session_id = security.session_id_for(str(tenant_id))
    if session_id is None:
        return
    settings: Settings = app.config["SENDBRIDGE_SETTINGS"]
    # Looked up inside this council (the ORM criterion and RLS both apply), so a session id
    # copied from another council's entry finds nothing (STYLE.md section 3, layer 1).
    found, ended = resume(session_id, idle=dt.timedelta(minutes=settings.session_idle_minutes),
                          absolute=dt.timedelta(hours=settings.session_absolute_hours))
    actor = None
    if found is not None and found.user is not None and found.user.tenant_id == tenant_id:
        user = found.user
        g.user = user
        actor = Actor(tenant_id=tenant_id, kind="user", id=str(user.id), permissions=permissions_for_role(user.role),
                      display_name=user.display_name, identity_id=user.identity_id)
    elif found is not None and found.identity_id is not None:
        identity = db.session.get(Identity, found.identity_id)
        actor = actor_for_identity(identity) if identity is not None else None
        if actor is None:  # every membership here has ended (revoked, expired, advice returned)
            found.session.ended_at, found.session.ended_reason = utcnow(), "no_access"
            ended = "no_access"
        else:
            g.identity = identity
    if actor is None:
        security.forget_session(str(tenant_id))
        g.session_ended = ended if ended in ("idle", "absolute", "no_access") else None
        return
    g.user_session = found.session if found else None
    g.user_session_id = session_id
    g.actor = actor


def main() -> None:  # pragma: no cover - convenience for `python -m web.app`
    create_app().run()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
