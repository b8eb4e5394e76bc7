"""Navigation by role: a link appears only when the role may open it (and, with a fourth
entry, only when it may not do that: the link is reached another way)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from shouwang.accounts.permissions import can

NAV = [
    ("registry:overview", _("Overview"), "ledger.view"),
    ("registry:search", _("Residents"), "ledger.search"),
    ("grids:list", _("Grids"), "ledger.view"),
    ("residents:passes", _("Passes"), "passes.manage"),
    ("residents:scan", _("Scan"), "passes.scan"),
    ("queues:index", _("Queue"), "queue.call"),
    ("screening:index", _("Testing"), "screening.sample"),
    ("checkpoints:index", _("Checkpoints"), "checkpoints.guard"),
    ("control:index", _("Area control"), "control.view"),
    ("volunteers:index", _("Volunteers"), "volunteers.serve"),
    ("helpline:index", _("Help line"), "helpline.take"),
    ("medicine:index", _("Medicine"), "medicine.deliver"),
    ("care:index", _("Care"), "care.view"),
    # Guards, samplers and volunteers answer residents' questions from the help line's answers;
    # those on the help line reach them from its own page.
    ("helpline:answers", _("Answers"), "helpline.answers", "helpline.take"),
    ("relief:index", _("Relief"), "relief.deliver"),
    ("buying:index", _("Group buying"), "buying.order"),
    ("buying:delivery_home", _("Deliveries"), "buying.deliver"),
    ("buying:merchant_home", _("My orders"), "buying.merchant"),
    ("materials:index", _("Materials"), "materials.view"),
    ("residents:notices", _("Notices"), "notices.manage"),
    ("residents:directory", _("Directory"), "directory.manage"),
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
    items = [
        {"url": reverse(name), "label": label, "active": False}
        for name, label, capability, *unless in NAV
        if can(user, capability) and not (unless and can(user, unless[0]))
    ]
    # The longest link that the current path starts with is the current page.
    matches = [
        i for i in items if current.startswith(i["url"]) and (i["url"] != "/" or current == "/")
    ]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    return {"nav": items}
