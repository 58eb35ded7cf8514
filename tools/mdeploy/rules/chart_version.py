from mdeploy.chart_source import resolve_chart
from mdeploy.report import ToolError
from mdeploy.rules.base import Rule


class ChartVersion(Rule):
    id = "chart-version"
    summary = ("The pinned chart version exists: a tag `model-service-<version>`, a commit of "
               "charts/model-service with that version, or (gray only) the working tree's Chart.yaml.")
    bad = "chart: 9.9.9"
    good = "chart: 1.0.0   # a released version (git tag model-service-1.0.0)"

    def check(self, ctx):
        key = (self.id, ctx.data["chart"], ctx.tier)
        if key not in ctx.memo:  # 2,000 files pin a handful of versions: resolve each once per run
            try:
                resolve_chart(ctx.data["chart"], root=ctx.root, tier=ctx.tier, materialize=False)
                ctx.memo[key] = None
            except ToolError as err:
                ctx.memo[key] = err.message
        if ctx.memo[key]:
            yield ctx.problem(("chart",), ctx.memo[key], self)


RULE = ChartVersion()
