"""Navigation by role: a link appears only when the role may open it."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.permissions import can

NAV = [
    ("registry:overview", _("Overview"), "ledger.view"),
    ("registry:search", _("Residents"), "ledger.search"),
    ("grids:list", _("Grids"), "ledger.view"),
    ("registry:import", _("Import"), "ledger.import"),
    ("registry:export", _("Export"), "ledger.export"),
    ("registry:rollup", _("District"), "rollup.view"),
    ("registry:audit", _("Audit log"), "audit.view"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    current = request.path
    items = []
    for name, label, capability in NAV:
        if can(user, capability):
            url = reverse(name)
            items.append(
                {
                    "url": url,
                    "label": label,
                    "active": current.startswith(url) and (url != "/" or current == "/"),
                }
            )
    return {"nav": items}
