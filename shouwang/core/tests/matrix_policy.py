"""Who may open what: the policy vocabulary of the permission matrix
(test_permission_matrix.py), shared with the apps' own fragments (`<app>/tests/matrix.py`).

A fragment is a module with `EXPECTED` (URL key -> Policy, as in the matrix), `rows(personas,
ledger) -> dict` (rows for its routes' path parameters) and `BODIES` (data key -> a function
returning (kind, body), kind "form" or "json"). The matrix walks every URL of the project and
fails on a URL that neither it nor a fragment gives a policy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PERSONAS = (
    "admin",
    "staff",
    "guard",
    "sampler",
    "volunteer",
    "merchant",
    "resident",
    "grid_leader",
    "district",
    "outsider",
)
ANONYMOUS = "anonymous"
# Not a user: a visitor who opened household h1's link (card QR or SMS), signed in to nothing else.
HOUSEHOLD = "household"
EVERYONE_SIGNED_IN = frozenset(PERSONAS)
PUBLIC = "public"  # anyone, signed in or not
NOBODY = frozenset()

# Who may open a page about a row of the fixture community in grid A (h1, r1, grid A).
OWN_ROWS_VIEW = frozenset({"admin", "staff", "grid_leader"})
# Who may look people up; the outsider may search, but only finds their own community.
SEARCH = frozenset({"admin", "staff", "grid_leader", "guard", "sampler", "outsider"})
# Community-level pages without an id: an admin of another community sees their own community.
LEDGER_VIEW = frozenset({"admin", "staff", "grid_leader", "outsider"})
EXPORT = frozenset({"admin", "staff", "grid_leader", "outsider"})
IMPORT = frozenset({"admin", "staff", "outsider"})
ROLLUP = frozenset({"admin", "district", "outsider"})
AUDIT = frozenset({"admin", "outsider"})
# Adding and changing people: the scope check keeps the outsider out of our rows (404).
EDIT = frozenset({"admin", "staff"})
# The "register a household" form has no id: the outsider gets it for their own buildings.
EDIT_FORM = EDIT | {"outsider"}
# Passes, cards, notices: pages without an id, the outsider works on their own community.
PASSES = frozenset({"admin", "staff", "grid_leader", "outsider"})
SCAN = frozenset({"admin", "staff", "grid_leader", "guard", "sampler", "volunteer", "outsider"})
OFFICE = frozenset({"admin", "staff", "outsider"})  # directory and notices
# Rows of the fixture community that only the office edits (the outsider gets a 404).
OFFICE_ROWS = frozenset({"admin", "staff"})
# The residents' household page: the household itself, and the volunteer it consented to.
HOUSEHOLD_PAGE = frozenset({HOUSEHOLD, "volunteer"})
# The queue's counter and goods board (queue.call, queue.goods): volunteers help at the stall.
QUEUE_COUNTER = frozenset({"admin", "grid_leader", "staff", "volunteer"})
# The queue's list of days has no id: the outsider sees their own community's days.
QUEUE_HOME = QUEUE_COUNTER | {"outsider"}
# Points and sale days (queue.manage): the office; forms without an id for the outsider too.
QUEUE_MANAGE = frozenset({"admin", "staff"})
QUEUE_MANAGE_FORM = QUEUE_MANAGE | {"outsider"}
# Tickets for residents who phone in, the list to knock on, the report (queue.issue,
# queue.knock, queue.report): the office and the grid leader.
QUEUE_DESK = frozenset({"admin", "grid_leader", "staff"})


@dataclass(frozen=True)
class Policy:
    allowed: frozenset[str] | str
    method: str = "GET"  # for ninja operations, the method in the key
    # Ledger rows (keys of the `ledger` fixture, or "grid_a") for the route's path parameters.
    params: dict[str, str] = field(default_factory=dict)
    data: str | None = None  # a key of BODIES
    # Every caller gets this status (for routes that are not pages, such as the API root).
    status: int | None = None
    # POST-only views must refuse GET with 405 for everyone (found by itself for ninja routes).
    post_only: bool = False
    # Refused callers without a staff sign-in: "login" (sent to the sign-in page, 401 on the
    # API) or "refuse" (403/404 like everybody else: the residents' pages have no login).
    anonymous: str = "login"
    # Statuses that count as a refusal for a refused persona.
    refusal: frozenset[int] = frozenset({403, 404})
