"""`mdeploy diff`: which Applications a change affects, and how their values and manifests change.

Affected Applications, from the files changed between `--base` and the working tree:
- `environments/<env>/<service>.yaml`: that one Application;
- `environments/<env>.yaml`: every Application of that environment;
- `charts/model-service/**`: only Applications whose pinned version resolves to the working tree
  (an untagged version in gray); a released chart changes nothing until a service pins it;
- anything else (schemas, tools, docs): none.

Both sides are rendered with `mdeploy.render` (so the content-addressed cache serves whatever was
rendered before), and the manifests are compared object by object in a canonical form, so the
cost is proportional to the affected Applications, not to the size of the repository.
"""

from __future__ import annotations

import difflib
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mdeploy.chart_source import CHART_DIR, chart_at_revision
from mdeploy.render import AppRender, plan, render_key, render_planned
from mdeploy.report import ToolError
from mdeploy.services import ENV_DIR, Repo, ServiceRef, application_name

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, check=False)
    if check and out.returncode != 0:
        raise ToolError(f"git {' '.join(args)}: {out.stderr.decode(errors='replace').strip()}", rule="diff")
    return out


def default_base(root: Path) -> str:
    """The merge base with origin/main (or main); HEAD when neither exists."""
    for candidate in ("origin/main", "main"):
        if _git(root, "rev-parse", "--verify", "--quiet", candidate, check=False).returncode == 0:
            out = _git(root, "merge-base", candidate, "HEAD", check=False)
            if out.returncode == 0:
                return out.stdout.decode().strip()
    return "HEAD"


def changed_files(root: Path, base: str) -> list[str]:
    """Paths changed between `base` and the working tree, untracked files included."""
    if _git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}", check=False).returncode != 0:
        raise ToolError(f"unknown git revision {base!r}; pass a branch, tag or commit to --base", rule="diff")
    tracked = _git(root, "diff", "--name-only", "--no-renames", "-z", base, "--").stdout.decode()
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "-z", "--", ENV_DIR, CHART_DIR
                     ).stdout.decode()
    return sorted({p for p in (tracked + untracked).split("\0") if p})


def _base_names(root: Path, base: str, env: str) -> list[str]:
    out = _git(root, "ls-tree", "--name-only", f"{base}:{ENV_DIR}/{env}", check=False)
    if out.returncode != 0:
        return []
    return [n[:-5] for n in out.stdout.decode().split("\n") if n.endswith(".yaml")]


def _show(root: Path, base: str, path: str) -> bytes | None:
    out = _git(root, "show", f"{base}:{path}", check=False)
    return out.stdout if out.returncode == 0 else None


@dataclass
class AppDiff:
    env: str
    service: str
    reasons: list[str]
    values_diff: str = ""
    manifest_diff: str = ""
    added: bool = False
    removed: bool = False
    problems: list[str] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    runtimes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def application(self) -> str:
        return application_name(self.service, self.env)

    def counts(self) -> tuple[int, int]:
        lines = self.manifest_diff.splitlines()
        plus = sum(1 for ln in lines if ln.startswith("+") and not ln.startswith("+++"))
        minus = sum(1 for ln in lines if ln.startswith("-") and not ln.startswith("---"))
        return plus, minus


def affected(repo: Repo, base: str, files: list[str]) -> dict[tuple[str, str], list[str]]:
    """(env, service) -> why it is affected."""
    out: dict[tuple[str, str], list[str]] = {}
    chart_changed = False
    for path in files:
        parts = Path(path).parts
        if len(parts) == 3 and parts[0] == ENV_DIR and parts[2].endswith(".yaml"):
            out.setdefault((parts[1], parts[2][:-5]), []).append(path)
        elif len(parts) == 2 and parts[0] == ENV_DIR and parts[1].endswith(".yaml"):
            env = parts[1][:-5]
            for name in sorted(set(repo.service_names(env)) | set(_base_names(repo.root, base, env))):
                out.setdefault((env, name), []).append(path)
        elif path.startswith(CHART_DIR + "/"):
            chart_changed = True
    if chart_changed:
        for ref, app in _worktree_chart_apps(repo):
            out.setdefault((ref.env, ref.service), []).append(f"{CHART_DIR}/ (working tree chart {app.chart_version})")
    return out


def _worktree_chart_apps(repo: Repo) -> list[tuple[ServiceRef, AppRender]]:
    from mdeploy.chart_source import worktree_version

    version = worktree_version(repo.root)
    if version is None:
        return []
    result = []
    for ref in repo.all_services():
        try:
            data = yaml.load(ref.path.read_bytes(), Loader=_Loader)
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict) and str(data.get("chart")) == version:
            app = plan(repo, [ref])[0]
            if app.chart is not None and app.chart.origin == "worktree":
                result.append((ref, app))
    return result


def canonical_objects(manifests: str) -> dict[str, str]:
    """`Kind namespace/name` -> the object dumped with sorted keys: a stable text to diff."""
    objects = {}
    for doc in yaml.load_all(manifests, Loader=_Loader):
        if not doc:
            continue
        meta = doc.get("metadata") or {}
        key = f"{doc.get('kind')} {meta.get('namespace', '')}/{meta.get('name', '')}".replace(" /", " ")
        objects[key] = yaml.dump(doc, Dumper=_Dumper, sort_keys=True, default_flow_style=False)
    return objects


def manifest_diff(app: str, old: str, new: str) -> str:
    before, after = canonical_objects(old), canonical_objects(new)
    chunks = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key, ""), after.get(key, "")
        if a == b:
            continue
        chunks.append("".join(difflib.unified_diff(a.splitlines(keepends=True), b.splitlines(keepends=True),
                                                   f"a/{app}/{key}" if a else "/dev/null",
                                                   f"b/{app}/{key}" if b else "/dev/null")))
    return "".join(chunks)


def _text_diff(name: str, old: bytes | None, new: bytes | None) -> str:
    a = (old or b"").decode("utf-8", "replace").splitlines(keepends=True)
    b = (new or b"").decode("utf-8", "replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, f"a/{name}" if old is not None else "/dev/null",
                                        f"b/{name}" if new is not None else "/dev/null"))


def _plan_side(repo: Repo, env: str, service: str, env_bytes: bytes | None, svc_bytes: bytes | None,
               tmp: Path, side: str, base: str) -> AppRender | None:
    """An AppRender for one side (base or new) from bytes, not yet rendered."""
    if env_bytes is None or svc_bytes is None:
        return None
    env_path = tmp / side / f"{env}.yaml"
    svc_path = tmp / side / env / f"{service}.yaml"
    svc_path.parent.mkdir(parents=True, exist_ok=True)
    if not env_path.is_file():
        env_path.write_bytes(env_bytes)
    svc_path.write_bytes(svc_bytes)
    app = plan(repo, [ServiceRef(env, service, svc_path)], env_files={env: env_path})[0]
    if side == "base" and app.chart is not None and app.chart.origin == "worktree":
        # The working tree is the *new* chart; the base side renders the chart as it was at base.
        committed = chart_at_revision(repo.root, base)
        if committed is not None and committed.version == app.chart_version:
            app.chart = committed
            app.key = render_key(committed.content_hash, env_bytes, svc_bytes, app.app, app.namespace)
    return app


def diff_repo(repo: Repo, base: str | None = None) -> tuple[str, list[AppDiff]]:
    base = base or default_base(repo.root)
    files = changed_files(repo.root, base)
    targets = affected(repo, base, files)
    diffs: list[AppDiff] = []
    sides: list[tuple[AppRender | None, AppRender | None, bytes | None]] = []
    with tempfile.TemporaryDirectory(prefix="mdeploy-diff-") as tmpdir:
        tmp = Path(tmpdir)
        env_bytes: dict[tuple[str, str], bytes | None] = {}
        for (env, service), reasons in sorted(targets.items()):
            env_rel, svc_rel = f"{ENV_DIR}/{env}.yaml", f"{ENV_DIR}/{env}/{service}.yaml"
            if (env, "base") not in env_bytes:
                env_bytes[(env, "base")] = _show(repo.root, base, env_rel)
                new_env_path = repo.env_file(env)
                env_bytes[(env, "new")] = new_env_path.read_bytes() if new_env_path.is_file() else None
            old_env, new_env = env_bytes[(env, "base")], env_bytes[(env, "new")]
            old_svc = _show(repo.root, base, svc_rel)
            new_svc_path = repo.service_file(env, service)
            new_svc = new_svc_path.read_bytes() if new_svc_path.is_file() else None
            item = AppDiff(env, service, reasons, added=old_svc is None, removed=new_svc is None)
            item.values_diff = (_text_diff(env_rel, old_env, new_env) if (env_rel in files) else "") + \
                _text_diff(svc_rel, old_svc, new_svc)
            diffs.append(item)
            sides.append((_plan_side(repo, env, service, old_env, old_svc, tmp, "base", base),
                          _plan_side(repo, env, service, new_env, new_svc, tmp, "new", base), new_svc))
        # Every side of every affected Application in one parallel, cached, batch-validated run.
        render_planned(repo, [app for pair in sides for app in pair[:2] if app is not None and not app.failed])
    for item, (old, new, new_svc) in zip(diffs, sides):
        for side, app in (("base", old), ("new", new)):
            if app is not None and (app.failed or app.problems):
                item.problems.extend(f"{side}: {p}" for p in app.problems)
        item.manifest_diff = manifest_diff(item.application, old.manifests if old else "",
                                           new.manifests if new else "")
        if new is not None:
            item.summary = new.summary
            try:
                data = yaml.load(new_svc, Loader=_Loader)
                item.runtimes = {k: v for k, v in (data.get("models") or {}).items() if isinstance(v, dict)}
            except (yaml.YAMLError, AttributeError):
                pass
    return base, diffs


# --- reports ---------------------------------------------------------------------------------

def mermaid(item: AppDiff) -> str:
    """route -> CGI -> model servers (runtime, replicas, GPUs)."""
    s = item.summary
    replicas = s.get("replicas") or {}
    lines = ["```mermaid", "flowchart LR"]
    lines.append(f'  route["{s.get("url", item.service)}"] --> cgi["{item.service}-cgi<br/>x{replicas.get("cgi", "?")}"]')
    for name, model in item.runtimes.items():
        gpu = model.get("gpu") or {}
        gpus = f"<br/>{gpu.get('count')} GPU {gpu.get('mode', 'whole')}" if gpu.get("count") else "<br/>CPU"
        lines.append(f'  cgi --> {name.replace("-", "_")}["{item.service}-{name}<br/>{model.get("runtime", "?")} '
                     f'x{replicas.get(name, "?")}{gpus}"]')
    lines.append("```")
    return "\n".join(lines)


def to_markdown(base: str, diffs: list[AppDiff]) -> str:
    if not diffs:
        return f"### mdeploy diff against `{base[:12]}`\n\nNo Application is affected.\n"
    out = [f"### mdeploy diff against `{base[:12]}`", "",
           f"{len(diffs)} Application{'s' if len(diffs) != 1 else ''} affected.", "",
           "| Application | change | manifests |", "| --- | --- | --- |"]
    for d in diffs:
        plus, minus = d.counts()
        kind = "added" if d.added else ("removed" if d.removed else "changed")
        if d.problems:
            kind += " (render problems)"
        out.append(f"| `{d.application}` | {kind} | +{plus} -{minus} |")
    out.append("")
    for d in diffs:
        plus, minus = d.counts()
        out += ["<details>", f"<summary><code>{d.application}</code>: +{plus} -{minus} "
                f"({', '.join(sorted(set(d.reasons)))})</summary>", ""]
        if d.summary and not d.removed:
            out += [mermaid(d), ""]
        if d.problems:
            out += ["**Problems**", ""] + [f"- `{p}`" for p in d.problems] + [""]
        out += ["**Values**", "", "```diff", d.values_diff.rstrip() or "(no change)", "```", "",
                "**Manifests**", "", "```diff", d.manifest_diff.rstrip() or "(no change)", "```", "", "</details>", ""]
    return "\n".join(out)


def to_text(base: str, diffs: list[AppDiff]) -> str:
    if not diffs:
        return f"no Application affected (base {base[:12]})\n"
    out = []
    for d in diffs:
        plus, minus = d.counts()
        out.append(f"=== {d.application}: +{plus} -{minus} ({', '.join(sorted(set(d.reasons)))})")
        out.extend(f"problem: {p}" for p in d.problems)
        out.append(d.values_diff.rstrip())
        out.append(d.manifest_diff.rstrip())
    return "\n".join(line for line in out if line) + "\n"


def to_json(base: str, diffs: list[AppDiff]) -> dict[str, Any]:
    return {"base": base, "applications": [{
        "application": d.application, "environment": d.env, "service": d.service, "reasons": d.reasons,
        "added": d.added, "removed": d.removed, "problems": d.problems,
        "values_diff": d.values_diff, "manifest_diff": d.manifest_diff} for d in diffs]}
