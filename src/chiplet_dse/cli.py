"""The ``chiplet-dse`` command line: parse, call the model or a service, print.

Bad input exits with status 2 and a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from chiplet_dse import presentation as fmt
from chiplet_dse.errors import ChipletDSEError, InputError
from chiplet_dse.model import (
    BUILTIN_EXPERIMENTS,
    DEFAULT_EXPERIMENT,
    DEFAULT_LIBRARY,
    GOALS,
    ChipletLibrary,
    Design,
    evaluate,
    evaluate_many,
    load_experiment,
    load_library,
)
from chiplet_dse.model.workloads import BUILTIN_WORKLOADS

Handler = Callable[[argparse.Namespace], int]


def _library(path: str | None) -> ChipletLibrary:
    return load_library(path) if path else DEFAULT_LIBRARY


def _emit(text: str, output: str | None) -> None:
    if output is not None:
        try:
            Path(output).write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write the output: {exc.strerror}", file=output) from None
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")


# -- workloads ---------------------------------------------------------------------------------
def cmd_workloads(args: argparse.Namespace) -> int:
    rows = [
        (w.model, w.instance, w.batch_meaning, ", ".join(map(str, w.shipped_batch_sizes)))
        for w in BUILTIN_WORKLOADS
    ]
    experiments = [
        (name, " + ".join(f"{m}/{i}/{b}*{s}" for m, i, b, s in spec))
        for name, spec in BUILTIN_EXPERIMENTS.items()
    ]
    if args.format == "json":
        _emit(
            fmt.to_json(
                {
                    "workloads": [w.__dict__ for w in BUILTIN_WORKLOADS],
                    "experiments": {n: w for n, w in experiments},
                }
            ),
            None,
        )
        return 0
    print("Built-in workloads (any positive batch size can be generated):")
    print(fmt.table(("model", "instance", "batch size means", "CASCADE's sizes"), rows))
    print()
    print("Built-in experiments (use with --experiment NAME):")
    print(fmt.table(("experiment", "workloads (model/instance/batch*weight)"), experiments))
    return 0


# -- evaluate ----------------------------------------------------------------------------------
_EXTRA = "\0extra"


def read_designs(path: str) -> tuple[list[str], list[dict[str, str]], list[Design]]:
    """Read a designs CSV (header with gpu,attention,sparse,convolution), validating every row."""
    p = Path(path)
    if not p.is_file():
        raise InputError("designs file not found", file=path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=path) from None
    reader = csv.DictReader(text.splitlines(), restkey=_EXTRA)
    header = [h.strip() for h in (reader.fieldnames or [])]
    lower = {h.lower(): h for h in header}
    missing = [c for c in fmt.DESIGN_COLUMNS if c not in lower]
    if missing:
        raise InputError(
            f"missing column(s) {', '.join(missing)}; the header must name "
            f"{','.join(fmt.DESIGN_COLUMNS)}",
            file=path,
        )
    rows, designs = [], []
    for raw in reader:
        line = reader.line_num
        if _EXTRA in raw:
            raise InputError(f"line {line}: more cells than the header has columns", file=path)
        row = {k.strip(): (v or "").strip() for k, v in raw.items()}
        try:
            counts = [int(row[lower[c]]) for c in fmt.DESIGN_COLUMNS]
            designs.append(Design(*counts))
        except ValueError:
            raise InputError(
                f"line {line}: chiplet counts must be integers, got "
                f"{[row[lower[c]] for c in fmt.DESIGN_COLUMNS]}",
                file=path,
            ) from None
        except InputError as exc:
            raise InputError(f"line {line}: {exc.reason}", file=path) from None
        rows.append(row)
    if not designs:
        raise InputError("no designs in the file", file=path)
    return header, rows, designs


def cmd_evaluate(args: argparse.Namespace) -> int:
    if args.breakdown and args.design is None:
        raise InputError("--breakdown needs a single --design")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers must be at least 1, got {args.workers}")
    library = _library(args.library)
    designs_input = read_designs(args.designs) if args.designs is not None else None
    design = Design.parse(args.design) if args.design is not None else None
    experiment = load_experiment(args.experiment, args.trace_dir)
    goal = args.goal or experiment.goal
    if design is not None:
        ev = evaluate(experiment, design, library, goal, details=args.breakdown)
        fmt_name = args.format or "table"
        if fmt_name == "json":
            data = fmt.evaluation_dict(ev, experiment, goal)
            if args.breakdown:
                data["kernels"] = fmt.breakdown_rows(ev)
            _emit(fmt.to_json(data), args.output)
        elif fmt_name == "csv":
            if args.breakdown:
                rows = fmt.breakdown_rows(ev)
                _emit(fmt.csv_text(list(rows[0]), [list(r.values()) for r in rows]), args.output)
            else:
                d = fmt.evaluation_dict(ev, experiment, goal)
                header = [*fmt.DESIGN_COLUMNS, *fmt.RESULT_COLUMNS, "area_mm2", "peak_power_w"]
                values = [*ev.design.counts, d["execution_time_ms"], d["energy_mj"],
                          d["area_mm2"], d["peak_power_w"]]  # fmt: skip
                _emit(fmt.csv_text(header, [values]), args.output)
        else:
            text = fmt.single_text(ev, experiment, goal)
            if args.breakdown:
                text += "\n\n" + fmt.breakdown_text(ev)
            _emit(text, args.output)
        return 0
    assert designs_input is not None
    header, rows, designs = designs_input
    progress = fmt.ProgressBar(f"evaluating {experiment.name}")
    results = evaluate_many(experiment, designs, library, goal, args.workers, progress)
    out_header = [*header, *fmt.RESULT_COLUMNS]
    out_rows = [
        [*(row.get(h, "") for h in header), ev.execution_time_ms, ev.energy_mj]
        for row, ev in zip(rows, results, strict=True)
    ]
    fmt_name = args.format or "csv"
    if fmt_name == "json":
        data = [dict(zip(out_header, r, strict=True)) for r in out_rows]
        _emit(fmt.to_json(data), args.output)
    elif fmt_name == "table":
        _emit(fmt.table(out_header, out_rows), args.output)
    else:
        _emit(fmt.csv_text(out_header, out_rows), args.output)
    return 0


# -- parser ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chiplet-dse",
        description="Design-space exploration of heterogeneous chiplet systems (CASCADE model).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("workloads", help="list built-in workloads and experiments")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(handler=cmd_workloads)

    p = sub.add_parser(
        "evaluate",
        help="evaluate designs on an experiment",
        description="Evaluate one design (--design) or many (--designs FILE.csv).",
    )
    p.add_argument(
        "--experiment",
        default=DEFAULT_EXPERIMENT,
        metavar="NAME_OR_FILE",
        help=f"built-in experiment name or experiment JSON file (default {DEFAULT_EXPERIMENT})",
    )
    p.add_argument("--trace-dir", metavar="DIR", help="CASCADE trace directory (spec §1.2)")
    p.add_argument("--library", metavar="FILE", help="custom chiplet library (.json or .toml)")
    p.add_argument("--goal", choices=GOALS, help="override the experiment's optimisation goal")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--design", metavar="GPU,ATTN,SPARSE,CONV", help="e.g. 3,3,3,3")
    which.add_argument(
        "--designs", metavar="FILE.csv", help="CSV with columns gpu,attention,sparse,convolution"
    )
    p.add_argument("--breakdown", action="store_true", help="per-kernel table (with --design)")
    p.add_argument("--format", choices=("table", "json", "csv"))
    p.add_argument("--output", metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument("--workers", type=int, metavar="N", help="processes (default: all cores)")
    p.set_defaults(handler=cmd_evaluate)

    from chiplet_dse.server.cli import add_commands

    add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except ChipletDSEError as exc:
        print(f"chiplet-dse: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("chiplet-dse: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
