"""`mdeploy bench` and `mdeploy warmup`: load a service through its public route, or one
Triton model directly, and report throughput, latency percentiles and errors by kind."""

from __future__ import annotations

from pathlib import Path

import click

from mdeploy.cli import format_option
from mdeploy.commands.smoke import base_url_option, env_option, model_url_option, root_option
from mdeploy.ops.context import ServiceContext, load_context, parse_model_urls
from mdeploy.ops.loadgen import PERCENTILES, LoadResult, Target, run_load, run_warmup
from mdeploy.ops.triton_load import triton_target
from mdeploy.report import EXIT_FINDINGS, EXIT_OK, ToolError, UsageError, format_table, print_json, progress, progress_done


def target_options(fn):
    """The options bench and warmup share: what to send, and where."""
    for option in reversed([
        click.argument("service"),
        env_option,
        click.option("--path", default=None, metavar="P", help="Path under the service's public root, e.g. /predict (route mode)."),
        click.option("--payload", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Request body file (route mode: sent as is; direct mode: a JSON KServe v2 infer request)."),
        click.option("--method", default=None, help="HTTP method in route mode (default POST with --payload, else GET)."),
        click.option("--header", "headers", multiple=True, metavar="NAME:VALUE", help="Extra request header (route mode)."),
        click.option("--model", default=None, metavar="M", help="Direct Triton mode: load model M (a name the server loads)."),
        base_url_option,
        model_url_option,
        click.option("--concurrency", type=click.IntRange(min=1, max=1024), default=None, help="Parallel connections."),
        click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, show_default=True, help="Seconds per request."),
        root_option,
        format_option,
    ]):
        fn = option(fn)
    return fn


def _route_target(ctx: ServiceContext, path: str, payload: Path | None, method: str | None, headers: tuple[str, ...], base_url: str | None) -> Target:
    if not path.startswith("/"):
        raise UsageError(f"--path must start with / (relative to the service root), got {path!r}")
    body = None
    hdrs: dict[str, str] = {}
    if payload is not None:
        try:
            body = payload.read_bytes()
        except FileNotFoundError:
            raise ToolError("payload file not found", path=str(payload), rule="payload") from None
        except OSError as err:
            raise ToolError(f"cannot read payload: {err.strerror}", path=str(payload), rule="payload") from None
        hdrs["Content-Type"] = "application/json" if payload.suffix == ".json" else "application/octet-stream"
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header expects NAME:VALUE, got {header!r}")
        hdrs[name.strip()] = value.strip()
    return Target(ctx.public_root(base_url) + path, (method or ("POST" if body is not None else "GET")).upper(), body, hdrs)


def _direct_target(ctx: ServiceContext, model: str, payload: Path | None, model_urls: tuple[str, ...], timeout: float) -> Target:
    urls = parse_model_urls(model_urls, ctx)
    servers = [m for m in ctx.models if m.runtime == "triton" and (model in m.served or m.key == model)]
    if not servers:
        served = sorted(n for m in ctx.models if m.runtime == "triton" for n in m.served)
        raise UsageError(f"no Triton server of {ctx.service} loads model {model!r} (Triton models: {', '.join(served) or 'none'})")
    server = servers[0]
    name = model if model in server.served or not server.served else server.served[0]
    return triton_target(urls.get(server.key) or ctx.default_model_url(server), name, payload, timeout)


def build_target(ctx, path, payload, method, headers, model, base_url, model_urls, timeout) -> Target:
    if (path is None) == (model is None):
        raise UsageError("give either --path (through the public route) or --model (one Triton model directly)")
    if model is not None:
        if method or headers:
            raise UsageError("--method and --header apply to route mode (--path) only")
        return _direct_target(ctx, model, payload, model_urls, timeout)
    return _route_target(ctx, path, payload, method, headers, base_url)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.2f} ms"


def _print_result(ctx: ServiceContext, target: Target, result: LoadResult) -> None:
    rows = [
        ("target", f"{target.method} {target.url}"),
        ("concurrency", result.concurrency),
        ("requests", result.requests),
        ("ok (2xx)", result.ok),
        ("failed", result.requests - result.ok),
        ("elapsed", f"{result.elapsed:.3f} s"),
        ("throughput", f"{result.throughput:.1f} req/s"),
        ("ok throughput", f"{result.ok_throughput:.1f} req/s"),
    ]
    rows += [(f"latency p{p}", _ms(result.percentile(p))) for p in PERCENTILES]
    rows.append(("latency max", _ms(result.latencies[-1] if result.latencies else None)))
    click.echo(format_table(["metric", "value"], rows))
    if result.errors:
        click.echo()
        click.echo(format_table(["error", "count"], sorted(result.errors.items(), key=lambda kv: -kv[1])))


@click.command()
@target_options
@click.option("--duration", type=click.FloatRange(min=0.1), default=None, help="Seconds to run (default 10 unless --requests).")
@click.option("--requests", "n_requests", type=click.IntRange(min=1), default=None, help="Send exactly N requests.")
@click.option("--rate", type=click.FloatRange(min=0.1), default=None, help="Pace the whole run at R requests/s (default: as fast as possible).")
@click.option("--force", is_flag=True, help="Allow load-testing gray (it runs one replica per Deployment).")
def bench(service, env, path, payload, method, headers, model, base_url, model_urls, concurrency, timeout, root, fmt,
          duration, n_requests, rate, force) -> None:
    """Load-test SERVICE in ENV and print throughput, latency p50/p90/p95/p99/max and errors.

    Route mode (--path) goes through the public URL; direct mode (--model) sends KServe v2
    infer requests to one Triton model. Exit 1 when any request failed.
    """
    ctx = load_context(service, env, root)
    if ctx.env == "gray" and not force:
        raise ToolError("refusing to load-test gray: it runs one replica per Deployment, so a load test measures "
                        "nothing useful and starves other users; bench prod or a local server, or pass --force")
    if duration is not None and n_requests is not None:
        raise UsageError("give --duration or --requests, not both")
    target = build_target(ctx, path, payload, method, headers, model, base_url, model_urls, timeout)
    result = run_load(target, concurrency=concurrency or 8, requests=n_requests,
                      duration=duration if (duration or n_requests) else 10.0, rate=rate, timeout=timeout,
                      on_progress=lambda n: progress(f"{n} requests sent..."))
    progress_done()
    if fmt == "json":
        print_json({"service": ctx.service, "env": ctx.env, "mode": "direct" if model else "route",
                    "method": target.method, "url": target.url, **result.to_dict()})
    else:
        _print_result(ctx, target, result)
    raise SystemExit(EXIT_FINDINGS if result.ok < result.requests else EXIT_OK)


@click.command()
@target_options
@click.option("--window", type=click.IntRange(min=1), default=50, show_default=True, help="Requests per measuring window.")
@click.option("--tolerance", type=click.FloatRange(min=0.1, max=100), default=10.0, show_default=True,
              help="Stop when a window's p50 is within this many percent of the previous window's.")
@click.option("--max-requests", type=click.IntRange(min=1), default=2000, show_default=True, help="Request budget.")
@click.option("--max-time", type=click.FloatRange(min=0.1), default=60.0, show_default=True, help="Time budget in seconds.")
def warmup(service, env, path, payload, method, headers, model, base_url, model_urls, concurrency, timeout, root, fmt,
           window, tolerance, max_requests, max_time) -> None:
    """Warm SERVICE's models up after a deploy: bursts until latency settles, within a budget.

    Allowed in gray (it is bounded). Exit 1 when any request failed.
    """
    ctx = load_context(service, env, root)
    target = build_target(ctx, path, payload, method, headers, model, base_url, model_urls, timeout)
    result = run_warmup(target, concurrency=concurrency or 4, window=window, tolerance=tolerance / 100,
                        max_requests=max_requests, max_seconds=max_time, timeout=timeout,
                        on_window=lambda i, r: progress(f"window {i}: p50 {_ms(r.percentile(50))}"))
    progress_done()
    failed = sum(w.requests - w.ok for w in result.windows)
    if fmt == "json":
        print_json({"service": ctx.service, "env": ctx.env, "mode": "direct" if model else "route",
                    "method": target.method, "url": target.url, "settled": result.settled, "reason": result.reason,
                    "requests": result.requests, "failed": failed, "windows": [w.to_dict() for w in result.windows]})
    else:
        click.echo(format_table(
            ["window", "requests", "failed", "p50", "p95", "req/s"],
            [(i, w.requests, w.requests - w.ok, _ms(w.percentile(50)), _ms(w.percentile(95)), f"{w.throughput:.1f}")
             for i, w in enumerate(result.windows, 1)],
        ))
        click.echo(f"warmup of {ctx.service} in {ctx.env}: {result.requests} requests, {failed} failed; {result.reason}")
    raise SystemExit(EXIT_FINDINGS if failed else EXIT_OK)
