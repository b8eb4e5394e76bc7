"""Every URL of the project, for every persona and for an anonymous visitor.

The policy below is written out by hand on purpose: it is what the committee agreed each role may
open, and it is compared with what the code does. It is not derived from `CAPABILITIES`, or a
wrong capability would agree with itself.

Default deny: a URL that is not in EXPECTED fails `test_every_url_has_a_policy`, so a new page or
API route cannot ship without someone deciding who may open it.

Keys are URL names for Django views and "METHOD route" for django-ninja operations: ninja adds one
Django URL pattern per operation, so GET and PATCH on one path are two entries with two policies.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from ninja.operation import PathView

from shouwang.core.testing import valid_id
from shouwang.core.tests.matrix_policy import (  # noqa: F401  (the vocabulary)
    ANONYMOUS,
    AUDIT,
    EDIT,
    EDIT_FORM,
    EVERYONE_SIGNED_IN,
    EXPORT,
    HOUSEHOLD,
    HOUSEHOLD_PAGE,
    IMPORT,
    LEDGER_VIEW,
    NOBODY,
    OFFICE,
    OFFICE_ROWS,
    OWN_ROWS_VIEW,
    PASSES,
    PERSONAS,
    PUBLIC,
    QUEUE_COUNTER,
    QUEUE_DESK,
    QUEUE_HOME,
    QUEUE_MANAGE,
    QUEUE_MANAGE_FORM,
    ROLLUP,
    SCAN,
    SEARCH,
    Policy,
)

REVEAL_BODY = {"field": "phone", "reason": "核酸漏检回访"}
CSV_LEDGER = (
    "小区,楼栋,单元,门牌号,与户主关系,姓名,身份证号,手机号\n"
    "华美小区,1号楼,1单元,101,户主,测试人,{id},13811112222\n"
)


EXPECTED: dict[str, Policy] = {
    # --- public ---------------------------------------------------------------------------
    "healthz": Policy(PUBLIC),
    "set_language": Policy(PUBLIC),
    "accounts:login": Policy(PUBLIC),
    "accounts:logout": Policy(PUBLIC, method="POST", post_only=True),
    "api/v1/openapi.json": Policy(PUBLIC),
    "api/v1/docs": Policy(PUBLIC),
    # django-ninja's root only lets reverse() find the prefix: a 404 for everybody.
    "api/v1/": Policy(NOBODY, status=404),
    # --- HTML pages -----------------------------------------------------------------------
    "home": Policy(EVERYONE_SIGNED_IN),
    "registry:overview": Policy(LEDGER_VIEW),
    "registry:search": Policy(SEARCH),
    "registry:reveal": Policy(
        OWN_ROWS_VIEW, method="POST", params={"pk": "r1"}, data="reveal_form", post_only=True
    ),
    "registry:household": Policy(OWN_ROWS_VIEW, params={"pk": "h1"}),
    "registry:member_add": Policy(EDIT, params={"pk": "h1"}),
    "registry:household_new": Policy(EDIT_FORM),
    "registry:resident_edit": Policy(EDIT, params={"pk": "r1"}),
    "registry:import": Policy(IMPORT),
    "registry:export": Policy(EXPORT),
    "registry:rollup": Policy(ROLLUP),
    "registry:audit": Policy(AUDIT),
    "grids:list": Policy(LEDGER_VIEW),
    "grids:detail": Policy(OWN_ROWS_VIEW, params={"pk": "grid_a"}),
    "residents:passes": Policy(PASSES),
    "residents:cards": Policy(PASSES),
    "residents:scan": Policy(SCAN),
    "residents:pass_issue": Policy(
        OWN_ROWS_VIEW, method="POST", params={"pk": "r1b"}, post_only=True
    ),
    "residents:pass_revoke": Policy(
        OWN_ROWS_VIEW, method="POST", params={"pk": "p1"}, data="revoke_form", post_only=True
    ),
    "residents:link_issue": Policy(
        OWN_ROWS_VIEW, method="POST", params={"pk": "h1"}, post_only=True
    ),
    "residents:link_revoke": Policy(
        OWN_ROWS_VIEW, method="POST", params={"pk": "h1"}, post_only=True
    ),
    "residents:link_send": Policy(
        OWN_ROWS_VIEW, method="POST", params={"pk": "h1"}, post_only=True
    ),
    "residents:consent_add": Policy(OWN_ROWS_VIEW, params={"pk": "h1"}),
    "residents:consent_revoke": Policy(
        OWN_ROWS_VIEW, method="POST", params={"pk": "c_h2"}, post_only=True
    ),
    "residents:directory": Policy(OFFICE),
    "residents:directory_edit": Policy(OFFICE_ROWS, params={"pk": "d1"}),
    "residents:directory_delete": Policy(
        OFFICE_ROWS, method="POST", params={"pk": "d2"}, post_only=True
    ),
    "residents:notices": Policy(OFFICE),
    "residents:notice_withdraw": Policy(
        OFFICE_ROWS, method="POST", params={"pk": "n1"}, post_only=True
    ),
    "residents:proxy_list": Policy(EVERYONE_SIGNED_IN),
    # --- residents' pages (no staff sign-in) ---------------------------------------------
    "residents:link_open": Policy(PUBLIC, params={"token": "link"}),
    "residents:my": Policy(PUBLIC),
    "residents:my_household": Policy(HOUSEHOLD_PAGE, params={"pk": "h1"}, anonymous="refuse"),
    "residents:signin": Policy(PUBLIC),
    "residents:signin_code": Policy(PUBLIC, method="POST", post_only=True),
    "residents:signout": Policy(PUBLIC, method="POST", post_only=True),
    "residents:elder": Policy(PUBLIC, method="POST", post_only=True),
    # --- take-a-number queue: staff pages ------------------------------------------------
    "queues:index": Policy(QUEUE_HOME),
    "queues:point_new": Policy(QUEUE_MANAGE_FORM),
    "queues:point_edit": Policy(QUEUE_MANAGE, params={"pk": "q_point"}),
    "queues:day_new": Policy(QUEUE_MANAGE_FORM),
    "queues:day": Policy(QUEUE_COUNTER, params={"pk": "q_day"}),
    "queues:day_edit": Policy(QUEUE_MANAGE, params={"pk": "q_day"}),
    # A day of its own, so that closing it leaves the rest of the walk an open day.
    "queues:day_close": Policy(
        QUEUE_MANAGE, method="POST", params={"pk": "q_day_closing"}, post_only=True
    ),
    "queues:day_draw": Policy(QUEUE_MANAGE, method="POST", params={"pk": "q_day"}, post_only=True),
    "queues:console": Policy(QUEUE_COUNTER, params={"pk": "q_day"}),
    "queues:console_action": Policy(
        QUEUE_COUNTER,
        method="POST",
        params={"pk": "q_day", "action": "q_action"},
        post_only=True,
    ),
    "queues:issue": Policy(QUEUE_DESK, params={"pk": "q_day"}),
    "queues:tickets": Policy(QUEUE_DESK, params={"pk": "q_day"}),
    "queues:ticket_print": Policy(QUEUE_DESK, params={"pk": "q_t1"}),
    "queues:ticket_cancel": Policy(
        QUEUE_DESK, method="POST", params={"pk": "q_t2"}, post_only=True
    ),
    "queues:knock": Policy(QUEUE_DESK, params={"pk": "q_day"}),
    "queues:ticket_knocked": Policy(
        QUEUE_DESK, method="POST", params={"pk": "q_t1"}, post_only=True
    ),
    "queues:goods": Policy(QUEUE_COUNTER, params={"pk": "q_day"}),
    "queues:goods_edit": Policy(QUEUE_COUNTER, params={"pk": "q_goods"}),
    "queues:goods_sold_out": Policy(
        QUEUE_COUNTER, method="POST", params={"pk": "q_goods"}, post_only=True
    ),
    # Goods of their own: the walk deletes them before it edits q_goods (keys are sorted).
    "queues:goods_delete": Policy(
        QUEUE_COUNTER, method="POST", params={"pk": "q_goods_gone"}, post_only=True
    ),
    "queues:report": Policy(QUEUE_DESK, params={"pk": "q_day"}),
    "queues:report_xlsx": Policy(QUEUE_DESK, params={"pk": "q_day"}),
    # --- take-a-number queue: from the household page (no staff sign-in) ------------------
    "queues:take": Policy(
        HOUSEHOLD_PAGE,
        method="POST",
        params={"hh": "h1", "pk": "q_day"},
        data="take_form",
        post_only=True,
        anonymous="refuse",
    ),
    "queues:cancel": Policy(
        HOUSEHOLD_PAGE,
        method="POST",
        params={"hh": "h1", "pk": "q_t1"},
        post_only=True,
        anonymous="refuse",
    ),
    # --- take-a-number queue: public, numbers only ----------------------------------------
    "queues:ticket": Policy(PUBLIC, params={"key": "q_follow"}),
    "queues:ticket_state": Policy(PUBLIC, params={"key": "q_follow"}),
    "queues:photo": Policy(PUBLIC, params={"pk": "q_goods", "digest": "q_digest"}),
    "queues:stream": Policy(PUBLIC, params={"key": "q_key"}),
    "queues:public": Policy(PUBLIC, params={"key": "q_key"}),
    "queues:public_state": Policy(PUBLIC, params={"key": "q_key"}),
    "queues:board": Policy(PUBLIC, params={"key": "q_key"}),
    "queues:poster": Policy(PUBLIC, params={"key": "q_key"}),
    "queues:draw": Policy(PUBLIC, params={"key": "q_key"}),
    "queues:draw_txt": Policy(PUBLIC, params={"key": "q_key"}),
    # --- API ------------------------------------------------------------------------------
    "GET api/v1/accounts/me": Policy(EVERYONE_SIGNED_IN),
    "GET api/v1/registry/overview": Policy(LEDGER_VIEW),
    "GET api/v1/registry/residents": Policy(SEARCH),
    "GET api/v1/registry/residents/<resident_id>": Policy(
        frozenset({"admin", "staff", "grid_leader", "guard", "sampler"}),
        params={"resident_id": "r1"},
    ),
    "PATCH api/v1/registry/residents/<resident_id>": Policy(
        EDIT, params={"resident_id": "r1"}, data="patch_json"
    ),
    "POST api/v1/registry/residents/<resident_id>/reveal": Policy(
        OWN_ROWS_VIEW, params={"resident_id": "r1"}, data="reveal_json"
    ),
    "GET api/v1/registry/households/<household_id>": Policy(
        OWN_ROWS_VIEW, params={"household_id": "h1"}
    ),
    "POST api/v1/registry/households/<household_id>/members": Policy(
        EDIT, params={"household_id": "h1"}, data="person_json"
    ),
    "POST api/v1/registry/households": Policy(EDIT, data="household_json"),
    "POST api/v1/registry/import": Policy(IMPORT, data="import_csv"),
    "GET api/v1/registry/export": Policy(EXPORT),
    "GET api/v1/grids/": Policy(LEDGER_VIEW),
    # The outsider's guard scanning our pass is told it belongs elsewhere (422), with no data.
    "POST api/v1/passes/resolve": Policy(
        SCAN - {"outsider"}, data="resolve_json", refusal=frozenset({403, 422})
    ),
    "POST api/v1/passes/residents/<resident_id>/issue": Policy(
        OWN_ROWS_VIEW, params={"resident_id": "r1b"}, data="issue_json"
    ),
    "POST api/v1/passes/<pass_id>/revoke": Policy(
        OWN_ROWS_VIEW, params={"pass_id": "p1"}, data="revoke_json"
    ),
    "GET api/v1/queue/days": Policy(QUEUE_HOME),
    "GET api/v1/queue/days/<day_id>": Policy(QUEUE_COUNTER, params={"day_id": "q_day"}),
    "POST api/v1/queue/days/<day_id>/call": Policy(
        QUEUE_COUNTER, params={"day_id": "q_day"}, data="call_json"
    ),
    "POST api/v1/queue/days/<day_id>/tickets": Policy(
        QUEUE_DESK, params={"day_id": "q_day"}, data="queue_ticket_json"
    ),
    "GET api/v1/queue/days/<day_id>/report": Policy(QUEUE_DESK, params={"day_id": "q_day"}),
}

# The apps' own parts of the matrix (see matrix_policy.py): each adds its URLs' policies, the
# rows for their parameters and the bodies they are sent.
FRAGMENTS = [
    importlib.import_module(name)
    for name in (
        "shouwang.supplies.relief.tests.matrix",
        "shouwang.supplies.buying.tests.matrix",
        "shouwang.supplies.materials.tests.matrix",
        "shouwang.screening.tests.matrix",
        "shouwang.control.tests.matrix",
        "shouwang.checkpoints.tests.matrix",
        "shouwang.volunteers.tests.matrix",
        "shouwang.helpline.tests.matrix",
        "shouwang.medicine.tests.matrix",
        "shouwang.care.tests.matrix",
    )
]
for _fragment in FRAGMENTS:
    _twice = set(EXPECTED) & set(_fragment.EXPECTED)
    assert not _twice, f"{_fragment.__name__} repeats policies: {sorted(_twice)}"
    EXPECTED.update(_fragment.EXPECTED)

# Served by WhiteNoise in front of the URL resolver, so they are not URL patterns.
STATIC_PATHS = ["/static/css/app.css"]

_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


@dataclass(frozen=True)
class Route:
    route: str
    # For ninja operations: this operation's methods, and every method its path answers.
    methods: tuple[str, ...] = ()
    path_methods: frozenset[str] = frozenset()


def _ninja_operation(pattern: URLPattern):
    """The PathView behind a django-ninja URL pattern, and the operation the pattern is named for."""
    if not callable(pattern.callback) or not hasattr(pattern.callback, "__closure__"):
        return None, None
    closure = inspect.getclosurevars(pattern.callback).nonlocals
    view = closure.get("self")
    if not isinstance(view, PathView):
        return None, None
    for op in view.operations:
        if (getattr(op, "url_name", None) or op.view_func.__name__) == pattern.name:
            return view, op
    raise AssertionError(f"no ninja operation is named {pattern.name!r}")


def walk(patterns, prefix: str = "", namespace: str | None = None):
    """Yield (key, Route) for every URL pattern, through every include()."""
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            view, op = _ninja_operation(p)
            if op is not None:
                methods = tuple(sorted(op.methods))
                every = frozenset(m for o in view.operations for m in o.methods)
                yield f"{','.join(methods)} {route}", Route(route, methods, every)
            elif route.startswith("api/") or not p.name:
                yield route, Route(route)
            else:
                yield (f"{namespace}:{p.name}" if namespace else p.name), Route(route)


def project_urls() -> dict[str, Route]:
    urls: dict[str, Route] = {}
    for key, route in walk(get_resolver().url_patterns):
        assert key not in urls, f"two URL patterns share the key {key!r}"
        urls[key] = route
    return urls


def test_every_url_has_a_policy():
    urls = project_urls()
    missing = sorted(set(urls) - set(EXPECTED))
    assert not missing, (
        "URLs without an entry in EXPECTED (default deny: say who may open them): "
        + ", ".join(missing)
    )
    stale = sorted(set(EXPECTED) - set(urls))
    assert not stale, "EXPECTED lists URLs the project no longer has: " + ", ".join(stale)


def test_every_path_parameter_has_a_value():
    for key, r in project_urls().items():
        names = _PARAM.findall(r.route)
        assert sorted(names) == sorted(EXPECTED[key].params), f"{key}: parameters {names}"
        assert "^" not in r.route and "(?P" not in r.route, f"{key}: regex routes are not walked"


def test_ninja_operations_are_found():
    """The walk must see the methods of ninja operations, or API keys would silently merge."""
    urls = project_urls()
    assert urls["PATCH api/v1/registry/residents/<resident_id>"].path_methods == {"GET", "PATCH"}
    assert urls["POST api/v1/registry/import"].methods == ("POST",)


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Ten personas with the production hasher cost five seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Serve static files from static/ so the test does not depend on collectstatic.
    settings.WHITENOISE_USE_FINDERS = True


def _concrete(route: str, policy: Policy, rows: dict) -> str:
    return "/" + _PARAM.sub(lambda m: str(rows[policy.params[m.group(1)]].pk), route)


def _request(client, url: str, policy: Policy, method: str):
    if method == "GET":
        return client.get(url)
    if policy.data == "reveal_form":
        return client.post(url, REVEAL_BODY)
    if policy.data == "revoke_form":
        return client.post(url, {"reason": "卡片遗失"})
    if policy.data == "take_form":
        return client.post(url, {"notify": "page"})
    for fragment in FRAGMENTS:
        if policy.data in fragment.BODIES:
            kind, body = fragment.BODIES[policy.data]()
            if kind == "form":
                return client.post(url, body)
            return client.generic(method, url, json.dumps(body), content_type="application/json")
    if policy.data in JSON_BODIES:
        body = JSON_BODIES[policy.data]()
        return client.generic(method, url, json.dumps(body), content_type="application/json")
    if policy.data == "import_csv":
        upload = SimpleUploadedFile(
            "ledger.csv", CSV_LEDGER.format(id=valid_id()).encode(), content_type="text/csv"
        )
        return client.post(url, {"file": upload})
    assert method == "POST", f"no body for {method} {url}"
    return client.post(url)


def _person():
    return {"name": "新生儿", "id_number": valid_id(), "relation": "child"}


def _household():
    from shouwang.registry.models import Building

    # A building of the ledger fixture's community: other communities must get a 404.
    building = Building.objects.get(name="1号楼", compound__name="华美小区")
    return {"building_id": building.pk, "unit": "1单元", "door": "909", "head": _person()}


def _resolve():
    from shouwang.residents.models import Pass
    from shouwang.residents.tokens import token_for

    return {"token": token_for(Pass.objects.get(resident__name="李四", status="active").code)}


def _queue_ticket():
    from shouwang.registry.models import Household

    # h2 of the ledger fixture (grid A): it holds a ticket already, so the answer is 200.
    return {"household_id": Household.objects.get(dwelling__door="102").pk, "notify": "page"}


JSON_BODIES = {
    "resolve_json": _resolve,
    "issue_json": lambda: {"reason": "矩阵测试"},
    "revoke_json": lambda: {"reason": "卡片遗失"},
    "reveal_json": lambda: REVEAL_BODY,
    "patch_json": lambda: {"note": "矩阵测试"},
    "person_json": _person,
    "household_json": _household,
    "call_json": lambda: {"action": "next"},
    "queue_ticket_json": _queue_ticket,
}


def _verdict(key: str, policy: Policy, persona: str, resp) -> str | None:
    """None when the response fits the policy, else what is wrong."""
    code = resp.status_code
    is_api = "api/" in key
    if code >= 500:
        return f"server error {code}"
    if policy.status is not None:
        return None if code == policy.status else f"expected {policy.status}, got {code}"
    allowed = policy.allowed == PUBLIC or persona in policy.allowed
    if allowed:
        return None if code < 400 else f"allowed but got {code}"
    if persona in (ANONYMOUS, HOUSEHOLD) and policy.anonymous == "login":
        if is_api:
            if code != 401:
                return f"anonymous API call should be 401, got {code}"
            if resp.json()["error"]["code"] != "unauthenticated":
                return f"401 without the error shape: {resp.content[:200]!r}"
            return None
        login = reverse("accounts:login")
        if code != 302 or not resp["Location"].startswith(login):
            return f"anonymous should be redirected to {login}, got {code}"
        return None
    if code not in policy.refusal:
        return f"refused persona should get one of {sorted(policy.refusal)}, got {code}"
    if is_api and "error" not in resp.json():
        return f"refusal without the error shape: {resp.content[:200]!r}"
    return None


def _residents_rows(personas, ledger) -> dict:
    """Rows of the residents' side for the routes' parameters."""
    from django.utils import timezone

    from shouwang.residents import services
    from shouwang.residents.models import DirectoryEntry, Notice

    admin, community = personas["admin"], personas["admin"].community
    services.link_issue(actor=admin, household=ledger["h1"])
    today = timezone.localdate()
    return {
        "p1": services.pass_issue(actor=admin, resident=ledger["r1"]),
        "p2": services.pass_issue(actor=admin, resident=ledger["r2"]),
        # The volunteer may act for h1; a consent on h2 is there to be withdrawn.
        "c_h1": services.consent_grant(
            actor=admin,
            household=ledger["h1"],
            relation="building_volunteer",
            granted_on=today,
            proxy_user=personas["volunteer"],
        ),
        "c_h2": services.consent_grant(
            actor=admin,
            household=ledger["h2"],
            relation="family",
            granted_on=today,
            proxy_name="李女儿",
            proxy_phone="13600001234",
        ),
        "d1": DirectoryEntry.objects.create(
            community=community, kind="pharmacy", name="益丰大药房", phone="021-5555 0101"
        ),
        "d2": DirectoryEntry.objects.create(
            community=community, kind="supermarket", name="松林超市", phone="021-5555 0202"
        ),
        "n1": Notice.objects.create(community=community, title="核酸通知", body="明早7点"),
        "link": _CurrentLink(ledger["h1"]),
    }


class _Key:
    """A path parameter that is not a row's id (a public key, a photo hash, an action)."""

    def __init__(self, value: str):
        self.pk = value


def _queue_rows(personas, ledger) -> dict:
    """A draw day of the fixture community that has drawn (h3 registered and holds number 1;
    h1 and h2 came first come after the draw: 2 and 3), with goods, and a day to close."""
    import datetime as dt

    from django.utils import timezone

    from shouwang.queues import services as queue
    from shouwang.queues.models import Goods

    admin = personas["admin"]
    now = timezone.now()
    point = queue.point_save(actor=admin, name="松林超市", location="东门")
    times = {
        "date": timezone.localdate(),
        "take_opens_at": now - dt.timedelta(hours=2),
        "take_closes_at": now + dt.timedelta(hours=4),
        "sale_starts_at": now + dt.timedelta(hours=1),
        "sale_ends_at": now + dt.timedelta(hours=5),
        "tickets_total": 20,
    }
    draw_at = now - dt.timedelta(hours=1)
    day = queue.day_create(actor=admin, point=point, mode="draw", draw_at=draw_at, **times)
    queue.ticket_take(day=day, household=ledger["h3"], now=draw_at - dt.timedelta(minutes=5))
    day = queue.draw_run(day=day, now=now)
    t1 = queue.ticket_take(day=day, household=ledger["h1"]).ticket
    t2 = queue.ticket_take(day=day, household=ledger["h2"]).ticket
    jpeg = b"\xff\xd8\xff\xe0matrix-photo\xff\xd9"
    goods = Goods.objects.create(
        community_id=day.community_id,
        day=day,
        name="白菜",
        unit="斤",
        photo=jpeg,
        thumb=jpeg,
        photo_hash="0123456789abcdef",
    )
    return {
        "q_point": point,
        "q_day": day,
        "q_day_closing": queue.day_create(actor=admin, point=point, **times),
        "q_t1": t1,
        "q_t2": t2,
        "q_goods": goods,
        "q_goods_gone": Goods.objects.create(community_id=day.community_id, day=day, name="萝卜"),
        "q_key": _Key(day.public_key),
        "q_follow": _Key(t1.follow_key),
        "q_digest": _Key(goods.photo_hash),
        "q_action": _Key("next"),
    }


class _CurrentLink:
    """h1's link token as it is when the URL is built: the walk may have replaced the link."""

    def __init__(self, household):
        self.household = household

    @property
    def pk(self) -> str:
        from shouwang.residents import services

        return services.link_token(services.link_current(self.household))


def _open_household_link(client, token: str) -> None:
    assert client.get(f"/h/{token}/").status_code == 302


def _forget_household(client) -> None:
    session = client.session
    session.pop("_sw_resident", None)
    session.save()


@pytest.mark.parametrize("persona", [*PERSONAS, ANONYMOUS, HOUSEHOLD])
def test_permission_matrix(client, personas, ledger, grid_a, persona, settings):
    settings.SMS_GATEWAY = "shouwang.residents.sms.MemoryGateway"
    rows = {
        **ledger,
        "grid_a": grid_a,
        **_residents_rows(personas, ledger),
        **_queue_rows(personas, ledger),
    }
    for fragment in FRAGMENTS:
        rows.update(fragment.rows(personas, ledger))
    client.raise_request_exception = False  # a crash is a 500 in the report, not an abort
    if persona == HOUSEHOLD:
        _open_household_link(client, rows["link"].pk)
    elif persona != ANONYMOUS:
        client.force_login(personas[persona])
    problems = []
    for key, r in sorted(project_urls().items()):
        policy = EXPECTED[key]
        url = _concrete(r.route, policy, rows)
        method = r.methods[0] if r.methods else policy.method
        if policy.post_only or (r.path_methods and "GET" not in r.path_methods):
            resp = _request(client, url, policy, "GET")
            if resp.status_code != 405:
                problems.append(f"GET {url} ({key}): not a GET route, gave {resp.status_code}")
        resp = _request(client, url, policy, method)
        wrong = _verdict(key, policy, persona, resp)
        if wrong:
            problems.append(f"{method} {url} ({key}): {wrong}")
        if key == "accounts:logout" and persona in PERSONAS:
            # Signing out is the point of that URL; sign in again for the rest of the walk.
            client.force_login(personas[persona])
        if key == "accounts:logout" and persona == HOUSEHOLD:
            # Signing out flushes the whole session, the household's link with it.
            _open_household_link(client, rows["link"].pk)
        if key in ("residents:link_open", "residents:signout"):
            # Opening the link signs anybody in to h1's page, which is the point of the URL;
            # the rest of the walk is with the persona's own rights again.
            _forget_household(client)
            if persona == HOUSEHOLD:
                _open_household_link(client, rows["link"].pk)
    assert not problems, f"{persona}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("persona", ["admin", "resident", ANONYMOUS])
def test_static_files_are_public(client, personas, persona):
    if persona != ANONYMOUS:
        client.force_login(personas[persona])
    for path in STATIC_PATHS:
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.status_code)
        assert b"".join(resp.streaming_content)


def test_refused_pages_show_no_ledger_data(client, personas, ledger):
    """A 403/404 is not just a status: the body must not carry the row it refused."""
    client.force_login(personas["outsider"])
    resp = client.get(f"/households/{ledger['h1'].pk}/")
    assert resp.status_code == 404
    assert ledger["r1"].name not in resp.content.decode()
    client.force_login(personas["volunteer"])
    resp = client.get(f"/households/{ledger['h1'].pk}/")
    assert resp.status_code == 403
    assert ledger["r1"].name not in resp.content.decode()
