"""Validation rules, one module each. `ALL` is the order they run and are documented in."""

from mdeploy.rules import (
    autoscaling_range,
    chart_version,
    file_name,
    gpu_mode,
    image_pinned,
    image_registry,
    literal_secret,
    name_length,
    prod_in_gray,
    prod_replicas,
    requests_limits,
    route_prefix,
    tfserving_versions,
    triton_explicit,
)
from mdeploy.rules.base import Rule, ServiceContext

ALL: list[Rule] = [
    file_name.RULE,
    name_length.RULE,
    chart_version.RULE,
    prod_in_gray.RULE,
    prod_replicas.RULE,
    autoscaling_range.RULE,
    requests_limits.RULE,
    image_pinned.RULE,
    image_registry.RULE,
    gpu_mode.RULE,
    tfserving_versions.RULE,
    triton_explicit.RULE,
    literal_secret.RULE,
    route_prefix.RULE,
]

__all__ = ["ALL", "Rule", "ServiceContext"]
