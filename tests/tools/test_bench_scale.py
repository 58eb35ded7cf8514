"""The benchmark's own logic: its synthetic repository is valid, and Argo CD's refresh rule."""

from __future__ import annotations

import pytest

from mdeploy import chart_source
from mdeploy.bench_scale import make_repo, refreshed
from mdeploy.validate import validate_repo


def test_synthetic_repository_validates(tmp_path):
    chart_source.clear_resolution_cache()
    root = tmp_path / "repo"
    make_repo(root, 12)
    problems, count = validate_repo(root, jobs=1)
    assert count == 2 + 24
    assert [p.to_text() for p in problems if p.level == "error"] == []
    # Gray and prod are the same services (only capacity differs): nothing is pending promotion.
    from mdeploy.promote import pending_services
    from mdeploy.services import Repo

    assert pending_services(Repo(root)) == []


@pytest.mark.parametrize("paths,changed,expected", [
    (None, ["README.md"], True),  # no annotation: every commit refreshes every app
    (["/environments/gray.yaml", "/environments/gray/a.yaml"], ["environments/gray/a.yaml"], True),
    (["/environments/gray.yaml", "/environments/gray/a.yaml"], ["environments/gray/ab.yaml"], False),
    (["/environments/gray.yaml", "/environments/gray/a.yaml"], ["environments/gray.yaml"], True),
    (["/environments/gray"], ["environments/gray/x.yaml"], True),
    (["/environments/gray"], ["environments/gray-2/x.yaml"], False),
    (["."], ["charts/model-service/values.yaml"], True),  # relative to the source path
    (["."], ["environments/gray/a.yaml"], False),
    (["../../environments/gray.yaml"], ["environments/gray.yaml"], True),
])
def test_argocd_manifest_generate_paths_rule(paths, changed, expected):
    assert refreshed(paths, ["charts/model-service"], changed) is expected
