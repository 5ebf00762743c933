"""`newsdesk serve` with several workers on a machine whose cores are all busy: every worker
starts and serves, and none is taken for dead while it starts (uvicorn's supervisor kills
and replaces a worker that does not answer its health check in time)."""

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.helpers import newsdesk, serving

pytestmark = pytest.mark.slow

WORKERS = 2


@contextmanager
def busy_cores() -> Iterator[None]:
    """Every core kept busy by a process spinning in a loop, for the with-block."""
    burners = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


SLOW_START = """
import sys, time
if "--multiprocessing-fork" in sys.argv:  # a worker that `serve` spawned
    time.sleep({seconds})
"""


def slow_worker_start(directory: Path, seconds: float) -> dict[str, str]:
    """The environment in which every worker process takes `seconds` longer to start (a
    `sitecustomize` module that sleeps first), as it would on a machine far busier than
    this test can make it."""
    (directory / "sitecustomize.py").write_text(SLOW_START.format(seconds=seconds))
    return {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(directory), os.environ.get("PYTHONPATH")]))
    }


def serving_pids(log: Path) -> set[int]:
    """The pids of the workers that logged a request."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return {line["pid"] for line in lines if line.get("logger") == "newsdesk.access"}


def test_every_worker_starts_and_serves_while_the_cores_are_busy(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'workers.db'}"
    assert newsdesk(url, "migrate").returncode == 0
    log = tmp_path / "serve.log"
    env = {
        "NEWSDESK_RATE_LIMIT_ANONYMOUS": "0",
        "NEWSDESK_WEBHOOKS_DISPATCHER": "false",
        # Past uvicorn's own health check (5 s): it would take the workers for dead.
        **slow_worker_start(tmp_path, 6),
    }
    began = time.monotonic()
    with busy_cores(), serving(url, "--workers", str(WORKERS), log=log, env=env) as served:
        # A new connection for each request, so that either worker may take it.
        while len(serving_pids(log)) < WORKERS and time.monotonic() - began < 40:
            response = httpx.get(f"{served.base}/healthz", headers={"Connection": "close"})
            assert response.status_code == 200
            time.sleep(0.05)
        output = log.read_text()
    assert "died" not in output, output
    assert len(serving_pids(log)) == WORKERS, output
