"""Printed pass cards: choose a building, a grid or people, then print A4 sheets of cards."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from shouwang.accounts.permissions import can
from shouwang.core.views import capability_required
from shouwang.residents import cards as card_data


@require_GET
@capability_required("passes.manage")
def cards(request):
    selection = card_data.select(request.user, request.GET)
    if selection is None:
        return render(
            request,
            "residents/cards.html",
            {
                **card_data.choices(request.user),
                "can_directory": can(request.user, "directory.manage"),
            },
        )
    run = card_data.print_run(actor=request.user, selection=selection, request=request)
    response = render(
        request,
        "residents/cards.html",
        {
            "selection": selection,
            "run": run,
            "max_back_entries": card_data.MAX_BACK_ENTRIES,
            "can_directory": can(request.user, "directory.manage"),
        },
    )
    # The sheets carry live pass tokens and household links: never kept by a cache.
    response["Cache-Control"] = "no-store"
    return response
