"""promote: x-promote markers, byte-for-byte round trips, prod capacity, refusals, atomic writes."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from mdeploy import promote
from mdeploy.cli import main
from mdeploy.services import Repo
from mdeploy.validate import validate_repo


@pytest.fixture
def repo(model_repo):
    return Repo(model_repo)


def edit(path, old, new):
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    import difflib

    diff = list(difflib.ndiff(old.splitlines(), new.splitlines()))
    return [d[2:] for d in diff if d.startswith("- ")], [d[2:] for d in diff if d.startswith("+ ")]


@pytest.mark.parametrize("service", ["ocr-detect", "rec-rank", "text-lang"])
def test_nothing_to_promote_round_trips_byte_for_byte(repo, service):
    before = repo.service_file("prod", service).read_bytes()
    promotion = promote.plan_promotion(repo, service)
    assert promotion.new_text.encode() == before
    assert not promotion.changed
    assert promote.pending_services(repo) == []


def test_image_change_touches_only_the_image_line(repo):
    edit(repo.service_file("gray", "ocr-detect"), "ocr-detect-cgi:20261121-1530", "ocr-detect-cgi:20261122-0900")
    old = repo.service_file("prod", "ocr-detect").read_text()
    promotion = promote.plan_promotion(repo, "ocr-detect")
    assert changed_lines(old, promotion.new_text) == (
        ["  image: registry.example.com/ai/ocr-detect-cgi:20261121-1530"],
        ["  image: registry.example.com/ai/ocr-detect-cgi:20261122-0900"])
    assert promotion.changed_fields == ["cgi.image"]


def test_capacity_stays_as_prod_has_it(repo):
    gray = repo.service_file("gray", "rec-rank")
    edit(gray, "    gpu: {count: 1}", "    gpu: {count: 2}")
    edit(gray, 'requests: {cpu: "1", memory: 1Gi}', 'requests: {cpu: "2", memory: 2Gi}')
    prod = repo.service_file("prod", "rec-rank")
    edit(prod, "    replicas: 2\n", "    replicas: 4\n    autoscaling: {enabled: true, minReplicas: 4, maxReplicas: 8}\n")
    promotion = promote.plan_promotion(repo, "rec-rank")
    assert not promotion.changed
    assert promote.pending_services(repo) == []


def test_new_env_var_goes_where_gray_has_it_and_keeps_the_comment_below(repo):
    edit(repo.service_file("gray", "ocr-detect"), "    LOG_LEVEL: info\n", "    LOG_LEVEL: info\n    TZ: UTC\n")
    old = repo.service_file("prod", "ocr-detect").read_text()
    new = promote.plan_promotion(repo, "ocr-detect").new_text
    assert new == old.replace("    LOG_LEVEL: info\n", "    LOG_LEVEL: info\n    TZ: UTC\n")


def test_removed_promoted_fields_are_removed_from_prod(repo):
    edit(repo.service_file("gray", "ocr-detect"), "  env:\n    LOG_LEVEL: info\n", "")
    old = repo.service_file("prod", "ocr-detect").read_text()
    new = promote.plan_promotion(repo, "ocr-detect").new_text
    assert new == old.replace("  env:\n    LOG_LEVEL: info\n", "")


def test_new_model_server_gets_prod_capacity_defaults(repo):
    gray = repo.service_file("gray", "text-lang")
    gray.write_text(gray.read_text() + """\
  langid2:
    runtime: custom
    image: registry.example.com/ai/langid-server:1.5.0
    custom:
      ports:
        - {name: http, port: 9000}
    replicas: 1
    resources:
      requests: {cpu: "1", memory: 1Gi}
      limits: {cpu: "1", memory: 1Gi}
""")
    prod = repo.service_file("prod", "text-lang")
    old = prod.read_text()
    promotion = promote.plan_promotion(repo, "text-lang")
    promote.apply(promotion)
    assert prod.read_text().startswith(old)
    assert "  langid2:\n" in prod.read_text() and prod.read_text().endswith(
        "    replicas: 2\n    resources:\n      requests: {cpu: \"1\", memory: 1Gi}\n"
        "      limits: {cpu: \"1\", memory: 1Gi}\n")
    assert validate_repo(repo.root, [prod], jobs=1)[0] == []


def test_new_prod_file_is_gray_with_prod_replicas_and_validates(repo):
    src = repo.service_file("gray", "text-lang")
    new_gray = repo.service_file("gray", "text-lang2")
    new_gray.write_text(src.read_text().replace("service: text-lang", "service: text-lang2"))
    promotion = promote.plan_promotion(repo, "text-lang2")
    assert promotion.old_text is None
    assert promotion.new_text == new_gray.read_text().replace("replicas: 1", "replicas: 2")
    promote.apply(promotion)
    assert validate_repo(repo.root, [promotion.prod_path], jobs=1)[0] == []


def test_refuses_when_gray_does_not_validate_and_writes_nothing(repo):
    edit(repo.service_file("gray", "ocr-detect"), "ocr-detect-cgi:20261121-1530", "ocr-detect-cgi:latest")
    before = repo.service_file("prod", "ocr-detect").read_bytes()
    result = CliRunner().invoke(main, ["promote", "--repo", str(repo.root), "ocr-detect"])
    assert result.exit_code == 1
    assert "gray does not validate (1 error); fix it before promoting: environments/gray/ocr-detect.yaml:9:10: " \
           "error: image 'registry.example.com/ai/ocr-detect-cgi:latest' uses the tag latest" in result.output
    assert repo.service_file("prod", "ocr-detect").read_bytes() == before


def test_failed_write_leaves_the_old_file_and_no_temporary(repo, monkeypatch):
    edit(repo.service_file("gray", "ocr-detect"), "ocr-detect-cgi:20261121-1530", "ocr-detect-cgi:20261122-0900")
    prod = repo.service_file("prod", "ocr-detect")
    before = prod.read_bytes()
    promotion = promote.plan_promotion(repo, "ocr-detect")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        promote.apply(promotion)
    assert prod.read_bytes() == before
    assert sorted(p.name for p in prod.parent.iterdir()) == ["ocr-detect.yaml", "rec-rank.yaml", "text-lang.yaml"]


def test_cli_all_changed_dry_run_then_write(repo):
    edit(repo.service_file("gray", "rec-rank"), "serving:2.19.0-gpu", "serving:2.19.1-gpu")
    runner = CliRunner()
    dry = runner.invoke(main, ["promote", "--repo", str(repo.root), "--all-changed", "--dry-run"])
    assert dry.exit_code == 0
    assert "-    image: docker.io/tensorflow/serving:2.19.0-gpu\n+    image: docker.io/tensorflow/serving:2.19.1-gpu\n" \
           in dry.output
    assert "serving:2.19.0-gpu" in repo.service_file("prod", "rec-rank").read_text()
    real = runner.invoke(main, ["promote", "--repo", str(repo.root), "--all-changed"])
    assert real.exit_code == 0
    assert "serving:2.19.1-gpu" in repo.service_file("prod", "rec-rank").read_text()
    assert promote.pending_services(repo) == []


def test_cli_usage_errors(repo):
    runner = CliRunner()
    assert runner.invoke(main, ["promote", "--repo", str(repo.root)]).exit_code == 2
    assert runner.invoke(main, ["promote", "--repo", str(repo.root), "x", "--all-changed"]).exit_code == 2
    missing = runner.invoke(main, ["promote", "--repo", str(repo.root), "nope"])
    assert missing.exit_code == 1 and "no environments/gray/nope.yaml" in missing.output


def test_unknown_prod_keys_are_not_dropped_silently(repo):
    # A key the schema does not know (so no marker) in prod is removed (it would fail validation),
    # but never silently: it is in the diff, in the changed fields and in a warning line.
    edit(repo.service_file("prod", "text-lang"), "team: content\n", "team: content\nowner-note: keep me\n")
    promotion = promote.plan_promotion(repo, "text-lang")
    assert "owner-note" in promotion.changed_fields
    assert "-owner-note: keep me" in promotion.diff(repo)
    assert promotion.notes == ["owner-note is only in prod and not in the schema: removed (it would fail "
                               "validation); keep it by adding it to gray first"]
    result = CliRunner().invoke(main, ["promote", "--repo", str(repo.root), "text-lang", "--dry-run"])
    assert "environments/prod/text-lang.yaml: warning: owner-note is only in prod" in result.output
