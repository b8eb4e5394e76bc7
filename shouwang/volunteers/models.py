"""Volunteers (志愿者): who they are and which team they serve in, the tasks and shifts they take,
when they checked in and out, and the hours that adds up to.

Xi'an's first village kept a service file for each of its 67 registered volunteers (625.15 hours
by 10 January, 9 on average, 50 at the most); once the hours were published every task was
grabbed in seconds (秒抢). Dongtian's posts were full within half an hour of the call; Huamei
trained a volunteer disinfection team and ran its parcel teams in three shifts. Teams were kept
stable so shifts could be planned ahead and people rested, and moved between teams when something
urgent came up.

One model, Task, holds both: a task staff publish for volunteers to grab, and a shift of a team's
plan made ahead (`kind`). A Signup is one volunteer's place on one of them — taken, on the waiting
list, cancelled or missed — and carries the check-in, check-out and credited minutes.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

USER = settings.AUTH_USER_MODEL


class Skill(models.TextChoices):
    DRIVING = "driving", _("Driving")
    MEDICAL = "medical", _("Medical")
    LANGUAGE = "language", _("Languages and dialects")
    LIFTING = "lifting", _("Lifting and carrying")
    DISINFECTION = "disinfection", _("Disinfection (trained)")
    ELDERLY = "elderly", _("Caring for the elderly")
    DATA = "data", _("Data entry")
    COUNSELLING = "counselling", _("Counselling")


class TeamKind(models.TextChoices):
    TESTING = "testing", _("Testing")
    SUPPLIES = "supplies", _("Supplies")
    ASSISTANCE = "assistance", _("Targeted assistance")
    DISINFECTION = "disinfection", _("Disinfection")
    TRANSPORT = "transport", _("Transport")
    CHECKPOINT = "checkpoint", pgettext_lazy("team", "Checkpoint")
    OTHER = "other", _("Other")


class Team(models.Model):
    """A volunteer team (小组). The six of the seeds are made for a community when first needed;
    staff rename, add and retire teams."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=16, choices=TeamKind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True, default="")
    leader = models.ForeignKey(
        "volunteers.Volunteer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("team leader"),
    )
    is_active = models.BooleanField(_("in use"), default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("team")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="volunteers_team_name"),
        ]

    def __str__(self):
        return self.name


class Origin(models.TextChoices):
    RESIDENT = "resident", _("Lives in the community")
    OUTSIDE = "outside", _("From outside the community")
    CADRE = "cadre", _("Cadre sent down (下沉干部)")
    STAFF = "staff", _("Committee or property staff")


class VolunteerStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")
    LEFT = "left", _("Left")


class Volunteer(models.Model):
    """A volunteer's profile. Most sign themselves up on a phone (and have a user to sign in
    with); staff may add one without a login — an older party member who serves at the gate —
    whom leaders check in by hand."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    user = models.OneToOneField(
        USER,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    # The ledger's record of the person, when they live here (staff confirm the link).
    resident = models.ForeignKey(
        "registry.Resident",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resident record"),
    )
    name = models.CharField(_("name"), max_length=50)
    phone = models.CharField(_("phone"), max_length=20)
    origin = models.CharField(_("who"), max_length=16, choices=Origin.choices)
    # The unit a cadre was sent down from, or the organisation of an outside volunteer.
    organisation = models.CharField(_("unit or organisation"), max_length=100, blank=True)
    skills = models.JSONField(_("skills"), default=list, blank=True)  # Skill values
    skills_note = models.CharField(_("other skills"), max_length=200, blank=True, default="")
    wishes = models.ManyToManyField(
        Team, blank=True, related_name="+", verbose_name=_("teams wished for")
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("team"),
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=VolunteerStatus.choices,
        default=VolunteerStatus.PENDING,
    )
    joined_at = models.DateTimeField(_("signed up"), default=timezone.now)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The volunteer's own choice: left off the public leaderboard (staff still see the hours).
    hide_from_board = models.BooleanField(_("hide me from the leaderboard"), default=False)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("volunteer")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["community", "status"], name="volunteer_comm_status")]

    def __str__(self):
        return self.name


class TeamMove(models.Model):
    """A volunteer put in a team, moved between teams, or taken out of one (emergencies
    included): the team history, newest last."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="moves")
    from_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    emergency = models.BooleanField(_("emergency"), default=False)
    reason = models.CharField(_("reason"), max_length=200, blank=True, default="")
    by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"{self.volunteer_id}: {self.from_team_id} -> {self.to_team_id}"


class Declaration(models.Model):
    """The daily health declaration (每日健康申报): one per volunteer per day. Checking in needs
    today's, and a declaration that is not well keeps the volunteer home that day."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="declarations")
    date = models.DateField(_("date"))
    temperature = models.DecimalField(
        _("temperature (°C)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    symptoms = models.BooleanField(_("fever, cough or other symptoms"), default=False)
    contact = models.BooleanField(_("contact with a case, or from a risk area"), default=False)
    well = models.BooleanField(_("well enough to serve"), default=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "date"], name="volunteers_declare_once"),
        ]

    def __str__(self):
        return f"{self.volunteer_id} {self.date}"


class ShiftPlan(models.Model):
    """A team's shifts planned ahead: the same shifts every day from the first day to the last
    (Huamei's parcel teams: 早中晚 three shifts). Making the plan makes its shifts (Task rows of
    kind "shift"); staff then put people on them, under the rest rules."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="plans")
    title = models.CharField(_("title"), max_length=100)
    place = models.CharField(_("place"), max_length=100, blank=True, default="")
    first_day = models.DateField(_("first day"))
    last_day = models.DateField(_("last day"))
    # [["07:00", "15:00"], ["15:00", "23:00"], ["23:00", "07:00"]]: until before from runs
    # through midnight.
    shifts = models.JSONField(_("shifts"), default=list)
    places = models.PositiveSmallIntegerField(_("people per shift"), default=2)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("shift plan")
        ordering = ["-first_day", "pk"]

    def __str__(self):
        return self.title


class TaskKind(models.TextChoices):
    TASK = "task", _("Task")
    SHIFT = "shift", _("Shift")


class Task(models.Model):
    """Something to do at a time and place for a number of people: a task published for
    volunteers to grab (抢), or a shift of a team's plan. `taken` counts the places given; it
    never exceeds `places` (a check constraint, and one conditional UPDATE per grab)."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=TaskKind.choices, default="task")
    title = models.CharField(_("what"), max_length=100)
    description = models.TextField(_("details"), blank=True, default="")
    place = models.CharField(_("where"), max_length=100)
    # None: open to every active volunteer.
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
        verbose_name=_("team"),
    )
    plan = models.ForeignKey(
        ShiftPlan, null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    starts_at = models.DateTimeField(_("from"))
    ends_at = models.DateTimeField(_("until"))
    places = models.PositiveSmallIntegerField(_("people needed"))
    taken = models.PositiveSmallIntegerField(default=0)
    skills = models.JSONField(_("skills needed"), default=list, blank=True)  # Skill values
    # Volunteers may cancel their place until then (the Policy's hours before the start).
    cancel_until = models.DateTimeField(_("cancel until"))
    # Volunteers may grab places themselves (a task, or a shift opened to its team); otherwise
    # staff put people on it.
    grabbable = models.BooleanField(_("volunteers grab places"), default=True)
    # The check-in code shown as a QR at the place.
    code = models.CharField(max_length=16, unique=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("task")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(taken__lte=models.F("places")), name="volunteers_task_not_over"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="volunteers_task_ends_after",
            ),
        ]
        indexes = [models.Index(fields=["community", "starts_at"], name="vtask_comm_start")]

    def __str__(self):
        return self.title


class SignupStatus(models.TextChoices):
    TAKEN = "taken", _("Has a place")
    WAITING = "waiting", _("Waiting list")
    CANCELLED = "cancelled", pgettext_lazy("signup", "Cancelled")
    NO_SHOW = "no_show", _("Did not come")


class How(models.TextChoices):
    GRABBED = "grabbed", _("Grabbed")
    ASSIGNED = "assigned", _("Put on by staff")
    PROMOTED = "promoted", _("From the waiting list")


# A signup holding (or waiting for) a place: at most one per volunteer per task.
LIVE = (SignupStatus.TAKEN, SignupStatus.WAITING)


class Signup(models.Model):
    """One volunteer's place on one task or shift, and the hours it earned."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    # No index of their own: vsignup_task_status and vsignup_vol_status lead with them (every
    # index is written on each grab: benchmarks/volunteer_grab.py).
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="signups", db_index=False)
    volunteer = models.ForeignKey(
        Volunteer, on_delete=models.CASCADE, related_name="signups", db_index=False
    )
    status = models.CharField(_("status"), max_length=10, choices=SignupStatus.choices)
    how = models.CharField(_("how"), max_length=10, choices=How.choices)
    created_at = models.DateTimeField(default=timezone.now)  # the waiting list's order
    taken_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Who cancelled, checked in, checked out: read with the row, never searched by (no index).
    cancelled_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # Staff put this person on although it breaks a rest rule, and said why.
    override_reason = models.CharField(max_length=200, blank=True, default="")
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    checked_out_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # Credited minutes: check-out minus check-in, or as a leader corrected them.
    minutes = models.PositiveIntegerField(_("minutes"), null=True, blank=True)
    # Closed by the night run (no check-out): credited to the task's end, for a leader to check.
    auto_closed = models.BooleanField(default=False)
    # A no-show a leader forgave (it no longer counts towards the grabbing limit).
    excused = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "volunteer"],
                condition=models.Q(status__in=["taken", "waiting"]),
                name="volunteers_signup_once",
            ),
        ]
        indexes = [
            models.Index(fields=["task", "status", "created_at"], name="vsignup_task_status"),
            models.Index(fields=["volunteer", "status"], name="vsignup_vol_status"),
        ]

    def __str__(self):
        return f"{self.volunteer_id} on {self.task_id}: {self.status}"


class Correction(models.Model):
    """A leader's correction of a signup's times or minutes, with the reason: append-only."""

    community = models.ForeignKey("registry.Community", on_delete=models.CASCADE, related_name="+")
    signup = models.ForeignKey(Signup, on_delete=models.CASCADE, related_name="corrections")
    before_in = models.DateTimeField(null=True, blank=True)
    before_out = models.DateTimeField(null=True, blank=True)
    before_minutes = models.PositiveIntegerField(null=True, blank=True)
    after_in = models.DateTimeField(null=True, blank=True)
    after_out = models.DateTimeField(null=True, blank=True)
    after_minutes = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200)
    by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self):
        return f"correction of {self.signup_id}"


class Policy(models.Model):
    """The community's volunteer rules. The rest rules (hours per day, rest between shifts) are
    the community's roster rules, set once on the checkpoints policy page and read from there."""

    community = models.OneToOneField(
        "registry.Community", on_delete=models.CASCADE, related_name="+"
    )
    # Engelsystem's no-show limit: this many missed places within `no_show_days` stop grabbing
    # until staff excuse one or the oldest ages out.
    no_show_limit = models.PositiveSmallIntegerField(
        _("missed places before grabbing stops"), default=2
    )
    no_show_days = models.PositiveSmallIntegerField(
        _("counting missed places over (days)"), default=30
    )
    # Volunteers cancel their own place until this many hours before the start.
    cancel_hours = models.PositiveSmallIntegerField(_("cancel until (hours before)"), default=2)
    # Check-in opens this many minutes before the start.
    check_in_early_minutes = models.PositiveSmallIntegerField(
        _("check-in opens (minutes before)"), default=30
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("volunteer policy")

    def __str__(self):
        return f"volunteer policy of {self.community_id}"
