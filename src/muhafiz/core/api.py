"""The REST API: one NinjaAPI under /api, versioned routers under /api/v1, one error format.

Principals: staff through their signed-in, two-factor-verified session (with CSRF), and API
clients through `Authorization: Bearer <token>`. Every operation declares its permission with
`@api_requires(...)` (or `@api_signed_in`), checked by the same mechanism as the pages.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer

from muhafiz.core.permissions import SIGNED_IN, Perm, check_perm, is_verified_staff, public

F = TypeVar("F", bound=Callable[..., Any])


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
        from muhafiz.accounts.tokens import client_for_token

        return client_for_token(token)


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
    return _error(api, request, 422, "invalid", message, details=exc.errors)


def _http_error(api: NinjaAPI, request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(api, request, exc.status_code, "error", str(exc))


# The one error format: {"error": {"code", "message", "details"?}}.
ERROR_HANDLERS: dict[type[Exception], Callable[..., HttpResponse]] = {
    PermissionDenied: _denied,
    AuthenticationError: _unauthenticated,
    Http404: _not_found,
    ValidationError: _invalid,
    NinjaValidationError: _schema_invalid,
    HttpError: _http_error,
}


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


def _gate_operation(operation: Any) -> None:
    if getattr(operation, "_muhafiz_gated", False):
        return
    rule = getattr(operation.view_func, "access_rule", None)
    if not isinstance(rule, tuple):
        return
    authenticate_and_throttle = operation._run_checks

    def run_checks(request: HttpRequest) -> HttpResponse | None:
        error: HttpResponse | None = authenticate_and_throttle(request)
        if error is not None:
            return error
        try:
            for perm in rule:
                check_perm(request.auth, perm)  # type: ignore[attr-defined]
        except PermissionDenied as exc:
            response: HttpResponse = operation.api.on_exception(request, exc)
            return response
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
                check_perm(request.auth, perm)  # type: ignore[attr-defined]
            return func(request, *args, **kwargs)

        wrapper.access_rule = tuple(perms)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def api_signed_in(func: F) -> F:
    """Any authenticated principal (the operation checks objects itself)."""
    func.access_rule = SIGNED_IN  # type: ignore[attr-defined]
    return func
