"""Direct Triton mode for bench/warmup: one ready-made KServe v2 infer request per model.

The request is built once and sent by the plain HTTP load generator, so bench measures the
server, not tritonclient's per-call work. Inputs come from the model's own metadata (zeros
of the declared shape and dtype, variable dims -1 -> 1) or from a payload file holding a
JSON infer request ({"inputs": [{"name", "shape", "datatype", "data"}]}).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mdeploy.ops.checks import _netloc, plain_reason
from mdeploy.ops.loadgen import Target
from mdeploy.report import ToolError


def _metadata(url: str, model: str, timeout: float) -> dict[str, Any]:
    import tritonclient.http as httpclient

    client = httpclient.InferenceServerClient(_netloc(url), connection_timeout=timeout, network_timeout=timeout)
    try:
        if not client.is_model_ready(model):
            raise ToolError(f"model {model!r} is not ready on {_netloc(url)}; run `mdeploy smoke` to see why")
        return client.get_model_metadata(model)
    except ToolError:
        raise
    except Exception as err:  # noqa: BLE001 - becomes one line naming the server
        raise ToolError(f"cannot read metadata of model {model!r} from {_netloc(url)}: {plain_reason(err)}") from None
    finally:
        client.close()


def zeros_request(metadata: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A binary infer request with zero-filled inputs (-1 dims become 1)."""
    import tritonclient.http as httpclient
    from tritonclient.utils import triton_to_np_dtype

    inputs = []
    for tensor in metadata.get("inputs", []):
        shape = [1 if int(d) < 0 else int(d) for d in tensor.get("shape", [])]
        datatype = tensor["datatype"]
        if datatype == "BYTES":
            array = np.full(shape, b"0", dtype=np.object_)
        else:
            dtype = triton_to_np_dtype(datatype)
            if dtype is None:
                raise ToolError(f"input {tensor['name']} has datatype {datatype} that bench cannot fill; pass --payload with a JSON infer request")
            array = np.zeros(shape, dtype=dtype)
        infer_input = httpclient.InferInput(tensor["name"], shape, datatype)
        infer_input.set_data_from_numpy(array, binary_data=True)
        inputs.append(infer_input)
    body, json_size = httpclient.InferenceServerClient.generate_request_body(inputs)
    headers = {"Content-Type": "application/octet-stream"}
    if json_size is not None:
        headers["Inference-Header-Content-Length"] = str(json_size)
    return body, headers


def payload_request(path: Path) -> tuple[bytes, dict[str, str]]:
    """A JSON infer request from a file, checked enough to fail here rather than as 400s."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ToolError("payload file not found", path=str(path), rule="payload") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ToolError(f"cannot read payload: {err}", path=str(path), rule="payload") from None
    except json.JSONDecodeError as err:
        raise ToolError(f"payload is not JSON: {err.msg}", path=str(path), line=err.lineno, col=err.colno, rule="payload") from None
    if not isinstance(data, dict) or not isinstance(data.get("inputs"), list) or not data["inputs"]:
        raise ToolError('payload must be a KServe v2 infer request: {"inputs": [{"name", "shape", "datatype", "data"}]}', path=str(path), rule="payload")
    for i, tensor in enumerate(data["inputs"]):
        missing = [k for k in ("name", "shape", "datatype", "data") if not isinstance(tensor, dict) or k not in tensor]
        if missing:
            raise ToolError(f"inputs[{i}] lacks {', '.join(missing)}", path=str(path), rule="payload")
    return json.dumps(data).encode(), {"Content-Type": "application/json"}


def triton_target(url: str, model: str, payload: Path | None, timeout: float) -> Target:
    base = url if "://" in url else f"http://{url}"
    if payload is not None:
        body, headers = payload_request(payload)
    else:
        body, headers = zeros_request(_metadata(url, model, timeout))
    return Target(f"{base.rstrip('/')}/v2/models/{model}/infer", "POST", body, headers)
