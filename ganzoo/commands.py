"""What each ``ganzoo`` sub-command does; :mod:`ganzoo.cli` parses the arguments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from torch import nn

from ganzoo import rundir
from ganzoo.build import Prior, build_networks, load_data, resolve_device
from ganzoo.checkpoint import Checkpoint, load_checkpoint, load_module_state
from ganzoo.config import RunConfig, deep_merge, parse_overrides, read_toml, resolve_config, validate
from ganzoo.errors import GanzooError, RunDirError
from ganzoo.evaluation import EVAL_SEED, evaluate
from ganzoo.generation import generate, save_picture
from ganzoo.plugins import Zoo, get_zoo
from ganzoo.specs import LoadedData

KINDS = ("gans", "objectives", "datasets")
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


def cmd_list(args: argparse.Namespace) -> int:
    kinds, pattern = KINDS, args.pattern or "*"
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
        print(f"{kind}:" + ("" if names else f" none match '{pattern}'"))
        for name in names:
            spec = registry.get(name)
            extra = f" (default objective: {spec.default_objective})" if kind == "gans" else ""
            print(f"  {name:<16} {spec.description}{extra}  [{registry.source(name)}]")
            if args.verbose:
                print(f"  {'':<16} cite: {spec.citation}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from ganzoo.runner import Trainer

    zoo = get_zoo()
    if args.config.is_dir():  # a run directory: its own config, wherever it now lives
        if not (args.config / rundir.CONFIG).is_file():
            raise RunDirError(f"{args.config} is not a run directory (no {rundir.CONFIG})")
        raw = rundir.read_json_object(args.config / rundir.CONFIG)
        raw["out_dir"] = str(args.config)
    else:
        raw = read_toml(args.config)
    where = f"{args.config} with --set" if args.overrides else str(args.config)
    config = resolve_config(deep_merge(raw, parse_overrides(args.overrides)), zoo, where)
    trainer = Trainer(config, zoo, progress=not args.quiet)
    trainer.prepare(resume=args.resume)
    start = f"from step {trainer.step} " if trainer.step else ""
    print(f"training {config.gan} with {config.objective} on {config.dataset} {start}to step {config.steps} "
          f"on {trainer.device} -> {trainer.run_dir}")
    result = trainer.fit()
    print(f"done at step {trainer.step}; checkpoint {trainer.run_dir / rundir.LAST_CHECKPOINT}")
    if result is not None:
        print(format_metrics(result))
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    if args.output is not None and (args.output.suffix.lower() not in PICTURE_SUFFIXES or args.output.is_dir()):
        raise GanzooError(f"-o must name a {' or '.join(PICTURE_SUFFIXES)} file, got {args.output}")
    checkpoint, path = _open(args.run)
    config, data, generator, prior = _restore_generator(checkpoint, path, get_zoo())
    samples = generate(generator, prior, args.num, args.seed)
    output = args.output or (rundir.run_dir_of(path) or path.parent) / "samples" / f"sample-{checkpoint.step:07d}.png"
    save_picture(samples, data, output, f"{config.gan} / {config.objective} on {config.dataset}, step {checkpoint.step}")
    print(f"wrote {args.num} samples to {output}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    checkpoint, path = _open(args.run)
    config, data, generator, prior = _restore_generator(checkpoint, path, get_zoo())
    seed = EVAL_SEED if args.seed is None else args.seed
    record = evaluate(generator, prior, data, step=checkpoint.step, dataset=config.dataset,
                      provenance=checkpoint.provenance, seed=seed)
    print(format_metrics(record))
    print("protocol: " + json.dumps(record["protocol"], sort_keys=True))
    run_dir = rundir.run_dir_of(path)
    if run_dir is not None:
        try:
            rundir.append_jsonl(run_dir / rundir.METRICS, {**record, "source": "ganzoo eval"})
        except OSError as exc:
            print(f"ganzoo: warning: not recorded in {run_dir / rundir.METRICS}: {exc.strerror}", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from ganzoo.bench import run_toy_bench

    return run_toy_bench(get_zoo(), steps=args.steps, seeds=args.seeds, gans=args.gans, out=args.out,
                         device=args.device, objectives=args.objectives)


# -- helpers -----------------------------------------------------------------


def format_metrics(record: dict) -> str:
    m = record["metrics"]
    kl = "n/a (no high-quality samples)" if m["reverse_kl"] is None else f"{m['reverse_kl']:.3f}"
    return (f"step {record['step']}: modes {m['modes']}/{m['num_modes']}, "
            f"high-quality {m['high_quality_pct']:.1f}%, reverse KL {kl} "
            f"({record['protocol']['num_generated']} samples)")


def _open(run: Path) -> tuple[Checkpoint, Path]:
    path = rundir.find_checkpoint(run)
    return load_checkpoint(path), path


def _restore_generator(checkpoint: Checkpoint, path: Path, zoo: Zoo) -> tuple[RunConfig, LoadedData, nn.Module, Prior]:
    """The checkpoint's config, data and generator, rebuilt through the installed plugins."""
    config: RunConfig = validate(RunConfig, checkpoint.config, f"{path}: stored config")
    for key, registry in (("gan", zoo.gans), ("dataset", zoo.datasets)):
        name = getattr(config, key)
        if name not in registry:
            origin = checkpoint.provenance.get(key, {})
            raise GanzooError(f"{path} needs {registry.kind} '{name}' from {origin.get('distribution', '?')} "
                              f"{origin.get('version', '?')}, which is not installed")
    data = load_data(config, zoo)
    generator, _ = build_networks(config, zoo, data.info)
    load_module_state(generator, checkpoint, "generator", path)
    device = resolve_device("auto")
    return config, data, generator.to(device), Prior(config.prior, config.z_dim, device)
