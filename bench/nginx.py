"""nginx, run as the current user from a temporary directory, serving the same bytes as
Newsdesk from disk: the yardstick of every ratio."""

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx

from bench.common import BenchError
from bench.processes import Tools, background, free_port

NGINX_CONF = """\
daemon off;
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{ }}
    default_type application/json;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 1000000;
    client_body_temp_path {root}/tmp/body;
    proxy_temp_path {root}/tmp/proxy;
    fastcgi_temp_path {root}/tmp/fastcgi;
    uwsgi_temp_path {root}/tmp/uwsgi;
    scgi_temp_path {root}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root}/www;
    }}
}}
"""


@contextlib.contextmanager
def nginx_serving(tools: Tools, files: dict[str, bytes], workers: int) -> Iterator[str]:
    """nginx serving `files` (name -> bytes) from a temporary directory; its base URL."""
    with tempfile.TemporaryDirectory(prefix="newsdesk-bench-nginx-") as temp:
        root = Path(temp)
        (root / "www").mkdir()
        (root / "tmp").mkdir()
        for name, body in files.items():
            (root / "www" / name).write_bytes(body)
            (root / "www" / name).chmod(0o644)
        for directory in (root, root / "www"):  # readable by workers running as nobody
            directory.chmod(0o755)
        port = free_port()
        conf = root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(root=root, port=port, workers=workers))
        base = f"http://127.0.0.1:{port}"
        command = [tools.nginx, "-p", f"{root}/", "-c", str(conf), "-e", str(root / "error.log")]
        first = next(iter(files))
        with background(command, root / "nginx.log", f"{base}/{first}"):
            for name, body in files.items():
                served = httpx.get(f"{base}/{name}").content
                if served != body:
                    raise BenchError(
                        f"nginx serves {len(served)} bytes for {name}, not {len(body)}"
                    )
            yield base
