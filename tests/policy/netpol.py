"""A small NetworkPolicy evaluator, enough to test isolation of rendered manifests.

It follows the Kubernetes semantics the chart relies on: a pod is isolated for a direction when
any policy of its namespace selects it with that policy type; then a connection is allowed when
some rule of some selecting policy matches the peer and the port. A peer with only a
podSelector means pods of the policy's own namespace; namespaces carry the automatic
`kubernetes.io/metadata.name` label. ipBlock peers match `ip` addresses given as strings.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]
    ports: frozenset[int] = frozenset()
    name: str = ""


@dataclass(frozen=True)
class External:
    """A destination outside the cluster (for egress checks)."""

    ip: str


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True


def ns_labels(namespace: str) -> dict[str, str]:
    return {"kubernetes.io/metadata.name": namespace}


def _peer_matches(peer: dict[str, Any], policy_ns: str, other: Pod | External) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, External):
            return False
        block = peer["ipBlock"]
        ip = ipaddress.ip_address(other.ip)
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except") or [])
    if isinstance(other, External):
        return False
    if "namespaceSelector" in peer:
        if not selects(peer["namespaceSelector"], ns_labels(other.namespace)):
            return False
    elif other.namespace != policy_ns:
        return False
    return "podSelector" not in peer or selects(peer["podSelector"], other.labels)


def _port_matches(ports: list[dict[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    return any(p.get("protocol", "TCP") == protocol and p.get("port") in (None, port) for p in ports)


@dataclass
class Cluster:
    policies: list[dict[str, Any]] = field(default_factory=list)

    def _selecting(self, pod: Pod, policy_type: str) -> list[dict[str, Any]]:
        return [p for p in self.policies
                if p["metadata"]["namespace"] == pod.namespace
                and selects(p["spec"]["podSelector"], pod.labels)
                and policy_type in p["spec"].get("policyTypes", ["Ingress"])]

    def ingress_allowed(self, source: Pod, dest: Pod, port: int, protocol: str = "TCP") -> bool:
        policies = self._selecting(dest, "Ingress")
        if not policies:
            return True
        for policy in policies:
            for rule in policy["spec"].get("ingress") or []:
                peers = rule.get("from")
                if (not peers or any(_peer_matches(peer, dest.namespace, source) for peer in peers)) \
                        and _port_matches(rule.get("ports"), port, protocol):
                    return True
        return False

    def egress_allowed(self, source: Pod, dest: Pod | External, port: int, protocol: str = "TCP") -> bool:
        policies = self._selecting(source, "Egress")
        if not policies:
            return True
        for policy in policies:
            for rule in policy["spec"].get("egress") or []:
                peers = rule.get("to")
                if (not peers or any(_peer_matches(peer, source.namespace, dest) for peer in peers)) \
                        and _port_matches(rule.get("ports"), port, protocol):
                    return True
        return False

    def connects(self, source: Pod, dest: Pod, port: int, protocol: str = "TCP") -> bool:
        return self.egress_allowed(source, dest, port, protocol) and \
            self.ingress_allowed(source, dest, port, protocol)


def pods_of(docs: list[dict[str, Any]]) -> dict[str, Pod]:
    """One representative pod per Deployment of a render, keyed by Deployment name."""
    pods = {}
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        spec = doc["spec"]["template"]["spec"]
        ports = frozenset(p["containerPort"] for c in spec["containers"] for p in c.get("ports") or [])
        pods[doc["metadata"]["name"]] = Pod(doc["metadata"]["namespace"],
                                            doc["spec"]["template"]["metadata"]["labels"], ports,
                                            doc["metadata"]["name"])
    return pods


def policies_of(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == "NetworkPolicy"]
