from mdeploy.rules.base import Rule, images


class ImageRegistry(Rule):
    id = "image-registry"
    summary = ("Images come from a registry the environment lists under `registries:` (each with the pull "
               "secret that can read it), so no pod ends in ImagePullBackOff for want of a credential.")
    bad = "image: quay.io/someone/ocr-cgi:1.0"
    good = "image: registry.example.com/ai/ocr-cgi:1.0   # push it where the cluster can pull"
    needs_environment = True

    def check(self, ctx):
        prefixes = [r["prefix"] for r in ctx.environment.get("registries", [])]
        for at, image in images(ctx.data):
            if not any(image.startswith(prefix) for prefix in prefixes):
                yield ctx.problem(at, f"image {image!r} is not from a registry {ctx.env} allows "
                                  f"({', '.join(prefixes)}); push it to one of them or ask the platform team "
                                  f"to add the registry to environments/{ctx.env}.yaml", self)


RULE = ImageRegistry()
