"""The administrator's catalogue pages: offences, deadline rules and agencies to edit, geography
to read. Views stay thin: every write goes through `muhafiz.catalogue.actions`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from muhafiz.catalogue import actions
from muhafiz.catalogue.forms import (
    AgencyForm,
    CatalogueForm,
    DeadlineRuleForm,
    GazetteerImportForm,
    GazetteerPlaceForm,
    OffenceForm,
    PoliceStationForm,
    StationImportForm,
)
from muhafiz.catalogue.models import (
    Agency,
    AgencyKind,
    DeadlineRule,
    District,
    GazetteerPlace,
    Offence,
    PoliceStation,
    Province,
)
from muhafiz.core.forms import apply_errors
from muhafiz.core.pages import paginate
from muhafiz.core.permissions import Perm, requires

SEARCH_MAX_LENGTH = 100
STATIONS_PER_PAGE = 50


@dataclass(frozen=True)
class Section:
    """One editable part of the catalogue: its model, form, actions and names."""

    model: type[Model]
    form: type[CatalogueForm]
    create: Callable[..., Any]
    update: Callable[..., list[str]]
    list_url: str
    title: str | Promise
    new_title: str | Promise


OFFENCES = Section(
    Offence,
    OffenceForm,
    actions.create_offence,
    actions.update_offence,
    "catalogue:offence_list",
    gettext_lazy("Offences"),
    gettext_lazy("New offence"),
)
DEADLINE_RULES = Section(
    DeadlineRule,
    DeadlineRuleForm,
    actions.create_deadline_rule,
    actions.update_deadline_rule,
    "catalogue:rule_list",
    gettext_lazy("Statutory deadlines"),
    gettext_lazy("New deadline rule"),
)
AGENCIES = Section(
    Agency,
    AgencyForm,
    actions.create_agency,
    actions.update_agency,
    "catalogue:agency_list",
    gettext_lazy("Agencies"),
    gettext_lazy("New agency"),
)
POLICE_STATIONS = Section(
    PoliceStation,
    PoliceStationForm,
    actions.create_police_station,
    actions.update_police_station,
    "catalogue:station_list",
    gettext_lazy("Police stations"),
    gettext_lazy("New police station"),
)
GAZETTEER = Section(
    GazetteerPlace,
    GazetteerPlaceForm,
    actions.create_gazetteer_place,
    actions.update_gazetteer_place,
    "catalogue:place_list",
    gettext_lazy("Gazetteer"),
    gettext_lazy("New place"),
)


@requires(Perm.CATALOGUE_EDIT)
def home(request: HttpRequest) -> HttpResponse:
    unverified = Q(verified=False, active=True)
    context = {
        "offences": Offence.objects.aggregate(
            total=Count("pk"), unverified=Count("pk", filter=unverified)
        ),
        "rules": DeadlineRule.objects.aggregate(
            total=Count("pk"), unverified=Count("pk", filter=unverified)
        ),
        "agencies": Agency.objects.aggregate(total=Count("pk")),
        "stations": PoliceStation.objects.aggregate(
            total=Count("pk"), unverified=Count("pk", filter=unverified)
        ),
        "places": GazetteerPlace.objects.aggregate(
            total=Count("pk"), inactive=Count("pk", filter=Q(active=False))
        ),
        "provinces": Province.objects.annotate(district_count=Count("districts")),
    }
    return render(request, "catalogue/home.html", context)


def _search(
    request: HttpRequest, queryset: QuerySet[Any], *fields: str
) -> tuple[QuerySet[Any], str]:
    q = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    if q:
        condition = Q()
        for field in fields:
            condition |= Q(**{f"{field}__icontains": q})
        queryset = queryset.filter(condition)
    return queryset, q


@requires(Perm.CATALOGUE_EDIT)
def offence_list(request: HttpRequest) -> HttpResponse:
    offences, q = _search(request, Offence.objects.all(), "code", "title", "title_ur", "law")
    return render(
        request,
        "catalogue/offence_list.html",
        {"offences": offences, "q": q, "q_max_length": SEARCH_MAX_LENGTH},
    )


@requires(Perm.CATALOGUE_EDIT)
def rule_list(request: HttpRequest) -> HttpResponse:
    rules, q = _search(request, DeadlineRule.objects.all(), "code", "name", "name_ur", "source")
    return render(
        request,
        "catalogue/rule_list.html",
        {"rules": rules, "q": q, "q_max_length": SEARCH_MAX_LENGTH},
    )


@requires(Perm.CATALOGUE_EDIT)
def agency_list(request: HttpRequest) -> HttpResponse:
    agencies, q = _search(
        request,
        Agency.objects.select_related("province", "district"),
        "code",
        "name",
        "name_ur",
    )
    kind = request.GET.get("kind", "")
    if kind in AgencyKind.values:
        agencies = agencies.filter(kind=kind)
    return render(
        request,
        "catalogue/agency_list.html",
        {
            "agencies": agencies,
            "q": q,
            "q_max_length": SEARCH_MAX_LENGTH,
            "kind": kind,
            "kinds": AgencyKind.choices,
        },
    )


@requires(Perm.CATALOGUE_EDIT)
def geography(request: HttpRequest) -> HttpResponse:
    provinces = Province.objects.prefetch_related("districts")
    return render(request, "catalogue/geography.html", {"provinces": provinces})


def _edit(request: HttpRequest, section: Section, pk: int | None) -> HttpResponse:
    instance = get_object_or_404(section.model, pk=pk) if pk is not None else None
    form = section.form(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        try:
            if instance is None:
                section.create(
                    request.user,
                    *form.keys().values(),
                    form.changes(),
                    reason=reason,
                    request=request,
                )
                messages.success(request, _("The entry has been added to the catalogue."))
            else:
                fresh = section.model._default_manager.get(pk=instance.pk)
                changed = section.update(
                    request.user, fresh, form.changes(), reason=reason, request=request
                )
                if changed:
                    messages.success(request, _("The catalogue entry has been changed."))
                else:
                    messages.info(request, _("Nothing was changed."))
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            return redirect(section.list_url)
    return render(
        request,
        "catalogue/form.html",
        {"form": form, "entry": instance, "section": section},
    )


@requires(Perm.CATALOGUE_EDIT)
def offence_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, OFFENCES, None)


@requires(Perm.CATALOGUE_EDIT)
def offence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, OFFENCES, pk)


@requires(Perm.CATALOGUE_EDIT)
def rule_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, DEADLINE_RULES, None)


@requires(Perm.CATALOGUE_EDIT)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, DEADLINE_RULES, pk)


@requires(Perm.CATALOGUE_EDIT)
def agency_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, AGENCIES, None)


@requires(Perm.CATALOGUE_EDIT)
def agency_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, AGENCIES, pk)


@requires(Perm.CATALOGUE_EDIT)
def station_list(request: HttpRequest) -> HttpResponse:
    stations, q = _search(
        request,
        PoliceStation.objects.select_related("district", "district__province"),
        "name",
        "name_ur",
    )
    district = District.objects.filter(code=request.GET.get("district", "")).first()
    if district is not None:
        stations = stations.filter(district=district)
    page, query = paginate(request, stations, STATIONS_PER_PAGE)
    context = {
        "page": page,
        "query": query,
        "q": q,
        "q_max_length": SEARCH_MAX_LENGTH,
        "district": district,
        "districts": District.objects.select_related("province").order_by("province__name", "name"),
    }
    return render(request, "catalogue/station_list.html", context)


@requires(Perm.CATALOGUE_EDIT)
def station_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, POLICE_STATIONS, None)


@requires(Perm.CATALOGUE_EDIT)
def station_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, POLICE_STATIONS, pk)


@requires(Perm.CATALOGUE_EDIT)
def station_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV of police stations: all rows are added or updated, or none is."""
    form = StationImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = actions.import_police_stations(
                request.user,
                form.cleaned_data["file"].read(),
                source=form.cleaned_data["source"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Imported: %(added)d stations added, %(changed)d changed, %(same)d unchanged.")
                % {
                    "added": len(report.added),
                    "changed": len(report.changed),
                    "same": report.unchanged,
                },
            )
            return redirect("catalogue:station_list")
    return render(request, "catalogue/station_import.html", {"form": form})


@requires(Perm.CATALOGUE_EDIT)
def place_list(request: HttpRequest) -> HttpResponse:
    places, q = _search(
        request, GazetteerPlace.objects.select_related("district", "district__province"), "name"
    )
    district = District.objects.filter(code=request.GET.get("district", "")).first()
    if district is not None:
        places = places.filter(district=district)
    page, query = paginate(request, places, STATIONS_PER_PAGE)
    context = {
        "page": page,
        "query": query,
        "q": q,
        "q_max_length": SEARCH_MAX_LENGTH,
        "district": district,
        "districts": District.objects.select_related("province").order_by("province__name", "name"),
    }
    return render(request, "catalogue/place_list.html", context)


@requires(Perm.CATALOGUE_EDIT)
def place_create(request: HttpRequest) -> HttpResponse:
    return _edit(request, GAZETTEER, None)


@requires(Perm.CATALOGUE_EDIT)
def place_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, GAZETTEER, pk)


@requires(Perm.CATALOGUE_EDIT)
def place_import(request: HttpRequest) -> HttpResponse:
    """Upload a CSV of place names: all rows are added or updated, or none is."""
    form = GazetteerImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            report = actions.import_gazetteer_places(
                request.user,
                form.cleaned_data["file"].read(),
                source=form.cleaned_data["source"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("Imported: %(added)d places added, %(changed)d changed, %(same)d unchanged.")
                % {
                    "added": len(report.added),
                    "changed": len(report.changed),
                    "same": report.unchanged,
                },
            )
            return redirect("catalogue:place_list")
    return render(request, "catalogue/place_import.html", {"form": form})
