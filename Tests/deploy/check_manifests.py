#!/usr/bin/env python3
"""Structural checks of deploy/kubernetes (no cluster, no network; Python stdlib + PyYAML).

    python3 Tests/deploy/check_manifests.py [DIR]

Checks every YAML document in DIR (default deploy/kubernetes):
- kinds and apiVersions are known, names are DNS labels;
- workloads (Deployment, StatefulSet): selector matches the pod labels; every container has an
  image, resources (cpu and memory requests and limits), a securityContext with runAsNonRoot
  (container or pod) and readOnlyRootFilesystem, no privilege escalation; readiness and liveness
  probes GET /healthz on a declared container port; MMAPD_* variables are options mmapd knows;
  terminationGracePeriodSeconds exceeds the preStop pause plus mmapd's shutdownGrace;
  referenced ConfigMaps, PersistentVolumeClaims and Services exist;
- read replicas (Deployment) mount their data read-only and are not writable;
- Services select some workload and target one of its ports; a StatefulSet's Service is headless;
- PodDisruptionBudgets select a Deployment and leave room for a voluntary disruption;
- the ConfigMap's mmapd.json parses and uses only the keys mmapd knows, with the right types
  (taken from Sources/Mmapd/Settings.swift);
- nginx-router.conf, if present, lists exactly the writer pods and the read Service.
Exits 1 with one line per violation.
"""

import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
SETTINGS = REPO / "Sources" / "Mmapd" / "Settings.swift"

API_VERSIONS = {
    "ConfigMap": {"v1"},
    "Secret": {"v1"},
    "Service": {"v1"},
    "PersistentVolumeClaim": {"v1"},
    "Deployment": {"apps/v1"},
    "StatefulSet": {"apps/v1"},
    "PodDisruptionBudget": {"policy/v1"},
    "HorizontalPodAutoscaler": {"autoscaling/v2"},
}
WORKLOADS = {"Deployment", "StatefulSet"}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")

problems = []


def fail(where, message):
    problems.append(f"{where}: {message}")


# --- what mmapd knows ------------------------------------------------------------------------

def mmapd_options():
    """{key: kind} from the option table of Settings.swift, kind in integer/text/boolean/list."""
    source = SETTINGS.read_text()
    table = source[source.index("static let options"):]
    table = table[: table.index("\n    ]")]
    options = {}
    for helper, key in re.findall(r'^\s*(\w+)\(\s*"(\w+)"', table, re.M):
        options[key] = helper
    for key in re.findall(r'Option\(key:\s*"(\w+)"', table):
        options[key] = "list"
    if not options:
        sys.exit(f"check_manifests: no options found in {SETTINGS}")
    return options


def default_of(field):
    match = re.search(rf"public var {field} = (\d+)", SETTINGS.read_text())
    return int(match.group(1)) if match else None


def environment_name(key):
    """The spelling of Settings.Option.environment, which follows swift-configuration: a word
    boundary only where a lowercase letter meets an uppercase one (maxRanges -> MMAPD_MAX_RANGES,
    maxConnectionsPerIP -> MMAPD_MAX_CONNECTIONS_PER_IP)."""
    dashed, previous_lower = "", False
    for character in key:
        if character.isupper() and previous_lower:
            dashed += "_"
        dashed += character.upper()
        previous_lower = character.islower()
    return "MMAPD_" + dashed


OPTIONS = mmapd_options()
ENVIRONMENT = {environment_name(key): key for key in OPTIONS}
ENVIRONMENT["MMAPD_CONFIG"] = "config"
DEFAULT_GRACE = default_of("shutdownGrace")


def value_fits(kind, value):
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "text":
        return isinstance(value, str)
    if kind == "list":
        return isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    return True  # an option helper this script does not know yet: accept any JSON value


# --- loading ------------------------------------------------------------------------------------

def load(directory):
    documents = []
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
    if not files:
        sys.exit(f"check_manifests: no YAML files in {directory}")
    for path in files:
        try:
            for index, document in enumerate(yaml.safe_load_all(path.read_text())):
                if document is None:
                    continue
                where = f"{path.name}#{index}" if index else path.name
                if not isinstance(document, dict):
                    fail(where, "a document that is not a mapping")
                    continue
                documents.append((where, document))
        except yaml.YAMLError as error:
            fail(path.name, f"not valid YAML: {error}")
    return documents


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def probe_port_ok(port, container):
    ports = container.get("ports") or []
    return any(port in (p.get("containerPort"), p.get("name")) for p in ports)


# --- checks -------------------------------------------------------------------------------------

def check_kinds(documents):
    for where, document in documents:
        kind, api = document.get("kind"), document.get("apiVersion")
        name = (document.get("metadata") or {}).get("name")
        if kind not in API_VERSIONS:
            fail(where, f"unexpected kind {kind!r}")
        elif api not in API_VERSIONS[kind]:
            fail(where, f"{kind} needs apiVersion {' or '.join(sorted(API_VERSIONS[kind]))}, not {api!r}")
        if not isinstance(name, str) or not DNS_LABEL.match(name):
            fail(where, f"metadata.name {name!r} is not a DNS label")


def mmapd_config(documents, config_maps):
    """(where, parsed mmapd.json) of every ConfigMap carrying one; checks keys and types."""
    found = {}
    for where, document in documents:
        if document.get("kind") != "ConfigMap":
            continue
        data = document.get("data") or {}
        for file_name, text in data.items():
            if not file_name.endswith(".json"):
                continue
            try:
                settings = json.loads(text)
            except json.JSONDecodeError as error:
                fail(where, f"{file_name} is not valid JSON: {error}")
                continue
            if not isinstance(settings, dict):
                fail(where, f"{file_name} is not a JSON object")
                continue
            for key, value in settings.items():
                if key not in OPTIONS:
                    fail(where, f"{file_name}: unknown mmapd option {key!r} (known: {', '.join(sorted(OPTIONS))})")
                elif not value_fits(OPTIONS[key], value):
                    fail(where, f"{file_name}: {key} must be a JSON {OPTIONS[key]}, not {value!r}")
            if "token" in settings:
                fail(where, f"{file_name}: a token in a ConfigMap is readable by anyone who can read ConfigMaps; use a Secret and MMAPD_TOKEN")
            found[(document["metadata"]["name"], file_name)] = settings
    if not found:
        fail("deploy/kubernetes", "no ConfigMap with an mmapd JSON config")
    config_maps.update(found)


def literal_env(container):
    return {e.get("name"): e.get("value") for e in container.get("env") or [] if "value" in e}


def pre_stop_seconds(container):
    command = (((container.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command") or []
    sleep = (((container.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds")
    if sleep is not None:
        return int(sleep)
    if len(command) == 2 and Path(command[0]).name == "sleep" and str(command[1]).isdigit():
        return int(command[1])
    return 0


def check_workload(where, document, names, config_maps):
    kind = document["kind"]
    spec = document.get("spec") or {}
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    selector = (spec.get("selector") or {}).get("matchLabels") or {}
    if not selects(selector, labels):
        fail(where, f"spec.selector.matchLabels {selector} does not match the pod labels {labels}")
    pod = template.get("spec") or {}
    pod_security = pod.get("securityContext") or {}
    containers = pod.get("containers") or []
    if not containers:
        fail(where, "no containers")
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}

    for volume_name, volume in volumes.items():
        if "configMap" in volume and volume["configMap"].get("name") not in names["ConfigMap"]:
            fail(where, f"volume {volume_name} uses ConfigMap {volume['configMap'].get('name')!r}, which is not defined here")
        claim = volume.get("persistentVolumeClaim")
        if claim and claim.get("claimName") not in names["PersistentVolumeClaim"]:
            fail(where, f"volume {volume_name} uses PersistentVolumeClaim {claim.get('claimName')!r}, which is not defined here")

    grace = pod.get("terminationGracePeriodSeconds")
    if not isinstance(grace, int):
        fail(where, "terminationGracePeriodSeconds is not set (the default 30 s may be shorter than mmapd's drain)")

    for container in containers:
        cname = f"{where} container {container.get('name')}"
        if not container.get("image"):
            fail(cname, "no image")
        security = container.get("securityContext") or {}
        if not (security.get("runAsNonRoot") or pod_security.get("runAsNonRoot")):
            fail(cname, "securityContext.runAsNonRoot is not true (container or pod)")
        if security.get("runAsUser", pod_security.get("runAsUser")) == 0:
            fail(cname, "runAsUser is 0")
        if security.get("readOnlyRootFilesystem") is not True:
            fail(cname, "securityContext.readOnlyRootFilesystem is not true")
        if security.get("allowPrivilegeEscalation") is not False:
            fail(cname, "securityContext.allowPrivilegeEscalation is not false")
        resources = container.get("resources") or {}
        for section in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if not (resources.get(section) or {}).get(resource):
                    fail(cname, f"resources.{section}.{resource} is not set")
        for probe_name in ("readinessProbe", "livenessProbe"):
            probe = container.get(probe_name)
            get = (probe or {}).get("httpGet")
            if not get:
                fail(cname, f"{probe_name} is missing or not an httpGet")
                continue
            if get.get("path") != "/healthz":
                fail(cname, f"{probe_name} probes {get.get('path')!r}, not /healthz")
            if not probe_port_ok(get.get("port"), container):
                fail(cname, f"{probe_name} port {get.get('port')!r} is not a containerPort (number or name) of the container")

        env = literal_env(container)
        for variable in container.get("env") or []:
            name = variable.get("name", "")
            if name.startswith("MMAPD_") and name not in ENVIRONMENT:
                fail(cname, f"environment variable {name} is no mmapd option (known: {', '.join(sorted(ENVIRONMENT))})")
        # The config file: the ConfigMap mounted where MMAPD_CONFIG points.
        settings = {}
        config_path = env.get("MMAPD_CONFIG")
        if config_path:
            mounts = [m for m in container.get("volumeMounts") or [] if config_path.startswith(m.get("mountPath", "").rstrip("/") + "/")]
            volume = volumes.get(mounts[0].get("name")) if mounts else None
            if not volume or "configMap" not in volume:
                fail(cname, f"MMAPD_CONFIG={config_path} is not inside a mounted ConfigMap")
            else:
                key = config_path[len(mounts[0]["mountPath"].rstrip("/")) + 1:]
                settings = config_maps.get((volume["configMap"].get("name"), key))
                if settings is None:
                    fail(cname, f"MMAPD_CONFIG={config_path}: ConfigMap {volume['configMap'].get('name')!r} has no key {key!r}")
                    settings = {}
        shutdown = env.get("MMAPD_SHUTDOWN_GRACE", settings.get("shutdownGrace", DEFAULT_GRACE))
        try:
            shutdown = int(shutdown)
        except (TypeError, ValueError):
            fail(cname, f"shutdownGrace {shutdown!r} is not a number")
            shutdown = None
        pause = pre_stop_seconds(container)
        if isinstance(grace, int) and shutdown is not None and grace <= shutdown + pause:
            fail(cname, f"terminationGracePeriodSeconds {grace} must exceed preStop {pause} s + shutdownGrace {shutdown} s")

        writable = str(env.get("MMAPD_WRITABLE", settings.get("writable", False))).lower() in ("true", "1")
        if kind == "Deployment":
            # Read replicas: many pods, so they must never write (README.md, "Writes").
            if writable:
                fail(cname, "a Deployment's replicas are writable; writes belong to the writer StatefulSet (one writer per file)")
            root = env.get("MMAPD_ROOT", settings.get("root"))
            for mount in container.get("volumeMounts") or []:
                volume = volumes.get(mount.get("name")) or {}
                if "persistentVolumeClaim" in volume or mount.get("mountPath") == root:
                    if mount.get("readOnly") is not True:
                        fail(cname, f"data volume {mount.get('name')} is not mounted readOnly")
                    if "persistentVolumeClaim" in volume and volume["persistentVolumeClaim"].get("readOnly") is not True:
                        fail(cname, f"volume {mount.get('name')}: persistentVolumeClaim.readOnly is not true")

    if kind == "StatefulSet":
        service = spec.get("serviceName")
        if service not in names["HeadlessService"]:
            fail(where, f"serviceName {service!r} is not a headless Service (clusterIP: None) defined here")
    return labels, containers


def check_services(documents, workloads):
    for where, document in documents:
        if document.get("kind") != "Service":
            continue
        spec = document.get("spec") or {}
        selector = spec.get("selector") or {}
        matched = [w for w in workloads if selects(selector, w["labels"])]
        if not matched:
            fail(where, f"selector {selector} matches no workload's pod labels")
            continue
        for port in spec.get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            for workload in matched:
                if not any(probe_port_ok(target, c) for c in workload["containers"]):
                    fail(where, f"targetPort {target!r} is no containerPort of {workload['where']}")


def check_budgets(documents, workloads):
    for where, document in documents:
        if document.get("kind") != "PodDisruptionBudget":
            continue
        spec = document.get("spec") or {}
        selector = (spec.get("selector") or {}).get("matchLabels") or {}
        matched = [w for w in workloads if w["kind"] == "Deployment" and selects(selector, w["labels"])]
        if not matched:
            fail(where, f"selector {selector} matches no Deployment's pod labels")
        if ("minAvailable" in spec) == ("maxUnavailable" in spec):
            fail(where, "needs exactly one of minAvailable and maxUnavailable")
        for workload in matched:
            replicas = workload["replicas"]
            if isinstance(spec.get("minAvailable"), int) and spec["minAvailable"] >= replicas:
                fail(where, f"minAvailable {spec['minAvailable']} >= replicas {replicas} of {workload['where']}: no node could ever be drained")
            if spec.get("maxUnavailable") == 0:
                fail(where, "maxUnavailable 0: no node could ever be drained")


def check_router(directory, documents, workloads):
    path = directory / "nginx-router.conf"
    if not path.exists():
        return
    text = path.read_text()
    services = {d["metadata"]["name"]: d for _, d in documents if d.get("kind") == "Service"}
    for workload in workloads:
        if workload["kind"] != "StatefulSet":
            continue
        name, service, replicas = workload["name"], workload["serviceName"], workload["replicas"]
        expected = [f"{name}-{i}.{service}" for i in range(replicas)]
        listed = re.findall(rf"server\s+({re.escape(name)}-\d+\.{re.escape(service)})[:\s;]", text)
        if listed != expected:
            fail(path.name, f"writer servers {listed} do not match StatefulSet {name} with {replicas} replicas ({expected})")
        if "hash $uri consistent" not in text:
            fail(path.name, "the writer upstream is not 'hash $uri consistent'")
    for workload in workloads:
        if workload["kind"] == "Deployment":
            names = [n for n, s in services.items() if selects((s.get("spec") or {}).get("selector"), workload["labels"])]
            if not any(re.search(rf"server\s+{re.escape(n)}[:;\s]", text) for n in names):
                fail(path.name, f"no upstream server names the read Service ({', '.join(names) or 'none'})")


def main():
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "deploy" / "kubernetes"
    documents = load(directory)
    check_kinds(documents)
    names = {kind: set() for kind in API_VERSIONS}
    names["HeadlessService"] = set()
    for _, document in documents:
        name = (document.get("metadata") or {}).get("name")
        names.setdefault(document.get("kind"), set()).add(name)
        if document.get("kind") == "Service" and (document.get("spec") or {}).get("clusterIP") == "None":
            names["HeadlessService"].add(name)
    config_maps = {}
    mmapd_config(documents, config_maps)
    workloads = []
    for where, document in documents:
        if document.get("kind") in WORKLOADS:
            labels, containers = check_workload(where, document, names, config_maps)
            spec = document.get("spec") or {}
            workloads.append({
                "where": where, "kind": document["kind"], "name": document["metadata"].get("name"),
                "labels": labels, "containers": containers, "replicas": spec.get("replicas", 1),
                "serviceName": spec.get("serviceName"),
            })
    if not any(w["kind"] == "Deployment" for w in workloads):
        fail(str(directory), "no Deployment of read replicas")
    check_services(documents, workloads)
    check_budgets(documents, workloads)
    if not any(d.get("kind") == "PodDisruptionBudget" for _, d in documents):
        fail(str(directory), "no PodDisruptionBudget")
    check_router(directory, documents, workloads)

    if problems:
        for problem in problems:
            print(f"check_manifests: {problem}", file=sys.stderr)
        print(f"check_manifests: {len(problems)} problem(s) in {directory}", file=sys.stderr)
        return 1
    kinds = sorted(f"{d['kind']}/{d['metadata']['name']}" for _, d in documents)
    print(f"check_manifests: OK ({len(documents)} objects: {', '.join(kinds)}; {len(OPTIONS)} mmapd options known)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
