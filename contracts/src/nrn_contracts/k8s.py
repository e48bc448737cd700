"""Strimzi ``KafkaTopic`` resources generated from the topic registry, so topics are declared once.

``python -m nrn_contracts k8s-topics --out deploy/k8s/base/kafka/topics.yaml`` writes one resource per
registry topic and one per dead-letter topic: partitions, retention and compaction from
:mod:`nrn_contracts.topics` (``Topic.configs``, ``dlq_configs``), replicas for a three-broker cluster
(the dev overlay patches them to one). ``tests/deploy`` fails when the committed file differs from a
fresh generation.
"""

from __future__ import annotations

import json
from typing import Any

from .topics import TOPICS, dlq_configs, dlq_partitions, dlq_topic

CLUSTER = "nrn"  # the Strimzi Kafka resource's name (deploy/k8s/base/kafka/kafka.yaml)
REPLICAS = 3
HEADER = ("# Generated from the topic registry (contracts/src/nrn_contracts/topics.py) by\n"
          "#   python -m nrn_contracts k8s-topics --out deploy/k8s/base/kafka/topics.yaml\n"
          "# Do not edit: change the registry and regenerate (tests/deploy checks this file is current).\n")


def kafka_topics(cluster: str = CLUSTER, replicas: int = REPLICAS) -> list[dict[str, Any]]:
    """One ``kafka.strimzi.io/v1beta2`` KafkaTopic per registry topic and dead-letter topic, in registry order."""
    docs = []
    for name, topic in TOPICS.items():
        for physical, partitions, config, role in (
            (name, topic.partitions, topic.configs(), "topic"),
            (dlq_topic(name), dlq_partitions(), dlq_configs(), "dead-letter"),
        ):
            docs.append({
                "apiVersion": "kafka.strimzi.io/v1beta2",
                "kind": "KafkaTopic",
                "metadata": {
                    "name": physical,
                    "labels": {"strimzi.io/cluster": cluster, "app.kubernetes.io/part-of": "nrn",
                               "nrn.org/owner": topic.owner, "nrn.org/role": role},
                },
                "spec": {"partitions": partitions, "replicas": replicas, "config": dict(sorted(config.items()))},
            })
    return docs


def _yaml(value: Any, indent: int) -> list[str]:
    """Block YAML for the plain dicts, lists, strings and numbers above (strings double-quoted, as JSON:
    a valid YAML scalar whatever they hold)."""
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        if isinstance(item, dict) and item:
            lines.append(f"{pad}{key}:")
            lines += _yaml(item, indent + 2)
        else:
            lines.append(f"{pad}{key}: {json.dumps(item)}")
    return lines


def dumps(docs: list[dict[str, Any]]) -> str:
    """The resources as one multi-document YAML file with the generated-file header."""
    return HEADER + "".join("---\n" + "\n".join(_yaml(doc, 0)) + "\n" for doc in docs)
