"""What each ``ganzoo`` sub-command does; :mod:`ganzoo.cli` parses the arguments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from ganzoo.api.metric import MetricsConfig
from ganzoo.api.prior import generate, has_w_space, w_codes
from ganzoo.cli.restore import RestoredRun, restore_run
from ganzoo.errors import ConfigError, GanzooError, RunDirError, one_line
from ganzoo.metrics.evaluation import EVAL_SEED, Evaluator
from ganzoo.registry.discovery import get_zoo
from ganzoo.run import rundir
from ganzoo.run.config import beyond_the_pair, load_config, validate
from ganzoo.run.plan import RunPlan
from ganzoo.sampling.codes import load_codes
from ganzoo.sampling.generation import (
    class_name,
    class_rows,
    first_samples,
    picture_plan,
    save_labelled_grid,
    save_picture,
    save_point_paths,
)
from ganzoo.sampling.interpolation import latent_paths

KINDS = ("gans", "objectives", "datasets", "algorithms", "augmentations", "metrics")
PICTURE_SUFFIXES = (".png", ".jpg")


def cmd_plugins(args: argparse.Namespace) -> int:
    zoo = get_zoo()
    for record in zoo.records:
        status = "FAILED" if record.errors else "ok"
        print(f"{record.source.distribution} {record.source.version}  (plugin '{record.source.plugin}', {status})")
        for kind, names in record.contributes.items():
            print(f"    {kind}: {', '.join(names)}")
        for error in record.errors:
            print(f"    error: {error}")
    return 0


def cmd_plugin(args: argparse.Namespace) -> int:
    if args.action == "new":
        from ganzoo.cli.scaffold import write_plugin

        target = write_plugin(args.name, args.dir, get_zoo())
        print(f"wrote {target}; install it with: pip install -e '{target}[test]', then: ganzoo plugin check "
              f"ganzoo-{args.name}")
        return 0
    return check_plugin(args.name)


def check_plugin(distribution: str) -> int:
    """Run the conformance checks of ``distribution`` and print one line per check; 1 if any failed."""
    import tempfile

    from ganzoo.testing.conformance import Skipped, checks_for

    checks = checks_for(distribution)
    counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}
    width = max(len(check.id) for check in checks)
    with tempfile.TemporaryDirectory(prefix="ganzoo-check-") as folder:
        for number, check in enumerate(checks):
            try:
                status, detail = "PASS", check.run(Path(folder) / f"check-{number}")
            except Skipped as exc:
                status, detail = "SKIP", str(exc)
            except Exception as exc:  # a failing check is a result, not an error of this command
                status, detail = "FAIL", one_line(exc)
            counts[status] += 1
            print(f"{status}  {check.id:<{width}}  {detail}", flush=True)
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    return 1 if counts["FAIL"] else 0


def cmd_list(args: argparse.Namespace) -> int:
    kinds: tuple[str, ...] = KINDS
    pattern = args.pattern or "*"
    kind = args.kind_or_pattern
    if kind is not None and (kind in KINDS or kind + "s" in KINDS):
        kinds = (kind if kind in KINDS else kind + "s",)
    elif kind is not None and args.pattern is None:
        pattern = kind
    elif kind is not None:
        raise GanzooError(f"unknown kind '{kind}'; KIND is one of {', '.join(KINDS)}")
    zoo = get_zoo()
    for kind in kinds:
        registry = zoo.registry(kind)
        names = registry.names(pattern)
        print(f"{kind}:" + ("" if names else " none installed" if pattern == "*" else f" none match '{pattern}'"))
        for name in names:
            spec = registry.get(name)
            extra = f" (default objective: {spec.default_objective})" if kind == "gans" else ""
            if kind == "gans" and spec.default_algorithm != "alternating":
                extra += f" (algorithm: {spec.default_algorithm})"
            print(f"  {name:<16} {spec.description}{extra}  [{registry.source(name)}]")
            if args.verbose:
                print(f"  {'':<16} cite: {spec.citation}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ganzoo.training.trainer import Trainer

    zoo = get_zoo()
    raw = None
    if args.config.is_dir():  # a run directory: its own config, wherever it now lives
        if not (args.config / rundir.CONFIG).is_file():
            raise RunDirError(f"{args.config} is not a run directory (no {rundir.CONFIG})")
        raw = rundir.read_json_object(args.config / rundir.CONFIG)
        raw["out_dir"] = str(args.config)
    config = load_config(args.config, args.overrides, zoo, raw=raw)
    trainer = Trainer(config, zoo, progress=not args.quiet)
    trainer.prepare(resume=args.resume)
    if not trainer.world.writer:  # another process of a torchrun launch: rank 0 reports
        trainer.fit()
        return 0
    start = f"from step {trainer.step} " if trainer.step else ""
    where = f"{trainer.world.size} processes on {trainer.device.type}" if trainer.world.size > 1 else str(
        trainer.device)
    print(f"training {config.gan} with {config.objective}{beyond_the_pair(config.model_dump())} on {config.dataset} "
          f"{start}to step {config.steps} on {where} -> {trainer.run_dir}")
    records = trainer.fit()
    print(f"done at step {trainer.step}; checkpoint {trainer.run_dir / rundir.LAST_CHECKPOINT}")
    for record in records:
        print(format_metrics(record))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from ganzoo.curves import ask_divergence_name, draw_runs, read_run
    from ganzoo.curves.figure import SUFFIXES

    if args.output is None and len(args.runs) > 1:
        raise GanzooError(f"{len(args.runs)} runs are drawn in one figure: name its file with -o, e.g. -o curves.png")
    output = args.output or args.runs[0] / rundir.CURVES
    if output.suffix.lower() not in SUFFIXES or output.is_dir():
        raise GanzooError(f"-o must name a {', '.join(SUFFIXES[:-1])} or {SUFFIXES[-1]} file, got {output}")
    runs = [ask_divergence_name(read_run(path), get_zoo) for path in args.runs]
    figure = draw_runs(runs, output, mean=args.mean)
    width, height = (round(size * figure.dpi) for size in figure.get_size_inches())
    print(f"wrote {len(figure.axes)} panels of {len(runs)} run{'s' if len(runs) > 1 else ''} ({width}x{height} "
          f"pixels) to {output}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    check_picture_path(args.output)
    run = restore_run(args.run, get_zoo(), raw=args.raw)
    classes = _chosen_classes(run, args.classes)
    labels, count = picture_plan(run.info, classes, args.num)
    if args.truncation is not None and run.prior.kind != "normal":
        raise ConfigError(f"--truncation draws latents from a truncated normal, but {args.run} was trained with "
                          f"the {run.prior.kind} prior; leave --truncation out")
    if args.truncation is not None and args.psi is not None:
        raise ConfigError("--truncation and --psi are two truncation tricks; use one")
    _check_w_space(run, "--psi" if args.psi is not None else None)
    samples = generate(run.generator, run.prior, count, args.seed, labels, truncation=args.truncation, psi=args.psi)
    output = args.output or run.default_output("sample")
    truncated = ("" if args.truncation is None else f", latents truncated to ±{args.truncation:g}") + (
        "" if args.psi is None else f", W truncated by psi {args.psi:g}")
    save_picture(samples, run.info, output, run.title() + truncated, classes, run.real_points())
    per_class = f" ({count // len(classes)} per class)" if classes is not None else ""
    print(f"wrote {count} samples{per_class} from the {run.weights} weights{truncated} to {output}")
    return 0


def cmd_interpolate(args: argparse.Namespace) -> int:
    check_picture_path(args.output)
    run = restore_run(args.run, get_zoo(), raw=args.raw)
    starts, ends, row_classes = _path_ends(run, args)
    labels = None if row_classes is None else class_rows(row_classes, args.steps)
    in_w = args.space == "w"
    _check_w_space(run, "--space w" if in_w else "--psi" if args.psi is not None else None)
    method = args.method or ("linear" if in_w else "slerp")
    if in_w:  # each row's ends mapped with the row's class
        ends_labels = None if row_classes is None else torch.tensor(row_classes).to(run.prior.device)
        starts, ends = (w_codes(run.generator, codes, ends_labels, args.psi or 1.0) for codes in (starts, ends))
    latents = latent_paths(starts, ends, args.steps, method)
    samples = generate(run.generator, run.prior, len(latents), args.seed, labels, latents,
                       psi=None if in_w else args.psi, in_w=in_w)
    output = args.output or run.default_output(f"interpolate-{method}" + ("-w" if in_w else ""))
    title = f"{run.title()}, {method} interpolation" + (" in W" if in_w else "") + (
        "" if args.psi is None else f", psi {args.psi:g}")
    output.parent.mkdir(parents=True, exist_ok=True)
    if not run.info.is_image:
        save_point_paths(samples.view(len(starts), args.steps, -1), first_samples(run.data), output, title)
    else:
        row_names = [f"#{row}" if row_classes is None else f"{class_name(run.info, row_classes[row])} #{row}"
                     for row in range(len(starts))]
        save_labelled_grid(samples, row_names, args.steps, output, title)
    print(f"wrote {len(starts)} {method} paths{' in W' if in_w else ''} of {args.steps} steps from the {run.weights} "
          f"weights to {output}")
    return 0


def _path_ends(run: RestoredRun, args: argparse.Namespace) -> tuple[torch.Tensor, torch.Tensor, list[int] | None]:
    """Each row's two latent codes, and its class in a conditional run: drawn from the prior (``--rows`` of them,
    classes from ``--classes``), or consecutive pairs of the codes ``ganzoo invert`` found (``--codes``)."""
    if args.codes is None:
        classes = _chosen_classes(run, args.classes)
        rng = torch.Generator(device=run.prior.device).manual_seed(args.seed)
        row_classes = None if classes is None else [classes[row % len(classes)] for row in range(args.rows)]
        return run.prior.sample(args.rows, rng), run.prior.sample(args.rows, rng), row_classes
    if args.classes is not None:
        raise ConfigError("--codes brings the classes the codes were found with; leave --classes out")
    codes, labels = load_codes(args.codes, run.prior.z_dim, run.prior.num_classes is not None)
    rows = len(codes) // 2
    codes = codes.to(run.prior.device)
    row_classes = None if labels is None else [int(label) for label in labels[0:2 * rows:2]]
    return codes[0:2 * rows:2], codes[1:2 * rows:2], row_classes


def _check_w_space(run: RestoredRun, option: str | None) -> None:
    """Refuse ``option`` (one that needs a W space) for a generator without one."""
    if option is not None and not has_w_space(run.generator):
        raise ConfigError(f"{option} needs a style-based generator (one with mapping and synthesis networks, as "
                          f"StyleGAN2's); GAN '{run.config.gan}' has none: leave {option} out")


def cmd_eval(args: argparse.Namespace) -> int:
    zoo = get_zoo()
    asked = {key: getattr(args, key) for key in ("num_generated", "num_reference", "reference_split",
                                                 "inception_weights") if getattr(args, key) is not None}
    validate(MetricsConfig, asked, "ganzoo eval")  # the [metrics] table's own checks, before the run loads
    run = restore_run(args.run, zoo, raw=args.raw)
    metrics = validate(MetricsConfig, {**run.config.metrics.model_dump(), **asked}, "ganzoo eval")
    config = run.config.model_copy(update={"metrics": metrics})
    evaluator = Evaluator(RunPlan.create(config, zoo, training=False), zoo, run.data)
    if not evaluator:
        raise GanzooError(f"no registered metric suite applies to data set '{config.dataset}' "
                          f"(installed: {', '.join(zoo.metrics.names()) or 'none'})")
    seed = EVAL_SEED if args.seed is None else args.seed
    records = evaluator.evaluate(run.generator, run.prior, step=run.checkpoint.step,
                                 provenance=run.checkpoint.provenance, seed=seed, generator_weights=run.weights)
    run_dir = rundir.run_dir_of(run.path)
    for record in records:
        print(format_metrics(record))
        print("protocol: " + json.dumps(record["protocol"], sort_keys=True))
        if run_dir is not None:
            try:
                rundir.append_jsonl(run_dir / rundir.METRICS, {**record, "source": "ganzoo eval"})
            except OSError as exc:
                print(f"ganzoo: warning: not recorded in {run_dir / rundir.METRICS}: {exc.strerror}", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ganzoo.bench.run import BenchRequest, list_suites, run_bench
    from ganzoo.leaderboard.write import write_leaderboard

    if args.list:
        print(list_suites(get_zoo()))
        return 0
    if args.suite is None:
        raise GanzooError("name a suite (see 'ganzoo bench --list') or a suite TOML file")
    resources = {key: getattr(args, key) for key in ("timeout_min", "cpus_per_task", "gpus_per_node", "mem_gb",
                                                      "partition") if getattr(args, key) is not None}
    if resources and args.launcher != "slurm":
        raise GanzooError("--timeout-min, --cpus-per-task, --gpus-per-node, --mem-gb and --partition are job "
                          "resources of --launcher slurm")
    if args.cluster != "slurm" and args.launcher != "slurm":
        raise GanzooError("--cluster chooses submitit's executor for --launcher slurm; add --launcher slurm")
    if args.threads is not None and args.launcher != "local":
        raise GanzooError("--threads is for --launcher local; a cluster job takes --cpus-per-task threads")
    if args.workers > 1 and args.launcher != "local":
        raise GanzooError("--workers is for --launcher local; a cluster runs each job on its own")
    results = run_bench(get_zoo(), BenchRequest(
        suite=args.suite, budget=args.budget, seeds=args.seeds, steps=args.steps, gans=args.gans, entries=args.entries,
        objectives=args.objectives, out=args.out, device=args.device, launcher=args.launcher, workers=args.workers,
        cluster=args.cluster, resources=resources, overrides=tuple(args.overrides), threads=args.threads))
    print(f"leaderboard written to {write_leaderboard([results], results / 'leaderboard')}")
    return 0


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from ganzoo.leaderboard.write import write_leaderboard

    page = write_leaderboard(args.results, args.out)
    print(f"leaderboard written to {page} (and leaderboard.json, .csv, .md beside it)")
    return 0


def cmd_cite(args: argparse.Namespace) -> int:
    from ganzoo.bench.table import find_entry
    from ganzoo.leaderboard.cite import cite

    print(cite(find_entry(args.entry), get_zoo()))
    return 0


def cmd_reproduce(args: argparse.Namespace) -> int:
    from ganzoo.bench.reproduce import reproduce
    from ganzoo.bench.table import find_entry

    inside, report = reproduce(find_entry(args.entry), get_zoo(), out=args.out, device=args.device,
                               threads=args.threads)
    print(report)
    return 0 if inside else 1


# -- helpers -----------------------------------------------------------------


def format_metrics(record: dict) -> str:
    """One line for a metrics record: the core's suites in their usual words, any other suite's values as they are."""
    m, protocol, suite = record["metrics"], record["protocol"], record["protocol"].get("suite")

    def number(key: str, fmt: str, absent: str = "n/a") -> str:
        return absent if m.get(key) is None else format(m[key], fmt)

    if suite == "torch-fidelity":
        return (f"step {record['step']}: FID {number('fid', '.3f')}, KID {number('kid', '.5f')} ± "
                f"{number('kid_std', '.5f')}, precision {number('precision', '.3f')}, "
                f"recall {number('recall', '.3f')}, "
                f"IS {number('inception_score', '.3f', 'n/a (weights without logits)')} "
                f"({protocol['num_generated']} generated vs {protocol['num_reference']} reference images, "
                f"{protocol['reference_split']} split)")
    if suite == "toy-modes":
        return (f"step {record['step']}: modes {m['modes']}/{m['num_modes']}, high-quality "
                f"{number('high_quality_pct', '.1f')}%, reverse KL "
                f"{number('reverse_kl', '.3f', 'n/a (no high-quality samples)')} ({protocol['num_generated']} samples)")
    values = ", ".join(f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}"
                       for key, value in sorted(m.items()))
    return f"step {record['step']}: {suite or 'metrics'}: {values}"


def check_picture_path(output: Path | None) -> None:
    if output is not None and (output.suffix.lower() not in PICTURE_SUFFIXES or output.is_dir()):
        raise GanzooError(f"-o must name a {' or '.join(PICTURE_SUFFIXES)} file, got {output}")


def _chosen_classes(run: RestoredRun, text: str | None) -> list[int] | None:
    """The classes named by ``--classes`` (all by default) for a conditional run; None for an unconditional one."""
    if run.prior.num_classes is None:
        if text is not None:
            raise GanzooError(f"--classes needs a class-conditional run; {run.path} is unconditional")
        return None
    if text is None:
        return list(range(run.prior.num_classes))
    try:
        classes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise GanzooError(f"--classes takes class numbers separated by commas, e.g. 0,3,7; got '{text}'") from None
    if not classes or any(not 0 <= c < run.prior.num_classes for c in classes):
        raise GanzooError(f"--classes must name classes 0 to {run.prior.num_classes - 1}; got '{text}'")
    return classes
