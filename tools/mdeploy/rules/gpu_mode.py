from mdeploy.rules.base import Rule, containers

DEFAULT_MODES = ["whole"]


class GpuMode(Rule):
    id = "gpu-mode"
    summary = ("A model server's GPU sharing mode is one the environment's cluster offers "
               "(`cluster.gpuModes`), with the settings that mode needs: `mig` a `migProfile`, "
               "`timeslice` a count of 1, `hami` a `memoryMiB` or `coresPercent`.")
    bad = "gpu: {count: 1, mode: mig}        # gray offers whole and timeslice"
    good = "gpu: {count: 1, mode: timeslice}"
    needs_environment = True

    def check(self, ctx):
        offered = (ctx.environment.get("cluster") or {}).get("gpuModes", DEFAULT_MODES)
        for at, section in containers(ctx.data):
            gpu = section.get("gpu") or {}
            if not gpu.get("count"):
                continue
            mode = gpu.get("mode", "whole")
            where = at + ("gpu", "mode") if "mode" in gpu else at + ("gpu",)
            if mode not in offered:
                yield ctx.problem(where, f"GPU mode {mode} is not offered in {ctx.env} (cluster.gpuModes: "
                                  f"{', '.join(offered)}); pick one of those", self)
            elif mode == "mig" and "migProfile" not in gpu:
                yield ctx.problem(where, "GPU mode mig needs migProfile (e.g. 1g.10gb)", self)
            elif mode == "timeslice" and gpu["count"] != 1:
                yield ctx.problem(at + ("gpu", "count"), f"time-sliced GPUs are requested one at a time; "
                                  f"set count: 1 (got {gpu['count']})", self)
            elif mode == "hami" and "memoryMiB" not in gpu and "coresPercent" not in gpu:
                yield ctx.problem(where, "GPU mode hami needs memoryMiB or coresPercent (the share to give)",
                                  self)


RULE = GpuMode()
