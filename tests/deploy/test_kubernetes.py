"""deploy/k8s rendered offline (kubectl's kustomize) and checked without a cluster: every resource
against the Kubernetes API schemas (kubernetes-validate, strict: an unknown field fails) or the vendored
CRD schemas (Strimzi, MongoDB community operator; deploy/schemas/crds), the KafkaTopics equal to a
fresh generation from the registry, and per service what production needs."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import kubernetes_validate
import pytest

from nrn_contracts import TOPICS, dlq_topic, k8s
from nrn_contracts.topics import dlq_configs, dlq_partitions

from .deployment import (
    K8S,
    KUBERNETES_VERSION,
    OVERLAYS,
    ROOT,
    SCHEMAS,
    call_settings,
    calls,
    container_env,
    has_outbox,
    http_port,
    of_kind,
    rendered,
    service_names,
    settings,
)

CRD_SCHEMAS = {
    (s["x-kubernetes-group-version-kind"][0]["group"] + "/" + s["x-kubernetes-group-version-kind"][0]["version"],
     s["x-kubernetes-group-version-kind"][0]["kind"]): s
    for s in (json.loads(p.read_text()) for p in (SCHEMAS / "crds").glob("*.json"))
}


def _unknown_fields(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    """Fields the schema does not declare (what the API server's strict field validation refuses)."""
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return []
    out = []
    if isinstance(value, dict) and "properties" in schema:
        for key, item in value.items():
            if key in schema["properties"]:
                out += _unknown_fields(item, schema["properties"][key], f"{path}.{key}")
            elif "additionalProperties" not in schema:
                out.append(f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            out += _unknown_fields(item, schema["items"], f"{path}[{i}]")
    return out


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_resource_matches_its_schema(overlay: str) -> None:
    problems = []
    for doc in rendered(overlay):
        where = f"{doc['kind']}/{doc['metadata']['name']}"
        schema = CRD_SCHEMAS.get((doc["apiVersion"], doc["kind"]))
        if schema is not None:
            problems += [f"{where}: {e.message}" for e in jsonschema.Draft7Validator(schema).iter_errors(doc)]
            problems += [f"{where}: unknown field {f}" for f in _unknown_fields(doc, schema, "")]
            continue
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{where}: {doc['apiVersion']} is neither a Kubernetes API nor a vendored CRD")
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{where}: {exc.message}")
    assert not problems, "\n".join(problems)


def test_kafka_topics_are_a_fresh_generation_of_the_registry() -> None:
    committed = (K8S / "base" / "kafka" / "topics.yaml").read_text()
    assert committed == k8s.dumps(k8s.kafka_topics()), (
        "deploy/k8s/base/kafka/topics.yaml is stale: python -m nrn_contracts k8s-topics --out deploy/k8s/base/kafka/topics.yaml")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_registry_topic_is_declared_as_the_registry_says(overlay: str) -> None:
    topics = of_kind(rendered(overlay), "KafkaTopic")
    wanted = set(TOPICS) | {dlq_topic(t) for t in TOPICS}
    assert set(topics) == wanted
    replicas = 1 if overlay == "dev" else 3
    brokers = sum(p["spec"]["replicas"] for p in of_kind(rendered(overlay), "KafkaNodePool").values()
                  if "broker" in p["spec"]["roles"])
    assert replicas <= brokers
    for name, topic in TOPICS.items():
        spec = topics[name]["spec"]
        assert (spec["partitions"], spec["replicas"], spec["config"]) == (topic.partitions, replicas, topic.configs())
        dlq = topics[dlq_topic(name)]["spec"]
        assert (dlq["partitions"], dlq["config"]) == (dlq_partitions(), dlq_configs())
        assert topics[name]["metadata"]["labels"]["strimzi.io/cluster"] == "nrn"


def test_the_capacity_plan_sizes_every_registry_topic() -> None:
    """deploy/README.md's capacity plan has a row for every topic of the registry with its partitions: a
    topic added later gets its rate and storage estimated, not forgotten."""
    text = (ROOT / "deploy" / "README.md").read_text()
    plan = text[text.index("## Capacity plan"):text.index("## Checked without a cluster")]
    rows = [line for line in plan.splitlines() if line.startswith("| `nrn.")]
    for name, topic in TOPICS.items():
        row = next((r for r in rows if f"`{name}`" in r), None)
        assert row, f"deploy/README.md's capacity plan has no row for {name}"
        assert f"| {topic.partitions} |" in row, f"{name}: the plan's partitions differ from the registry's {topic.partitions}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kafka_runs_kraft_node_pools_and_mongodb_a_replica_set(overlay: str) -> None:
    docs = rendered(overlay)
    kafka = of_kind(docs, "Kafka")["nrn"]
    assert kafka["metadata"]["annotations"] == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    assert kafka["spec"]["kafka"]["version"].startswith("4.")
    assert "topicOperator" in kafka["spec"]["entityOperator"]
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    pools = of_kind(docs, "KafkaNodePool")
    assert {r for p in pools.values() for r in p["spec"]["roles"]} == {"controller", "broker"}
    mongo = of_kind(docs, "MongoDBCommunity")["nrn-mongodb"]
    assert mongo["spec"]["members"] == (1 if overlay == "dev" else 3)
    assert mongo["spec"]["version"].startswith("8.")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_what_production_needs(overlay: str) -> None:
    docs = rendered(overlay)
    deployments, services = of_kind(docs, "Deployment"), of_kind(docs, "Service")
    pdbs, hpas, policies = of_kind(docs, "PodDisruptionBudget"), of_kind(docs, "HorizontalPodAutoscaler"), of_kind(docs, "NetworkPolicy")
    mongo_users = {u["name"]: u for u in of_kind(docs, "MongoDBCommunity")["nrn-mongodb"]["spec"]["users"]}
    for name in service_names():
        assert name in deployments, f"{name} has no Deployment in deploy/k8s"
        assert name in services and name in pdbs and name in hpas and name in policies, name
        pod = deployments[name]["spec"]["template"]
        c = pod["spec"]["containers"][0]
        port = http_port(name)
        assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": port, "metrics": port + 1000}
        assert c["livenessProbe"]["httpGet"]["path"] == "/health/live"
        assert c["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert c["resources"]["requests"].keys() >= {"cpu", "memory"} and "memory" in c["resources"]["limits"]
        assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port + 1000)
        assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
        assert hpas[name]["spec"]["scaleTargetRef"]["name"] == name
        assert services[name]["spec"]["ports"][0]["port"] == port
        env = container_env(deployments[name])
        assert env["METRICS_PORT"] == str(port + 1000)
        if not has_outbox(name):
            assert "MONGODB_URI" not in env and f"{name}-relay" not in deployments
            continue
        database = settings(name).database_name
        assert env["RELAY_EMBEDDED"] == "false"
        secret = env["MONGODB_URI"]["secretKeyRef"]["name"]
        user = mongo_users[name]
        assert user["connectionStringSecretName"] == secret
        assert user["roles"] == [{"name": "readWrite", "db": database}], "a service reaches only its own database"
        relay = deployments[f"{name}-relay"]
        renv = container_env(relay)
        assert relay["spec"]["replicas"] == 1 and relay["spec"]["template"]["spec"]["containers"][0]["command"] == [
            "python", "-m", "nrn_kit.relay"]
        assert (renv["SERVICE_NAME"], renv["DATABASE_NAME"], renv["MONGODB_URI"]) == (name, database, env["MONGODB_URI"])
    assert set(mongo_users) == {s for s in service_names() if has_outbox(s)}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_is_pointed_at_what_it_calls(overlay: str) -> None:
    """Each ``<other>_url`` of a service's settings reaches its container (its own env, or a ConfigMap it
    loads whole) as that service's in-cluster address; unset, it would call 127.0.0.1 in its own pod."""
    docs = rendered(overlay)
    deployments, config_maps = of_kind(docs, "Deployment"), of_kind(docs, "ConfigMap")
    for name in service_names():
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        env: dict[str, Any] = {}
        for source in container.get("envFrom", []):
            env |= config_maps[source["configMapRef"]["name"]]["data"]
        env |= container_env(deployments[name])
        for var, url in call_settings(name).items():
            assert env.get(var) == url, f"{overlay}: {name}'s {var} is {env.get(var)!r}, the cluster serves it at {url}"


def _allowed_egress(policy: dict[str, Any]) -> list[tuple[dict[str, Any], set[int]]]:
    return [(peer, {p["port"] for p in rule.get("ports", [])}) for rule in policy["spec"].get("egress", [])
            for peer in rule.get("to", [])]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_open_only_what_each_service_uses(overlay: str) -> None:
    docs = rendered(overlay)
    policies = of_kind(docs, "NetworkPolicy")
    deny = policies["nrn-default-deny"]["spec"]
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny and "egress" not in deny
    for name in service_names():
        policy = policies[name]
        egress = _allowed_egress(policy)
        to_services = {peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                       for peer, _ in egress if "app.kubernetes.io/name" in peer.get("podSelector", {}).get("matchLabels", {})}
        assert to_services == calls(name), f"{name} may call {to_services}, its settings name {calls(name)}"
        kafka = any(peer.get("podSelector", {}).get("matchLabels", {}).get("strimzi.io/cluster") == "nrn" and ports == {9092}
                    for peer, ports in egress)
        mongo = any(peer.get("podSelector", {}).get("matchLabels", {}).get("app") == "nrn-mongodb-svc" and ports == {27017}
                    for peer, ports in egress)
        assert kafka == mongo == has_outbox(name), name
        internet = {port for peer, ports in egress if "ipBlock" in peer for port in ports}
        assert internet == {"partners": {443}, "notifications": {25, 465, 587}}.get(name, set()), name
        for peer, _ in egress:
            if "ipBlock" in peer:
                assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16"} <= set(peer["ipBlock"]["except"])
        # a rule without sources would let everyone in
        assert all(rule.get("from") for rule in policy["spec"]["ingress"]), f"{name}: an ingress rule open to all"
        assert all(rule.get("to") for rule in policy["spec"]["egress"]), f"{name}: an egress rule open to all"
        sources = [peer for rule in policy["spec"]["ingress"] for peer in rule["from"]]
        callers = {p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in sources if "podSelector" in p}
        assert callers == {s for s in service_names() if name in calls(s)}, f"{name}: callers {callers}"
        outside = [p for p in sources if "namespaceSelector" in p and
                   p["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] != "monitoring"]
        assert bool(outside) == (name == "gateway"), f"{name}: only the gateway is reachable from outside"
    ingresses = of_kind(docs, "Ingress")
    assert [r["http"]["paths"][0]["backend"]["service"]["name"] for i in ingresses.values() for r in i["spec"]["rules"]] == ["gateway"]
    assert all(s["spec"].get("type", "ClusterIP") == "ClusterIP" for s in of_kind(docs, "Service").values())


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_no_secret_values_are_committed(overlay: str) -> None:
    docs = rendered(overlay)
    assert not of_kind(docs, "Secret"), "Secrets are created in the cluster (deploy/README.md), never committed"
    for name, d in of_kind(docs, "Deployment").items():
        for key, value in container_env(d).items():
            if any(w in key for w in ("SECRET", "PASSWORD", "SIGNING_KEY", "ENCRYPTION_KEY", "MONGODB_URI")):
                assert isinstance(value, dict) and "secretKeyRef" in value, f"{name}.{key} must come from a Secret"
    secret_names = {v["secretKeyRef"]["name"] for d in of_kind(docs, "Deployment").values()
                    for v in container_env(d).values() if isinstance(v, dict) and "secretKeyRef" in v}
    readme = (ROOT / "deploy" / "README.md").read_text()
    missing = sorted(s for s in secret_names if s not in readme and not s.startswith("nrn-mongodb-"))
    assert not missing, f"deploy/README.md does not say how to create {missing}"
