from mdeploy.quantity import cpu_millicores, memory_bytes
from mdeploy.rules.base import Rule, resource_blocks


class RequestsWithinLimits(Rule):
    id = "requests-limits"
    summary = ("Resource requests do not exceed limits (Kubernetes rejects such a pod); equal requests and "
               "limits give the Guaranteed QoS class that keeps noisy neighbours out.")
    bad = "resources:\n  requests: {cpu: \"4\", memory: 8Gi}\n  limits: {cpu: \"2\", memory: 8Gi}"
    good = "resources:\n  requests: {cpu: \"2\", memory: 8Gi}\n  limits: {cpu: \"2\", memory: 8Gi}"

    def check(self, ctx):
        for at, resources in resource_blocks(ctx.data):
            requests, limits = resources.get("requests", {}), resources.get("limits", {})
            for name, parse in (("cpu", cpu_millicores), ("memory", memory_bytes)):
                if name in requests and name in limits and parse(requests[name]) > parse(limits[name]):
                    yield ctx.problem(at + ("requests", name), f"{name} request {requests[name]} exceeds the "
                                      f"limit {limits[name]}; lower the request or raise the limit", self)


RULE = RequestsWithinLimits()
