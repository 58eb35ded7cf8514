import re

from mdeploy.rules.base import Rule, images

_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def split_tag(image: str) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest); the tag is after the last ':' that follows the last '/'."""
    digest = None
    if "@" in image:
        image, digest = image.split("@", 1)
    last = image.rsplit("/", 1)[-1]
    if ":" in last:
        repo, tag = image.rsplit(":", 1)
        return repo, tag, digest
    return image, None, digest


class ImagePinned(Rule):
    id = "image-pinned"
    summary = ("Images are pinned: a tag that is not `latest`, or a `@sha256:` digest, so every rollout "
               "is reproducible and a rollback really goes back.")
    bad = "image: registry.example.com/ai/ocr-cgi:latest"
    good = "image: registry.example.com/ai/ocr-cgi:20261121-1530   # or @sha256:<64 hex>"

    def check(self, ctx):
        for at, image in images(ctx.data):
            _, tag, digest = split_tag(image)
            if digest is not None:
                if not _DIGEST.search("@" + digest):
                    yield ctx.problem(at, f"image {image!r} has a malformed digest; use @sha256: and 64 "
                                      "lower-case hex digits", self)
                continue
            if tag is None:
                yield ctx.problem(at, f"image {image!r} has no tag (that means latest); pin a tag or a digest",
                                  self)
            elif tag == "latest":
                yield ctx.problem(at, f"image {image!r} uses the tag latest; pin a version tag or a digest", self)


RULE = ImagePinned()
