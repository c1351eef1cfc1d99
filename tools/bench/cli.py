"""`csi-edge bench <name>`: the benchmarks, one module each.

A benchmark module exposes `add_arguments(parser)` and `run(args) -> int | None` and is listed
in BENCHMARKS; modules are imported only when their benchmark runs (or for `--help`).
"""

from __future__ import annotations

import importlib

# benchmark name -> (module, one-line help)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "decode": ("csi_edge.tools.bench.decode", "decoder throughput: v1 binary, esp-csi text, ESP32-CSI-Tool CSV vs csiread"),
    "pipeline": ("csi_edge.tools.bench.pipeline", "throughput, latency, CPU and memory of the daemon's pipeline"),
    "capture-memory": ("csi_edge.tools.bench.capture_memory", "peak memory of capture info / verify for 100 MB and 500 MB sessions"),
    "soak": ("csi_edge.tools.bench.soak", "hours of simulator -> daemon -> mosquitto -> subscriber: RSS, CPU, latency, losses, verdict"),
    "web": ("csi_edge.tools.bench.web", "the daemon's CPU at 100 Hz without and with the web view and pages open"),
    "drift": ("csi_edge.tools.bench.drift", "drift score and alarm against a day-1 baseline on simulated days 1-3"),
    "fusion": ("csi_edge.tools.bench.fusion", "per-link models on a simulated multi-link room: each link alone vs fused (accuracy, RMSE)"),
    "fleet": ("csi_edge.tools.bench.fleet", "N simulated nodes on a loopback broker with csi-edge fuse: fused latency and CPU as N grows"),
}


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="benchmarks (decode, pipeline, capture-memory, soak, web, drift, fusion, fleet)",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="benchmark", metavar="BENCHMARK", parser_class=type(p))
    for name, (module_name, help_text) in BENCHMARKS.items():
        bp = sub.add_parser(name, help=help_text, description=help_text)
        bp.set_defaults(func=_runner(module_name), _bench_module=module_name)
        importlib.import_module(module_name).add_arguments(bp)
    p.set_defaults(func=lambda args: _usage(p))


def _runner(module_name: str):
    def run(args) -> int | None:
        return importlib.import_module(module_name).run(args)

    return run


def _usage(parser) -> int:
    parser.print_help()
    return 2
