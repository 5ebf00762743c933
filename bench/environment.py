"""The environment a run is reported with: the machine, and the versions of Newsdesk,
Python, the libraries, the databases, nginx and wrk."""

import contextlib
import importlib.metadata
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.common import BACKEND_NAMES, REPO
from bench.processes import Tools
from bench.report import Environment


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def memory() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024**2:.1f} GiB"
    return "unknown"


def tool_version(command: Sequence[str], pattern: str) -> str:
    """The version a tool prints (wrk -v exits 1, nginx -v prints to stderr)."""
    completed = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(pattern, completed.stdout + completed.stderr)
    return found.group(1) if found else "unknown"


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def git_revision() -> str:
    git = shutil.which("git")
    if git is None:
        return "unknown"
    head = subprocess.run(  # noqa: S603
        [git, "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(  # noqa: S603
        [git, "status", "--porcelain", "--untracked-files=no"],
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"{head or 'unknown'}{' with uncommitted changes' if dirty else ''}"


def environment(tools: Tools, database_versions: dict[str, str]) -> Environment:
    machine = [
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("RAM", memory()),
        ("Kernel", f"{platform.system()} {platform.release()}"),
    ]
    versions = [
        ("Newsdesk", f"{package_version('newsdesk')} (git {git_revision()})"),
        ("Python", platform.python_version()),
        *[(name, package_version(name)) for name in ("uvicorn", "fastapi", "SQLAlchemy")],
        *[(name, version) for name, version in database_versions.items()],
        ("nginx", tool_version([tools.nginx, "-v"], r"nginx/(\S+)")),
        ("wrk", tool_version([tools.wrk, "-v"], r"wrk (\S+)")),
    ]
    command = shlex.join(["python", "-m", "bench.run", *sys.argv[1:]])
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Environment(when, machine, versions, command)


DRIVERS = {"sqlite": "aiosqlite", "postgresql": "asyncpg"}


def database_versions(versions: dict[str, str]) -> dict[str, str]:
    """Backend -> server or library version, as rows naming the driver too."""
    return {
        BACKEND_NAMES[backend]: f"{version} ({DRIVERS[backend]} "
        f"{package_version(DRIVERS[backend])})"
        for backend, version in versions.items()
    }
