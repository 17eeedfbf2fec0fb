"""Started by tests/test_distributed.py under torchrun: train the run config given as JSON (continuing it with
``--resume``), then save this rank's weights beside it as rank<N>.safetensors for the test to compare (with the batch
share and process count its algorithm saw)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from safetensors.torch import save_file

from ganzoo.registry.discovery import get_zoo
from ganzoo.run.config import resolve_config
from ganzoo.training.trainer import Trainer


def main() -> None:
    raw = json.loads(sys.argv[1])
    zoo = get_zoo()
    trainer = Trainer(resolve_config(raw, zoo), zoo, progress=False)
    trainer.fit(resume="--resume" in sys.argv)
    weights = {f"{name}/{key}": value.detach().contiguous()
               for name, network in trainer.networks.items() for key, value in network.state_dict().items()}
    save_file(weights, str(Path(raw["out_dir"]) / f"rank{trainer.world.rank}.safetensors"),
              metadata={"batch_size": str(trainer.services.batch_size), "world_size": str(trainer.services.world_size)})


if __name__ == "__main__":
    main()
