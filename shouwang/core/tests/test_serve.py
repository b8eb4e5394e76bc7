"""`shouwang serve` starts the real server (granian, WSGI) and serves pages and static files."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOUWANG_")}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update({"SHOUWANG_VAR_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/s.db"})
    subprocess.run(
        [sys.executable, "-m", "shouwang.cli", "migrate", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=120,
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shouwang.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            "1",
            "--stream-port",
            "0",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read().decode()) from None
            time.sleep(0.3)
    else:
        os.killpg(proc.pid, signal.SIGTERM)
        raise AssertionError("server did not start in 60 s")
    yield base
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        # serve stops its servers, and kills one that has not stopped 10 s later.
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(
            "serve did not stop within 30 s of SIGTERM:\n" + proc.stdout.read().decode()[-3000:]
        ) from None


def test_serve_answers_pages_and_static_files(server):
    with urllib.request.urlopen(server + "/accounts/login/") as r:
        body = r.read().decode()
        assert r.status == 200
        assert "守望" in body, "zh-hans by default"
    with urllib.request.urlopen(server + "/static/css/app.css") as r:
        assert r.status == 200 and b"--brand" in r.read()
    with urllib.request.urlopen(server + "/api/v1/openapi.json") as r:
        assert b"/api/v1/registry/residents" in r.read()
