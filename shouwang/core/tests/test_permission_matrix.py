"""Every URL of the project, for every persona and for an anonymous visitor.

The policy below is written out by hand on purpose: it is what the committee agreed each role may
open, and it is compared with what the code does. It is not derived from `CAPABILITIES`, or a
wrong capability would agree with itself.

Default deny: a URL that is not in EXPECTED fails `test_every_url_has_a_policy`, so a new page or
API route cannot ship without someone deciding who may open it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

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

REVEAL_BODY = {"field": "phone", "reason": "核酸漏检回访"}
CSV_LEDGER = "小区,楼栋,单元,门牌号,与户主关系,姓名,身份证号,手机号\n华美小区,1号楼,1单元,101,户主,测试人,{id},13811112222\n"


@dataclass(frozen=True)
class Policy:
    allowed: frozenset[str] | str
    method: str = "GET"
    # Ledger rows (keys of the `ledger` fixture, or "grid_a") for the route's path parameters.
    params: dict[str, str] = field(default_factory=dict)
    data: str | None = None  # a key of BODIES
    # Every caller gets this status (for routes that are not pages, such as the API root).
    status: int | None = None
    # POST-only views must refuse GET with 405 for everyone.
    post_only: bool = False


# Keys: the URL name for Django views, the route for django-ninja operations (their names are
# just function names and may change without anyone noticing).
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
    "registry:import": Policy(IMPORT),
    "registry:export": Policy(EXPORT),
    "registry:rollup": Policy(ROLLUP),
    "registry:audit": Policy(AUDIT),
    "grids:list": Policy(LEDGER_VIEW),
    "grids:detail": Policy(OWN_ROWS_VIEW, params={"pk": "grid_a"}),
    # --- API ------------------------------------------------------------------------------
    "api/v1/accounts/me": Policy(EVERYONE_SIGNED_IN),
    "api/v1/registry/overview": Policy(LEDGER_VIEW),
    "api/v1/registry/residents": Policy(SEARCH),
    "api/v1/registry/residents/<resident_id>": Policy(
        frozenset({"admin", "staff", "grid_leader", "guard", "sampler"}),
        params={"resident_id": "r1"},
    ),
    "api/v1/registry/residents/<resident_id>/reveal": Policy(
        OWN_ROWS_VIEW,
        method="POST",
        params={"resident_id": "r1"},
        data="reveal_json",
        post_only=True,
    ),
    "api/v1/registry/households/<household_id>": Policy(
        OWN_ROWS_VIEW, params={"household_id": "h1"}
    ),
    "api/v1/registry/import": Policy(IMPORT, method="POST", data="import_csv", post_only=True),
    "api/v1/registry/export": Policy(EXPORT),
    "api/v1/grids/": Policy(LEDGER_VIEW),
}

# Served by WhiteNoise in front of the URL resolver, so they are not URL patterns.
STATIC_PATHS = ["/static/css/app.css"]

_PARAM = re.compile(r"<(?:\w+:)?(\w+)>")


def walk(patterns, prefix: str = "", namespace: str | None = None):
    """Yield (key, route) for every URL pattern, through every include()."""
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            route = prefix + str(p.pattern)
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            is_ninja = route.startswith("api/")
            yield (route if is_ninja or not name else name), route


def project_urls() -> dict[str, str]:
    urls: dict[str, str] = {}
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
    for key, route in project_urls().items():
        names = _PARAM.findall(route)
        assert sorted(names) == sorted(EXPECTED[key].params), f"{key}: parameters {names}"
        assert "^" not in route and "(?P" not in route, f"{key}: regex routes are not walked"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    # Ten personas with the production hasher cost five seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Serve static files from static/ so the test does not depend on collectstatic.
    settings.WHITENOISE_USE_FINDERS = True


def _concrete(route: str, policy: Policy, rows: dict) -> str:
    return "/" + _PARAM.sub(lambda m: str(rows[policy.params[m.group(1)]].pk), route)


def _request(client, url: str, policy: Policy, method: str | None = None):
    method = method or policy.method
    if method == "GET":
        return client.get(url)
    if policy.data == "reveal_form":
        return client.post(url, REVEAL_BODY)
    if policy.data == "reveal_json":
        return client.post(url, json.dumps(REVEAL_BODY), content_type="application/json")
    if policy.data == "import_csv":
        from django.core.files.uploadedfile import SimpleUploadedFile

        from shouwang.core.testing import valid_id

        upload = SimpleUploadedFile(
            "ledger.csv", CSV_LEDGER.format(id=valid_id()).encode(), content_type="text/csv"
        )
        return client.post(url, {"file": upload})
    return client.post(url)


def _verdict(key: str, policy: Policy, persona: str, resp) -> str | None:
    """None when the response fits the policy, else what is wrong."""
    code = resp.status_code
    is_api = key.startswith("api/")
    if code >= 500:
        return f"server error {code}"
    if policy.status is not None:
        return None if code == policy.status else f"expected {policy.status}, got {code}"
    allowed = policy.allowed == PUBLIC or persona in policy.allowed
    if allowed:
        return None if code < 400 else f"allowed but got {code}"
    if persona == ANONYMOUS:
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
    if code not in (403, 404):
        return f"refused persona should get 403 or 404, got {code}"
    if is_api and "error" not in resp.json():
        return f"refusal without the error shape: {resp.content[:200]!r}"
    return None


@pytest.mark.parametrize("persona", [*PERSONAS, ANONYMOUS])
def test_permission_matrix(client, personas, ledger, grid_a, persona):
    rows = {**ledger, "grid_a": grid_a}
    if persona != ANONYMOUS:
        client.force_login(personas[persona])
    problems = []
    for key, route in sorted(project_urls().items()):
        policy = EXPECTED[key]
        url = _concrete(route, policy, rows)
        if policy.post_only:
            resp = _request(client, url, policy, method="GET")
            if resp.status_code != 405:
                problems.append(f"GET {url} ({key}): POST-only, GET gave {resp.status_code}")
        resp = _request(client, url, policy)
        wrong = _verdict(key, policy, persona, resp)
        if wrong:
            problems.append(f"{policy.method} {url} ({key}): {wrong}")
        if key == "accounts:logout" and persona != ANONYMOUS:
            # Signing out is the point of that URL; sign in again for the rest of the walk.
            client.force_login(personas[persona])
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
