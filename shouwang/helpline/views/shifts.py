"""The duty desk: the shift page (who holds what, what is open, what is overdue, hand over to the
next operator by name, the handovers), one handover's list, the day's close (每日清), and the
help line's settings (shifts, escalation, categories and their time limits). The rules are in
shifts.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped
from shouwang.core.errors import DomainError
from shouwang.core.forms import DomainErrors
from shouwang.core.views import capability_required
from shouwang.helpline import selectors, shifts
from shouwang.helpline.models import LIVE, Category, Group, Handover


class HandoverForm(DomainErrors, forms.Form):
    received_by = forms.ModelChoiceField(label=gettext_lazy("Hand over to"), queryset=None)
    note = forms.CharField(
        label=gettext_lazy("Note for the next shift"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        people = selectors.duty_users(user.community_id).exclude(pk=user.pk)
        self.fields["received_by"].queryset = people
        self.fields["received_by"].label_from_instance = _person


def _person(u) -> str:
    return u.label


def _desk(request, form=None, status=200):
    user = request.user
    cid = user.community_id
    now = timezone.now()
    start, end = shifts.shift_at(cid, now)
    to_hand = shifts.shift_to_hand(cid, now)
    visible = selectors.requests_for(user)
    live = list(
        visible.filter(status__in=LIVE)
        .select_related("owner", "escalated_to", "category", "household")
        .order_by("urgency", "due_at", "pk")[:200]
    )
    late = [r for r in live if r.due_at < now]
    done = Handover.objects.filter(community_id=cid, shift_end=to_hand[1]).first()
    return render(
        request,
        "helpline/shifts.html",
        {
            "now": now,
            "shift_start": start,
            "shift_end": end,
            "to_hand_start": to_hand[0],
            "to_hand_end": to_hand[1],
            "handed": done,
            "live": live,
            "late": late,
            "holders": shifts.live_by_owner(user),
            "form": form or HandoverForm(user=user),
            "handovers": list(
                shifts.handovers_for(user).annotate(
                    n=Count("items"), late=Count("items", filter=Q(items__overdue=True))
                )[:20]
            ),
            "to_ack": list(
                shifts.handovers_for(user).filter(received_by=user, acknowledged_at__isnull=True)[
                    :5
                ]
            ),
            "yesterday": timezone.localdate() - dt.timedelta(days=1),
            "can_manage": can(user, "helpline.manage"),
        },
        status=status,
    )


@capability_required("helpline.take")
def desk(request):
    return _desk(request)


@require_POST
@capability_required("helpline.take")
def handover_new(request):
    user = request.user
    form = HandoverForm(request.POST, user=user)
    if form.is_valid():
        try:
            h = shifts.handover(
                user,
                user.community_id,
                received_by=form.cleaned_data["received_by"],
                note=form.cleaned_data["note"],
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            if h.created:
                messages.success(
                    request,
                    _("Handed over to %(who)s: %(n)s open requests listed.")
                    % {"who": _person(h.received_by), "n": h.items.count()},
                )
            else:
                messages.info(request, _("This shift was handed over already."))
            return redirect("helpline:handover", pk=h.pk)
    return _desk(request, form)


def _handover(user, pk) -> Handover:
    return get_scoped(user, shifts.handovers_for(user), pk)


@capability_required("helpline.take")
def handover_page(request, pk: int):
    user = request.user
    h = _handover(user, pk)
    items = list(shifts.handover_items(user, h))
    may_ack = h.acknowledged_at is None and shifts.may_acknowledge(user, h)
    return render(
        request,
        "helpline/handover.html",
        {
            "h": h,
            "items": items,
            "moved": sum(1 for i in items if i.owner_before_id != i.owner_after_id),
            "late": sum(1 for i in items if i.overdue),
            "may_ack": may_ack,
        },
    )


@require_POST
@capability_required("helpline.take")
def handover_ack(request, pk: int):
    h = _handover(request.user, pk)
    try:
        shifts.acknowledge(request.user, h)
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("Acknowledged: the list is yours."))
    return redirect("helpline:handover", pk=h.pk)


@capability_required("helpline.take")
def day_page(request):
    user = request.user
    today = timezone.localdate()
    try:
        day = dt.date.fromisoformat(request.GET.get("day") or "")
    except ValueError:
        day = today - dt.timedelta(days=1)
    day = min(day, today)
    close = shifts.day_close(user.community_id, day, user=user)
    return render(
        request,
        "helpline/shift_day.html",
        {
            "close": close,
            "prev": day - dt.timedelta(days=1),
            "next": day + dt.timedelta(days=1) if day < today else None,
            "is_today": day == today,
        },
    )


# --- settings -----------------------------------------------------------------------------------


class PolicyForm(DomainErrors, forms.Form):
    shift_starts = forms.CharField(
        label=gettext_lazy("Shifts start at"),
        max_length=60,
        help_text=gettext_lazy(
            "Times of day, e.g. 08:00 16:00 00:00; the last shift runs to the "
            "first one's start the next day."
        ),
    )
    escalate_after_minutes = forms.IntegerField(
        label=gettext_lazy("Escalate to the admin this many minutes after the due time"),
        min_value=0,
        max_value=7 * 24 * 60,
    )
    callback_within_hours = forms.IntegerField(
        label=gettext_lazy("Call back within (hours)"), min_value=1, max_value=7 * 24
    )


class CategoryForm(DomainErrors, forms.Form):
    group = forms.ChoiceField(label=gettext_lazy("Group"), choices=Group.choices, required=False)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=50)
    limit_minutes = forms.IntegerField(
        label=gettext_lazy("Time limit (minutes)"), min_value=5, max_value=30 * 24 * 60
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)


def _settings(request, policy_form=None, new_form=None, status=200):
    cid = request.user.community_id
    policy = selectors.policy_for(cid)
    cats = list(selectors.categories_for(cid, active_only=False))
    return render(
        request,
        "helpline/settings.html",
        {
            "policy_form": policy_form
            or PolicyForm(
                initial={
                    "shift_starts": " ".join(policy.starts()),
                    "escalate_after_minutes": policy.escalate_after_minutes,
                    "callback_within_hours": policy.callback_within_hours,
                }
            ),
            "new_form": new_form or CategoryForm(prefix="new", initial={"limit_minutes": 24 * 60}),
            "categories": cats,
            "groups": Group.choices,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@capability_required("helpline.manage")
def settings_page(request):
    if request.method == "GET":
        return _settings(request)
    form = PolicyForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            shifts.policy_save(
                actor=request.user,
                community_id=request.user.community_id,
                shift_starts=d["shift_starts"].replace(",", " ").split(),
                escalate_after_minutes=d["escalate_after_minutes"],
                callback_within_hours=d["callback_within_hours"],
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("The help line's rules are saved."))
            return redirect("helpline:settings")
    return _settings(request, policy_form=form)


@require_POST
@capability_required("helpline.manage")
def category_new(request):
    form = CategoryForm(request.POST, prefix="new")
    if form.is_valid():
        d = form.cleaned_data
        try:
            shifts.category_save(
                actor=request.user,
                community_id=request.user.community_id,
                group=d["group"],
                name=d["name"],
                limit_minutes=d["limit_minutes"],
            )
        except DomainError as e:
            form.add_domain_errors(e)
        else:
            messages.success(request, _("Category added."))
            return redirect("helpline:settings")
    return _settings(request, new_form=form)


@require_POST
@capability_required("helpline.manage")
def category_edit(request, pk: int):
    user = request.user
    cat = get_scoped(user, Category.objects.all(), pk)
    form = CategoryForm(request.POST, prefix=f"c{cat.pk}")
    if form.is_valid():
        d = form.cleaned_data
        try:
            shifts.category_save(
                actor=user,
                community_id=user.community_id,
                category=cat,
                name=d["name"],
                limit_minutes=d["limit_minutes"],
                is_active=d["is_active"],
            )
        except DomainError as e:
            messages.error(request, f"{cat.name}: {e.message}")
        else:
            messages.success(request, _("%(name)s is saved.") % {"name": d["name"]})
    else:
        problems = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, f"{cat.name}: {problems}")
    return redirect("helpline:settings")


urlpatterns = [
    path("helpline/shifts/", desk, name="shifts"),
    path("helpline/shifts/handover/", handover_new, name="handover_new"),
    path("helpline/shifts/day/", day_page, name="shift_day"),
    path("helpline/handovers/<int:pk>/", handover_page, name="handover"),
    path("helpline/handovers/<int:pk>/ack/", handover_ack, name="handover_ack"),
    path("helpline/settings/", settings_page, name="settings"),
    path("helpline/settings/categories/new/", category_new, name="category_new"),
    path("helpline/settings/categories/<int:pk>/", category_edit, name="category_edit"),
]
