from mdeploy.rules.base import Rule


class TritonExplicit(Rule):
    id = "triton-explicit"
    summary = ("Triton in `modelControlMode: explicit` loads only the models it is told to, so it needs a "
               "non-empty `models` list (readiness checks each of them).")
    bad = "triton:\n  modelControlMode: explicit"
    good = "triton:\n  modelControlMode: explicit\n  models: [ocr_det, ocr_rec]"

    def check(self, ctx):
        for name, model in (ctx.data.get("models") or {}).items():
            triton = model.get("triton")
            if model.get("runtime") != "triton" or not isinstance(triton, dict):
                continue
            if triton.get("modelControlMode") == "explicit" and not triton.get("models"):
                yield ctx.problem(("models", name, "triton", "modelControlMode"), "explicit mode loads nothing "
                                  "without a models list; add models: [<name>, ...] or use mode none", self)


RULE = TritonExplicit()
