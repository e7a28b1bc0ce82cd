"""Page helpers shared by every app's lists: one way to cut a list into pages.

Every list that can grow is paginated (issue 15): a list never stops silently at a limit.
The pager (`core/pager.html`) keeps the page's filters in its links.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(
    request: HttpRequest, items: QuerySet[Any] | Sequence[Any], per_page: int
) -> tuple[Page[Any], str]:
    """The requested page of `items` (a bad or too-large page number gives the nearest page),
    and the request's other query parameters for the pager's links."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = urlencode(
        [(key, value) for key, value in request.GET.items() if key != "page" and value]
    )
    return page, query
