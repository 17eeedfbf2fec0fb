"""The history of generated images each CycleGAN discriminator learns from (paper section 4, after Shrivastava et
al. 2017; released code ``util/image_pool.py``, ``ImagePool``, ``--pool_size 50``).

A discriminator is shown, for each newly translated image, either that image or one the generator made earlier,
so that it does not chase the generator's latest output alone. The rule, image by image, in batch order:

- while the pool holds fewer than ``size`` images, the new image is stored and returned;
- once full, with probability 1/2 a uniformly chosen stored image is returned and the new one takes its slot;
  otherwise the new image is returned and the pool is left as it was.

``size = 0`` returns every batch unchanged. The pool draws its coin flips and slots from a ``torch.Generator`` it
is handed (the released code uses Python's global ``random``), so that a run seeds it and a checkpoint keeps it.
Images are stored detached, as the code stores ``image.data``.
"""

from __future__ import annotations

import torch


class ImagePool:
    """Up to ``size`` earlier generated images, stored as one tensor; see the module docstring."""

    def __init__(self, size: int):
        if size < 0:
            raise ValueError(f"an image pool holds 0 or more images, not {size}")
        self.size = size
        self.images = torch.empty(0)  # (size, C, H, W) once the first batch arrives
        self.count = 0

    def query(self, images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """The batch to show the discriminator in place of ``images`` (a batch of new generated images)."""
        images = images.detach()
        if self.size == 0:
            return images
        if self.images.shape[1:] != images.shape[1:]:
            if self.count:
                raise ValueError(f"this pool holds images of shape {tuple(self.images.shape[1:])}, not "
                                 f"{tuple(images.shape[1:])}")
            self.images = images.new_zeros(self.size, *images.shape[1:])
        self.images = self.images.to(device=images.device, dtype=images.dtype)  # a restored pool arrives on the CPU
        shown = []
        for image in images:
            if self.count < self.size:
                self.images[self.count] = image
                self.count += 1
                shown.append(image)
            elif torch.rand((), generator=rng).item() > 0.5:  # the released code's `p > 0.5`
                slot = int(torch.randint(self.size, (), generator=rng).item())
                shown.append(self.images[slot].clone())
                self.images[slot] = image
            else:
                shown.append(image)
        return torch.stack(shown)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"images": self.images[:self.count].clone(), "count": torch.tensor(self.count)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        images, count = state["images"], int(state["count"])
        if not 0 <= count <= self.size or len(images) != count:
            raise ValueError(f"a pool of {self.size} images cannot take {len(images)} images counted as {count}; "
                             "was the checkpoint made with another algorithm_options.pool_size?")
        self.count = count
        if count == 0:
            self.images = torch.empty(0)
            return
        self.images = images.new_zeros(self.size, *images.shape[1:])
        self.images[:count] = images
