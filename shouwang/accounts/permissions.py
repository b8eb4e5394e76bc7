"""What each role may do. Default deny: a capability not listed for a role is refused.

Scope (which rows) is separate from capability (which actions): see `scope.py`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from shouwang.accounts.models import Role
from shouwang.core.errors import Forbidden

A, G, S, GU, SA, V, M, R, D = (
    Role.ADMIN,
    Role.GRID_LEADER,
    Role.STAFF,
    Role.GUARD,
    Role.SAMPLER,
    Role.VOLUNTEER,
    Role.MERCHANT,
    Role.RESIDENT,
    Role.DISTRICT,
)

CAPABILITIES: dict[str, frozenset[str]] = {
    # Find a person by name, last ID digits or phone (guards and samplers meet people without passes).
    "ledger.search": frozenset({A, G, S, GU, SA}),
    # Overview, household pages (一户一档), places and grids.
    "ledger.view": frozenset({A, G, S}),
    # Create and change households and residents, import files.
    "ledger.edit": frozenset({A, S}),
    "ledger.import": frozenset({A, S}),
    "ledger.export": frozenset({A, S, G}),
    # Full values behind the mask, each reveal with a reason and logged.
    "reveal.phone": frozenset({A, G, S}),
    "reveal.id_number": frozenset({A}),
    "grids.manage": frozenset({A}),
    "accounts.manage": frozenset({A}),
    "audit.view": frozenset({A}),
    "rollup.view": frozenset({A, D}),
    # Scan a pass at a gate, sampling point, queue or delivery: masked name and door only.
    "passes.scan": frozenset({A, G, S, GU, SA, V}),
    # Issue, revoke, reprint passes and print cards (grid leaders for their grid).
    "passes.manage": frozenset({A, G, S}),
    # Household links and consents to act on a household's behalf, on the household page.
    "access.manage": frozenset({A, G, S}),
    # The service directory printed on the back of the cards, and notices to residents.
    "directory.manage": frozenset({A, S}),
    "notices.manage": frozenset({A, S}),
    # Take-a-number queue: points and sale days (ticket counts, draw, close the day).
    "queue.manage": frozenset({A, S}),
    # The counter: call next, recall, served, skip, undo.
    "queue.call": frozenset({A, G, S, V}),
    # Tickets for residents who phone in or come to the desk; paper tickets; give a number back.
    "queue.issue": frozenset({A, G, S}),
    # The day's goods board: photos, prices, sold out.
    "queue.goods": frozenset({A, G, S, V}),
    # Households without phones to ring or knock on when their number is near (grid leaders:
    # their grid).
    "queue.knock": frozenset({A, G, S}),
    # After the day: figures, chart, export, the suggested ticket count.
    "queue.report": frozenset({A, G, S}),
    # Relief (救助物资发放): batches, rules, the preview, issuing, recounts.
    # Test rounds (核酸筛查): rounds, sampling points, exemptions, visit lists.
    "screening.manage": frozenset({A, S}),
    # The sampling page (scan tubes and people, door-to-door visits): samplers and the
    # volunteers who scan at the table, the office and grid leaders.
    "screening.sample": frozenset({A, G, S, SA, V}),
    # Lab results: import the lab's file, type results.
    "screening.results": frozenset({A, S}),
    # Coverage ("nobody missed"), missing lists and call lists (grid leaders: their grid), and
    # antigen results entered for households without phones.
    "screening.coverage": frozenset({A, G, S}),
    "screening.antigen": frozenset({A, G, S}),
    "relief.manage": frozenset({A, S}),
    # Distribution lists and recording each door: delivered, not at home, refused (grid
    # leaders: their grid).
    "relief.deliver": frozenset({A, G, S}),
    # Group buying (团购): merchants and their areas, catalogue, order windows.
    "buying.manage": frozenset({A, S}),
    # Orders entered for a household that phones in or comes to the desk; order lists.
    "buying.order": frozenset({A, G, S}),
    # The merchant's own orders: picking lists, delivery slips (no health data, no ID numbers).
    "buying.merchant": frozenset({M}),
    # The delivery chain: checkpoint arrival, disinfection, release, building, door, pickup code.
    "buying.deliver": frozenset({A, G, S, V}),
    # Materials store (防疫物资): items, locations, receipts, issues, stock-takes.
    "materials.manage": frozenset({A, S}),
    # Stock levels and low-stock alerts.
    "materials.view": frozenset({A, G, S}),
    # Area control (封控/管控/防范): the places under a level, their history, door notices.
    "control.view": frozenset({A, G, S}),
    # Propose a level (or a release) for a compound, building or unit, with reason and evidence.
    "control.propose": frozenset({A, G, S}),
    # Approve or reject someone else's proposal (never one's own): the committee admin.
    "control.approve": frozenset({A}),
    # Checkpoints (卡口): gates, checkpoints and which gates were merged, the gate policy.
    "checkpoints.manage": frozenset({A, S}),
    # Duty rosters: generate from availability, edit, print.
    "checkpoints.roster": frozenset({A, S}),
    # One's own duties and check-in; the roster of one's checkpoint.
    "checkpoints.duty": frozenset({A, G, S, GU, V}),
    # At the gate: the pass decision, visitors and couriers, parcels on the shelf.
    "checkpoints.guard": frozenset({A, G, S, GU, V}),
    # Paper tick-sheets (print them, type them in afterwards).
    "checkpoints.paper": frozenset({A, G, S, GU}),
    # Passages per gate per hour, denials by reason, parcels waiting, who is on duty now.
    "checkpoints.dashboard": frozenset({A, G, S}),
    # Volunteers (志愿者): the lists, a task's people, the stats and the leaderboard.
    "volunteers.view": frozenset({A, G, S}),
    # Approve volunteers, teams and moves, publish tasks, plan shifts, no-shows, hours.
    "volunteers.manage": frozenset({A, S}),
    # Serve as a volunteer: sign up, grab, check in and out, one's own hours (needs a profile;
    # team leaders also check their team in).
    "volunteers.serve": frozenset({A, G, S, GU, SA, V, R}),
    # Help line (爱心热线): take a call and log it, the ledger, work one's own requests (grid
    # leaders: their grid's households and what they own).
    "helpline.take": frozenset({A, G, S}),
    # Assign anyone, categories and time limits, shifts, handovers, escalations, the answers.
    "helpline.manage": frozenset({A, S}),
    # The details of special-needs and psychological requests (health and mental health); a
    # request's owner sees its details too.
    "helpline.sensitive": frozenset({A, S}),
    # Search and read the answers to policy questions (whoever residents ask at a gate too).
    "helpline.answers": frozenset({A, G, S, GU, SA, V}),
    # Statistics per day and period, export.
    "helpline.stats": frozenset({A, S}),
    # Medicine (配药): register a person's need and follow it through the flow (grid leaders:
    # their grid).
    "medicine.register": frozenset({A, G, S}),
    # Runs, buying, settlement; psychiatric and chemotherapy drug names in full.
    "medicine.manage": frozenset({A, S}),
    # A run's list and its pick-up and delivery (volunteers: the runs they drive).
    "medicine.deliver": frozenset({A, G, S, V}),
    # Care for vulnerable residents: the list, pairings and follow-ups with their health notes
    # (grid leaders: their grid).
    "care.view": frozenset({A, G, S}),
    "care.follow": frozenset({A, G, S}),
    # Which tags count, how often, who is paired with whom.
    "care.manage": frozenset({A, S}),
}


def can(user, capability: str) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    roles = CAPABILITIES.get(capability)
    if roles is None:
        raise KeyError(f"unknown capability {capability!r}")
    return user.role in roles


def require(user, capability: str) -> None:
    if not can(user, capability):
        raise Forbidden("forbidden", _("Your role does not allow this. Ask the community admin."))
