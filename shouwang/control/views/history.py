"""Area control pages: the history — every proposal, decision, expiry, release and reminder,
append-only — filtered by place and date, and exported as CSV."""

from __future__ import annotations

import csv

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from shouwang.control import places as pl
from shouwang.control import selectors
from shouwang.control.forms import HistoryFilter
from shouwang.control.models import HistoryEvent, Level
from shouwang.core.errors import NotFound
from shouwang.core.views import capability_required

PAGE = 100


def _filtered(request):
    user = request.user
    form = HistoryFilter(request.GET or None, place_choices=pl.choices_for(user))
    kind = place_id = date_from = date_to = None
    if form.is_valid():
        d = form.cleaned_data
        if d["place"]:
            try:
                place = pl.parse_value(user, d["place"])
            except NotFound:
                place = None
            if place is not None:
                kind, place_id = pl.kind_of(place), place.pk
        date_from, date_to = d["date_from"], d["date_to"]
    qs = selectors.history_for(
        user, kind=kind, place_id=place_id, date_from=date_from, date_to=date_to
    )
    return form, qs


def _label(choices, value: str) -> str:
    return str(dict(choices).get(value, value)) if value else ""


@capability_required("control.view")
def history(request):
    form, qs = _filtered(request)
    page = Paginator(qs, PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "control/history.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@capability_required("control.view")
def history_csv(request):
    _form, qs = _filtered(request)
    resp = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    resp["Content-Disposition"] = f'attachment; filename="control-history-{stamp}.csv"'
    resp.write("\ufeff")  # Excel opens UTF-8 with a BOM as UTF-8
    w = csv.writer(resp)
    w.writerow(
        [
            _("Time"),
            _("Event"),
            pgettext("area", "Place"),
            _("Level before"),
            _("Level"),
            _("Reason"),
            _("Evidence"),
            _("From"),
            _("Planned end"),
            _("By"),
            _("Note"),
            _("Proposal"),
        ]
    )
    events, lv = HistoryEvent.choices, Level.choices
    fmt = "%Y-%m-%d %H:%M"
    for h in qs.iterator():
        w.writerow(
            [
                timezone.localtime(h.at).strftime(fmt),
                _label(events, h.event),
                h.place_label,
                _label(lv, h.level_before),
                _label(lv, h.level),
                h.reason,
                h.evidence,
                timezone.localtime(h.starts_at).strftime(fmt) if h.starts_at else "",
                timezone.localtime(h.planned_end).strftime(fmt) if h.planned_end else "",
                h.actor_name or _("the system"),
                h.note,
                h.proposal_id or "",
            ]
        )
    return resp


urlpatterns = [
    path("control/history/", history, name="history"),
    path("control/history.csv", history_csv, name="history_csv"),
]
