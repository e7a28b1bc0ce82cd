"""The REST API: one NinjaAPI under /api, versioned routers under /api/v1, one error format.

Principals: staff through their signed-in, two-factor-verified session (with CSRF), and API
clients through `Authorization: Bearer <token>`. Every operation declares its permission with
`@api_requires(...)` (or `@api_signed_in`), checked by the same mechanism as the pages.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial, wraps
from typing import Any, TypeVar

from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer

from muhafiz.core.hooks import Hook
from muhafiz.core.permissions import (
    PUBLIC,
    SIGNED_IN,
    Perm,
    check_role_grants,
    is_verified_staff,
    public,
)

F = TypeVar("F", bound=Callable[..., Any])
# The largest offset a list accepts: past any real list, and within every database's integers.
MAX_OFFSET = 1_000_000_000
logger = logging.getLogger("django.request")

# Accounts owns API clients and connects its lookup here in `ready()`; with no receiver every
# token is refused.
api_token_lookup = Hook(
    "core.api_token_lookup",
    "a bearer token arrived on the API: (token: str, request: HttpRequest) -> the API client it "
    "belongs to, or None.",
)


class SessionAuth(APIKeyHeader):
    """A signed-in staff member's browser session, past two-factor, with a CSRF token."""

    param_name = "X-CSRFToken"

    def __init__(self) -> None:
        super().__init__()
        self.csrf = True

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if is_verified_staff(user) and not getattr(user, "must_change_password", False):
            from ninja.utils import check_csrf

            error = check_csrf(request)
            if error:
                return None
            return user
        return None

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:  # pragma: no cover
        return None


class TokenAuth(HttpBearer):
    """An API client's bearer token, looked up by its SHA-256; the token itself is never stored."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        for principal in api_token_lookup.send(token, request):
            if principal is not None:
                return principal
        return None


def _error(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    *,
    details: Any = None,
) -> HttpResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if details is not None:
        body["error"]["details"] = details
    return api.create_response(request, body, status=status)


def _denied(api: NinjaAPI, request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(api, request, 403, "forbidden", "You do not have the right to do this.")


def _unauthenticated(api: NinjaAPI, request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(api, request, 401, "unauthenticated", "Sign in or send a valid API token.")


def _not_found(api: NinjaAPI, request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(api, request, 404, "not_found", "Not found.")


def _invalid(api: NinjaAPI, request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return _error(api, request, 400, "invalid", "The request is not valid.", details=details)


def _schema_invalid(api: NinjaAPI, request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    message = "The request does not match the schema."
    return _error(api, request, 400, "invalid", message, details=exc.errors)


def _out_of_range(api: NinjaAPI, request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # A number past what the database stores (SQLite: 64 bits) in a path or query parameter.
    return _error(api, request, 400, "invalid", "A number in the request is out of range.")


def _http_error(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(api, request, exc.status_code, "error", str(exc))


def _bad_request(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, RequestDataTooBig):
        return _error(api, request, 413, "too_large", "The request body is too large.")
    return _error(api, request, 400, "bad_request", "The request could not be read.")


def _server_error(api: NinjaAPI, request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged with its traceback for the operator; the caller gets the one format, no traceback.
    logger.error("Internal Server Error: %s", request.path, exc_info=exc)
    return _error(api, request, 500, "server_error", "Something went wrong on the server.")


# The one error format: {"error": {"code", "message", "details"?}}.
ERROR_HANDLERS: dict[type[Exception], Callable[..., HttpResponse]] = {
    PermissionDenied: _denied,
    AuthenticationError: _unauthenticated,
    Http404: _not_found,
    ValidationError: _invalid,
    NinjaValidationError: _schema_invalid,
    HttpError: _http_error,
    # A body Django cannot read (a multipart body without a boundary, too many fields).
    MultiPartParserError: _bad_request,
    SuspiciousOperation: _bad_request,
    OverflowError: _out_of_range,
    Exception: _server_error,
}


class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    """The one error format of every 4xx answer."""

    error: ErrorDetail


# The 4xx answers any operation may give, declared in the OpenAPI document so that clients and
# fuzzers know them. 404 is also the answer for an object the caller may not know exists.
ERROR_RESPONSES: dict[str, str] = {
    "400": "The request is not valid, or does not match the schema (the details say which "
    "field and why).",
    "401": "Not signed in (with two-factor and a CSRF token), or no valid API token.",
    "403": "The caller's role or jurisdiction does not give the right to do this.",
    "404": "Not found, or not the caller's to know about.",
    "409": "The request conflicts with the object's current state.",
    "413": "The upload is larger than this installation accepts.",
    "429": "Too many requests; try again later.",
}


def _declare_errors(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorOut"] = error_schema
    reference = {"$ref": "#/components/schemas/ErrorOut"}
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            for code, description in ERROR_RESPONSES.items():
                responses.setdefault(
                    code,
                    {
                        "description": description,
                        "content": {"application/json": {"schema": reference}},
                    },
                )


class MuhafizAPI(NinjaAPI):
    """NinjaAPI that checks an operation's declared permissions right after authentication.

    Ninja parses and validates the request (path, query, body) before it calls the view, so a
    check inside the view would let a caller without the right learn from validation errors
    that an operation exists and what it expects. Gating each bound operation's checks makes
    the answer to such a caller 403 whatever they send.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for exc_class, handler in ERROR_HANDLERS.items():
            self.add_exception_handler(exc_class, partial(handler, self))

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        document = super().get_openapi_schema(**kwargs)
        _declare_errors(document)
        return document

    def _get_urls(self) -> list[Any]:
        patterns: list[Any] = super()._get_urls()
        for pattern in patterns:
            # Ninja's root URL only answers 404; it exists so Ninja can reverse its own paths.
            if getattr(pattern, "name", None) == "api-root":
                public(pattern.callback)
        return patterns

    def _get_bound_routers(self) -> list[Any]:
        routers: list[Any] = super()._get_bound_routers()
        for bound in routers:
            for path_view in bound.path_operations.values():
                for operation in path_view.operations:
                    _gate_operation(operation)
        return routers


def _takes_json_body(operation: Any) -> bool:
    from ninja.params.models import BodyModel, _MultiPartBodyModel

    return any(
        issubclass(model, BodyModel) and not issubclass(model, _MultiPartBodyModel)
        for model in operation.models
    )


def _body_is_not_an_object(request: HttpRequest) -> bool:
    """True when a JSON body was sent that is not an object (`5`, `[]`, `null`, `"x"`).

    Ninja would read such a body as `{}`, and an operation whose fields all have defaults would
    then run with none given: a replaced identity blanked, an empty victim created.
    """
    if not request.body:
        return False
    try:
        data = json.loads(request.body)
    except ValueError:
        return False  # ninja answers 400 for a body that is not JSON
    return not isinstance(data, dict)


def _gate_operation(operation: Any) -> None:
    """Run the operation's declared permissions right after authentication, then check that a
    JSON body is an object, all before ninja parses the request."""
    if getattr(operation, "_muhafiz_gated", False):
        return
    rule = getattr(operation.view_func, "access_rule", None)
    perms = rule if isinstance(rule, tuple) else ()
    json_body = _takes_json_body(operation)
    authenticate_and_throttle = operation._run_checks

    def run_checks(request: HttpRequest) -> HttpResponse | None:
        error: HttpResponse | None = authenticate_and_throttle(request)
        if error is not None:
            return error
        try:
            for perm in perms:
                check_role_grants(request.auth, perm)  # type: ignore[attr-defined]
        except PermissionDenied as exc:
            response: HttpResponse = operation.api.on_exception(request, exc)
            return response
        if json_body and _body_is_not_an_object(request):
            return _error(
                operation.api, request, 400, "invalid", "The request body must be a JSON object."
            )
        return None

    operation._run_checks = run_checks
    operation._muhafiz_gated = True


api = MuhafizAPI(
    title="Muhafiz API",
    version="1",
    description=(
        "Case database, triage, banks and register of Muhafiz. "
        "Every call is permission-checked and audited."
    ),
    auth=[SessionAuth(), TokenAuth()],
    docs_url="/docs",
    # The API's description holds no data; it is as public as the source code.
    docs_decorator=public,
    openapi_url="/openapi.json",
    urls_namespace="api",
)


def api_requires(*perms: Perm) -> Callable[[F], F]:
    """Declare and enforce the role permissions an API operation needs.

    Checked before the request is parsed (see `MuhafizAPI`) and again inside the handler.
    """
    if not perms:
        raise ValueError("api_requires() needs at least one permission; use api_signed_in")

    def decorate(func: F) -> F:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            for perm in perms:
                check_role_grants(request.auth, perm)  # type: ignore[attr-defined]
            return func(request, *args, **kwargs)

        wrapper.access_rule = tuple(perms)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def api_signed_in(func: F) -> F:
    """Any authenticated principal (the operation checks objects itself)."""
    func.access_rule = SIGNED_IN  # type: ignore[attr-defined]
    return func


def api_public(func: F) -> F:
    """Anyone, signed in or not; the operation is declared with `auth=None` (the published
    statistics, as public as the dashboard's open-data files)."""
    func.access_rule = PUBLIC  # type: ignore[attr-defined]
    return func
