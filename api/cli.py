"""The `bess` command: demo, ingest, info, serve, bench (each with --help)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from data.store import DEFAULT_STORE, STORE_ENV

STORE_HELP = f"store folder or object-store URL s3://BUCKET/PREFIX (default: ${STORE_ENV}, else {DEFAULT_STORE})"


def _cmd_demo(args: argparse.Namespace) -> int:
    from data.demo import generate_demo

    if args.systems is not None and args.scale != "fleet":
        print("bess demo: --systems is for --scale fleet", file=sys.stderr)
        return 2
    try:
        truth = generate_demo(Path(args.out), seed=args.seed, scale=args.scale, progress=not args.quiet,
                              systems=args.systems)
    except ValueError as exc:
        print(f"bess demo: {exc}", file=sys.stderr)
        return 2
    print(f"demo fleet written to {args.out} (ground truth: {truth})")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from data.distributed import ClusterSpec
    from data.ingest import ingest

    roots = [Path(r) for part in args.roots for r in part.split(",") if r]
    try:
        cluster = ClusterSpec(workers=args.workers, scheduler=args.scheduler, worker_memory=args.worker_memory)
    except ValueError as exc:
        print(f"bess ingest: {exc}", file=sys.stderr)
        return 2
    report = ingest(roots, args.store, progress=not args.quiet, allow_removal=args.allow_removal, cluster=cluster)
    print(report.format_text())
    return report.exit_code


def _cmd_info(args: argparse.Namespace) -> int:
    from data.info import describe_store
    from data.store import StoreError

    try:
        print(describe_store(args.store))
    except StoreError as exc:
        print(f"bess info: {exc}", file=sys.stderr)
        return 2
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from api.server import serve

    return serve(host=args.host, port=args.port, store=args.store, workers=args.workers, scheduler=args.scheduler)


def _cmd_bench(args: argparse.Namespace) -> int:
    from bench.run import run_benchmarks

    return run_benchmarks(out=Path(args.out), only=args.only, quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bess",
        description="BESS-OS: analytics for smart meters and battery energy storage systems.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("demo", help="generate the demo fleet as CSV exports", description=(
        "Write a synthetic fleet (6 meters, 3 BESS of 5 packs x 52 cells) in the real export "
        "layout of DATA_FORMAT.md, with its ground truth in ground_truth.json."))
    p.add_argument("--out", required=True, help="folder to write the CSV exports to")
    p.add_argument("--seed", type=int, default=7, help="random seed; same seed, same bytes (default: 7)")
    p.add_argument("--scale", choices=["small", "full", "fleet"], default="small",
                   help="small: quick demo (default); full: 5-min cell data over 20 months, for benchmarks; "
                        "fleet: many small systems (30 days each, one BESS in five)")
    p.add_argument("--systems", type=int, default=None, metavar="N",
                   help="fleet only: number of systems, meters and BESS together (default: 100, at least 9)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("ingest", help="ingest CSV exports into the Parquet pyramid store", description=(
        "Discover, parse and clean CSV exports under one or more roots and publish them as "
        "multi-resolution Parquet pyramids. Re-running is incremental; a report lists every "
        "file that could not be read and why. Exits non-zero only when nothing could be "
        "ingested or the store could not be written."))
    p.add_argument("roots", nargs="+", help="export root folder(s); several may be comma-separated")
    p.add_argument("--store", default=None, help=STORE_HELP)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--allow-removal", action="store_true",
                   help="a missing or empty root is meant: remove its systems (without this flag it is an "
                        "error, so that an unmounted share never empties the store)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="build on a local Dask cluster of N worker processes (0: in this process); default: "
                        "in process, unless the job is large and the machine has more cores than the "
                        "in-process threads use (see README 'Many workers')")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="build on an existing Dask cluster (its workers must see the exports and the store "
                        "at the same paths)")
    p.add_argument("--worker-memory", default="auto", metavar="LIMIT",
                   help="memory limit per local worker, e.g. 1GiB (default: auto, the machine's memory "
                        "split evenly between the workers)")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("info", help="summarise the store", description=(
        "Print the store's systems, signals, levels, time ranges and row counts."))
    p.add_argument("--store", default=None, help=STORE_HELP)
    p.set_defaults(func=_cmd_info)

    p = sub.add_parser("serve", help="serve dashboard (/), GraphQL (/graphql) and /healthz on one port",
                       description="Start one server: the dashboard at /, GraphQL with GraphiQL at "
                       "/graphql and a health check at /healthz.")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    p.add_argument("--store", default=None, help=STORE_HELP)
    p.add_argument("--workers", type=int, default=1,
                   help="server processes on the one port (default: 1); each reads the published store "
                        "version per request, so a new publish reaches all of them")
    p.add_argument("--scheduler", default=None, metavar="tcp://HOST:PORT",
                   help="a running Dask scheduler that computes the fleet summary, one task per system "
                        "(default: $BESS_SCHEDULER; unset: in process)")
    p.set_defaults(func=_cmd_serve)

    p = sub.add_parser("bench", help="run the benchmarks and write BENCHMARKS.md", description=(
        "Measure against named baselines in one run and write the table as ratios."))
    p.add_argument("--out", default="BENCHMARKS.md", help="where to write the table (default: BENCHMARKS.md)")
    p.add_argument("--only", action="append", default=None,
                   help="run only benchmark groups whose name contains this (repeatable)")
    p.add_argument("--quick", action="store_true", help="smaller inputs, for a smoke run")
    p.set_defaults(func=_cmd_bench)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
