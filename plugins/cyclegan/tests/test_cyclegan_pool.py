"""The image pool: the released code's rule (util/image_pool.py), its statistics, and its state."""

from __future__ import annotations

import pytest
import torch

from ganzoo_cyclegan.pool import ImagePool


def numbered(start: int, count: int) -> torch.Tensor:
    """``count`` 1x2x2 images, image i filled with the number ``start + i``, so each one can be told apart."""
    return torch.arange(start, start + count, dtype=torch.float32).view(count, 1, 1, 1).expand(count, 1, 2, 2)


def ids(images: torch.Tensor) -> list[int]:
    return [int(image[0, 0, 0]) for image in images]


def test_returns_and_stores_new_images_until_full():
    pool, rng = ImagePool(5), torch.Generator().manual_seed(0)
    state = rng.get_state()
    assert ids(pool.query(numbered(0, 3), rng)) == [0, 1, 2]
    assert ids(pool.query(numbered(3, 2), rng)) == [3, 4]
    assert pool.count == 5 and ids(pool.images) == [0, 1, 2, 3, 4]
    assert torch.equal(rng.get_state(), state)  # nothing is drawn while the pool fills


def test_a_full_pool_returns_the_new_image_or_swaps_it_for_a_stored_one():
    pool, rng = ImagePool(4), torch.Generator().manual_seed(1)
    pool.query(numbered(0, 4), rng)
    swaps, slots = 0, torch.zeros(4)
    trials = 4000
    for new in range(100, 100 + trials):
        before = ids(pool.images)
        (shown,) = ids(pool.query(numbered(new, 1), rng))
        after = ids(pool.images)
        if shown == new:  # kept out: the pool is unchanged
            assert after == before
        else:  # swapped: the shown image left its slot, and the new one took that slot alone
            slot = before.index(shown)
            assert after == before[:slot] + [new] + before[slot + 1:]
            swaps += 1
            slots[slot] += 1
    assert swaps / trials == pytest.approx(0.5, abs=0.03)  # released: `p > 0.5` for p uniform on [0, 1]
    assert (slots / swaps).sub(0.25).abs().max() < 0.03  # randint over every slot


def test_each_image_of_a_batch_is_decided_on_its_own_in_order():
    # a batch behaves as its images one at a time, the released loop over `for image in images`
    rng_batch, rng_single = torch.Generator().manual_seed(2), torch.Generator().manual_seed(2)
    batched, single = ImagePool(3), ImagePool(3)
    batched.query(numbered(0, 3), rng_batch)
    single.query(numbered(0, 3), rng_single)
    shown = batched.query(numbered(10, 8), rng_batch)
    one_by_one = torch.cat([single.query(numbered(10 + i, 1), rng_single) for i in range(8)])
    assert torch.equal(shown, one_by_one) and torch.equal(batched.images, single.images)


def test_the_same_seed_repeats_and_another_differs():
    def shown(seed: int) -> list[int]:
        pool, rng = ImagePool(3), torch.Generator().manual_seed(seed)
        return [i for start in range(0, 60, 3) for i in ids(pool.query(numbered(start, 3), rng))]

    assert shown(7) == shown(7) and shown(7) != shown(8)


def test_size_zero_passes_batches_through_detached():
    images = numbered(0, 3).clone().requires_grad_(True)
    out = ImagePool(0).query(images, torch.Generator())
    assert torch.equal(out, images) and not out.requires_grad


def test_state_round_trips_and_the_restored_pool_goes_on_identically():
    pool, rng = ImagePool(4), torch.Generator().manual_seed(3)
    pool.query(numbered(0, 6), rng)
    restored = ImagePool(4)
    restored.load_state_dict({key: value.clone() for key, value in pool.state_dict().items()})
    rng_copy = torch.Generator()
    rng_copy.set_state(rng.get_state())
    for start in range(10, 40, 3):
        assert torch.equal(pool.query(numbered(start, 3), rng), restored.query(numbered(start, 3), rng_copy))
    assert torch.equal(pool.images, restored.images) and pool.count == restored.count


def test_a_partly_filled_pool_round_trips_and_wrong_sizes_are_refused():
    pool = ImagePool(10)
    pool.query(numbered(0, 3), torch.Generator())
    state = pool.state_dict()
    assert state["images"].shape == (3, 1, 2, 2) and int(state["count"]) == 3
    restored = ImagePool(10)
    restored.load_state_dict(state)
    assert restored.count == 3 and ids(restored.images[:3]) == [0, 1, 2]
    with pytest.raises(ValueError, match="pool_size"):
        ImagePool(2).load_state_dict(state)
