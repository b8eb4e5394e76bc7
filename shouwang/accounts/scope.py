"""Row scope: every id a user sends passes through these helpers. They are the security
boundary — a row outside the user's community (or grid, for grid leaders) is a 404, never a 403,
so ids of other communities cannot even be probed."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.models import Role
from shouwang.core.errors import NotFound


def scope_queryset(user, qs: QuerySet, *, grid_path: str | None = None) -> QuerySet:
    """Limit `qs` (a model with a `community` field) to what `user` may see."""
    if not getattr(user, "is_authenticated", False) or user.community_id is None:
        return qs.none()
    qs = qs.filter(community_id=user.community_id)
    if user.role == Role.GRID_LEADER and grid_path is not None:
        qs = qs.filter(**{grid_path: user.grid_id})
    return qs


def get_scoped(user, qs: QuerySet, pk, *, grid_path: str | None = None):
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("not_found", _("Not found.")) from None
    obj = scope_queryset(user, qs, grid_path=grid_path).filter(pk=pk).first()
    if obj is None:
        raise NotFound("not_found", _("Not found, or not in your community or grid."))
    return obj
