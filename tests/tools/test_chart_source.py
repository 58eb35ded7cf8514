"""chart_source: tag, then (gray) working tree, then newest commit with the version."""

from __future__ import annotations

import pytest

from mdeploy import chart_source
from mdeploy.chart_source import resolve_chart
from mdeploy.report import ToolError
from tests.tools.gitrepo import commit_all, git, init_repo, write_tiny_chart


@pytest.fixture(autouse=True)
def _fresh_cache():
    chart_source.clear_resolution_cache()
    yield
    chart_source.clear_resolution_cache()


@pytest.fixture
def repo(tmp_path):
    root = init_repo(tmp_path / "repo")
    write_tiny_chart(root, "1.0.0", marker="one")
    commit_all(root, "chart 1.0.0")
    git(root, "tag", "model-service-1.0.0")
    write_tiny_chart(root, "1.0.0", marker="one-after-tag")
    commit_all(root, "edit without a bump")
    write_tiny_chart(root, "1.1.0", marker="one-one")
    commit_all(root, "chart 1.1.0")
    write_tiny_chart(root, "1.1.0", marker="one-one-fix")
    commit_all(root, "fix in 1.1.0")
    return root


def marker(source) -> str:
    return (source.path / "templates" / "configmap.yaml").read_text().split('marker: "')[1].split('"')[0]


def test_tag_wins_over_later_commits_with_the_same_version(repo):
    src = resolve_chart("1.0.0", root=repo, tier="prod")
    assert (src.origin, src.revision, marker(src)) == ("tag", "model-service-1.0.0", "one")
    assert src.content_hash == git(repo, "rev-parse", "model-service-1.0.0:charts/model-service")
    assert src.path == repo / ".cache" / "charts" / f"1.0.0-{src.content_hash}"


def test_untagged_version_in_prod_uses_the_newest_commit_with_it(repo):
    src = resolve_chart("1.1.0", root=repo, tier="prod")
    assert (src.origin, marker(src)) == ("commit", "one-one-fix")
    assert src.revision == git(repo, "rev-parse", "HEAD")


def test_untagged_version_in_gray_uses_the_working_tree_with_uncommitted_edits(repo):
    write_tiny_chart(repo, "1.1.0", marker="uncommitted")
    src = resolve_chart("1.1.0", root=repo, tier="gray")
    assert (src.origin, src.path, marker(src)) == ("worktree", repo / "charts" / "model-service", "uncommitted")
    assert src.content_hash.startswith("worktree-")


def test_working_tree_only_version_is_refused_in_prod_and_names_the_existing_ones(repo):
    write_tiny_chart(repo, "2.0.0", marker="two")
    assert resolve_chart("2.0.0", root=repo, tier="gray").origin == "worktree"
    with pytest.raises(ToolError) as err:
        resolve_chart("2.0.0", root=repo, tier="prod")
    assert str(err.value) == (
        "chart 2.0.0 exists only in the working tree; prod must pin a committed version "
        "(tag model-service-2.0.0 or commit it first); versions available to prod: 1.0.0, 1.1.0"
    )


def test_unknown_version_lists_what_exists(repo):
    with pytest.raises(ToolError, match=r"chart version 9\.9\.9 does not exist .*versions available to gray: 1\.0\.0, 1\.1\.0$"):
        resolve_chart("9.9.9", root=repo, tier="gray")


def test_content_hash_changes_with_the_chart_and_not_otherwise(repo):
    first = resolve_chart("1.1.0", root=repo, tier="gray").content_hash
    assert resolve_chart("1.1.0", root=repo, tier="gray").content_hash == first
    write_tiny_chart(repo, "1.1.0", marker="changed")
    chart_source.clear_resolution_cache()
    assert resolve_chart("1.1.0", root=repo, tier="gray").content_hash != first


def test_materialized_chart_is_reused_and_complete(repo):
    a = resolve_chart("1.0.0", root=repo, tier="prod")
    chart_source.clear_resolution_cache()
    b = resolve_chart("1.0.0", root=repo, tier="prod")
    assert a.path == b.path
    assert sorted(p.relative_to(a.path).as_posix() for p in a.path.rglob("*") if p.is_file()) == [
        "Chart.yaml", "templates/configmap.yaml"]
    # No temporary extraction directories are left behind.
    assert [p.name for p in a.path.parent.iterdir()] == [a.path.name]


def test_new_tag_is_seen_without_clearing_the_cache(repo):
    assert resolve_chart("1.1.0", root=repo, tier="prod").origin == "commit"
    git(repo, "tag", "model-service-1.1.0")
    assert resolve_chart("1.1.0", root=repo, tier="prod").origin == "tag"


def test_annotated_tags_resolve_to_their_commit(repo):
    git(repo, "tag", "-a", "-m", "release", "model-service-1.1.0")
    src = resolve_chart("1.1.0", root=repo, tier="prod")
    assert (src.origin, marker(src)) == ("tag", "one-one-fix")


def test_available_versions_by_tier(repo):
    write_tiny_chart(repo, "1.2.0")
    assert chart_source.available_versions(repo, tier="gray") == ["1.0.0", "1.1.0", "1.2.0"]
    assert chart_source.available_versions(repo, tier="prod") == ["1.0.0", "1.1.0"]


def test_directory_that_is_not_a_git_repository_offers_only_the_working_tree(tmp_path):
    write_tiny_chart(tmp_path, "1.0.0")
    assert resolve_chart("1.0.0", root=tmp_path, tier="gray").origin == "worktree"
    with pytest.raises(ToolError, match="exists only in the working tree"):
        resolve_chart("1.0.0", root=tmp_path, tier="prod")
