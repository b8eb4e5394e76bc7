"""Urgent requests on every page for everyone on duty: life- and health-threatening requests
still open, the most urgent first (templates/helpline/_urgent.html shows them as a banner).

One query, and only when a page shows the banner: the count comes with the rows through a window
function (computed before the LIMIT), so there is no second COUNT. Users without helpline.take
get nothing and cost nothing."""

from __future__ import annotations

from django.db.models import Count, Window
from django.utils.functional import cached_property

from shouwang.accounts.permissions import can

BANNER_ITEMS = 5


class UrgentRequests:
    def __init__(self, user):
        self.user = user

    @cached_property
    def _rows(self) -> list:
        from shouwang.helpline.models import LIVE, URGENT
        from shouwang.helpline.selectors import requests_for

        return list(
            requests_for(self.user)
            .filter(status__in=LIVE, urgency__in=URGENT)
            .annotate(n_urgent=Window(expression=Count("pk")))
            .only("pk", "reference", "summary", "urgency", "owner_id", "due_at")
            .order_by("urgency", "due_at", "pk")[:BANNER_ITEMS]
        )

    @property
    def items(self) -> list:
        return self._rows

    @property
    def count(self) -> int:
        return self._rows[0].n_urgent if self._rows else 0

    def __bool__(self) -> bool:
        return True


def urgent(request):
    user = getattr(request, "user", None)
    if user is None or not can(user, "helpline.take"):
        return {}
    return {"helpline_urgent": UrgentRequests(user)}
