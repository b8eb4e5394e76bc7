"""The care list and one person's page: who to look after today (overdue in red, with the days
since the last contact), by grid and by carer, "my people" for the signed-in carer; a person's
pairing, follow-up history and the follow-up form (visit / phone / video, outcome, condition,
needs, and "make this a request"). The rules are in services.py. (URL patterns in
`urlpatterns`.)"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from shouwang.accounts.models import Role
from shouwang.accounts.permissions import can
from shouwang.care import selectors, services
from shouwang.care.models import Mode, Outcome
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.grids.selectors import grids_for
from shouwang.helpline import selectors as helpline
from shouwang.helpline.models import Urgency
from shouwang.registry.models import CareTag

PAGE_LIMIT = 100


def request_url(req) -> str:
    """The help line's page of a request."""
    return reverse("helpline:request", args=[req.pk])


def category_choices(community_id: int) -> list[tuple[str, list[tuple[int, str]]]]:
    """The help line's categories grouped by their group, for a <select> with optgroups."""
    groups: dict[str, list] = {}
    labels = {}
    for c in helpline.categories_for(community_id):
        groups.setdefault(c.group, []).append((c.pk, c.name))
        labels[c.group] = c.get_group_display()
    return [(str(labels[g]), items) for g, items in groups.items()]


class FollowUpForm(DomainErrors, forms.Form):
    mode = forms.ChoiceField(
        label=gettext_lazy("Contacted by"), choices=Mode.choices, widget=forms.RadioSelect
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("How was it"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    condition = forms.CharField(
        label=gettext_lazy("Condition"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    needs = forms.CharField(
        label=gettext_lazy("Needs"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    by_name = forms.CharField(
        label=gettext_lazy("Contact made by (a party member without an account)"),
        required=False,
        max_length=50,
    )
    make_request = forms.BooleanField(label=gettext_lazy("Make this a request"), required=False)
    category = forms.TypedChoiceField(
        label=gettext_lazy("Request category"), required=False, coerce=int, empty_value=None
    )
    urgency = forms.TypedChoiceField(
        label=gettext_lazy("Urgency"),
        choices=Urgency.choices,
        coerce=int,
        initial=Urgency.HARDSHIP,
        required=False,
        empty_value=None,
    )
    owner = forms.TypedChoiceField(
        label=gettext_lazy("Owner"), required=False, coerce=int, empty_value=None
    )
    client_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)

    def __init__(self, *args, community_id: int, **kw):
        super().__init__(*args, **kw)
        self.fields["category"].choices = [("", "—"), *category_choices(community_id)]
        self.fields["owner"].choices = [("", gettext_lazy("— the help line desk —"))] + [
            (u.pk, u.label) for u in helpline.duty_users(community_id)
        ]

    def clean(self):
        data = super().clean()
        if data.get("make_request") and not data.get("category"):
            self.add_error("category", _("Choose the request's category."))
        if data.get("make_request") and not (data.get("needs") or "").strip():
            self.add_error("needs", _("Write down the need to turn it into a request."))
        return data


class RequestForm(DomainErrors, forms.Form):
    category = forms.TypedChoiceField(
        label=gettext_lazy("Request category"), coerce=int, empty_value=None
    )
    urgency = forms.TypedChoiceField(
        label=gettext_lazy("Urgency"), choices=Urgency.choices, coerce=int, initial=Urgency.HARDSHIP
    )

    def __init__(self, *args, community_id: int, **kw):
        super().__init__(*args, **kw)
        self.fields["category"].choices = [("", "—"), *category_choices(community_id)]


# --- the list ------------------------------------------------------------------------------------


def _int_or_none(raw) -> int | None:
    return int(raw) if raw and str(raw).isdigit() else None


@never_cache
@capability_required("care.view")
def index(request):
    user = request.user
    g = request.GET
    state = g.get("state", "")
    state = state if state in selectors.STATES else ""
    mine = g.get("mine") == "1"
    carer_id = user.pk if mine else _int_or_none(g.get("carer"))
    party_id = _int_or_none(g.get("party"))
    grid_id = _int_or_none(g.get("grid")) if user.role != Role.GRID_LEADER else None
    unpaired = g.get("unpaired") == "1"
    q = g.get("q", "").strip()[:50]
    base = selectors.care_list(user)
    qs = selectors.care_list(
        user,
        state=state,
        grid_id=grid_id,
        carer_id=carer_id,
        carer_resident_id=party_id,
        unpaired=unpaired,
        q=q,
    )
    totals = selectors.counts(base)
    shown = selectors.counts(qs)
    pages = max(1, -(-shown["total"] // PAGE_LIMIT))
    page = min(max(_int_or_none(g.get("page")) or 1, 1), pages)
    start = (page - 1) * PAGE_LIMIT
    rows = selectors.with_carers(list(qs[start : start + PAGE_LIMIT]))
    for r in rows:
        r.days = selectors.days_since(r.last_at)
        r.tag_names = CareTag.names_of(r.tags)
    carers = list(selectors.carers_for(user.community_id))
    return render(
        request,
        "care/index.html",
        {
            "rows": rows,
            "totals": totals,
            "shown": shown["total"],
            "page": page,
            "pages": pages,
            "first_shown": start + 1,
            "last_shown": start + len(rows),
            "query": _without_page(g),
            "f": {
                "state": state,
                "grid": grid_id,
                "carer": carer_id if not mine else None,
                "party": party_id,
                "mine": mine,
                "unpaired": unpaired,
                "q": q,
            },
            "grids": list(grids_for(user)) if user.role != Role.GRID_LEADER else [],
            "carers": carers,
            "party_members": list(selectors.party_members_for(user.community_id)),
            "manage": can(user, "care.manage"),
            "is_carer": any(c.pk == user.pk for c in carers),
        },
    )


# --- one person ----------------------------------------------------------------------------------


def _person_context(request, person, form=None):
    user = request.user
    community_id = user.community_id
    pairing = selectors.live_pairing(person)
    history = selectors.follow_ups_of(person)
    for fu in history:
        fu.request_url = request_url(fu.request) if fu.request_id else ""
    past = list(
        person.care_pairings.exclude(ended_at__isnull=True)
        .select_related("carer", "carer_resident")
        .order_by("-started_at")[:10]
    )
    follow = can(user, "care.follow")
    return {
        "person": person,
        "days": selectors.days_since(person.last_at),
        "tag_names": CareTag.names_of(person.tags),
        "pairing": pairing,
        "past_pairings": past,
        "history": history,
        "form": form
        or (
            FollowUpForm(
                community_id=community_id,
                initial={"client_key": uuid.uuid4().hex, "urgency": Urgency.HARDSHIP},
            )
            if follow
            else None
        ),
        "request_form": RequestForm(community_id=community_id) if follow else None,
        "follow": follow,
        "manage": can(user, "care.manage"),
        "carers": list(selectors.carers_for(community_id)),
        "party_members": [
            p for p in selectors.party_members_for(community_id) if p.pk != person.pk
        ],
        "every_default": selectors.policy_for(community_id).every_days,
    }


@never_cache
@capability_required("care.view")
def person(request, pk: int):
    p = selectors.person_for(request.user, pk)
    return render(request, "care/person.html", _person_context(request, p))


@never_cache
@require_POST
@capability_required("care.follow")
def follow_up(request, pk: int):
    user = request.user
    p = selectors.person_for(user, pk)
    form = FollowUpForm(request.POST, community_id=user.community_id)
    if form.is_valid():
        d = form.cleaned_data
        try:
            category = owner = None
            if d["make_request"]:
                category = selectors.request_category(user.community_id, d["category"])
                owner = selectors.request_owner(user.community_id, d["owner"])
            fu = services.record_follow_up(
                actor=user,
                resident=p,
                mode=d["mode"],
                outcome=d["outcome"],
                condition=d["condition"],
                needs=d["needs"],
                by_name=d["by_name"],
                client_key=d["client_key"],
                request_category=category,
                request_urgency=d["urgency"],
                request_owner=owner,
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            if fu.request_id:
                messages.success(
                    request,
                    _("Follow-up recorded; request %(ref)s logged for the help line.")
                    % {"ref": fu.request.reference},
                )
            else:
                messages.success(request, _("Follow-up recorded."))
            return redirect("care:person", pk=p.pk)
    return render(request, "care/person.html", _person_context(request, p, form), status=400)


@require_POST
@capability_required("care.follow")
def to_request(request, pk: int):
    """A need of an earlier follow-up turned into a help-line request."""
    user = request.user
    fu = selectors.follow_up_for(user, pk)
    form = RequestForm(request.POST, community_id=user.community_id)
    back = reverse("care:person", args=[fu.resident_id])
    if not form.is_valid():
        messages.error(request, _("Choose the request's category and urgency."))
        return redirect(back)
    try:
        req = services.need_to_request(
            actor=user,
            follow_up=fu,
            category=selectors.request_category(user.community_id, form.cleaned_data["category"]),
            urgency=form.cleaned_data["urgency"],
        )
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(
            request, _("Request %(ref)s logged for the help line.") % {"ref": req.reference}
        )
    return redirect(back)


urlpatterns = [
    path("care/", index, name="index"),
    path("care/people/<int:pk>/", person, name="person"),
    path("care/people/<int:pk>/follow-up/", follow_up, name="follow_up"),
    path("care/follow-ups/<int:pk>/request/", to_request, name="to_request"),
]


def _without_page(params) -> str:
    """The list's filters as a query string, for the page links."""
    q = params.copy()
    q.pop("page", None)
    return q.urlencode()
