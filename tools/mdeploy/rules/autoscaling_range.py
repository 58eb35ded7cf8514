from mdeploy.rules.base import Rule, containers


class AutoscalingRange(Rule):
    id = "autoscaling-range"
    summary = "When autoscaling is enabled, `maxReplicas` is at least `minReplicas`."
    bad = "autoscaling: {enabled: true, minReplicas: 4, maxReplicas: 2}"
    good = "autoscaling: {enabled: true, minReplicas: 2, maxReplicas: 4}"

    def check(self, ctx):
        for at, section in containers(ctx.data):
            auto = section.get("autoscaling") or {}
            low, high = auto.get("minReplicas", 2), auto.get("maxReplicas", 10)
            if auto.get("enabled") and high < low:
                yield ctx.problem(at + ("autoscaling", "maxReplicas" if "maxReplicas" in auto else "minReplicas"),
                                  f"maxReplicas {high} is below minReplicas {low}; raise maxReplicas", self)


RULE = AutoscalingRange()
