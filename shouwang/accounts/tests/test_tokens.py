"""API tokens: printed once by `shouwang accounts_token`, sent as a Bearer token, stored hashed."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.utils import timezone

from shouwang.accounts.models import ApiToken

ME = "/api/v1/accounts/me"


@pytest.fixture(autouse=True)
def _fast_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _new_token(username: str = "staff", *args: str) -> str:
    out = StringIO()
    call_command("accounts_token", username, *args, stdout=out)
    token = out.getvalue().strip()
    assert token and "\n" not in token, "the command prints the token alone on one line"
    return token


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def _assert_unauthenticated(resp):
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "unauthenticated"


def test_printed_token_works_on_api_routes(client, personas, ledger):
    token = _new_token("staff")
    resp = client.get(ME, headers=_bearer(token))
    assert resp.status_code == 200
    assert resp.json()["username"] == "staff"
    resp = client.get("/api/v1/registry/residents", {"q": "王"}, headers=_bearer(token))
    assert resp.status_code == 200
    assert {r["id"] for r in resp.json()} == {ledger["r1"].pk, ledger["r1b"].pk}
    resp = client.get(f"/api/v1/registry/households/{ledger['h1'].pk}", headers=_bearer(token))
    assert resp.status_code == 200


def test_token_acts_with_its_users_role_and_scope(client, personas, ledger):
    token = _new_token("guard")
    assert client.get(ME, headers=_bearer(token)).json()["role"] == "guard"
    # A guard may search but not open a household page.
    assert client.get("/api/v1/registry/residents", headers=_bearer(token)).status_code == 200
    resp = client.get(f"/api/v1/registry/households/{ledger['h1'].pk}", headers=_bearer(token))
    assert resp.status_code == 403
    outsider = _new_token("outsider")
    resp = client.get(f"/api/v1/registry/residents/{ledger['r1'].pk}", headers=_bearer(outsider))
    assert resp.status_code == 404


def test_the_label_is_kept(personas):
    _new_token("staff", "--label", "nightly sync")
    assert ApiToken.objects.get().label == "nightly sync"


def test_unknown_user_is_an_error(db):
    with pytest.raises(CommandError):
        _new_token("nobody")
    assert not ApiToken.objects.exists()


def test_revoked_token_is_refused(client, personas):
    token = _new_token("staff")
    assert client.get(ME, headers=_bearer(token)).status_code == 200
    ApiToken.objects.update(revoked_at=timezone.now())
    _assert_unauthenticated(client.get(ME, headers=_bearer(token)))
    _assert_unauthenticated(client.get("/api/v1/registry/residents", headers=_bearer(token)))


def test_revoking_one_token_leaves_the_others(client, personas):
    first, second = _new_token("staff"), _new_token("staff")
    ApiToken.objects.filter(digest=hashlib.sha256(first.encode()).hexdigest()).update(
        revoked_at=timezone.now()
    )
    _assert_unauthenticated(client.get(ME, headers=_bearer(first)))
    assert client.get(ME, headers=_bearer(second)).status_code == 200


def test_token_of_a_deactivated_user_is_refused(client, personas):
    token = _new_token("staff")
    personas["staff"].is_active = False
    personas["staff"].save(update_fields=["is_active"])
    _assert_unauthenticated(client.get(ME, headers=_bearer(token)))


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character off
        lambda t: t[:-1],  # truncated
        lambda t: t.upper(),
        lambda t: "sw_" + "x" * 40,
        lambda t: "",
    ],
    ids=["one-char-off", "truncated", "upper-case", "made-up", "empty"],
)
def test_wrong_token_is_refused(client, personas, mangle):
    token = _new_token("staff")
    _assert_unauthenticated(client.get(ME, headers=_bearer(mangle(token))))


def test_no_token_and_other_schemes_are_refused(client, personas):
    token = _new_token("staff")
    _assert_unauthenticated(client.get(ME))
    _assert_unauthenticated(client.get(ME, headers={"Authorization": f"Token {token}"}))
    _assert_unauthenticated(client.get(ME, headers={"Authorization": token}))


def test_only_the_sha256_digest_is_stored(client, personas):
    token = _new_token("staff")
    client.get(ME, headers=_bearer(token))  # using it must not store it either
    row = ApiToken.objects.get()
    assert row.digest == hashlib.sha256(token.encode()).hexdigest()
    assert row.last_used_at is not None
    # The token is in no column of any row of any table (the 8-character prefix, which lets
    # an admin tell tokens apart, is not enough to use one).
    secret = token.removeprefix("sw_")
    assert len(secret) >= 32
    for model in apps.get_models():
        for values in model.objects.values_list():
            for value in values:
                if isinstance(value, str):
                    assert secret not in value, f"token text found in {model._meta.label}"
                    assert secret[8:] not in value, f"token tail found in {model._meta.label}"
