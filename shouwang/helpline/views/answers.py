"""The knowledge base's pages: search and read (everyone who answers residents' questions, down to
the guard at the gate), quote (copy the text to read out or paste into the WeChat group), and
for the office: write, change, mark checked today, retire. A JSON search for the intake page.
The rules are in answers.py."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.helpline import answers as kb
from shouwang.helpline.models import Group

JSON_LIMIT = 8


class AnswerForm(DomainErrors, forms.Form):
    question = forms.CharField(label=gettext_lazy("Question, as callers ask it"), max_length=200)
    body = forms.CharField(
        label=gettext_lazy("Answer to read out"), widget=forms.Textarea(attrs={"rows": 6})
    )
    keywords = forms.CharField(
        label=gettext_lazy("Keywords (other words callers use)"), max_length=200, required=False
    )
    group = forms.ChoiceField(label=gettext_lazy("Group"), choices=Group.choices)
    source = forms.CharField(
        label=gettext_lazy("Source (notice, office, date)"), max_length=200, required=False
    )


def _rows(found, today):
    return [(a, kb.age(a, today)) for a in found]


@capability_required("helpline.answers")
def answer_list(request):
    user = request.user
    q = (request.GET.get("q") or "").strip()[:100]
    retired = can(user, "helpline.manage") and request.GET.get("retired") == "1"
    qs = kb.answers_for(user, include_retired=retired)
    if retired:
        qs = qs.filter(is_active=False)
    today = timezone.localdate()
    found = kb.search(qs, q, limit=50)
    return render(
        request,
        "helpline/answers.html",
        {
            "q": q,
            "rows": _rows(found, today),
            "retired": retired,
            "can_manage": can(user, "helpline.manage"),
            "stale_days": kb.STALE_DAYS,
        },
    )


@capability_required("helpline.answers")
def answer_page(request, pk: int):
    user = request.user
    a = kb.answer_to_read(user, pk)
    return render(
        request,
        "helpline/answer.html",
        {
            "a": a,
            "age": kb.age(a),
            "can_manage": can(user, "helpline.manage"),
            "stale_days": kb.STALE_DAYS,
        },
    )


@capability_required("helpline.answers")
def answer_search_json(request):
    """For the intake page: {"results": [{id, question, body, group, checked_on,
    days_since_checked, stale, url}]} for ?q=, best first."""
    user = request.user
    today = timezone.localdate()
    found = kb.search(kb.answers_for(user), request.GET.get("q") or "", limit=JSON_LIMIT)
    results = []
    for a in found:
        d = kb.as_dict(a, today)
        d["checked_on"] = a.checked_on.isoformat()
        d["url"] = reverse("helpline:answer", args=[a.pk])
        for k in ("keywords", "source", "is_active", "quoted"):
            d.pop(k)
        results.append(d)
    return JsonResponse({"results": results})


def _save(request, answer=None):
    user = request.user
    initial = {"group": Group.POLICY}
    if answer is not None:
        initial = {
            f: getattr(answer, f) for f in ("question", "body", "keywords", "group", "source")
        }
    form = AnswerForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            answer = kb.answer_save(
                actor=user, community_id=user.community_id, answer=answer, **form.cleaned_data
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("The answer is saved, checked today."))
            return redirect("helpline:answer", pk=answer.pk)
    return render(request, "helpline/answer_form.html", {"form": form, "a": answer})


@require_http_methods(["GET", "POST"])
@capability_required("helpline.manage")
def answer_new(request):
    return _save(request)


@require_http_methods(["GET", "POST"])
@capability_required("helpline.manage")
def answer_edit(request, pk: int):
    return _save(request, kb.answer_for(request.user, pk))


@require_POST
@capability_required("helpline.manage")
def answer_checked(request, pk: int):
    a = kb.answer_for(request.user, pk)
    kb.answer_checked(actor=request.user, answer=a)
    messages.success(request, _("Marked as checked today."))
    return redirect("helpline:answer", pk=a.pk)


@require_POST
@capability_required("helpline.manage")
def answer_retire(request, pk: int):
    a = kb.answer_for(request.user, pk)
    restore = request.POST.get("restore") == "1"
    kb.answer_retire(actor=request.user, answer=a, retired=not restore)
    messages.success(
        request, _("The answer is current again.") if restore else _("The answer is retired.")
    )
    return redirect("helpline:answer", pk=a.pk)


urlpatterns = [
    path("helpline/answers/", answer_list, name="answers"),
    path("helpline/answers/search.json", answer_search_json, name="answers_json"),
    path("helpline/answers/new/", answer_new, name="answer_new"),
    path("helpline/answers/<int:pk>/", answer_page, name="answer"),
    path("helpline/answers/<int:pk>/edit/", answer_edit, name="answer_edit"),
    path("helpline/answers/<int:pk>/checked/", answer_checked, name="answer_checked"),
    path("helpline/answers/<int:pk>/retire/", answer_retire, name="answer_retire"),
]
