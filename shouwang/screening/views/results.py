"""Results: a round's results page (import the lab's file, find a tube, the positive tubes and
open re-test flags) and a tube's page (who is in it; type its result)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from shouwang.core.errors import DomainError
from shouwang.core.views import capability_required
from shouwang.screening import results as svc
from shouwang.screening import services
from shouwang.screening.forms import ImportForm, TubeResultForm
from shouwang.screening.models import RetestFlag, Tube, TubeResult, VisitList


@require_http_methods(["GET", "POST"])
@capability_required("screening.results")
def results(request, pk: int):
    user = request.user
    rnd = services.round_get_for(user, pk)
    code = (request.GET.get("code") or "").strip()
    if code:
        tube = Tube.objects.filter(round=rnd, code=code).first()
        if tube is not None:
            return redirect("screening:tube", pk=tube.pk)
        messages.error(request, _("No tube %(code)s in this round.") % {"code": code})
    form = ImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        f = form.cleaned_data["file"]
        commit = request.POST.get("commit") == "1"
        try:
            report = svc.results_import(
                actor=user, rnd=rnd, source=f, filename=f.name or "upload", commit=commit
            )
        except DomainError as e:
            form.add_error("file", str(e.message))
        else:
            if report.already:
                messages.info(
                    request, _("This file was already imported into this round: nothing changed.")
                )
            elif report.committed:
                messages.success(
                    request,
                    _("Imported: %(neg)s negative, %(pos)s positive, %(inv)s invalid.")
                    % {"neg": report.negatives, "pos": report.positives, "inv": report.invalid},
                )
                return redirect("screening:results", pk=rnd.pk)
    counts = rnd.tubes.aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(result=TubeResult.PENDING)),
        negative=Count("pk", filter=Q(result=TubeResult.NEGATIVE)),
        positive=Count("pk", filter=Q(result=TubeResult.POSITIVE)),
        invalid=Count("pk", filter=Q(result=TubeResult.INVALID)),
    )
    flagged = rnd.tubes.filter(result=TubeResult.POSITIVE).annotate(
        n_people=Count("samples", filter=Q(samples__voided_at=None)),
        n_open=Count("retest_flags", filter=Q(retest_flags__cleared_at=None), distinct=True),
    )
    return render(
        request,
        "screening/results.html",
        {
            "round": rnd,
            "form": form,
            "report": report,
            "counts": counts,
            "positive_tubes": flagged.order_by("result_at"),
            "retest_lists": VisitList.objects.filter(round=rnd, reason="retest"),
            "imports": rnd.imports.order_by("-created_at")[:10],
            "invalid_tubes": rnd.tubes.filter(result=TubeResult.INVALID)[:50],
        },
    )


@require_http_methods(["GET", "POST"])
@capability_required("screening.results")
def tube(request, pk: int):
    user = request.user
    t = svc.tube_get_for(user, pk)
    form = TubeResultForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            out = svc.result_record(
                actor=user,
                tube=t,
                result=form.cleaned_data["result"],
                ct_value=form.cleaned_data["ct_value"],
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            if not out.changed:
                messages.info(request, _("The tube already had this result: nothing changed."))
            else:
                msg = _("Tube %(code)s: %(result)s.") % {
                    "code": t.code,
                    "result": TubeResult(out.tube.result).label,
                }
                if out.flagged:
                    msg += " " + _(
                        "%(n)s people are flagged for a single-tube re-test; their households "
                        "are on a door-to-door list."
                    ) % {"n": out.flagged}
                if out.positives:
                    msg += " " + _("%(n)s positive results recorded.") % {"n": out.positives}
                messages.success(request, msg)
            return redirect("screening:tube", pk=t.pk)
    return render(
        request,
        "screening/tube.html",
        {
            "tube": t,
            "round": t.round,
            "form": form,
            "people": svc.tube_people(t),
            "final": t.result in (TubeResult.NEGATIVE, TubeResult.POSITIVE),
            "retest_list": VisitList.objects.filter(source_tube=t).first(),
            "open_flags": RetestFlag.objects.filter(tube=t, cleared_at=None).count(),
        },
    )


urlpatterns = [
    path("screening/rounds/<int:pk>/results/", results, name="results"),
    path("screening/tubes/<int:pk>/", tube, name="tube"),
]
