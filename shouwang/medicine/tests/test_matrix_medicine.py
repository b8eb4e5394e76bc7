"""The medicine fragment of the permission matrix, walked on its own: every persona against
every medicine URL (the full walk in core/tests/test_permission_matrix.py does the same for the
whole project; this one fails fast on this app's routes)."""

from __future__ import annotations

import pytest

from shouwang.core.tests import test_permission_matrix as matrix
from shouwang.core.tests.matrix_policy import ANONYMOUS, HOUSEHOLD, PERSONAS
from shouwang.medicine.tests import matrix as fragment

pytestmark = pytest.mark.django_db


def test_every_medicine_url_has_a_policy():
    urls = {k for k in matrix.project_urls() if "medicine" in k}
    assert urls == set(fragment.EXPECTED)


@pytest.mark.parametrize("persona", [*PERSONAS, ANONYMOUS, HOUSEHOLD])
def test_medicine_matrix(client, personas, ledger, grid_a, persona, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    rows = {**ledger, "grid_a": grid_a}
    if persona == HOUSEHOLD:
        rows.update(matrix._residents_rows(personas, ledger))
    rows.update(fragment.rows(personas, ledger))
    client.raise_request_exception = False
    if persona == HOUSEHOLD:
        matrix._open_household_link(client, rows["link"].pk)
    elif persona != ANONYMOUS:
        client.force_login(personas[persona])
    problems = []
    for key, r in sorted(matrix.project_urls().items()):
        if key not in fragment.EXPECTED:
            continue
        policy = fragment.EXPECTED[key]
        url = matrix._concrete(r.route, policy, rows)
        method = r.methods[0] if r.methods else policy.method
        if policy.post_only or (r.path_methods and "GET" not in r.path_methods):
            resp = matrix._request(client, url, policy, "GET")
            if resp.status_code != 405:
                problems.append(f"GET {url} ({key}): not a GET route, gave {resp.status_code}")
        resp = matrix._request(client, url, policy, method)
        wrong = matrix._verdict(key, policy, persona, resp)
        if wrong:
            problems.append(f"{method} {url} ({key}): {wrong}")
    assert not problems, f"{persona}:\n  " + "\n  ".join(problems)
