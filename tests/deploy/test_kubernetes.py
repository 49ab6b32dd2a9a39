"""deploy/kubernetes/, checked without a cluster or a network.

Built-in kinds are validated against the Kubernetes OpenAPI schemas that kubernetes-validate
ships inside its wheel, KEDA's kinds against deploy/kubernetes/schemas/keda.yaml (ours: the
fields we use and their types); both strict, so an unknown field fails. Then the facts the
manifests must share with the code: settings, secrets, queues, the image, and stop times.
"""

import re
from dataclasses import fields
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
from ruamel.yaml import YAML

from landing.shared.settings import ALL_SECRETS, SECRETS, Settings, load
from landing.shared.signup import ATTEMPTS, QUEUES, REGISTRATIONS

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "deploy" / "kubernetes"
# The oldest Kubernetes the example is meant for, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30", kubernetes_validate.latest_version())
KEDA_KINDS = ("ScaledObject", "TriggerAuthentication")
# Workloads running the landing image, and whose SECRETS each one's process needs.
PROCESSES = {
    "web": "web",
    "worker": "worker",
    "worker-attempts": "worker",
    "dashboard": "dashboard",
    "migrate": "migrate",
}
NOT_SETTINGS = {"WAIT_TIMEOUT", "WAIT_FOR"}  # read by docker/entrypoint.sh
SETTINGS = {field.name.upper() for field in fields(Settings)}

yaml = YAML(typ="safe")


def documents() -> list[tuple[str, dict]]:
    """Every object in the folder's manifests, with the file it comes from."""
    return [
        (path.name, document)
        for path in sorted(FOLDER.glob("*.yaml"))
        for document in yaml.load_all(path.read_text())
        if document
    ]


def find(kind: str, name: str) -> dict:
    [found] = [d for _, d in documents() if d["kind"] == kind and d["metadata"]["name"] == name]
    return found


def pod(workload: str) -> dict:
    kind = "Job" if workload == "migrate" else "Deployment"
    return find(kind, workload)["spec"]["template"]["spec"]


def container(workload: str) -> dict:
    [only] = pod(workload)["containers"]
    return only


def config() -> dict[str, str]:
    return find("ConfigMap", "landing-config")["data"]


def strict(schema: dict) -> dict:
    """The schema with unknown fields refused, as the API server's strict field validation
    (kubectl's default) refuses them; maps (which say what their values are) stay open."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(item) for item in schema]
    return schema


def test_the_folder_holds_every_concern():
    kinds = {(d["kind"], d["metadata"]["name"]) for _, d in documents()}
    for workload in ("web", "worker", "worker-attempts", "dashboard", "nginx"):
        assert ("Deployment", workload) in kinds
    for expected in [
        ("Job", "migrate"),
        ("Service", "web"),
        ("Service", "dashboard"),
        ("HorizontalPodAutoscaler", "web"),
        ("ScaledObject", "worker"),
        ("PodDisruptionBudget", "web"),
        ("PodDisruptionBudget", "worker"),
        ("ConfigMap", "landing-config"),
    ]:
        assert expected in kinds
    assert not {kind for kind, _ in kinds} & {"StatefulSet", "Secret"}  # managed; never inlined
    namespaces = {
        d["metadata"].get("namespace") for _, d in documents() if d["kind"] != "Namespace"
    }
    assert namespaces == {find("Namespace", "landing")["metadata"]["name"]}


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_built_in_kinds_follow_the_kubernetes_schemas(version):
    checked = 0
    for filename, document in documents():
        if document["kind"] in KEDA_KINDS:
            continue
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(part) for part in error.path)
            pytest.fail(f"{filename}: {document['kind']} {path}: {error.message}")
        checked += 1
    assert checked >= 15


def test_keda_kinds_use_only_the_fields_we_have_typed():
    schemas = strict(yaml.load(FOLDER / "schemas" / "keda.yaml"))
    checked = set()
    for filename, document in documents():
        if document["apiVersion"].startswith("keda.sh/"):
            schema = {**schemas[document["kind"]], "$defs": schemas["$defs"]}
            validator = jsonschema.Draft202012Validator(schema)
            errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
            assert not errors, f"{filename}: {document['kind']}: {errors}"
            checked.add(document["kind"])
    assert checked == set(KEDA_KINDS)


def test_the_worker_scales_on_the_registrations_queue_length():
    scaled = find("ScaledObject", "worker")["spec"]
    assert scaled["scaleTargetRef"]["name"] == "worker"
    assert scaled["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
    args = container("worker")["args"]
    assert args[args.index("--queues") + 1] == REGISTRATIONS
    [trigger] = scaled["triggers"]
    metadata = trigger["metadata"]
    assert trigger["type"] == "rabbitmq"
    assert metadata["queueName"] == REGISTRATIONS
    # Over HTTP the count includes the messages workers prefetched and hold unacked.
    assert (metadata["protocol"], metadata["mode"]) == ("http", "QueueLength")
    assert int(metadata["value"]) > 0
    assert "host" not in metadata  # the management URL carries a password: a Secret's
    authentication = find("TriggerAuthentication", trigger["authenticationRef"]["name"])
    [reference] = authentication["spec"]["secretTargetRef"]
    assert reference["parameter"] == "host"
    assert "replicas" not in find("Deployment", "worker")["spec"]  # KEDA's to set


def test_web_scales_on_cpu_and_one_process_is_one_cpu():
    hpa = find("HorizontalPodAutoscaler", "web")["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}
    [metric] = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert "replicas" not in find("Deployment", "web")["spec"]  # the autoscaler's to set
    resources = container("web")["resources"]
    assert resources["requests"]["cpu"] == resources["limits"]["cpu"] == "1"
    assert config()["WEB_WORKERS"] == "1"


def test_each_workload_consumes_its_queues():
    consumed = {}
    for workload in ("worker", "worker-attempts"):
        args = container(workload)["args"]
        assert args[:2] == ["dramatiq", "actors.worker"]
        assert args[args.index("--processes") + 1] == "1"  # a pod is one process
        consumed[workload] = args[args.index("--queues") + 1].split(",")
    assert consumed == {"worker": [REGISTRATIONS], "worker-attempts": [ATTEMPTS]}
    assert set().union(*consumed.values()) <= set(QUEUES)
    assert container("worker")["args"][container("worker")["args"].index("--threads") + 1] == "32"


@pytest.mark.parametrize("workload", sorted(PROCESSES))
def test_every_variable_is_a_setting(workload):
    given = {variable["name"] for variable in container(workload).get("env", [])}
    assert [ref["configMapRef"]["name"] for ref in container(workload)["envFrom"]] == [
        "landing-config"
    ]
    unknown = (given | set(config())) - SETTINGS - NOT_SETTINGS
    assert not unknown, f"{workload}: not settings of landing/shared/settings.py: {unknown}"


@pytest.mark.parametrize("workload", sorted(PROCESSES))
def test_each_workload_holds_only_the_secrets_its_process_uses(workload):
    env = container(workload)["env"]
    from_secrets = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in env if "valueFrom" in v}
    assert set(from_secrets) == set(SECRETS[PROCESSES[workload]]), workload
    assert all(ref["key"] == name for name, ref in from_secrets.items())
    literal = {v["name"] for v in env if "value" in v}
    assert not literal & set(ALL_SECRETS), f"{workload} inlines a secret"
    # It starts with what it is given (placeholders where the Secrets' values would be).
    values = {**config(), **{v["name"]: v["value"] for v in env if "value" in v}}
    load(values | {name: "x://secret" for name in from_secrets}, process=PROCESSES[workload])


def test_secrets_stay_out_of_the_config_map_and_nginx():
    assert not set(config()) & set(ALL_SECRETS)
    assert config()["APP_ENV"] == "production"
    assert "env" not in container("nginx") and "envFrom" not in container("nginx")
    # The schema owner's Secret is the migrate Job's alone.
    owners = [
        workload
        for workload in PROCESSES
        for v in container(workload)["env"]
        if v.get("valueFrom", {}).get("secretKeyRef", {}).get("name") == "landing-schema-owner"
    ]
    assert owners == ["migrate"]


def test_one_image_everywhere_running_the_dockerfiles_command():
    images = {container(workload)["image"] for workload in PROCESSES}
    assert len(images) == 1
    [image] = images
    assert re.fullmatch(r"\S+:[\w.-]+", image) and not image.endswith(":latest"), image
    dockerfile = (ROOT / "Dockerfile").read_text()
    [command] = re.findall(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert container("web")["args"] == yaml.load(command)
    assert container("migrate")["args"] == ["flask", "--app", "landing", "migrate"]


def test_stop_times_outlast_gunicorn_and_a_message():
    graceful = int(
        re.search(r"^graceful_timeout = (\d+)", (ROOT / "gunicorn.conf.py").read_text(), re.M)[1]
    )
    web = pod("web")
    [sleep] = re.findall(
        r"\d+", " ".join(web["containers"][0]["lifecycle"]["preStop"]["exec"]["command"])
    )
    assert web["terminationGracePeriodSeconds"] > int(sleep) + graceful
    assert pod("dashboard")["terminationGracePeriodSeconds"] > graceful
    time_limit_ms = int(config().get("ACTOR_TIME_LIMIT_MS", Settings.actor_time_limit_ms))
    for workload in ("worker", "worker-attempts"):
        args = container(workload)["args"]
        shutdown_ms = int(args[args.index("--worker-shutdown-timeout") + 1])
        grace_ms = pod(workload)["terminationGracePeriodSeconds"] * 1000
        assert time_limit_ms < shutdown_ms < grace_ms, workload


def test_probes_budgets_and_services_find_the_pods():
    web = container("web")
    assert web["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert web["livenessProbe"]["httpGet"]["path"] == "/health"
    assert [p["containerPort"] for p in web["ports"]] == [int(config()["WEB_BIND"].split(":")[1])]
    for kind, name in [
        ("PodDisruptionBudget", "web"),
        ("PodDisruptionBudget", "worker"),
        ("Service", "web"),
        ("Service", "dashboard"),
        ("NetworkPolicy", "web-from-nginx-only"),
    ]:
        spec = find(kind, name)["spec"]
        selector = spec.get("selector", spec.get("podSelector"))
        selector = selector.get("matchLabels", selector)
        target = find("Deployment", "dashboard" if name == "dashboard" else name.split("-")[0])
        assert selector.items() <= target["spec"]["template"]["metadata"]["labels"].items()
    dashboard = find("Deployment", "dashboard")["spec"]
    assert (dashboard["replicas"], dashboard["strategy"]["type"]) == (1, "Recreate")


def test_nginx_reaches_every_web_pod_through_the_headless_service():
    service = find("Service", "web")
    assert service["spec"]["clusterIP"] == "None"
    includes = find("ConfigMap", "nginx-includes")["data"]
    name = f"web.{service['metadata']['namespace']}.svc.cluster.local"
    assert (
        f"server {name}:{service['spec']['ports'][0]['port']} resolve;" in includes["upstream.conf"]
    )
    compose_listen = (ROOT / "deploy" / "nginx" / "listen.conf").read_text().splitlines()
    same = [line for line in compose_listen if line and not line.startswith("#")]
    assert includes["listen.conf"].splitlines() == same
    allowed = find("NetworkPolicy", "web-from-nginx-only")["spec"]["ingress"][0]["from"][0]
    nginx_labels = find("Deployment", "nginx")["spec"]["template"]["metadata"]["labels"]
    assert allowed["podSelector"]["matchLabels"] == nginx_labels
    assert find("Service", "nginx")["spec"]["externalTrafficPolicy"] == "Local"


def references(node) -> set[tuple[str, str]]:
    """Every (kind, name) of a ConfigMap or Secret that a part of a manifest points at."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("configMapRef", "configMap"):
                found.add(("ConfigMap", value["name"]))
            elif key == "secretKeyRef":
                found.add(("Secret", value["name"]))
            elif key == "secret":
                found.add(("Secret", value["secretName"]))
            elif key == "secretTargetRef":
                found |= {("Secret", reference["name"]) for reference in value}
            found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return found


def test_every_config_map_and_secret_is_defined_here_or_created_by_the_readme():
    referenced = set().union(*(references(document) for _, document in documents()))
    defined = {(d["kind"], d["metadata"]["name"]) for _, d in documents()}
    readme = (FOLDER / "README.md").read_text()
    created = {("ConfigMap", name) for name in re.findall(r"create configmap ([\w-]+)", readme)}
    created |= {("Secret", name) for name in re.findall(r"create secret \w+ ([\w-]+)", readme)}
    assert referenced, "no references found"
    assert not referenced - defined - created, "neither defined nor created in README.md"
