"""The permission matrix for area control's URLs only (the project's matrix walks every URL; this
runs our part on its own, so a failure elsewhere does not hide ours)."""

from __future__ import annotations

import pytest

from shouwang.control.tests import matrix
from shouwang.core.tests import test_permission_matrix as m
from shouwang.core.tests.matrix_policy import ANONYMOUS, PERSONAS


def _ours(key: str) -> bool:
    return key.startswith("control:") or "api/v1/control/" in key


def test_every_control_url_has_a_policy():
    urls = {k for k in m.project_urls() if _ours(k)}
    assert urls == set(matrix.EXPECTED)


@pytest.mark.parametrize("persona", [*PERSONAS, ANONYMOUS])
def test_control_matrix(client, personas, ledger, persona):
    rows = {**ledger, **matrix.rows(personas, ledger)}
    client.raise_request_exception = False
    if persona != ANONYMOUS:
        client.force_login(personas[persona])
    problems = []
    for key, r in sorted(m.project_urls().items()):
        if not _ours(key):
            continue
        policy = matrix.EXPECTED[key]
        url = m._concrete(r.route, policy, rows)
        method = r.methods[0] if r.methods else policy.method
        if policy.post_only or (r.path_methods and "GET" not in r.path_methods):
            resp = m._request(client, url, policy, "GET")
            if resp.status_code != 405:
                problems.append(f"GET {url} ({key}): not a GET route, gave {resp.status_code}")
        resp = m._request(client, url, policy, method)
        wrong = m._verdict(key, policy, persona, resp)
        if wrong:
            problems.append(f"{method} {url} ({key}): {wrong}")
    assert not problems, "\n".join(problems)
