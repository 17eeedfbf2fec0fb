"""The ``ganzoo`` command line."""

from __future__ import annotations

import argparse
import functools
import math
import sys
import warnings
from pathlib import Path

from ganzoo.api.version import CORE_VERSION
from ganzoo.errors import CurvesWarning, DamagedRecordWarning, GanzooError, one_line
from ganzoo.interrupts import EXIT_INTERRUPTED
from ganzoo.registry.blame import origin, plugin_failure
from ganzoo.registry.discovery import PluginLoadWarning, env_flag
from ganzoo.run.config import MAX_BATCH_SIZE, MAX_STEPS

EXIT_INTERNAL = 1
EXIT_USAGE = 2
DEBUG_ENV = "GANZOO_DEBUG"
MAX_SEED = 2**62
MAX_PICTURE = 10**5  # samples in one picture (per class for a conditional run)
MAX_PATH = 256  # paths in an interpolation picture, and points along each


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors on one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"ganzoo: error: {_folded(message)} (see '{self.prog} --help')\n")


EPILOG = """environment:
  GANZOO_STRICT_PLUGINS=1           a plugin that fails to load is an error, not a warning
  GANZOO_DISABLE_PLUGIN_AUTOLOAD=1  skip the 'ganzoo' entry points; load only GANZOO_PLUGINS
  GANZOO_PLUGINS=mod1,mod2          modules to load as plugins when autoload is disabled
  GANZOO_DEBUG=1                    show tracebacks of unexpected errors

docs: README.md, docs/architecture.md (run configs, run directories), docs/plugin-authors.md"""

BENCH_HELP = """Run a benchmark suite: train every run of its matrix at one budget (finished runs in the results
folder are reused, interrupted ones resumed), print its table over the training seeds beside the published
rows it quotes, and write its records (results.jsonl) and leaderboard (leaderboard/index.html).

examples:
  ganzoo bench --list
  ganzoo bench toy                                  # quick budget: minutes on a CPU
  ganzoo bench toy-pacgan --budget paper --launcher slurm --gpus-per-node 1
  ganzoo bench toy --workers 2 --gans 'wgan*'"""

PLOT_HELP = """Draw runs' training curves over generator steps, one figure of panels: the losses, the discriminator's
divergence estimate (titled with what it estimates), the penalties, each metric of metrics.jsonl (FID, KID, modes,
high-quality %, ...) and each statistic plugins report; one colour per run, named by its GAN, objective, data set
and seed. 'ganzoo train' draws <run>/curves.png itself (docs/curves.md).

examples:
  ganzoo plot runs/gan-fgan-kl-ring8-seed0
  ganzoo plot runs/gan-*-ring8-seed0 -o compare.png
  ganzoo plot runs/bench/toy/quick/gan-nonsaturating-ring8-seed* --mean -o seeds.png"""

TRAIN_HELP = """Train one run. CONFIG is a TOML file whose keys are those of README.md's run config
(gan, dataset, objective, steps, seed, optimizer_g, ...), or a run directory, whose config.json is used.
The run goes to out_dir (default runs/<gan>-<objective>-<dataset>-seed<seed>); a directory that already
holds a run is refused unless --resume is given."""


def seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < MAX_SEED:
        raise argparse.ArgumentTypeError(f"a seed must be in [0, 2**62), got {text}")
    return value


def bounded(least: int, most: int):
    """An argparse type: a whole number in [least, most] (a picture, a path or an evaluation has to fit in
    memory)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if not least <= value <= most:
            raise argparse.ArgumentTypeError(f"must be a whole number from {least} to {most}, got '{text}'")
        return value

    return parse


positive = bounded(1, MAX_STEPS)


def threshold(text: str) -> float:
    """An argparse type: a truncation threshold, a finite number above 0 (0 would leave no latent to draw)."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not (0 < value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a number above 0, e.g. 0.5, got '{text}'")
    return value


def finite(text: str) -> float:
    """An argparse type: any finite number."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a number, e.g. 0.7, got '{text}'")
    return value


def non_negative(text: str) -> float:
    """An argparse type: a finite number of at least 0."""
    value = finite(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got '{text}'")
    return value


def _add_psi_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--psi", type=finite, default=None,
                   help="style-based generators (StyleGAN2): truncation in W, w_avg + psi * (w - w_avg); 1 changes "
                        "nothing, 0 gives the average image, 0.5 to 0.7 trades variety for typical samples")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="ganzoo", description="A plugin-based GAN zoo: one runner, one metric protocol, every GAN.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"ganzoo {CORE_VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)

    sub.add_parser("plugins", help="list installed plugin distributions and what they contribute")

    p = sub.add_parser("plugin", help="write a new plugin, or check an installed one (the authors' kit)",
                       description="Tools for plugin authors (docs/plugin-authors.md).")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=_Parser)
    q = actions.add_parser("new", help="write a complete plugin distribution that trains on ring8 once installed",
                           description="Write ganzoo-NAME/ (pyproject with the entry point, the module with a GAN "
                                       "NAME and its objective NAME-ns, tests using ganzoo.testing, a README). "
                                       "Install it with pip install -e ganzoo-NAME.")
    q.add_argument("name", metavar="NAME", help="lowercase letters, digits and hyphens, e.g. mygan")
    q.add_argument("--dir", type=Path, default=Path("."), help="folder to write ganzoo-NAME/ into (default .)")
    q = actions.add_parser("check", help="run the conformance checks on an installed plugin",
                           description="Run ganzoo.testing's conformance checks on every contribution of an "
                                       "installed distribution and print a table; exit status 1 if any fails.")
    q.add_argument("name", metavar="DISTRIBUTION", help="e.g. ganzoo-gan (or the plugin's entry-point name)")

    p = sub.add_parser("list", help="list registered GANs, objectives, data sets, algorithms, augmentations, metrics",
                       description="List registered names. KIND is gans, objectives, datasets, algorithms, "
                                   "augmentations or metrics; PATTERN takes fnmatch wildcards, e.g. 'w*'.")
    p.add_argument("kind_or_pattern", nargs="?", metavar="KIND", help="one kind (default: all)")
    p.add_argument("pattern", nargs="?", metavar="PATTERN", help="fnmatch pattern (default '*')")
    p.add_argument("-v", "--verbose", action="store_true", help="show what to cite for each")

    p = sub.add_parser("bench", help="run a benchmark suite and write its leaderboard", description=BENCH_HELP,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("suite", nargs="?", metavar="SUITE", help="a suite's name (see --list) or a suite TOML file")
    p.add_argument("--list", action="store_true", help="list the installed suites, their budgets and costs")
    p.add_argument("--budget", default="quick", help="the suite's budget: quick (default; minutes on a CPU, not "
                                                     "comparable), paper (the published protocol), or another it names")
    p.add_argument("--steps", type=positive, default=None, help="generator steps per run (default: the budget's)")
    p.add_argument("--seeds", type=bounded(1, 1000), default=None, help="training seeds (default: the budget's)")
    p.add_argument("--gans", default="*", help="comma-separated fnmatch patterns: only the suite's GANs that match "
                                               "one, e.g. 'gan,wgan*' (default '*')")
    p.add_argument("--entries", default="*", help="comma-separated fnmatch patterns: only the suite's entries whose "
                                                  "label matches one, e.g. 'GAN,PacGAN[23]' (default '*')")
    p.add_argument("--objectives", default=None, metavar="PATTERNS",
                   help="pair each GAN with every objective matching one of the comma-separated fnmatch PATTERNS, "
                        "e.g. 'hinge,lsgan' (default: the suite's)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="a run-config value for every run, as 'ganzoo train --set' takes it, e.g. --set "
                        "dataset_options.root=/data/cifar10 (the figures stay comparable only for where the data "
                        "is and how often runs write)")
    p.add_argument("--out", type=Path, default=None, help="results folder (default runs/bench/<suite>/<budget>)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default auto)")
    p.add_argument("--launcher", choices=["local", "slurm"], default="local",
                   help="local: this machine, --workers runs at once (default); slurm: a job per run via submitit")
    p.add_argument("--workers", type=bounded(1, 256), default=1, help="local: runs trained at once (default 1)")
    p.add_argument("--threads", type=bounded(1, 1024), default=None,
                   help="local: torch threads per run (default: every core, or an equal share per --workers); "
                        "a seed's figures are the same alone or in workers at the same thread count")
    p.add_argument("--cluster", choices=["slurm", "local", "debug"], default="slurm",
                   help="slurm launcher: submitit's executor (default slurm; local tries a submission on this "
                        "machine)")
    for flag, kind, what in (("--timeout-min", positive, "minutes per job"), ("--cpus-per-task", positive, "CPUs"),
                             ("--gpus-per-node", bounded(0, 64), "GPUs"), ("--mem-gb", positive, "memory in GB"),
                             ("--partition", str, "Slurm partition")):
        p.add_argument(flag, type=kind, default=None, help=f"slurm launcher: {what} (default: the suite's)")

    p = sub.add_parser("leaderboard", help="write the leaderboard of suites' results folders",
                       description="Write leaderboard.json (the machine-readable record), leaderboard.csv, "
                                   "leaderboard.md and index.html (a static page: sortable tables, thumbnails, "
                                   "per-seed figures, published rows quoted beside ours) for results folders "
                                   "written by 'ganzoo bench'.")
    p.add_argument("results", nargs="+", type=Path, metavar="RESULTS", help="results folders of 'ganzoo bench'")
    p.add_argument("--out", type=Path, default=Path("leaderboard"), help="where to write (default ./leaderboard)")

    p = sub.add_parser("cite", help="print BibTeX for a benchmark result and the papers it rests on",
                       description="Print BibTeX for the result an ENTRY belongs to (its figures over the seeds, "
                                   "protocol and hashes), for ganzoo, for the paper whose protocol the suite "
                                   "follows, and for the GAN's and objective's papers.")
    p.add_argument("entry", type=Path, metavar="ENTRY", help="a run folder of a suite's results folder, e.g. "
                                                            "runs/bench/toy/quick/gan-nonsaturating-ring8-seed0")

    p = sub.add_parser("reproduce", help="rerun a benchmark result from its record and compare",
                       description="Train ENTRY's run again from its recorded config (same seed, and the recorded "
                                   "torch thread count) and compare each figure with the record. First it names "
                                   "every recorded condition this rerun does not share (versions, device, threads, "
                                   "data, how the run was scheduled). In the recorded conditions each figure must "
                                   "equal the record's; in others it must lie inside its row's 95 percent interval. "
                                   "Exit status 1 if one does not.")
    p.add_argument("entry", type=Path, metavar="ENTRY", help="a run folder of a suite's results folder")
    p.add_argument("--out", type=Path, default=None,
                   help="where the new run goes (default runs/reproduced/<suite>/<budget>/<run>, outside the "
                        "results folder)")
    p.add_argument("--device", default=None, help="train on another device than the record's (auto, cpu, cuda...)")
    p.add_argument("--threads", type=bounded(1, 1024), default=None,
                   help="torch threads (default: the record's; another count may change the figures' last digits)")

    p = sub.add_parser("train", help="train one run from a TOML config", description=TRAIN_HELP)
    p.add_argument("config", type=Path, metavar="CONFIG", help="a TOML run config, or a run directory")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value; VALUE is read as TOML (else as a string), "
                        "e.g. --set steps=500 --set optimizer_g.lr=1e-4 --set optimizer_g.betas=[0.0,0.9]")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in out_dir from its last checkpoint (start it if out_dir is empty); "
                        "only steps (unless lr_decay is set), device, out_dir, the intervals, [metrics] and "
                        "[logging] may differ")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("plot", help="draw runs' training curves: losses, divergence estimate, penalties, metrics",
                       description=PLOT_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run directories")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="a .png, .pdf or .svg path (default <RUN>/curves.png for one run; needed for several)")
    p.add_argument("--mean", action="store_true",
                   help="draw runs that differ only in their seed as their mean over the seeds, with a band from "
                        "the lowest to the highest seed, at the steps they all logged")

    p = sub.add_parser("sample", help="write samples of a trained generator as a picture",
                       description="Write samples as a picture: a scatter over the data for 2D points, an image "
                                   "grid for images, and for a class-conditional run one labelled row per class. "
                                   "Uses the generator's moving average when the run kept one.")
    p.add_argument("run", type=Path, metavar="RUN", help="a run directory or a checkpoint file")
    p.add_argument("-n", "--num", type=bounded(1, MAX_PICTURE), default=None,
                   help="samples (per class for a conditional run; default 1000 points, 64 images, 8 per class)")
    p.add_argument("--classes", default=None, metavar="LIST",
                   help="conditional runs: the classes to show, one row each in this order, e.g. 0,3,7 "
                        "(default all)")
    p.add_argument("--truncation", type=threshold, default=None, metavar="T",
                   help="the truncation trick (BigGAN): latents from the normal prior truncated to [-T, T], "
                        "entries outside drawn again; smaller T, less variety and more typical samples")
    _add_psi_option(p)
    _add_output_options(p, "sample")

    p = sub.add_parser("invert", help="find the latent codes of given images, and picture their reconstructions",
                       description="Find latent codes whose generated images are closest to the given images: with "
                                   "the run's encoder where its algorithm trained one, else by optimising the codes "
                                   "(pixel loss, plus Inception features with --feature-weight). Writes the images "
                                   "beside their reconstructions, each one's error, and the codes (a .safetensors "
                                   "file 'ganzoo interpolate --codes' reads).")
    p.add_argument("run", type=Path, metavar="RUN", help="a run directory or a checkpoint file")
    p.add_argument("images", type=Path, nargs="+", metavar="IMAGES", help="image files, or folders of them")
    p.add_argument("--method", choices=["auto", "encoder", "optimise"], default="auto",
                   help="the run's encoder if it has one, else optimisation (auto, the default), or either one")
    p.add_argument("--steps", type=bounded(1, MAX_STEPS), default=300, help="Adam steps of the optimisation "
                                                                           "(default 300)")
    p.add_argument("--lr", type=threshold, default=0.05, help="Adam's learning rate on the codes (default 0.05)")
    p.add_argument("--feature-weight", type=non_negative, default=0.0, help=(
        "weight of the Inception-feature loss beside the pixel loss (default 0; each step then runs Inception "
        "forward and back on every image, about 0.25 s per image on 2 CPU cores)"))
    p.add_argument("--inception-weights", type=Path, default=None, help="Inception weights for the feature loss "
                                                                        "(default: as the metrics find them)")
    p.add_argument("--label", type=int, default=None, help="conditional runs: the images' class")
    _add_output_options(p, "invert")

    p = sub.add_parser("translate", help="translate images from one domain to another with a trained run",
                       description="Run images through a trained translation network (CycleGAN's, say) and write "
                                   "each translated image, plus grid.png with inputs and translations side by side, "
                                   "into one folder.")
    p.add_argument("run", type=Path, metavar="RUN", help="a run directory or a checkpoint file")
    p.add_argument("images", type=Path, nargs="+", metavar="IMAGES", help="image files, or folders of them")
    p.add_argument("--direction", default=None, metavar="NAME",
                   help="which way to translate, as the algorithm names it (cyclegan: a2b or b2a; default the "
                        "first it names)")
    p.add_argument("--batch", type=bounded(1, MAX_BATCH_SIZE), default=16, help="images per forward pass (default 16)")
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="a folder for the translated images (default <run>/samples/translate-<direction>-<step>)")

    p = sub.add_parser("interpolate", help="picture the samples along paths between two latent vectors",
                       description="Draw pairs of latent vectors and write the samples along the path between "
                                   "each pair, one row per pair: spherical (slerp, the default) or linear. Uses "
                                   "the generator's moving average when the run kept one.")
    p.add_argument("run", type=Path, metavar="RUN", help="a run directory or a checkpoint file")
    p.add_argument("--method", choices=["slerp", "linear"], default=None,
                   help="path shape (default slerp between latents, linear in W)")
    p.add_argument("--space", choices=["z", "w"], default="z",
                   help="interpolate between latent vectors (z, the default) or, for a style-based generator such "
                        "as StyleGAN2's, between their W codes (w)")
    _add_psi_option(p)
    p.add_argument("--steps", type=bounded(2, MAX_PATH), default=10, help="points along each path, both ends included "
                                                                  "(at least 2; default 10)")
    p.add_argument("--rows", type=bounded(1, MAX_PATH), default=8, help="paths, one per row (default 8)")
    p.add_argument("--codes", type=Path, default=None, help=(
        "paths between real images: the codes file 'ganzoo invert' wrote, one path per consecutive pair"))
    p.add_argument("--classes", default=None, metavar="LIST",
                   help="conditional runs: the classes the rows take in turn, one class along each row, e.g. 0,3 "
                        "(default 0, 1, 2, ...; classes past --rows are not drawn)")
    _add_output_options(p, "interpolate-<method>")

    p = sub.add_parser("eval", help="compute the metrics that fit the run's data set",
                       description="Compute the metrics that fit the run's data set and print them with their "
                                   "protocol: the toy suite for 2D mixtures; FID, KID, precision/recall (and IS "
                                   "where the Inception weights allow) through torch-fidelity for images "
                                   "(docs/metrics.md). In a run directory, the record is also appended to "
                                   "metrics.jsonl.")
    p.add_argument("run", type=Path, metavar="RUN", help="a run directory or a checkpoint file")
    p.add_argument("--seed", type=seed, default=None, help="sampling seed (default: the protocol's)")
    p.add_argument("--raw", action="store_true", help="use the generator's last weights, not their moving average")
    p.add_argument("--num-generated", type=int, default=None, metavar="N",
                   help="images: generated samples (default the run's metrics.num_generated, 10000)")
    p.add_argument("--num-reference", type=int, default=None, metavar="N",
                   help="images: reference images, the first of the split (default the run's, all)")
    p.add_argument("--reference-split", default=None, metavar="SPLIT",
                   help="images: the data set's split to compare with (default the run's; e.g. test)")
    p.add_argument("--inception-weights", type=Path, default=None, metavar="FILE",
                   help="images: Inception weights (a torch-fidelity .pth or .safetensors, or 'torch-fidelity'); "
                        "default: the run's metrics.inception_weights, $GANZOO_INCEPTION_WEIGHTS, the offline copy")
    return parser


def _add_output_options(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("-o", "--output", type=Path, default=None,
                   help=f"a .png or .jpg path (default <run>/samples/{what}-<step>.png)")
    p.add_argument("--seed", type=seed, default=0, help="sampling seed (default 0)")
    p.add_argument("--raw", action="store_true", help="use the generator's last weights, not their moving average")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    held: list[str] = []  # libraries' warnings: shown once the command has succeeded, so a failure is one line
    with warnings.catch_warnings():
        warnings.showwarning = functools.partial(_show_warning, held)
        code = _run(args)
    if code == 0:
        for text in dict.fromkeys(held):
            print(f"ganzoo: warning: {text}", file=sys.stderr)
    return code


def _run(args: argparse.Namespace) -> int:
    from ganzoo.cli import commands

    try:
        if args.command == "invert":
            from ganzoo.cli.invert import cmd_invert

            return cmd_invert(args)
        if args.command == "translate":
            from ganzoo.cli.translate import cmd_translate

            return cmd_translate(args)
        return int(getattr(commands, f"cmd_{args.command}")(args))
    except GanzooError as exc:
        print(f"ganzoo: error: {_folded(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # unwritable or odd output locations
        where = f": {exc.filename}" if exc.filename else ""
        print(f"ganzoo: error: {_folded(f'{exc.strerror or exc}{where}')}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("ganzoo: interrupted (a training run keeps its last completed step; continue it with --resume)",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except BaseException as exc:  # SystemExit or another BaseException from plugin code too: not a silent end
        if env_flag(DEBUG_ENV):
            raise
        if origin(exc) is not None:  # plugin code failed outside the runner's own wrapping (sampling, say)
            print(f"ganzoo: error: {plugin_failure(exc, f'ganzoo {args.command}')}", file=sys.stderr)
            return EXIT_USAGE
        print(f"ganzoo: internal error: {one_line(exc)} (set {DEBUG_ENV}=1 for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def _folded(text: str) -> str:
    """One line: a message quoting a plugin's text or a path may hold line breaks."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _show_warning(held: list[str], message, category, filename, lineno, file=None, line=None) -> None:
    """ganzoo's own warnings (a plugin that failed to load, a damaged log line, curves not drawn) at once; a
    library's (torch, PIL) held for the end. Each on one line."""
    text = _folded(str(message))
    if issubclass(category, (PluginLoadWarning, DamagedRecordWarning, CurvesWarning)):
        print(f"ganzoo: warning: {text}", file=sys.stderr)
    else:
        held.append(f"{category.__name__}: {text}")


if __name__ == "__main__":
    sys.exit(main())
