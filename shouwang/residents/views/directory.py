"""The service directory printed on the back of the cards, kept per community by its staff."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from shouwang.accounts.permissions import can
from shouwang.accounts.scope import get_scoped, scope_queryset
from shouwang.core.audit import audit
from shouwang.core.errors import NotFound
from shouwang.core.views import capability_required
from shouwang.residents.cards import MAX_BACK_ENTRIES
from shouwang.residents.forms import DirectoryEntryForm
from shouwang.residents.models import DirectoryEntry, DirectoryKind


def _describe(entry: DirectoryEntry) -> str:
    return f"{entry.kind} {entry.name} {entry.phone}"


def _entry(user, pk) -> DirectoryEntry:
    return get_scoped(user, DirectoryEntry.objects.all(), pk)


@require_http_methods(["GET", "POST"])
@capability_required("directory.manage")
def directory(request):
    user = request.user
    if user.community_id is None:
        raise NotFound("not_found", _("Not found."))
    form = DirectoryEntryForm(request.POST or None, initial={"on_card": True})
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            entry = form.save(commit=False)
            entry.community_id = user.community_id
            entry.save()
            audit(
                actor=user,
                action="directory.add",
                community=user.community_id,
                target=entry,
                summary=_describe(entry),
            )
        messages.success(request, _("Added to the directory: %(name)s.") % {"name": entry.name})
        return redirect("residents:directory")
    entries = list(scope_queryset(user, DirectoryEntry.objects.all()))
    groups = []
    for value, label in DirectoryKind.choices:
        rows = [e for e in entries if e.kind == value]
        if rows:
            groups.append({"kind": value, "label": label, "entries": rows})
    on_card = sum(e.on_card for e in entries)
    return render(
        request,
        "residents/directory.html",
        {
            "form": form,
            "groups": groups,
            "count": len(entries),
            "on_card": on_card,
            "max_back_entries": MAX_BACK_ENTRIES,
            "can_cards": can(user, "passes.manage"),
        },
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@capability_required("directory.manage")
def directory_edit(request, pk):
    entry = _entry(request.user, pk)
    title = entry.name  # the form's cleaning changes the instance, even when it is refused
    form = DirectoryEntryForm(request.POST or None, instance=entry)
    if request.method == "POST" and form.is_valid():
        changed = form.changed_data
        if changed:
            with transaction.atomic():
                entry = form.save()
                audit(
                    actor=request.user,
                    action="directory.edit",
                    community=entry.community_id,
                    target=entry,
                    summary=f"{_describe(entry)} ({', '.join(changed)})",
                )
            messages.success(request, _("Saved."))
        return redirect("residents:directory")
    return render(
        request,
        "residents/directory_form.html",
        {"form": form, "entry": entry, "title": title},
        status=400 if form.errors else 200,
    )


@require_POST
@capability_required("directory.manage")
def directory_delete(request, pk):
    entry = _entry(request.user, pk)
    with transaction.atomic():
        audit(
            actor=request.user,
            action="directory.delete",
            community=entry.community_id,
            target=entry,
            summary=_describe(entry),
        )
        entry.delete()
    messages.success(request, _("Removed from the directory: %(name)s.") % {"name": entry.name})
    return redirect("residents:directory")
