"""Real servers for the operating-command tests, all on 127.0.0.1 with free ports.

- `triton`: the tritonserver binary bundled in PyPI nvidia-pytriton, standalone, on CPU, with a
  model repository holding `add_one` (python backend, OUTPUT0 = INPUT0 + 1) and `broken`
  (its initialize raises, so it never becomes ready). Started once per session.
- `cgi`: tests/ops/cgi_app.py in a subprocess (a real threaded HTTP/1.1 server).
- `repo_root`: a throwaway repository with environments/ for the services the tests use.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).parent
STARTUP_SECONDS = 90  # a cold CI box loads the python backend stub in ~2 s; this is the ceiling

ADD_ONE_CONFIG = """
name: "add_one"
backend: "python"
max_batch_size: 0
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
"""

ADD_ONE_MODEL = '''
import numpy as np
import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def execute(self, requests):
        responses = []
        for request in requests:
            x = pb_utils.get_input_tensor_by_name(request, "INPUT0").as_numpy()
            out = pb_utils.Tensor("OUTPUT0", (x + 1).astype(np.float32))
            responses.append(pb_utils.InferenceResponse([out]))
        return responses
'''

BROKEN_MODEL = '''
class TritonPythonModel:
    def initialize(self, args):
        raise RuntimeError("this model is broken on purpose")
'''


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_port() -> int:
    """A port nothing listens on (bound and released; nothing else here binds loopback ports)."""
    return free_port()


def _pytriton_dir() -> Path:
    try:
        import pytriton
    except ImportError:  # pragma: no cover - the dev pins install it
        pytest.fail("nvidia-pytriton is not installed; run `make setup`")
    return Path(pytriton.__file__).parent


def _backend_dir(dest: Path) -> Path:
    """Triton looks for backends/<name>/; the python backend also needs the stub built for
    this interpreter's version next to it (pytriton ships one per Python version)."""
    dist = _pytriton_dir() / "tritonserver"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = dist / "python_backend_stubs" / version / "triton_python_backend_stub"
    if not stub.is_file():
        pytest.fail(f"nvidia-pytriton has no python backend stub for Python {version} ({stub})")
    python = dest / "python"
    shutil.copytree(dist / "backends" / "python", python, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(stub, python / "triton_python_backend_stub")
    return dest


def _model_repository(dest: Path) -> Path:
    for name, code in (("add_one", ADD_ONE_MODEL), ("broken", BROKEN_MODEL)):
        (dest / name / "1").mkdir(parents=True)
        (dest / name / "config.pbtxt").write_text(ADD_ONE_CONFIG.replace("add_one", name))
        (dest / name / "1" / "model.py").write_text(code)
    return dest


def _triton_env() -> dict[str, str]:
    env = dict(os.environ)
    libs = [
        # The stub embeds libpython: load the one of the interpreter running the tests
        # (pyenv builds live outside the default linker path).
        sysconfig.get_config_var("LIBDIR") or "",
        # The copied stub loses its $ORIGIN-relative rpath to pytriton's bundled libraries.
        str(_pytriton_dir().parent / "nvidia_pytriton.libs"),
    ]
    env["LD_LIBRARY_PATH"] = ":".join([p for p in libs if p] + ([env["LD_LIBRARY_PATH"]] if env.get("LD_LIBRARY_PATH") else []))
    # The embedded interpreter finds its site-packages through the `python` on PATH; this
    # venv's first, so the model code imports the venv's numpy (as pytriton itself does).
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    return env


def _get_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


class TritonServer:
    def __init__(self, http_port: int, grpc_port: int, proc: subprocess.Popen, log: Path) -> None:
        self.http_port, self.grpc_port, self.proc, self.log = http_port, grpc_port, proc, log
        self.http_url = f"http://127.0.0.1:{http_port}"
        self.grpc_url = f"127.0.0.1:{grpc_port}"

    def stats(self, model: str) -> dict:
        with urllib.request.urlopen(f"{self.http_url}/v2/models/{model}/stats", timeout=5) as resp:
            return json.load(resp)["model_stats"][0]


def _start_triton(workdir: Path, backends: Path, repository: Path) -> TritonServer:
    http_port, grpc_port = free_port(), free_port()
    log = workdir / f"tritonserver-{http_port}.log"
    binary = _pytriton_dir() / "tritonserver" / "bin" / "tritonserver"
    cmd = [
        str(binary),
        f"--model-repository={repository}",
        f"--backend-directory={backends}",
        "--http-address=127.0.0.1", f"--http-port={http_port}",
        "--grpc-address=127.0.0.1", f"--grpc-port={grpc_port}",
        "--allow-metrics=false",
        # Load exactly these two; `broken` fails, and the server must still start and stay
        # ready so the tests see one ready and one unavailable model.
        "--model-control-mode=explicit", "--load-model=add_one", "--load-model=broken",
        "--exit-on-error=false", "--strict-readiness=false",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=_triton_env(), cwd=workdir)
    server = TritonServer(http_port, grpc_port, proc, log)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return server  # exited: the caller reads the log and may retry with new ports
        if _get_status(f"{server.http_url}/v2/models/add_one/ready") == 200:
            return server
        time.sleep(0.1)  # poll interval, not a wait for a guessed startup time
    return server


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def triton(tmp_path_factory) -> TritonServer:
    workdir = tmp_path_factory.mktemp("triton")
    backends = _backend_dir(workdir / "backends")
    repository = _model_repository(workdir / "models")
    for _attempt in range(3):  # a free port can be taken between probe and bind: retry
        server = _start_triton(workdir, backends, repository)
        if server.proc.poll() is None and _get_status(f"{server.http_url}/v2/models/add_one/ready") == 200:
            break
        _stop(server.proc)
        log_tail = server.log.read_text(errors="replace")[-3000:]
        if "address already in use" not in log_tail.lower():
            pytest.fail(f"tritonserver did not become ready; log tail:\n{log_tail}")
    else:
        pytest.fail("tritonserver could not bind free ports in 3 attempts")
    yield server
    _stop(server.proc)


@pytest.fixture(scope="session")
def cgi() -> str:
    """Base URL of the test CGI; `/__counter` and `/__reset` expose its request counter."""
    proc = subprocess.Popen([sys.executable, str(HERE / "cgi_app.py")], stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
        proc.stdout.close()


def cgi_counter(cgi_url: str, *, reset: bool = False) -> dict:
    with urllib.request.urlopen(f"{cgi_url}/{'__reset' if reset else '__counter'}", timeout=5) as resp:
        return json.load(resp)


ENV_FILE = """\
environment:
  name: {env}
  namespacePrefix: ms-{env}-
  argocd: {{namespace: argocd}}
  route:
    scheme: https
    host: ai.example.com
    publicPrefix: {prefix}
    upstreamPrefix: /api/content
"""

SERVICE_FILE = """\
service: {service}
team: content
chart: 1.0.0
cgi:
  image: registry.example.com/ai/{service}-cgi:20261121-1530
  healthPath: /api/ping
  replicas: 2
models:
  main:
    runtime: triton
    image: nvcr.io/nvidia/tritonserver:25.10-py3
    replicas: 2
    triton:
      modelControlMode: explicit
      models: [{models}]
"""


@pytest.fixture(scope="session")
def repo_root(tmp_path_factory) -> Path:
    """environments/ with `demo` (serves add_one) and `demo-bad` (also declares broken)."""
    root = tmp_path_factory.mktemp("repo")
    for env, prefix in (("gray", "/api/grey/content"), ("prod", "/api/content")):
        (root / "environments" / env).mkdir(parents=True)
        (root / "environments" / f"{env}.yaml").write_text(ENV_FILE.format(env=env, prefix=prefix))
        for service, models in (("demo", "add_one"), ("demo-bad", "add_one, broken")):
            (root / "environments" / env / f"{service}.yaml").write_text(SERVICE_FILE.format(service=service, models=models))
    return root
