"""After the day: the figures, a chart and the suggested ticket count; the export."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from shouwang.accounts.scope import get_scoped
from shouwang.core.views import capability_required
from shouwang.queues import report as reports
from shouwang.queues.models import SaleDay

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(request, pk) -> SaleDay:
    return get_scoped(request.user, SaleDay.objects.select_related("point"), pk)


@require_safe
@capability_required("queue.report")
def report(request, pk: int):
    day = _day(request, pk)
    rep = reports.day_report(day)
    return render(
        request,
        "queues/report.html",
        {
            "day": day,
            "rep": rep,
            "chart": reports.served_chart(rep.hours),
            "sold_out_goods": [g for g in rep.goods if g["sold_out_at"]],
            "in_stock_goods": [g for g in rep.goods if not g["sold_out_at"]],
        },
    )


@require_safe
@capability_required("queue.report")
def report_xlsx(request, pk: int):
    day = _day(request, pk)
    data = reports.report_export(actor=request.user, day=day)
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="queue-{day.date:%Y%m%d}-{day.pk}.xlsx"'
    )
    return response
