from mdeploy.rules.base import Rule


class TfServingVersions(Rule):
    id = "tfserving-versions"
    summary = ("TF-Serving model names are unique per server, and every `versionLabels` entry points at a "
               "version the `versionPolicy` serves (TF-Serving refuses labels on versions it has not "
               "loaded); labels need a `specific` policy.")
    bad = "versionPolicy: {specific: {versions: [41]}}\nversionLabels: {canary: 42}"
    good = "versionPolicy: {specific: {versions: [41, 42]}}\nversionLabels: {stable: 41, canary: 42}"

    def check(self, ctx):
        for name, model in (ctx.data.get("models") or {}).items():
            tfs = model.get("tfserving")
            if model.get("runtime") != "tfserving" or not isinstance(tfs, dict):
                continue
            seen: dict[str, int] = {}
            for index, entry in enumerate(tfs.get("models", [])):
                at = ("models", name, "tfserving", "models", index)
                if entry["name"] in seen:
                    yield ctx.problem(at + ("name",), f"model name {entry['name']!r} is served twice by this "
                                      f"server (also entry {seen[entry['name']]}); rename one", self)
                seen.setdefault(entry["name"], index)
                labels = entry.get("versionLabels") or {}
                if not labels:
                    continue
                policy = entry.get("versionPolicy") or {"latest": {}}
                if "specific" not in policy:
                    kind = next(iter(policy))
                    yield ctx.problem(at + ("versionLabels",), f"version labels need versionPolicy specific "
                                      f"(this one is {kind}): list the labelled versions in specific.versions",
                                      self)
                    continue
                served = set(policy["specific"]["versions"])
                for label, version in labels.items():
                    if version not in served:
                        yield ctx.problem(at + ("versionLabels", label), f"label {label} points at version "
                                          f"{version}, which the policy does not serve ({sorted(served)}); add "
                                          "it to specific.versions", self, key=True)


RULE = TfServingVersions()
