from mdeploy.rules.base import Rule
from mdeploy.report import WARNING


class RoutePrefix(Rule):
    id = "route-prefix"
    level = WARNING
    summary = ("Where the route controller matches plain string prefixes (`route.matching: string`), a "
               "service whose name is a prefix of another's (`comics` / `comics-bg`) would capture its "
               "traffic: rename one, or use a segment-matching controller.")
    bad = "# environments/gray/comics.yaml and environments/gray/comics-bg.yaml, matching: string"
    good = "# environments/gray/comics.yaml and environments/gray/bg-comics.yaml"
    needs_environment = True

    def check(self, ctx):
        route = ctx.environment.get("route") or {}
        if route.get("matching", "segment") != "string":
            return
        me = ctx.data["service"]
        for other in ctx.env_services:
            if other != me and other.startswith(me):
                yield ctx.problem(("service",), f"{route.get('publicPrefix', '')}/{me} is a string prefix of "
                                  f"/{other} and {ctx.env} matches routes by string prefix: requests for {other} "
                                  f"may reach {me}; rename one of them", self)


RULE = RoutePrefix()
