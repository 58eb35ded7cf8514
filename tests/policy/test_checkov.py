"""The policy gate: checkov (Kubernetes framework, offline) over every rendered example and scenario.

One checkov run without skips over all renders; then: every failed check must be listed in
policy/checkov-skips.yaml (with a one-line reason), and every listed check must still fire
somewhere (a stale skip hides nothing and must go). checkov lives in its own venv
(.tools/checkov, `make setup`), pinned by policy/checkov-requirements.lock.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from mdeploy.helm import helm_template_text
from tests.harness import CHART, REPO

CHECKOV = REPO / ".tools" / "checkov" / "bin" / "checkov"
SKIPS_FILE = REPO / "policy" / "checkov-skips.yaml"
SCENARIOS = sorted(CHART.glob("ci/*-values.yaml"))
EXAMPLES = sorted((env, p) for env in ("gray", "prod") for p in (REPO / "environments" / env).glob("*.yaml"))


def skips() -> dict[str, str]:
    return yaml.safe_load(SKIPS_FILE.read_text())["skips"]


def render_all(out: Path) -> list[Path]:
    files = []
    for env, service_file in EXAMPLES:
        text = helm_template_text(CHART, [REPO / "environments" / f"{env}.yaml", service_file],
                                  release=f"{service_file.stem}-{env}")
        files.append(out / f"example-{env}-{service_file.stem}.yaml")
        files[-1].write_text(text)
    for scenario in SCENARIOS:
        name = scenario.name.removesuffix("-values.yaml")
        files.append(out / f"scenario-{name}.yaml")
        files[-1].write_text(helm_template_text(CHART, [scenario], release=name))
    return files


@pytest.fixture(scope="module")
def checkov_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("renders")
    files = render_all(out)
    # Offline: no Bridgecrew/Prisma mapping download, no external checks.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_PROGRESS": "1"}
    run = subprocess.run([str(CHECKOV), "--directory", str(out), "--framework", "kubernetes",
                          "--skip-download", "--compact", "--output", "json"],
                         capture_output=True, text=True, env=env, check=False)
    # Exit 1 = findings (judged below); anything else is checkov itself failing.
    assert run.returncode in (0, 1), run.stderr[-2000:]
    report = json.loads(run.stdout)
    return files, report


def test_skip_file_has_one_line_reason_per_check():
    entries = skips()
    assert entries, "an empty skip list should be `skips: {}`"
    for check_id, reason in entries.items():
        assert check_id.startswith("CKV_K8S_") or check_id.startswith("CKV2_K8S_"), check_id
        assert isinstance(reason, str) and len(reason) > 30 and "\n" not in reason, check_id


def test_every_render_was_scanned(checkov_report):
    files, report = checkov_report
    assert report["summary"]["parsing_errors"] == 0
    scanned = {r["file_path"].lstrip("/") for r in report["results"]["passed_checks"]}
    assert scanned == {f.name for f in files}
    assert len(files) == len(EXAMPLES) + len(SCENARIOS) and len(SCENARIOS) >= 10


def test_no_failed_check_outside_the_skip_list(checkov_report):
    _, report = checkov_report
    allowed = skips()
    failures = defaultdict(list)
    for finding in report["results"]["failed_checks"]:
        if finding["check_id"] not in allowed:
            failures[f"{finding['check_id']} {finding['check_name']}"].append(
                f"{finding['file_path'].lstrip('/')}: {finding['resource']}")
    assert dict(failures) == {}


def test_every_skipped_check_still_fires(checkov_report):
    _, report = checkov_report
    fired = {finding["check_id"] for finding in report["results"]["failed_checks"]}
    assert sorted(set(skips()) - fired) == [], "remove these skips from policy/checkov-skips.yaml"
