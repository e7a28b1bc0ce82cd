"""The administrator's page of failed background jobs (`/jobs/`): each with its error, and a retry.

The page reads `ops.jobs.failed_jobs`; the retry button posts a reason to `ops.jobs.retry_task`,
which queues the same task again and writes the audit record. Mounted by the project URL map as
`path("jobs/", include("muhafiz.ops.jobs_views"))`.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from muhafiz.core.permissions import Perm, requires
from muhafiz.ops.jobs import JobNotRetryableError, failed_jobs, retry_task

JOBS_SHOWN = 100
MAX_REASON = 500


class RetryForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=MAX_REASON,
        strip=True,
        error_messages={"required": gettext_lazy("Give a reason for the retry.")},
    )


@requires(Perm.JOB_MANAGE)
def failed_job_list(request: HttpRequest) -> HttpResponse:
    jobs = failed_jobs(limit=JOBS_SHOWN)
    context = {"jobs": jobs, "limit": JOBS_SHOWN, "max_reason": MAX_REASON}
    return render(request, "ops/jobs.html", context)


@requires(Perm.JOB_MANAGE)
@require_POST
def retry(request: HttpRequest, job_id: str) -> HttpResponse:
    form = RetryForm(request.POST)
    if not form.is_valid():
        for field_errors in form.errors.as_data().values():
            for error in field_errors:
                messages.error(request, " ".join(error.messages))
        return redirect("jobs:failed")
    try:
        new_id = retry_task(
            request.user, str(job_id), reason=form.cleaned_data["reason"], request=request
        )
    except JobNotRetryableError:
        messages.error(
            request,
            _("This job cannot be retried: it did not fail, or its task no longer exists."),
        )
        return redirect("jobs:failed")
    messages.success(request, _("The job was queued again as %(id)s.") % {"id": new_id})
    return redirect("jobs:failed")


app_name = "jobs"
urlpatterns: list[URLPattern] = [
    path("", failed_job_list, name="failed"),
    # Database jobs have UUIDs, RQ jobs 32 letters and digits: both are slugs.
    path("<slug:job_id>/retry/", retry, name="retry"),
]
