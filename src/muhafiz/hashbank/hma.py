"""Meta Hasher-Matcher-Actioner (HMA) compatible routes, so HMA's existing clients work.

Same paths, parameter names and response shapes as HMA's OpenMediaMatch blueprints:

    GET  /h/hash            HMA fetches `url`; Muhafiz is offline, so this answers 400 and says
                            to POST the file instead
    POST /h/hash            multipart upload, field `photo` (or `file`) -> {"pdq": hex, "md5": …}
    GET  /m/raw_lookup      signal, signal_type[, include_distance, banks]
                            -> {"matches": [id]} or {"matches": [{"bank_content_id", "distance"}]}
    GET  /m/lookup          signal, signal_type[, banks] -> {"BANK": [{"bank_content_id",
                            "distance"}]} (`url` refused, as above)
    POST /m/lookup          multipart upload -> {"pdq": {"BANK": […]}, "md5": {…}, …}
    GET  /m/index/status    {"pdq": {"present", "built_to", "size"}, …}
    GET  /c/banks           [{"name", "matching_enabled_ratio"}]
    GET  /c/bank/<name>     {"name", "matching_enabled_ratio"}
    GET  /c/bank/<name>/content/<id>[?include_signals=true]   the entry behind a match

Errors are HMA's `{"message": …}`. A bank content id is the Muhafiz bank entry id. Shapes
follow HMA's current OpenMediaMatch (the flask-openapi3 blueprints). Access: a
bearer token of an API client (Authorization: Bearer …) or a signed-in staff session, with
the same permissions as /api/v1 (hash.match to hash and match, bank.view to list banks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from muhafiz.banks.index.pdq import MIN_PDQ_QUALITY
from muhafiz.banks.model import HashKind
from muhafiz.core.permissions import Perm, has_perm
from muhafiz.hashbank import actions
from muhafiz.hashbank.hashing import ContentHashes, ImageError, hash_image
from muhafiz.hashbank.index import current_index
from muhafiz.hashbank.matching import EntryMatch, QueryError, match_hashes, parse_query
from muhafiz.hashbank.models import Bank, BankEntry
from muhafiz.hashbank.uploads import (
    UploadTooLargeError,
    check_not_too_large,
    limit_upload,
    upload_limit,
)

View = Callable[..., HttpResponse]

SIGNAL_TYPES = {"pdq": HashKind.PDQ, "md5": HashKind.MD5, "sha1": HashKind.SHA1}
SIGNAL_TYPES["sha256"] = HashKind.SHA256
PHOTO_FIELDS = ("photo", "file")
OFFLINE = (
    "Muhafiz runs without outside network access and does not fetch URLs. "
    "POST the file to /h/hash (or /m/lookup) as multipart/form-data in a field named 'photo'."
)


class HmaError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"message": message}, status=status)


class CsrfRefusedError(Exception):
    """A signed-in session sent a POST without a valid CSRF token."""


def _principal(request: HttpRequest) -> Any:
    header = str(request.META.get("HTTP_AUTHORIZATION", ""))
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        from muhafiz.accounts.tokens import client_for_token

        return client_for_token(token.strip())
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_verified():
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            reason = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(
                request, _no_view, (), {}
            )
            if reason is not None:
                raise CsrfRefusedError
        return user
    return None


def _no_view(request: HttpRequest) -> HttpResponse:  # pragma: no cover - CSRF check callback
    return HttpResponse()


def hma_requires(perm: Perm, *methods: str) -> Callable[[View], View]:
    """Declare and enforce an HMA route's permission, HMA-style JSON errors included."""

    def decorate(view: View) -> View:
        @csrf_exempt  # session callers are CSRF-checked in _principal; token callers need none
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                return _error(405, f"method {request.method} not allowed")
            if request.method == "POST":
                # Before anything reads the body (the CSRF check of a session does).
                try:
                    limit_upload(request)
                except UploadTooLargeError as exc:
                    return _error(413, str(exc))
            try:
                principal = _principal(request)
            except CsrfRefusedError:
                return _error(403, "CSRF token missing or incorrect.")
            if principal is None:
                return _error(401, "Sign in or send a valid API token (Authorization: Bearer).")
            if not has_perm(principal, perm):
                return _error(403, "You do not have the right to do this.")
            request.principal = principal  # type: ignore[attr-defined]
            try:
                return view(request, *args, **kwargs)
            except HmaError as exc:
                return _error(exc.status, exc.message)

        wrapper.access_rule = (perm,)  # type: ignore[attr-defined]
        return wrapper

    return decorate


# --- hashing ----------------------------------------------------------------------------------


def _hash_upload(request: HttpRequest) -> ContentHashes:
    limit = upload_limit()
    files = request.FILES
    try:
        check_not_too_large(request)
    except UploadTooLargeError as exc:
        raise HmaError(413, str(exc)) from exc
    if not files:
        raise HmaError(400, "Missing multipart/form-data file upload")
    if len(request.FILES) > 1 or any(len(request.FILES.getlist(k)) > 1 for k in request.FILES):
        raise HmaError(400, "Only one file allowed per request")
    field = next(iter(request.FILES))
    if field == "video":
        raise HmaError(400, "content_type video is disabled: this server hashes photos only")
    if field not in PHOTO_FIELDS:
        raise HmaError(400, f"no such content_type: '{field}'")
    upload = request.FILES.get(field)
    if not isinstance(upload, UploadedFile):
        raise HmaError(400, "Missing multipart/form-data file upload")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise HmaError(413, str(UploadTooLargeError(upload.size, limit)))
    try:
        return hash_image(data)
    except ImageError as exc:
        raise HmaError(400, str(exc)) from exc


def _wanted_types(types: str | None) -> list[str]:
    """HMA's `types` parameter: a comma-separated selection of signal types (default: all)."""
    if types is None:
        return list(SIGNAL_TYPES)
    wanted = [t.strip() for t in types.split(",") if t.strip()]
    for name in wanted:
        if name not in SIGNAL_TYPES:
            raise HmaError(400, f"signal type '{name}' doesn't exist or is disabled")
    if not wanted:
        raise HmaError(400, "empty signal type selection")
    return wanted


def _signals(hashes: ContentHashes, wanted: list[str]) -> dict[str, str]:
    signals = {"pdq": hashes.pdq, "md5": hashes.md5, "sha1": hashes.sha1}
    signals["sha256"] = hashes.sha256
    if hashes.pdq_quality is not None and hashes.pdq_quality < MIN_PDQ_QUALITY:
        signals["pdq"] = None  # too little information to match on (formats.md)
    return {name: value for name, value in signals.items() if value and name in wanted}


@hma_requires(Perm.HASH_MATCH, "GET", "POST")
def hash_media(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        if request.GET.get("url") is None:
            raise HmaError(400, "url is required; " + OFFLINE)
        raise HmaError(400, OFFLINE)
    wanted = _wanted_types(request.GET.get("types"))
    signals = _signals(_hash_upload(request), wanted)
    actions.record_request(
        request.principal,  # type: ignore[attr-defined]
        action="bank.hash",
        endpoint="hma.hash",
        queried=1,
        matched=0,
        request=request,
    )
    return JsonResponse(signals)


# --- matching ---------------------------------------------------------------------------------


def _require(request: HttpRequest, name: str) -> str:
    value = request.GET.get(name)
    if value is None:
        raise HmaError(400, f"{name} is required")
    return value


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1"):
        return True
    if text.lower() in ("false", "0"):
        return False
    raise HmaError(400, "invalid boolean parameter - prefer true/false")


def _banks_param(request: HttpRequest) -> list[str]:
    """HMA's optional `banks`: a comma-separated list of bank names to restrict matching to."""
    text = request.GET.get("banks")
    return [name for name in (text or "").split(",") if name]


def _lookup(signal: str, signal_type: str, banks: list[str]) -> list[EntryMatch]:
    kind = SIGNAL_TYPES.get(signal_type)
    if kind is None:
        raise HmaError(400, f"No such SignalType '{signal_type}'")
    try:
        queries = parse_query(signal, kind.value)
    except QueryError as exc:
        raise HmaError(400, f"invalid signal: {exc}") from exc
    return match_hashes(queries, banks=banks).results[0]


def _audit_lookup(
    request: HttpRequest, endpoint: str, queried: int, found: list[EntryMatch]
) -> None:
    actions.record_request(
        request.principal,  # type: ignore[attr-defined]
        action="bank.match",
        endpoint=endpoint,
        queried=queried,
        matched=1 if found else 0,
        banks=sorted({m.entry.bank.name for m in found}),
        request=request,
    )


def _with_distance(found: EntryMatch) -> dict[str, Any]:
    # HMA prints distances with the signal type's pretty_str: a string.
    return {"bank_content_id": found.entry.pk, "distance": str(found.distance)}


@hma_requires(Perm.HASH_MATCH, "GET")
def raw_lookup(request: HttpRequest) -> HttpResponse:
    signal = _require(request, "signal")
    signal_type = _require(request, "signal_type")
    include_distance = _bool(request.GET.get("include_distance", "false"))
    found = _lookup(signal, signal_type, _banks_param(request))
    _audit_lookup(request, "hma.raw_lookup", 1, found)
    if include_distance:
        return JsonResponse({"matches": [_with_distance(m) for m in found]})
    return JsonResponse({"matches": [m.entry.pk for m in found]})


def _by_bank(found: list[EntryMatch]) -> dict[str, list[dict[str, Any]]]:
    """HMA's lookup answer for one signal: bank name -> its matching contents and distances."""
    result: dict[str, list[dict[str, Any]]] = {}
    for match in found:
        result.setdefault(match.entry.bank.name, []).append(_with_distance(match))
    return result


@hma_requires(Perm.HASH_MATCH, "GET", "POST")
def lookup(request: HttpRequest) -> HttpResponse:
    # HMA's `seed` and `bypass_coinflip` pick banks by a matching ratio; Muhafiz banks are
    # either enabled (ratio 1) or not (0), so both parameters are accepted and change nothing.
    banks = _banks_param(request)
    if request.method == "POST":
        wanted = _wanted_types(request.GET.get("types"))
        signals = _signals(_hash_upload(request), wanted)
        response: dict[str, dict[str, list[dict[str, Any]]]] = {}
        everything: list[EntryMatch] = []
        for signal_type, signal in signals.items():
            found = _lookup(signal, signal_type, banks)
            everything.extend(found)
            response[signal_type] = _by_bank(found)
        _audit_lookup(request, "hma.lookup", 1, everything)
        return JsonResponse(response)
    if request.GET.get("url"):
        raise HmaError(400, OFFLINE)
    query_signal = request.GET.get("signal")
    query_type = request.GET.get("signal_type")
    if not query_signal or not query_type:
        raise HmaError(400, "Either url or both signal and signal_type are required")
    found = _lookup(query_signal, query_type, banks)
    _audit_lookup(request, "hma.lookup", 1, found)
    return JsonResponse(_by_bank(found))


@hma_requires(Perm.HASH_MATCH, "GET")
def index_status(request: HttpRequest) -> HttpResponse:
    """HMA's `/m/index/status`: per signal type, whether an index is present, built to when
    (Unix seconds) and how many hashes it holds (this server keeps one index for all types)."""
    index = current_index()
    names = list(SIGNAL_TYPES)
    limit_to = request.GET.get("signal_type")
    if limit_to is not None:
        if limit_to not in SIGNAL_TYPES:
            raise HmaError(400, f"No such signal type '{limit_to}'")
        names = [limit_to]
    status: dict[str, dict[str, Any]] = {}
    for name in names:
        if index is None:
            status[name] = {"present": False, "built_to": -1, "size": 0}
            continue
        built = dt.datetime.fromisoformat(index.built_at) if index.built_at else None
        status[name] = {
            "present": True,
            "built_to": int(built.timestamp()) if built else -1,
            "size": int(index.counts.get("entries", 0)),
        }
    return JsonResponse(status)


# --- curation (read-only) ------------------------------------------------------------------------


def _bank_config(bank: Bank) -> dict[str, Any]:
    return {"name": bank.name, "matching_enabled_ratio": 1.0 if bank.enabled else 0.0}


@hma_requires(Perm.BANK_VIEW, "GET")
def banks_index(request: HttpRequest) -> HttpResponse:
    return JsonResponse([_bank_config(b) for b in Bank.objects.order_by("name")], safe=False)


@hma_requires(Perm.BANK_VIEW, "GET")
def bank_show(request: HttpRequest, bank_name: str) -> HttpResponse:
    bank = Bank.objects.filter(name=bank_name).first()
    if bank is None:
        raise HmaError(404, f"bank '{bank_name}' not found")
    return JsonResponse(_bank_config(bank))


@hma_requires(Perm.BANK_VIEW, "GET")
def bank_content(request: HttpRequest, bank_name: str, content_id: int) -> HttpResponse:
    """HMA's bank content record for a `bank_content_id` a lookup returned."""
    bank = Bank.objects.filter(name=bank_name).first()
    if bank is None:
        raise HmaError(404, f"bank '{bank_name}' not found")
    # A removed entry is still described (disabled); a row of an unfinished import is not there.
    entry = BankEntry.objects.landed().filter(bank=bank, pk=content_id).first()
    if entry is None:
        raise HmaError(404, f"content '{content_id}' not found")
    body: dict[str, Any] = {
        "id": entry.pk,
        # HMA: 1 is enabled, 0 disabled; a removed entry never matches again.
        "disable_until_ts": 1 if entry.removed_at is None else 0,
        "collab_metadata": {},
        "original_media_uri": None,
        "bank": _bank_config(bank),
    }
    if _bool(request.GET.get("include_signals", "false")):
        body["signals"] = {k: v for k, v in entry.hashes().items() if k in SIGNAL_TYPES}
    return JsonResponse(body)
