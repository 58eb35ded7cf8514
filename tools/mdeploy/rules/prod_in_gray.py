from mdeploy.rules.base import Rule


class ProdInGray(Rule):
    id = "prod-in-gray"
    summary = ("A prod service also exists in gray: every change reaches prod through gray "
               "(`mdeploy promote`), so a prod file without a gray one skipped the canary.")
    bad = "environments/prod/new-svc.yaml   # and no environments/gray/new-svc.yaml"
    good = "mdeploy new new-svc ...; test in gray; mdeploy promote new-svc"

    def check(self, ctx):
        if ctx.tier != "prod" or not ctx.gray_services:
            return
        if not any(ctx.file_stem in names for names in ctx.gray_services.values()):
            grays = ", ".join(f"environments/{env}/{ctx.file_stem}.yaml" for env in sorted(ctx.gray_services))
            yield ctx.problem(("service",), f"prod service {ctx.file_stem} has no gray counterpart ({grays}); "
                              "add it to gray first and promote it", self)


RULE = ProdInGray()
