from mdeploy.rules.base import Rule, containers

DEFAULT_REPLICAS = 2  # the schema's default for cgi.replicas and models.*.replicas
MIN_PROD = 2


class ProdReplicas(Rule):
    id = "prod-replicas"
    summary = ("In prod every Deployment (CGI and each model server) runs at least 2 replicas, so a node "
               "failure or a rolling update never drops requests.")
    bad = "cgi:\n  replicas: 1"
    good = "cgi:\n  replicas: 2   # or autoscaling: {enabled: true, minReplicas: 2, maxReplicas: 6}"

    def check(self, ctx):
        if ctx.tier != "prod":
            return
        for at, section in containers(ctx.data):
            autoscaling = section.get("autoscaling") or {}
            if autoscaling.get("enabled"):
                continue  # minReplicas >= 2 is enforced by the schema
            replicas = section.get("replicas", DEFAULT_REPLICAS)
            if replicas < MIN_PROD:
                where = at + ("replicas",)
                yield ctx.problem(where, f"{'.'.join(at)} runs {replicas} replica in prod; prod needs at least "
                                  f"{MIN_PROD} so one node failure does not take the service down", self)


RULE = ProdReplicas()
