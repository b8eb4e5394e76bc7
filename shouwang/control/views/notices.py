"""Area control pages: the printable notice for a controlled place's door — the place, the
level and what it means for the people who live there, the dates and the committee's phone. No
personal data: no names, no doors, not the reason (which may point at a household)."""

from __future__ import annotations

from django.shortcuts import render
from django.urls import path

from shouwang.control import places as pl
from shouwang.control import services
from shouwang.control.meaning import MEANING
from shouwang.core.views import capability_required


def committee_phones(community_id: int) -> list[str]:
    """The committee's phones: the directory's committee entries, else the work phones of the
    community's admins and staff."""
    from shouwang.accounts.models import Role, User
    from shouwang.residents.models import DirectoryEntry, DirectoryKind

    phones = list(
        DirectoryEntry.objects.filter(community_id=community_id, kind=DirectoryKind.COMMITTEE)
        .order_by("sort", "pk")
        .values_list("phone", flat=True)
    )
    if not phones:
        phones = list(
            User.objects.filter(
                community_id=community_id,
                is_active=True,
                role__in=[Role.ADMIN, Role.STAFF],
            )
            .exclude(work_phone="")
            .order_by("role", "pk")
            .values_list("work_phone", flat=True)
        )
    return list(dict.fromkeys(p for p in phones if p))[:3]


@capability_required("control.view")
def notice(request, pk: int):
    c = services.control_get_for(request.user, pk)
    return render(
        request,
        "control/notice.html",
        {
            "c": c,
            "label": pl.label(c.place),
            "meaning": MEANING.get(c.level, ""),
            "community": request.user.community,
            "phones": committee_phones(c.community_id),
        },
    )


urlpatterns = [path("control/notices/<int:pk>/", notice, name="notice")]
