"""Production refuses to start without its secrets, and `check --deploy` is clean there."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def run(env_extra, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUWANG_")}
    env.pop("DATABASE_URL", None)
    # The browser tests' conftest sets this for Playwright; a deployment never has it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "shouwang.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_without_secret_key_refuses(tmp_path):
    res = run(
        {
            "SHOUWANG_ENV": "production",
            "SHOUWANG_VAR_DIR": str(tmp_path),
            "SHOUWANG_ALLOWED_HOSTS": "sw.example.org",
        },
        "check",
    )
    assert res.returncode != 0
    assert "SHOUWANG_SECRET_KEY" in res.stderr


def test_production_without_allowed_hosts_refuses(tmp_path):
    res = run(
        {
            "SHOUWANG_ENV": "production",
            "SHOUWANG_VAR_DIR": str(tmp_path),
            "SHOUWANG_SECRET_KEY": "x" * 60,
            "SHOUWANG_FIELD_KEY": "k" * 40,
        },
        "check",
    )
    assert res.returncode != 0
    assert "SHOUWANG_ALLOWED_HOSTS" in res.stderr


def test_check_deploy_is_clean_in_production(tmp_path):
    res = run(
        {
            "SHOUWANG_ENV": "production",
            "SHOUWANG_VAR_DIR": str(tmp_path),
            "SHOUWANG_SECRET_KEY": "p8W-2rT_q9zLk3vN7xYb4mHc6sJd1fGa5eUo0iRtPyQwXzEa-BnMkLj",
            "SHOUWANG_FIELD_KEY": "field-key-for-the-test-0123456789abcdef",
            "SHOUWANG_ALLOWED_HOSTS": "sw.example.org",
        },
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "no issues" in res.stdout


def test_development_generates_keys_once_into_var(tmp_path):
    env = {"SHOUWANG_VAR_DIR": str(tmp_path)}
    assert run(env, "check").returncode == 0
    first = (tmp_path / "secret_key").read_text(), (tmp_path / "field_key").read_text()
    assert run(env, "check").returncode == 0
    assert ((tmp_path / "secret_key").read_text(), (tmp_path / "field_key").read_text()) == first
    assert oct((tmp_path / "field_key").stat().st_mode & 0o777) == "0o600"
