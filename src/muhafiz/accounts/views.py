"""Sign-in with two factors, password change, and the administrator's pages for people and API
clients. Views stay thin: every write goes through `muhafiz.accounts.actions`."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import segno
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from muhafiz.accounts import actions
from muhafiz.accounts.forms import (
    ApiClientForm,
    CodeForm,
    PasswordChangeForm,
    ReasonForm,
    RequiredReasonForm,
    SignInForm,
    UserEditForm,
    UserForm,
)
from muhafiz.accounts.middleware import EXPIRED_KEY
from muhafiz.accounts.models import ApiClient, User
from muhafiz.core.limits import max_length
from muhafiz.core.permissions import (
    Perm,
    first_factor,
    is_verified_staff,
    public,
    requires,
    signed_in,
    signed_in_pending_password,
)

NEXT_KEY = "muhafiz_next"
USERS_PER_PAGE = 50
# The people search box matches usernames and names (150 is the username column's length).
USER_SEARCH_MAX_LENGTH = max_length(User, "username")


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


def _after_sign_in(request: HttpRequest) -> HttpResponseRedirect:
    if getattr(request.user, "must_change_password", False):
        response = redirect("accounts:password_change")
    else:
        response = HttpResponseRedirect(_safe_next(request, request.session.pop(NEXT_KEY, None)))
    # A choice made in this browser wins; otherwise the person's own language comes back.
    preferred = getattr(request.user, "preferred_language", "")
    if preferred and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            preferred,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


def _no_store(response: HttpResponse) -> HttpResponse:
    """Pages that show a secret once must not be kept by the browser or a proxy."""
    response["Cache-Control"] = "no-store"
    return response


# --- sign-in --------------------------------------------------------------------------------


@public
@sensitive_post_parameters("password")
@never_cache
def login(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next")
    user = request.user
    if user.is_authenticated and user.is_active:
        if is_verified_staff(user):
            return HttpResponseRedirect(_safe_next(request, next_url))
        return redirect("accounts:verify")
    if request.session.pop(EXPIRED_KEY, False):
        messages.warning(request, _("Your session expired after inactivity. Please sign in again."))
    form = SignInForm(request, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        auth_login(request, form.get_user())
        request.session[NEXT_KEY] = _safe_next(request, next_url)
        return redirect("accounts:verify")
    return render(request, "accounts/login.html", {"form": form, "next": next_url or ""})


def _second_factor_failed(request: HttpRequest, user: User) -> bool:
    """Count a wrong code like a wrong password; True when the account is now locked."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.username}, request=request
    )
    if getattr(request, "axes_locked_out", False):
        auth_logout(request)
        return True
    return False


@first_factor
@sensitive_post_parameters("code")
@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of sign-in: a code from the person's authenticator app."""
    user = request.user
    assert isinstance(user, User)
    if request.GET.get("next"):  # sent here from a page while past the password only
        request.session[NEXT_KEY] = _safe_next(request, request.GET["next"])
    if is_verified_staff(user):
        return _after_sign_in(request)
    if not actions.has_two_factor(user):
        return redirect("accounts:enrol")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = actions.verify_second_factor(user, form.cleaned_data["code"], request=request)
        if device is not None:
            request.session.cycle_key()  # a new session id for the fully signed-in session
            otp_login(request, device)
            return _after_sign_in(request)
        if _second_factor_failed(request, user):
            return render(request, "accounts/locked.html", status=429)
        form.add_error(
            "code",
            _(
                "That code is not right, or it has already been used. "
                "Wait for the next code in your app and try again."
            ),
        )
    return render(request, "accounts/verify.html", {"form": form})


def _grouped(secret: str, size: int = 4) -> str:
    return " ".join(secret[i : i + size] for i in range(0, len(secret), size))


@first_factor
@sensitive_post_parameters("code")
@never_cache
def enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in (or after a reset): link an authenticator app by scanning a QR code."""
    user = request.user
    assert isinstance(user, User)
    if is_verified_staff(user):
        return _after_sign_in(request)
    if actions.has_two_factor(user):
        return redirect("accounts:verify")
    device: TOTPDevice = actions.pending_totp_device(user, request=request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if actions.confirm_totp_device(user, device, form.cleaned_data["code"], request=request):
            request.session.cycle_key()
            otp_login(request, device)
            messages.success(request, _("Two-factor sign-in is set up."))
            return _after_sign_in(request)
        form.add_error(
            "code",
            _("That code does not match. Check the time on your phone and try the next code."),
        )
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    qr_code = segno.make(device.config_url, error="m").svg_data_uri(scale=5, border=2)
    context = {"form": form, "qr_code": qr_code, "secret": _grouped(secret)}
    return _no_store(render(request, "accounts/enrol.html", context))


@signed_in_pending_password
@sensitive_post_parameters()
@never_cache
def password_change(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        actions.change_own_password(user, form.cleaned_data["new_password1"], request=request)
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password has been changed."))
        return redirect(settings.LOGIN_REDIRECT_URL)
    return render(
        request,
        "accounts/password_change.html",
        {"form": form, "required": user.must_change_password},
    )


@public
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:login")


# --- the administrator's pages: people --------------------------------------------------------


def _locked_usernames(usernames: list[str]) -> set[str]:
    return set(
        AccessAttempt.objects.filter(
            username__in=usernames, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
        ).values_list("username", flat=True)
    )


@requires(Perm.USER_MANAGE)
def user_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:USER_SEARCH_MAX_LENGTH]
    users = User.objects.select_related("agency", "province", "district").order_by("username")
    if query:
        users = users.filter(
            Q(username__icontains=query)
            | Q(first_name__icontains=query)
            | Q(last_name__icontains=query)
        )
    page = Paginator(users, USERS_PER_PAGE).get_page(request.GET.get("page"))
    names = [u.username for u in page]
    locked = _locked_usernames(names)
    enrolled = set(
        TOTPDevice.objects.filter(user__in=list(page), confirmed=True).values_list(
            "user_id", flat=True
        )
    )
    rows = [
        {"user": u, "locked": u.username in locked, "two_factor": u.pk in enrolled} for u in page
    ]
    return render(
        request,
        "accounts/user_list.html",
        {"rows": rows, "page": page, "q": query, "q_max_length": USER_SEARCH_MAX_LENGTH},
    )


@requires(Perm.USER_MANAGE)
@never_cache
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = request.user
        assert isinstance(actor, User)
        data = form.cleaned_data
        try:
            user, password = actions.create_user(
                actor,
                username=data["username"],
                role=data["role"],
                agency=data["agency"],
                jurisdiction_level=data["jurisdiction_level"],
                province=data.get("province"),
                district=data.get("district"),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
                email=data.get("email", ""),
                phone=data.get("phone", ""),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            context = {"person": user, "password": password, "new": True}
            return _no_store(render(request, "accounts/one_time_password.html", context))
    return render(request, "accounts/user_form.html", {"form": form, "person": None})


@requires(Perm.USER_MANAGE)
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User.objects.select_related("agency", "province", "district"), pk=pk)
    context = {
        "person": person,
        "locked": actions.is_locked(person),
        "two_factor": actions.has_two_factor(person),
        "reason_form": ReasonForm(),
        "is_self": person.pk == request.user.pk,
    }
    return render(request, "accounts/user_detail.html", context)


@requires(Perm.USER_MANAGE)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    person = get_object_or_404(User, pk=pk)
    form = UserEditForm(request.POST or None, instance=User.objects.get(pk=pk))
    if request.method == "POST" and form.is_valid():
        actor = request.user
        assert isinstance(actor, User)
        changes = {name: form.cleaned_data[name] for name in actions.PROFILE_FIELDS}
        try:
            changed = actions.update_user(
                actor, person, changes, reason=form.cleaned_data["reason"], request=request
            )
        except (ValidationError, PermissionDenied) as exc:
            form.add_error(None, exc.messages if isinstance(exc, ValidationError) else str(exc))
        else:
            if changed:
                messages.success(request, _("The account has been updated."))
            else:
                messages.info(request, _("Nothing was changed."))
            return redirect("accounts:user_detail", pk=person.pk)
    return render(request, "accounts/user_form.html", {"form": form, "person": person})


def _deactivate(actor: User, person: User, reason: str, request: HttpRequest) -> HttpResponse:
    actions.deactivate_user(actor, person, reason=reason, request=request)
    messages.success(request, _("The account has been deactivated."))
    return redirect("accounts:user_detail", pk=person.pk)


def _reactivate(actor: User, person: User, reason: str, request: HttpRequest) -> HttpResponse:
    actions.reactivate_user(actor, person, reason=reason, request=request)
    messages.success(request, _("The account has been reactivated."))
    return redirect("accounts:user_detail", pk=person.pk)


def _unlock(actor: User, person: User, reason: str, request: HttpRequest) -> HttpResponse:
    actions.unlock_user(actor, person, reason=reason, request=request)
    messages.success(request, _("The account has been unlocked."))
    return redirect("accounts:user_detail", pk=person.pk)


def _reset_password(actor: User, person: User, reason: str, request: HttpRequest) -> HttpResponse:
    password = actions.reset_password(actor, person, reason=reason, request=request)
    context = {"person": person, "password": password, "new": False}
    return _no_store(render(request, "accounts/one_time_password.html", context))


def _reset_two_factor(actor: User, person: User, reason: str, request: HttpRequest) -> HttpResponse:
    actions.reset_two_factor(actor, person, reason=reason, request=request)
    messages.success(
        request, _("Two-factor sign-in has been reset. A new app is linked at the next sign-in.")
    )
    return redirect("accounts:user_detail", pk=person.pk)


USER_ACTIONS: dict[str, Callable[[User, User, str, HttpRequest], HttpResponse]] = {
    "deactivate": _deactivate,
    "reactivate": _reactivate,
    "unlock": _unlock,
    "reset-password": _reset_password,
    "reset-two-factor": _reset_two_factor,
}


@requires(Perm.USER_MANAGE)
@require_POST
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    handler = USER_ACTIONS.get(action)
    if handler is None:
        raise Http404
    person = get_object_or_404(User, pk=pk)
    form = RequiredReasonForm(request.POST)
    if not form.is_valid():
        for error in form.errors.get("reason", []):
            messages.error(request, str(error))
        return redirect("accounts:user_detail", pk=person.pk)
    actor = request.user
    assert isinstance(actor, User)
    try:
        return handler(actor, person, form.cleaned_data["reason"], request)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("accounts:user_detail", pk=person.pk)


# --- the administrator's pages: API clients ---------------------------------------------------


@requires(Perm.USER_MANAGE)
def client_list(request: HttpRequest) -> HttpResponse:
    clients = ApiClient.objects.select_related("agency", "province", "district")
    return render(request, "accounts/client_list.html", {"clients": clients})


@requires(Perm.USER_MANAGE)
@never_cache
def client_create(request: HttpRequest) -> HttpResponse:
    form = ApiClientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = request.user
        assert isinstance(actor, User)
        data: dict[str, Any] = form.cleaned_data
        try:
            client, token = actions.create_api_client(
                actor,
                name=data["name"],
                agency=data["agency"],
                profile=data["profile"],
                jurisdiction_level=data["jurisdiction_level"],
                province=data.get("province"),
                district=data.get("district"),
                request=request,
            )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            context = {"client": client, "token": token}
            return _no_store(render(request, "accounts/client_token.html", context))
    return render(request, "accounts/client_form.html", {"form": form})


@requires(Perm.USER_MANAGE)
@require_POST
def client_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(ApiClient, pk=pk)
    form = RequiredReasonForm(request.POST)
    actor = request.user
    assert isinstance(actor, User)
    if form.is_valid():
        actions.revoke_api_client(
            actor, client, reason=form.cleaned_data["reason"], request=request
        )
        messages.success(request, _("The API client's token has been revoked."))
    else:
        for error in form.errors.get("reason", []):
            messages.error(request, str(error))
    return redirect("accounts:client_list")


@public
@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch; a signed-in person's choice is also kept for their next visit."""
    response: HttpResponse = django_set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if is_verified_staff(user) and language in dict(settings.LANGUAGES):
        actions.set_preferred_language(user, language, request=request)  # type: ignore[arg-type]
    return response


# --- approving API clients: the second person ---------------------------------------------------


@signed_in
def client_approvals(request: HttpRequest) -> HttpResponse:
    """API clients waiting for an approval this person may give (supervisors, auditors, …)."""
    clients = actions.clients_awaiting(request.user)
    return render(request, "accounts/client_approvals.html", {"clients": clients})


@signed_in
@require_POST
def client_approve(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(ApiClient, pk=pk)
    form = RequiredReasonForm(request.POST)
    if not form.is_valid():
        # An empty or over-long reason is refused, never dropped: the approval waits for one.
        for error in form.errors.get("reason", []):
            messages.error(request, str(error))
        return redirect("accounts:client_approvals")
    try:
        actions.approve_api_client(
            request.user, client, reason=form.cleaned_data["reason"], request=request
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The API client is approved; its token works from now on."))
    return redirect("accounts:client_approvals")
