"""Every installed objective with the same networks on the toy suite.

    python benchmarks/objectives_toy.py [--gan gan] [--steps 2000] [--seeds 1] [--out runs/bench-objectives]

The same as ``ganzoo bench toy --gans GAN --objectives '*'``: one GAN (by
default the MLP pair of Goodfellow et al. 2014), each objective with its own
defaults (step ratio, optimizers), on ring8 and grid25. The table's last
column is the discriminator's final estimate of the divergence its objective
minimizes (f-GAN: the lower bound on D_f(P || Q); WGAN: E_P[D] - E_Q[D]).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ganzoo.bench.toy import run_toy_bench
from ganzoo.errors import GanzooError
from ganzoo.registry.discovery import get_zoo


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan", default="gan")
    parser.add_argument("--objectives", default="*")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--out", type=Path, default=Path("runs/bench-objectives"))
    args = parser.parse_args()
    try:
        return run_toy_bench(get_zoo(), steps=args.steps, seeds=args.seeds, gans=args.gan, out=args.out,
                             device=args.device, objectives=args.objectives)
    except GanzooError as exc:
        print(f"objectives_toy: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
