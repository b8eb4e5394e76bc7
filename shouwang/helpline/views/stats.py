"""The help line's figures for a period: requests, the share of each group (pooled and the
average of the days, as the Xi'an committee reported it), resolution, time to close, overdue,
call-backs; a chart per day and the .xlsx export. The arithmetic is in stats.py."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.core.views import capability_required
from shouwang.helpline import stats

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_DAYS = 366


class PeriodForm(forms.Form):
    first = forms.DateField(label=gettext_lazy("From"), widget=DATE, required=False)
    last = forms.DateField(label=gettext_lazy("Until"), widget=DATE, required=False)

    def period(self) -> tuple[dt.date, dt.date]:
        a, b = stats.default_period()
        if self.is_valid():
            a = self.cleaned_data["first"] or a
            b = self.cleaned_data["last"] or max(a, b)
        if b < a:
            self.add_error("last", _("The end is before the start."))
            a, b = stats.default_period()
        if (b - a).days >= MAX_DAYS:
            self.add_error("first", _("A year at the most."))
            a = b - dt.timedelta(days=MAX_DAYS - 1)
        return a, b


@capability_required("helpline.stats")
def stats_page(request):
    form = PeriodForm(request.GET or None)
    first, last = form.period()
    cid = request.user.community_id
    days, s = stats.report(cid, first, last)
    return render(
        request,
        "helpline/stats.html",
        {
            "form": form,
            "s": s,
            "table": stats.table(s),
            "days": [d for d in reversed(days)],
            "chart": stats.chart(days),
            "query": urlencode({"first": first.isoformat(), "last": last.isoformat()}),
            "xian": stats.XIAN,
        },
    )


@capability_required("helpline.stats")
def stats_xlsx(request):
    form = PeriodForm(request.GET or None)
    first, last = form.period()
    body = stats.xlsx(request.user.community_id, first, last)
    resp = HttpResponse(
        body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = f'attachment; filename="helpline-{first}-{last}.xlsx"'
    return resp


urlpatterns = [
    path("helpline/stats/", stats_page, name="stats"),
    path("helpline/stats.xlsx", stats_xlsx, name="stats_xlsx"),
]
