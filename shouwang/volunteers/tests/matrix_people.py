"""Part of the volunteers app's permission matrix (see tests/matrix.py): sign-up (public and for a
signed-in user), the poster, my profile and declaration, the volunteers list and page with its
actions, teams and the policy; their API. `rows` also makes made["vol_me"], the active volunteer
profile of the `volunteer` persona, which the other parts' rows use."""

from __future__ import annotations

from shouwang.core.tests.matrix_policy import PUBLIC, Policy

# volunteers.serve: everyone of the community but merchants and district viewers; pages without
# an id give the outsider their own community's. (Without a profile, the pages send them to the
# sign-up: still allowed.)
SERVE_HOME = frozenset(
    {"admin", "staff", "grid_leader", "guard", "sampler", "volunteer", "resident", "outsider"}
)
# volunteers.view: the office and grid leaders; volunteers.manage: the office.
VIEW = frozenset({"admin", "staff", "grid_leader"})
VIEW_HOME = VIEW | {"outsider"}
MANAGE = frozenset({"admin", "staff"})
MANAGE_HOME = MANAGE | {"outsider"}
# The API's own profile calls need a profile: only the volunteer persona has one (vol_me) when
# they run (GETs and /me/declaration sort before POST /signup); everyone else is told to sign up
# first (403 not_volunteer).
HAS_PROFILE = frozenset({"volunteer"})


def _post(key, allowed, data=None, pk="vp_person"):
    return Policy(allowed, method="POST", params={"pk": pk}, data=data, post_only=True)


def _api(method, allowed, data=None, pk="vp_person"):
    return Policy(allowed, method=method, params={"volunteer_id": pk}, data=data)


EXPECTED: dict = {
    # --- pages ---
    "volunteers:join": Policy(PUBLIC, params={"community_code": "vp_code"}),
    "volunteers:join_me": Policy(SERVE_HOME),
    "volunteers:join_poster": Policy(MANAGE_HOME),
    "volunteers:profile": Policy(SERVE_HOME),
    "volunteers:profile_availability_add": Policy(
        SERVE_HOME, method="POST", data="vp_avail_form", post_only=True
    ),
    # Only the owner of the row removes it (others 403, the outsider 404).
    "volunteers:profile_availability_remove": Policy(
        HAS_PROFILE, method="POST", params={"pk": "vp_avail"}, post_only=True
    ),
    "volunteers:declare": Policy(SERVE_HOME),
    "volunteers:people": Policy(VIEW_HOME),
    "volunteers:person": Policy(VIEW, params={"pk": "vp_person"}),
    "volunteers:person_new": Policy(MANAGE_HOME),
    "volunteers:person_edit": Policy(MANAGE, params={"pk": "vp_person"}),
    "volunteers:person_approve": _post("approve", MANAGE, pk="vp_pending"),
    "volunteers:person_pause": _post("pause", MANAGE, data="vp_reason_form"),
    "volunteers:person_activate": _post("activate", MANAGE),
    "volunteers:person_leave": _post("leave", MANAGE, data="vp_reason_form", pk="vp_leave"),
    "volunteers:person_move": _post("move", MANAGE, data="vp_move_form"),
    "volunteers:person_link": _post("link", MANAGE, data="vp_link_form"),
    "volunteers:teams": Policy(VIEW_HOME),
    "volunteers:team_new": Policy(MANAGE_HOME),
    "volunteers:team_edit": Policy(MANAGE, params={"pk": "vp_team"}),
    "volunteers:policy": Policy(MANAGE_HOME),
    # --- API ---
    # The walk must not give the other personas a profile (the later parts' pages answer by
    # whether one has a profile), so the body lacks the name: the volunteer persona gets its
    # profile back (201, a retry), the others who may serve are told what is missing (400),
    # merchants and district viewers are refused (403). A real sign-up through the API is in
    # test_people.test_api_signup_me_patch_declaration.
    "POST api/v1/volunteers/signup": Policy(
        HAS_PROFILE,
        method="POST",
        data="vp_signup_json",
        refusal=frozenset({400, 403}),
    ),
    "GET api/v1/volunteers/me": Policy(HAS_PROFILE),
    "PATCH api/v1/volunteers/me": Policy(HAS_PROFILE, method="PATCH", data="vp_me_json"),
    "POST api/v1/volunteers/me/declaration": Policy(
        HAS_PROFILE, method="POST", data="vp_declare_json"
    ),
    "GET api/v1/volunteers/people": Policy(VIEW_HOME),
    # The outsider adds one to their own community.
    "POST api/v1/volunteers/people": Policy(MANAGE_HOME, method="POST", data="vp_person_json"),
    "GET api/v1/volunteers/people/<volunteer_id>": _api("GET", VIEW),
    "POST api/v1/volunteers/people/<volunteer_id>/approve": _api(
        "POST", MANAGE, data="vp_empty_json", pk="vp_pending"
    ),
    "POST api/v1/volunteers/people/<volunteer_id>/pause": _api(
        "POST", MANAGE, data="vp_reason_json"
    ),
    "POST api/v1/volunteers/people/<volunteer_id>/activate": _api("POST", MANAGE),
    "POST api/v1/volunteers/people/<volunteer_id>/leave": _api(
        "POST", MANAGE, data="vp_reason_json", pk="vp_leave"
    ),
    "POST api/v1/volunteers/people/<volunteer_id>/move": _api("POST", MANAGE, data="vp_move_json"),
    "POST api/v1/volunteers/people/<volunteer_id>/link": _api("POST", MANAGE, data="vp_link_json"),
    # Volunteers pick their team wishes from this list.
    "GET api/v1/volunteers/teams": Policy(SERVE_HOME),
    "POST api/v1/volunteers/teams": Policy(MANAGE_HOME, method="POST", data="vp_team_json"),
    "PATCH api/v1/volunteers/teams/<team_id>": Policy(
        MANAGE, method="PATCH", params={"team_id": "vp_team"}, data="vp_team_patch_json"
    ),
}


def _second_team_id() -> int:
    from shouwang.volunteers.models import Team

    return Team.objects.filter(community__code="HM-T").order_by("position", "pk")[1].pk


def _r2_id() -> int:
    from shouwang.registry.models import Resident

    return Resident.objects.get(name="李四", community__code="HM-T").pk


BODIES: dict = {
    "vp_avail_form": lambda: ("form", {"weekday": "0", "starts_at": "08:00", "ends_at": "12:00"}),
    "vp_reason_form": lambda: ("form", {"reason": "矩阵测试"}),
    "vp_move_form": lambda: ("form", {"team": _second_team_id(), "reason": "矩阵测试"}),
    "vp_link_form": lambda: ("form", {"resident": _r2_id()}),
    "vp_signup_json": lambda: (
        "json",
        {"name": "", "phone": "13911110000", "skills": ["lifting"]},
    ),
    "vp_me_json": lambda: ("json", {"skills_note": "会开车"}),
    "vp_declare_json": lambda: ("json", {"temperature": "36.5"}),
    "vp_person_json": lambda: ("json", {"name": "矩阵老党员", "phone": "13911112222"}),
    "vp_empty_json": lambda: ("json", {}),
    "vp_reason_json": lambda: ("json", {"reason": "矩阵测试"}),
    "vp_move_json": lambda: ("json", {"team_id": _second_team_id(), "reason": "矩阵测试"}),
    "vp_link_json": lambda: ("json", {"resident_id": _r2_id()}),
    "vp_team_json": lambda: ("json", {"name": "矩阵队", "kind": "other"}),
    "vp_team_patch_json": lambda: ("json", {"description": "矩阵测试"}),
}


class _Key:
    """A path parameter that is not a row's id (the community's code)."""

    def __init__(self, value: str):
        self.pk = value


def rows(personas, ledger, made) -> dict:
    from shouwang.checkpoints.models import Availability
    from shouwang.volunteers.models import VolunteerStatus
    from shouwang.volunteers.selectors import teams_for
    from shouwang.volunteers.testing import make_volunteer

    me = personas["volunteer"]
    community = me.community
    team = teams_for(community.pk).first()
    return {
        "vol_me": make_volunteer(community, user=me, name="矩阵我", phone="13922220001"),
        "vp_person": make_volunteer(community, name="矩阵甲", phone="13922220002", team=team),
        "vp_pending": make_volunteer(
            community, name="矩阵乙", phone="13922220003", status=VolunteerStatus.PENDING
        ),
        "vp_leave": make_volunteer(community, name="矩阵丙", phone="13922220004", team=team),
        "vp_team": team,
        "vp_avail": Availability.objects.create(
            community=community, user=me, weekday=2, starts_at="18:00", ends_at="21:00"
        ),
        "vp_code": _Key(community.code),
    }
