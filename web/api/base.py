"""The flask-smorest ``Api``, adapted: problem JSON, no app-wide error handler of its own."""

from __future__ import annotations

import http
from typing import Any

import flask_smorest
import marshmallow as ma
from flask import current_app

from web.api.problems import PROBLEM_JSON


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"description": "A URI naming the problem type; stable, match on it."})
    title = ma.fields.String(required=True, metadata={"description": "A short summary of the problem type."})
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(metadata={"description": "What went wrong this time, in plain English."})
    errors = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.List(ma.fields.String()),
        metadata={"description": "For validation problems: each invalid field and its messages."},
    )
    request_id = ma.fields.String(metadata={"description": "Quote this when asking for support."})


class Api(flask_smorest.Api):
    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"

    def _register_responses(self) -> None:
        # flask-smorest documents its stock error responses (UNPROCESSABLE_ENTITY, used for
        # query-string validation, and DEFAULT_ERROR) as application/json; every error we
        # send is application/problem+json, so document them as that.
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)
        self.spec.components.response("DEFAULT_ERROR", {
            "description": "An RFC 9457 problem", "content": {PROBLEM_JSON: {"schema": self.ERROR_SCHEMA}},
        }, lazy=True)

    def _register_error_handlers(self) -> None:
        # The app's own handlers (web.errors) answer problem JSON for the API and GOV.UK pages
        # elsewhere; flask-smorest's app-wide JSON handler would turn every page error into JSON.
        return None


def current_api() -> Api:
    return current_app.extensions["sendbridge_api"]
