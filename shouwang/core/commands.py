"""What the management commands share: the --community option and date options."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError


def communities(code: str | None):
    """Every community (by code), or the one `--community CODE` names; an unknown code is an
    error, not an empty run."""
    from shouwang.registry.models import Community

    qs = Community.objects.order_by("code")
    if code:
        qs = qs.filter(code=code)
        if not qs.exists():
            raise CommandError(f"No community has the code {code}.")
    return qs


def one_community(code: str | None):
    """The community `--community CODE` names, or the only one there is."""
    from shouwang.registry.models import Community

    if code:
        return communities(code).get()
    found = list(Community.objects.all()[:2])
    if len(found) != 1:
        raise CommandError("Give --community CODE (there is not exactly one community).")
    return found[0]


def date_option(value: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD option (`--<name>`), or None when not given."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Give --{name} as YYYY-MM-DD, not {value!r}.") from None
