"""Our nginx.conf, unchanged, in front of one gunicorn: the public door as production runs
it, for the benchmark and the tests.

nginx.conf includes two files that differ between places: upstream.conf (the gunicorn
servers) and listen.conf (inside `server`: the sockets, TLS). render_nginx writes both next
to a copy of nginx.conf; start_nginx runs it as a Group, stopped like any other.
"""

import os
import shutil
import subprocess
from pathlib import Path

from harness.local import ROOT, free_port, wait_until
from harness.processes import Group
from harness.stack import answers

# Debian puts nginx in /usr/sbin, which a non-root PATH often leaves out.
SBIN = "/usr/sbin"


class NginxMissing(RuntimeError):
    """No nginx binary on this machine."""


def nginx_binary() -> str:
    """nginx's path: on PATH or in /usr/sbin; NginxMissing if neither has it."""
    found = shutil.which("nginx") or shutil.which("nginx", path=SBIN)
    if not found:
        raise NginxMissing(
            "nginx is not installed (Debian package nginx; `make system-deps` installs it)"
        )
    return found


def render_nginx(folder: Path, upstream_port: int, listen: str) -> Path:
    """Our nginx.conf, unchanged, beside a local upstream.conf and this listen.conf."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "nginx.conf", folder / "nginx.conf")
    (folder / "upstream.conf").write_text(f"server 127.0.0.1:{upstream_port};\n")
    (folder / "listen.conf").write_text(listen)
    return folder / "nginx.conf"


def nginx_command(config: Path, *directives: str) -> list[str]:
    """nginx in the foreground on config, its folder the prefix; directives are main-context
    ones added on the command line (e.g. "user root;")."""
    main = " ".join(["daemon off;", *directives])
    return [nginx_binary(), "-p", str(config.parent), "-c", str(config), "-g", main]


def bench_listen(port: int) -> str:
    """listen.conf for load from this machine: plain HTTP on 127.0.0.1:port, and the
    client's address taken from X-Forwarded-For as behind production's load balancer
    (nginx.conf's comment), so each visitor the load generator plays has its own limits
    ($client_key); the load itself all comes from 127.0.0.1."""
    lines = [
        f"listen 127.0.0.1:{port};",
        "set_real_ip_from 127.0.0.1;",
        "real_ip_header X-Forwarded-For;",
    ]
    return "".join(line + "\n" for line in lines)


def start_nginx(upstream_url: str, name: str, log_dir: Path, timeout: float = 30) -> Group:
    """Our nginx.conf in front of the gunicorn at upstream_url (http://127.0.0.1:port), on
    a free port (bench_listen), its files in log_dir/name; returns once /health answers
    through it.

    Its access log (stdout) is written as in production and dropped, as the web's is.
    """
    upstream_port = int(upstream_url.rsplit(":", 1)[1])
    port = free_port()
    config = render_nginx(log_dir / name, upstream_port, bench_listen(port))
    group = Group(name, nginx_command(config), dict(os.environ), log_dir, stdout=subprocess.DEVNULL)
    group.url = f"http://127.0.0.1:{port}"
    up = wait_until(
        lambda: group.process.poll() is not None or answers(f"{group.url}/health"), timeout
    )
    if not up or group.process.poll() is not None:
        group.stop()
        raise RuntimeError(f"{name} did not answer /health (its log: {group.log.name})")
    return group
