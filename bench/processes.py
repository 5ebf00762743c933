"""Processes and tools: finding wrk, nginx and newsdesk, running commands, free ports, and
servers started in the background and waited for until they answer."""

import contextlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.common import REPO, BenchError

INSTALL_HINT = "apt-get install wrk nginx-light  (Debian/Ubuntu; as root or with sudo)"


def find_tool(name: str) -> str | None:
    # nginx lives in /usr/sbin, which is not on every user's PATH.
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    return shutil.which(name, path=path)


@dataclass(frozen=True)
class Tools:
    wrk: str
    nginx: str
    newsdesk: str

    @classmethod
    def find(cls) -> "Tools":
        wrk, nginx = find_tool("wrk"), find_tool("nginx")
        missing = [name for name, path in (("wrk", wrk), ("nginx", nginx)) if path is None]
        if missing:
            raise BenchError(f"{' and '.join(missing)} not found. Install with:\n  {INSTALL_HINT}")
        newsdesk = Path(sys.executable).parent / "newsdesk"
        if not newsdesk.exists():
            raise BenchError(f"{newsdesk} not found: run `make bench` (it installs Newsdesk).")
        assert wrk
        assert nginx
        return cls(wrk, nginx, str(newsdesk))


def shell_line(command: Sequence[str], env: dict[str, str] | None = None) -> str:
    """A command as one copyable line, with the environment it needs and repo-relative
    paths."""
    prefix = " ".join(f"{name}={shlex.quote(value)}" for name, value in (env or {}).items())
    text = shlex.join(command).replace(f"{REPO}/", "")
    return f"{prefix} {text}" if prefix else text


def run_command(
    command: Sequence[str], env: dict[str, str] | None = None, record: list[str] | None = None
) -> str:
    """Run a command to completion and return its standard output; fail with its output."""
    if record is not None:
        record.append(shell_line(command, env))
    completed = subprocess.run(  # noqa: S603 (our own, fixed commands)
        command,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stdout + completed.stderr).strip()
        raise BenchError(f"`{shell_line(command)}` failed ({completed.returncode}):\n{output}")
    return completed.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{url} exited ({process.returncode}):\n{tail(log_path)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise BenchError(f"{url} did not answer within {timeout:.0f} s:\n{tail(log_path)}")


def tail(path: Path, lines: int = 30) -> str:
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL to the whole process group (it was started in its own)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextlib.contextmanager
def background(
    command: Sequence[str], log_path: Path, health_url: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """A server process, started and up (health_url answers 200) for the with-block, in a
    process group of its own; stopped after it unless it has already exited."""
    with log_path.open("w") as log_file:
        process = subprocess.Popen(  # noqa: S603 (our own, fixed commands)
            command,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until_up(health_url, process, log_path, timeout=60)
            yield process
        finally:
            stop(process)
