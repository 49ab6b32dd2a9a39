"""The Docker side of the production stack, checked without a Docker engine.

hadolint lints the Dockerfile, check-jsonschema validates docker-compose.yml against the
Compose Specification, the real docker-compose CLI resolves it as `docker compose up` would,
shellcheck checks every shell script, and the entrypoint runs for real against the local
services. The lock's dev group installs every tool; a missing one fails, never skips.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import pytest
from dramatiq.cli import make_argument_parser
from ruamel.yaml import YAML

from harness.door import nginx_binary, render_nginx
from landing.shared.settings import SECRETS, Settings, load
from landing.shared.signup import QUEUES, SMS, WEBHOOKS
from tests.support.config import child_environment
from tests.support.config import settings as test_settings
from tests.support.door import self_signed_pair

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"
APP_SERVICES = ("web", "worker", "webhooks", "migrate", "dashboard")
STATEFUL = {
    "postgres": "pg_isready",
    "rabbitmq": "rabbitmq-diagnostics",
    "redis": "redis-cli",
    "mongo": "mongosh",
}
OPERATOR_PORTS = {"dashboard", "rabbitmq", "mongo-express"}  # published on 127.0.0.1 only
REFERENCE = re.compile(r"\$\{(\w+)([^}]*)\}")


def tool(name: str) -> str:
    """The venv's copy of a tool, else PATH's; fail (not skip) when neither exists."""
    for candidate in (Path(sys.executable).parent / name, shutil.which(name)):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    pytest.fail(f"{name} is missing: make dev installs it (uv.lock's dev group)")


def run(*args: str, **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("cwd", ROOT)
    return subprocess.run(args, capture_output=True, text=True, timeout=60, **kwargs)


def required_variables() -> set[str]:
    return {name for name, rest in REFERENCE.findall(COMPOSE.read_text()) if rest.startswith(":?")}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def compose(tmp_path: Path, variables: dict | Path, *args: str) -> subprocess.CompletedProcess:
    """docker-compose with exactly these variables (or this env file): no shell's, no .env."""
    env_file = variables
    if isinstance(variables, dict):
        env_file = tmp_path / "compose.env"
        env_file.write_text("".join(f"{name}={value}\n" for name, value in variables.items()))
    command = ["-f", str(COMPOSE), "--project-directory", str(ROOT), "--env-file", str(env_file)]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    return run(tool("docker-compose"), *command, *args, env=env)


@pytest.fixture(scope="module")
def filled() -> dict[str, str]:
    return {name: f"v4lue{name.lower().replace('_', '')}" for name in required_variables()}


@pytest.fixture(scope="module")
def tls_pair(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed (cert, key), as scripts/self-signed-cert.sh makes for a local run."""
    return self_signed_pair(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory, filled, tls_pair) -> dict:
    """The stack as `docker compose config` resolves it with every secret filled in."""
    cert, key = tls_pair
    variables = {**filled, "TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key)}
    result = compose(tmp_path_factory.mktemp("compose"), variables, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_dockerfile_passes_hadolint():
    result = run(tool("hadolint"), "--no-color", "--failure-threshold", "style", "Dockerfile")
    assert (result.returncode, result.stdout) == (0, ""), result.stdout + result.stderr


def test_dockerfile_builds_wheels_then_runs_them_as_a_user():
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM python:3\.13[\w.-]*-slim", text, re.M)) == 2
    assert "pip wheel" in text and "--no-index" in text
    # Both stages take exactly uv.lock's export, each package checked against its hash.
    for stage in ("pip wheel", "pip install"):
        command = re.search(rf"{stage} (?:.*\\\n)*.*", text).group()
        assert "--no-deps" in command and "--require-hashes" in command, command
    for line in (
        "ENV PYTHONUNBUFFERED=1",
        "PYTHONDONTWRITEBYTECODE=1",
        "EXPOSE 8000",
        'ENTRYPOINT ["/app/docker/entrypoint.sh"]',
        "/health",
    ):
        assert line in text
    user = re.findall(r"^USER (\S+)", text, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(
        r'^CMD \["gunicorn", "-c", "gunicorn.conf.py", "landing:create_app\(\)"\]', text, re.M
    )
    ignored = dockerignore()
    for copy in re.findall(r"^COPY (?!--from)(?:--\S+ )*(.+) \S+$", text, re.M):
        for source in copy.split():
            assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which is missing"
            assert source.strip("/") not in ignored, f".dockerignore keeps out {source}"


def test_the_files_the_image_gets_are_enough_to_run(tmp_path):
    """Every module imports from a copy of only what the Dockerfile COPYs (no tests/, scripts/)."""
    text = (ROOT / "Dockerfile").read_text()
    for copy in re.findall(r"^COPY (?!--from)(?:--\S+ )*(.+) \S+$", text, re.M):
        for source in copy.split():
            target = tmp_path / source.strip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / source).is_dir():
                shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(ROOT / source, target)
    check = (
        "import pkgutil, runpy, importlib, actors, landing\n"
        "for package in (actors, landing):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
        "runpy.run_path('gunicorn.conf.py')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # What is checked is that the files import; production would also ask for every secret.
    env["APP_ENV"] = "development"
    result = run(sys.executable, "-c", check, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "schema.sql").is_file()
    assert os.access(tmp_path / "docker" / "entrypoint.sh", os.X_OK)


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_keeps_secrets_and_clutter_out():
    ignored = dockerignore()
    for entry in (".env", ".git", ".venv", "tests", "results", "**/__pycache__", ".pytest_cache"):
        assert entry in ignored


def test_compose_file_follows_the_compose_specification():
    result = run(tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_credential_is_required_without_a_default():
    for name, rest in REFERENCE.findall(COMPOSE.read_text()):
        if name.endswith(("PASSWORD", "_USER")):
            assert rest == f":?set {name} in .env (see .env.example)", f"${{{name}{rest}}}"
    required = required_variables()
    for name in (
        "POSTGRES_PASSWORD",
        "RABBITMQ_PASSWORD",
        "MONGO_ROOT_PASSWORD",
        "MONGO_EXPRESS_PASSWORD",
        "DASHBOARD_PASSWORD",
    ):
        assert name in required
    # In every environment value, a URL's user and password come from those variables only.
    services = YAML(typ="safe").load(COMPOSE.read_text())["services"]
    for service in services.values():
        for value in (service.get("environment") or {}).values():
            for userinfo in re.findall(r"://([^/]*)@", str(value)):
                assert re.fullmatch(r"\$\{\w+:\?[^}]*\}:\$\{\w+:\?[^}]*\}", userinfo), value


def test_every_compose_variable_is_in_env_example():
    documented = set(re.findall(r"^(\w+)=", (ROOT / ".env.example").read_text(), re.M))
    missing = {name for name, _ in REFERENCE.findall(COMPOSE.read_text())} - documented
    assert not missing, f"add to .env.example: {sorted(missing)}"


def test_compose_stops_when_a_secret_is_missing(tmp_path, filled):
    for name in ("POSTGRES_PASSWORD", "DASHBOARD_PASSWORD"):
        result = compose(tmp_path, {k: v for k, v in filled.items() if k != name}, "config", "-q")
        assert result.returncode != 0
        assert f"set {name} in .env (see .env.example)" in result.stderr
    # .env.example as it is: the passwords are still empty, so nothing starts.
    result = compose(tmp_path, ROOT / ".env.example", "config", "-q")
    assert result.returncode != 0 and "set POSTGRES_PASSWORD in .env" in result.stderr


def test_only_nginx_is_public_and_operator_uis_listen_on_localhost(stack):
    for name, service in stack["services"].items():
        assert "container_name" not in service, name
        ports = service.get("ports", [])
        if name == "nginx":
            assert [(p.get("host_ip"), p["published"], p["target"]) for p in ports] == [
                (None, "443", 443),
                (None, "8080", 80),
            ]
        elif name in OPERATOR_PORTS:
            assert ports and all(p.get("host_ip") == "127.0.0.1" for p in ports), name
        else:
            assert not ports, f"{name} must not publish a port"


def test_gunicorn_is_reachable_only_through_nginx(stack):
    services, networks = stack["services"], stack["networks"]
    members = {
        name: {s for s, service in services.items() if name in service["networks"]}
        for name in networks
    }
    web, nginx = services["web"], services["nginx"]
    assert "ports" not in web and "expose" not in web
    assert set(web["networks"]) == {"edge", "backend"}
    assert set(nginx["networks"]) == {"frontend", "edge"}
    # Docker routes no published port into an internal network, and lets nothing on it out:
    # every network web is on is one.
    for name in web["networks"]:
        assert networks[name].get("internal") is True, name
    assert members["edge"] == {"nginx", "web"}
    assert members["frontend"] == {"nginx"}
    assert not networks["frontend"].get("internal")  # nginx's published ports arrive there
    # Every other published port arrives on `operators`, never a network web is on.
    for name, service in services.items():
        if service.get("ports") and name != "nginx":
            outside = {n for n in service["networks"] if not networks[n].get("internal")}
            assert outside == {"operators"}, name
    # web believes X-Forwarded-For from nginx's network only.
    [subnet] = [entry["subnet"] for entry in networks["edge"]["ipam"]["config"]]
    assert web["environment"]["TRUSTED_PROXIES"] == subnet


def test_nginx_gets_the_tls_pair_and_serves_https(stack, tls_pair):
    nginx = stack["services"]["nginx"]
    mounts = {v["target"]: v for v in nginx["volumes"]}
    cert, key = tls_pair
    for target, source in (("/etc/nginx/tls/cert.pem", cert), ("/etc/nginx/tls/key.pem", key)):
        assert mounts[target]["source"] == str(source)
        assert mounts[target]["read_only"] is True
        # A missing pair fails the start; it never becomes an empty directory.
        assert mounts[target]["bind"]["create_host_path"] is False
    listen = (ROOT / "deploy" / "nginx" / "listen.conf").read_text()
    for line in (
        "listen 443 ssl;",
        "ssl_certificate /etc/nginx/tls/cert.pem;",
        "ssl_certificate_key /etc/nginx/tls/key.pem;",
        "listen 80;",
        "set $tls_redirect https://$host;",
    ):
        assert line in listen


def test_tls_defaults_to_the_local_pair_which_git_ignores(tmp_path, filled):
    result = compose(tmp_path, filled, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    sources = {
        v["target"]: v["source"] for v in json.loads(result.stdout)["services"]["nginx"]["volumes"]
    }
    assert sources["/etc/nginx/tls/cert.pem"] == str(ROOT / "deploy" / "tls" / "cert.pem")
    assert sources["/etc/nginx/tls/key.pem"] == str(ROOT / "deploy" / "tls" / "key.pem")
    for generated in ("deploy/tls/key.pem", "deploy/tls/cert.pem"):
        ignored = run("git", "check-ignore", "-q", generated)
        assert ignored.returncode == 0, f"git must ignore {generated}: keys never get committed"


def test_nginx_t_accepts_the_config_with_composes_listen_conf(tmp_path, tls_pair):
    """Compose's listen.conf, its paths pointed at a test pair (upstream.conf's `resolve` needs
    the image's nginx 1.27+, so the upstream is a local one)."""
    cert, key = tls_pair
    listen = (ROOT / "deploy" / "nginx" / "listen.conf").read_text()
    listen = listen.replace("/etc/nginx/tls/cert.pem", str(cert))
    listen = listen.replace("/etc/nginx/tls/key.pem", str(key))
    config = render_nginx(tmp_path, free_port(), listen)
    result = run(nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(config))
    assert result.returncode == 0, result.stderr


def test_app_services_share_one_image_and_a_production_environment(stack):
    services = stack["services"]
    assert {services[name]["image"] for name in APP_SERVICES} == {"landing:latest"}
    assert {services[name]["build"]["context"] for name in APP_SERVICES} == {str(ROOT)}
    environment = services["web"]["environment"]
    assert environment["APP_ENV"] == "production"
    assert environment["WEB_BIND"] == "0.0.0.0:8000"
    assert environment["MONGO_URL"].endswith("/logs?authSource=logs")  # the app's own user
    given = set().union(*(services[name]["environment"] for name in APP_SERVICES))
    missing = {f.name.upper() for f in fields(Settings)} - given
    assert not missing, f"settings that never reach the containers: {sorted(missing)}"
    settings = load(environment)  # production start-up accepts what compose hands over
    assert "@postgres:5432/" in settings.database_url
    assert settings.database_url.startswith("postgresql://v4luepostgresappuser:")


# Each container gets the secrets its process uses and none other (SECRETS).
PROCESSES = {
    "web": "web",
    "worker": "worker",
    "webhooks": "worker",
    "dashboard": "dashboard",
    "migrate": "migrate",
}
ALL_APP_SECRETS = set().union(*SECRETS.values())


@pytest.mark.parametrize("service", sorted(PROCESSES))
def test_each_container_holds_only_the_secrets_it_uses(stack, service):
    environment = stack["services"][service]["environment"]
    needed = set(SECRETS[PROCESSES[service]])
    assert all(environment.get(name) for name in needed), service
    assert not (ALL_APP_SECRETS - needed) & set(environment), service
    load(environment, process=PROCESSES[service])  # it starts with what it was given


def test_app_containers_connect_as_least_privileged_users(stack):
    services = stack["services"]
    web = services["web"]["environment"]
    assert "v4luepostgresappuser" in web["DATABASE_URL"]  # not POSTGRES_USER
    assert "v4luerabbitmqappuser" in web["RABBITMQ_URL"] and web["RABBITMQ_URL"].endswith(
        "/landing"
    )
    assert "v4luemongoappuser" in web["MONGO_URL"]
    dashboard = services["dashboard"]["environment"]
    assert "v4luerabbitmqmonitoruser" in dashboard["RABBITMQ_MANAGEMENT_URL"]
    assert "v4luepostgresuser" in services["migrate"]["environment"]["MIGRATE_DATABASE_URL"]
    rabbitmq = services["rabbitmq"]
    assert rabbitmq["entrypoint"] == ["/usr/local/bin/with-app-users.sh"]
    assert "landing-users-ready" in " ".join(rabbitmq["healthcheck"]["test"])
    mongo_init = {v["target"] for v in services["mongo"]["volumes"]}
    assert "/docker-entrypoint-initdb.d/create-app-user.js" in mongo_init
    assert "--maxmemory-policy noeviction" in " ".join(services["redis"]["command"])


def test_start_order_and_health(stack):
    services = stack["services"]
    for name, command in STATEFUL.items():
        assert command in services[name]["healthcheck"]["test"][1], name
    assert "/health" in " ".join(services["web"]["healthcheck"]["test"])
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    for name in ("web", "worker", "webhooks", "dashboard"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert {depends_on[s]["condition"] for s in STATEFUL} == {"service_healthy"}
    assert services["migrate"]["command"] == ["flask", "--app", "landing", "migrate"]
    for name, service in services.items():
        assert service["restart"] == ("no" if name == "migrate" else "unless-stopped"), name


def test_data_lives_in_named_volumes(stack):
    for name, target in (
        ("postgres", "/var/lib/postgresql/data"),
        ("mongo", "/data/db"),
        ("rabbitmq", "/var/lib/rabbitmq"),
    ):
        volumes = {(v["type"], v["target"]) for v in stack["services"][name]["volumes"]}
        assert ("volume", target) in volumes, name


@pytest.mark.parametrize("name", ["worker", "webhooks"])
def test_workers_drain_before_docker_kills_them(stack, name):
    worker = stack["services"][name]
    command = worker["command"]
    assert command[:2] == ["dramatiq", "actors.worker"] and "--processes" in command
    shutdown_ms = int(command[command.index("--worker-shutdown-timeout") + 1])
    grace_ms = _milliseconds(worker["stop_grace_period"])
    assert Settings().actor_time_limit_ms < shutdown_ms < grace_ms
    for name in ("web", "worker", "webhooks"):
        assert set(stack["services"][name]["deploy"]["resources"]["limits"]) >= {"cpus", "memory"}


def test_webhooks_have_a_worker_of_their_own_and_the_only_way_out(stack):
    """A hanging receiver never holds a registrations thread, and only the container that
    POSTs to WEBHOOK_URL can reach the world."""
    services, networks = stack["services"], stack["networks"]
    parse = make_argument_parser().parse_args  # as the dramatiq CLI reads the command
    consumed = {
        name: parse(services[name]["command"][1:]).queues for name in ("worker", "webhooks")
    }
    assert consumed["webhooks"] == [WEBHOOKS, SMS]
    assert sorted(consumed["worker"] + consumed["webhooks"]) == sorted(QUEUES)
    assert not networks["egress"].get("internal")
    assert services["webhooks"]["networks"].keys() == {"backend", "egress"}
    assert {n for n, s in services.items() if "egress" in s["networks"]} == {"webhooks"}
    for name in ("worker", "web", "migrate"):
        assert all(networks[n].get("internal") for n in services[name]["networks"]), name
    for name in ("worker", "webhooks"):
        assert services[name]["environment"]["WEBHOOK_URL"] == ""  # .env's, passed through


def test_files_compose_mounts_exist(stack):
    for service in stack["services"].values():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{volume['source']} is missing"


def _milliseconds(duration: str) -> int:
    units = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)(ms|h|m|s)", duration))


def shell_scripts() -> list[str]:
    """Every tracked or new (not ignored) file named *.sh or starting with a shell's #!."""
    listed = run("git", "ls-files", "--cached", "--others", "--exclude-standard", check=True)
    scripts = []
    for name in listed.stdout.splitlines():
        path = ROOT / name
        if path.is_file() and (path.suffix == ".sh" or _shell_shebang(path)):
            scripts.append(name)
    return scripts


def _shell_shebang(path: Path) -> bool:
    with path.open("rb") as file:
        first = file.read(64)
    return re.match(rb"#!\s*(/usr)?/bin/(env\s+)?(ba|da|k)?sh\b", first) is not None


def test_shell_scripts_pass_shellcheck():
    scripts = shell_scripts()
    assert {"docker/entrypoint.sh", ".ci/run"} <= set(scripts)
    result = run(tool("shellcheck"), *scripts)
    assert result.returncode == 0, result.stdout + result.stderr


def entrypoint(*command: str, **variables: str) -> tuple[subprocess.CompletedProcess, float]:
    env = child_environment(**{"WAIT_TIMEOUT": "30", "WAIT_FOR": "", **variables})
    started = time.monotonic()
    result = run(str(ENTRYPOINT), *command, env=env)
    return result, time.monotonic() - started


@pytest.fixture
def services(broker, mongo_server):
    """PostgreSQL, RabbitMQ (the tests' vhost), Redis and a MongoDB all answering."""


def test_entrypoint_waits_for_each_service_then_runs_the_command(services):
    secret_url = test_settings.database_url.replace("postgres@", "postgres:Pg0Secret@")
    result, _ = entrypoint("echo", "ready", DATABASE_URL=secret_url)
    assert result.returncode == 0, result.stdout + result.stderr
    *waits, last = result.stdout.splitlines()
    for line, name in zip(waits, ("postgresql", "rabbitmq", "redis", "mongodb"), strict=True):
        assert re.fullmatch(rf"waiting for {name}\.\.\. ok \(\d+ s\)", line)
    assert last == "ready"
    assert "Pg0Secret" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("variable", "service", "url"),
    [
        ("DATABASE_URL", "postgresql", "postgresql://landing:Sec0ret@127.0.0.1:{port}/landing"),
        ("RABBITMQ_URL", "rabbitmq", "amqp://landing:Sec0ret@127.0.0.1:{port}/%2F"),
        ("REDIS_URL", "redis", "redis://:Sec0ret@127.0.0.1:{port}/0"),
        ("MONGO_URL", "mongodb", "mongodb://landing:Sec0ret@127.0.0.1:{port}/logs"),
    ],
)
def test_entrypoint_gives_up_on_a_closed_port_and_names_the_service(
    services, variable, service, url
):
    closed = url.format(port=free_port())
    given = {variable: closed, "WAIT_TIMEOUT": "2"}
    if variable == "DATABASE_URL":  # the schema owner's URL names the same server
        given["MIGRATE_DATABASE_URL"] = closed
    result, seconds = entrypoint("echo", "ready", **given)
    output = result.stdout + result.stderr
    assert result.returncode != 0 and seconds < 15, output
    assert re.search(rf"gave up on {service} after \d+ s", result.stderr), output
    assert "ready" not in result.stdout.splitlines()
    assert "Sec0ret" not in output and closed not in output


def test_entrypoint_can_skip_or_narrow_the_wait(services):
    closed = f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F"
    skipped, _ = entrypoint("echo", "ready", RABBITMQ_URL=closed, WAIT_TIMEOUT="0")
    assert skipped.stdout == "ready\n", skipped.stderr
    narrowed, _ = entrypoint("echo", "ready", RABBITMQ_URL=closed, WAIT_FOR="postgresql")
    assert narrowed.stdout.splitlines()[-1] == "ready", narrowed.stderr
    assert "rabbitmq" not in narrowed.stdout
