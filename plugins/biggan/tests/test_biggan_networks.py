"""BigGAN's networks (Brock, Donahue and Simonyan 2019; ajbrock/BigGAN-PyTorch, BigGAN.py and layers.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import ganzoo
from ganzoo.api.prior import forward
from ganzoo_biggan.layers import DiscriminatorBlock, LatentBatchNorm2d, SelfAttention, is_normalised

SIDE = {"biggan-32": 32, "biggan-128": 128}
Z_DIM = {"biggan-32": 128, "biggan-128": 120}
NARROW = {"g_channels": 8, "d_channels": 8}


def info(name: str, channels: int = 3, conditional: bool = True) -> ganzoo.DataInfo:
    side = SIDE[name]
    return ganzoo.DataInfo((channels, side, side), num_classes=10 if conditional else None, conditional=conditional)


def build(name: str, conditional: bool = True, channels: int = 3, **options):
    torch.manual_seed(0)
    return ganzoo.build_gan(name, info(name, channels, conditional), z_dim=Z_DIM[name], **{**NARROW, **options})


@pytest.mark.parametrize("name", SIDE)
@pytest.mark.parametrize("channels", (1, 3))
@pytest.mark.parametrize("conditional", (False, True))
def test_images_of_any_channel_count_with_or_without_classes(name, channels, conditional):
    G, D = build(name, conditional, channels)
    labels = torch.tensor([0, 3, 9, 3]) if conditional else None
    images = forward(G, torch.randn(4, Z_DIM[name]), labels)
    assert images.shape == (4, channels, SIDE[name], SIDE[name]) and images.abs().max() <= 1
    scores = forward(D, images, labels)
    assert scores.shape == (4,) and torch.isfinite(scores).all()
    with pytest.raises(TypeError):  # labels go to a conditional pair, and only to one
        G(torch.randn(4, Z_DIM[name])) if conditional else G(torch.randn(4, Z_DIM[name]), torch.zeros(4).long())


@pytest.mark.parametrize("name, shape", [("biggan-32", (3, 64, 64)), ("biggan-128", (1, 32, 32))])
def test_refuses_other_sides_and_says_which_to_set(name, shape):
    side = SIDE[name]
    with pytest.raises(ValueError, match=rf"{name} serves {side}x{side} images only.*resolution = {side}"):
        ganzoo.build_gan(name, ganzoo.DataInfo(shape), **NARROW)


def test_release_tables():
    # BigGAN.py's G_arch / D_arch: 32x32 blocks of 4 ch; 128x128 of 16, 8, 4, 2, 1 ch in G and 1 ... 16, 16 in D
    for name, g_widths, d_widths, pooled in (
            ("biggan-32", [4, 4, 4, 4], [4, 4, 4, 4], [True, True, False, False]),
            ("biggan-128", [16, 16, 8, 4, 2, 1], [1, 2, 4, 8, 16, 16], [True] * 5 + [False])):
        G, D = build(name)
        assert G.linear.out_features == 8 * g_widths[0] * 4 * 4
        assert [(b.conv1.in_channels, b.conv2.out_channels) for b in G.blocks] == \
            [(8 * a, 8 * b) for a, b in zip(g_widths, g_widths[1:])]
        assert [b.conv2.out_channels for b in D.blocks] == [8 * w for w in d_widths]
        assert [b.downsample for b in D.blocks] == pooled
        assert [b.preactivation for b in D.blocks] == [False] + [True] * (len(d_widths) - 1)
        assert D.head.features == 8 * d_widths[-1] and D.head.linear.bias is not None
        assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in D.modules())


def test_discriminator_pools_relu_features_by_summing():
    G, D = build("biggan-32")
    D.eval()  # no power iteration between the calls below
    seen = []
    D.blocks[-1].register_forward_hook(lambda module, inputs, output: seen.append(output))
    phi = D.features(torch.randn(2, 3, 32, 32))
    assert seen[0].shape == (2, 32, 8, 8) and torch.allclose(phi, torch.relu(seen[0]).sum(dim=(2, 3)))


def test_spectral_norm_on_every_weight_but_the_shared_embedding_as_in_the_release():
    G, D = build("biggan-128")  # attention at 64 in both: its convs are normalised too
    g_layers = [m for m in G.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert [m for m in g_layers if not is_normalised(m)] == [G.shared]
    assert len(g_layers) == 1 + 1 + 5 * 7 + 4 + 1  # shared, dense, 5 blocks (3 convs, 4 projections), attention, out
    d_layers = [m for m in D.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.Embedding))]
    assert all(is_normalised(m) for m in d_layers) and D.head.embed in d_layers and len(d_layers) == 6 * 3 - 1 + 4 + 2
    G, D = build("biggan-32")
    for network in (G, D):
        layers = [m for m in network.modules() if is_normalised(m)]
        for _ in range(100):  # each use in training mode runs one power iteration
            for layer in layers:
                _ = layer.weight
        network.eval()
        for layer in layers:
            weight = layer.weight.detach()
            assert torch.linalg.matrix_norm(weight.flatten(1), ord=2).item() == pytest.approx(1.0, abs=1e-2)


@pytest.mark.parametrize("scheme", ["N02", "ortho"])
def test_initialisation(scheme):
    G, D = build("biggan-32", g_channels=16, d_channels=16, init=scheme)
    kernel = D.blocks[1].conv1.parametrizations.weight.original.detach().flatten(1)  # raw 64 x 576
    if scheme == "N02":
        assert kernel.std().item() == pytest.approx(0.02, rel=0.05) and abs(kernel.mean().item()) < 1e-3
    else:
        assert torch.allclose(kernel @ kernel.T, torch.eye(64), atol=1e-5)
    biases = [m.bias for net in (G, D) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))
              and m.bias is not None]
    assert biases and all(torch.equal(b, torch.zeros_like(b)) for b in biases)


def test_hierarchical_latents_each_block_reads_its_own_chunk():
    G, D = build("biggan-32")
    assert G.chunks == [32, 32, 32, 32]  # z of 128 in one chunk per block plus one (num_slots in BigGAN.py)
    assert [b.norm1.gain.in_features for b in G.blocks] == [128 + 32] * 3  # [shared(y), z_i]
    G128, _ = build("biggan-128")
    assert G128.chunks == [20] * 6 and G128.blocks[0].norm2.bias.in_features == 128 + 20  # dim_z 120, shared 128
    G.eval()  # running statistics: each sample's output depends on that sample alone

    def activations(z):
        seen = []
        hooks = [m.register_forward_hook(lambda module, inputs, output: seen.append(output))
                 for m in (G.linear, *G.blocks)]
        G(z, torch.tensor([1, 2]))
        for hook in hooks:
            hook.remove()
        return seen

    z = torch.randn(2, 128)
    base = activations(z)
    for chunk in range(4):
        changed = z.clone()
        changed[:, 32 * chunk:32 * (chunk + 1)] = torch.randn(2, 32)
        after = activations(changed)
        # chunk 0 feeds the dense layer, chunk i the i-th block: everything before it is untouched
        assert all(torch.equal(a, b) for a, b in zip(base[:chunk], after[:chunk]))
        assert not torch.allclose(base[chunk], after[chunk])


def test_one_shared_class_embedding_feeds_every_conditional_batch_norm():
    G, _ = build("biggan-32")
    assert [m for m in G.modules() if isinstance(m, nn.Embedding)] == [G.shared]
    assert G.shared.weight.shape == (10, 128)
    norms = [m for m in G.modules() if isinstance(m, LatentBatchNorm2d)]
    assert len(norms) == 6
    G.eval()
    inputs = []
    for norm in norms:
        norm.gain.register_forward_hook(lambda module, args, output: inputs.append(args[0]))
    G(torch.randn(3, 128), torch.tensor([4, 7, 4]))
    embedding = G.shared.weight[[4, 7, 4]]
    assert all(torch.equal(condition[:, :128], embedding) for condition in inputs)


def test_unconditional_pair_is_the_release_s_class_zero():
    G, D = build("biggan-32", conditional=False)
    assert G.shared.num_embeddings == 1 and D.head.embed.num_embeddings == 1
    D.eval()
    x = torch.randn(2, 3, 32, 32)
    phi = D.features(x)
    expected = D.head.linear(phi).view(-1) + phi @ D.head.embed.weight[0]
    assert torch.allclose(D(x), expected, atol=1e-5)


def test_self_attention_starts_as_the_identity_and_attends_everywhere():
    torch.manual_seed(0)
    block = SelfAttention(16)
    x = torch.randn(2, 16, 8, 8)
    out = block(x)
    assert torch.equal(out, x)  # gamma = 0 at the start, as in SAGAN
    out.square().sum().backward()
    assert block.gamma.grad is not None and block.gamma.grad.abs() > 0  # but gamma learns
    weights = block.attention_map(x)
    assert weights.shape == (2, 64, 16) and torch.allclose(weights.sum(-1), torch.ones(2, 64))
    with torch.no_grad():
        block.gamma.fill_(1.0)
        far = x.clone()
        far[:, :, 7, 7] += 3.0  # one corner changes; a 1x1 or 3x3 layer could not see it from the other corner
        assert not torch.allclose(block(x)[:, :, 0, 0], block(far)[:, :, 0, 0])
    with pytest.raises(ValueError, match="at least 8 channels"):
        SelfAttention(4)


def test_attention_sits_where_the_configuration_says():
    G, D = build("biggan-128")  # launch_BigGAN_bs256x8.sh: --G_attn 64 --D_attn 64
    assert [type(a) for a in G.attention] == [nn.Identity] * 3 + [SelfAttention] + [nn.Identity]
    assert G.attention[3].channels == 8 * 2 and D.attention[0].channels == 8
    assert sum(isinstance(a, SelfAttention) for a in D.attention) == 1
    G, D = build("biggan-32")  # launch_cifar_ema.sh: none
    assert not any(isinstance(m, SelfAttention) for net in (G, D) for m in net.modules())
    G, D = build("biggan-32", g_attention=(16,), d_attention=(8,))
    assert [isinstance(a, SelfAttention) for a in G.attention] == [False, True, False]
    assert [isinstance(a, SelfAttention) for a in D.attention] == [False, True, True, True]  # sides 16, 8, 8, 8
    with pytest.raises(ValueError, match="G attention at side 64: its blocks produce sides 8, 16, 32"):
        build("biggan-32", g_attention=(64,))


def test_discriminator_block_shortcuts():
    torch.manual_seed(0)
    # no pooling and no change of width: the identity shortcut, as in the release's last 32x32 blocks
    plain = DiscriminatorBlock(8, 8, downsample=False, preactivation=True)
    assert plain.shortcut is None
    x = torch.randn(1, 8, 4, 4)
    with torch.no_grad():
        plain.conv2.weight.zero_()
        plain.conv2.bias.zero_()
    assert torch.equal(plain(x), x)


def test_z_dim_must_cover_every_chunk():
    with pytest.raises(ValueError, match="splits z into 6 chunks .* z_dim must be at least 6; got 5"):
        ganzoo.build_gan("biggan-128", info("biggan-128"), z_dim=5, **NARROW)
    G, _ = ganzoo.build_gan("biggan-128", info("biggan-128"), z_dim=8, **NARROW)
    assert G.chunks == [2, 2, 1, 1, 1, 1]


def test_conditional_batch_norm_gain_is_one_plus_a_projection_of_the_condition():
    # the release's ccbn: out = bn(x) * (1 + gain(y)) + bias(y), with batch statistics in training
    torch.manual_seed(0)
    norm = LatentBatchNorm2d(4, 6).train()
    x, condition = torch.randn(8, 4, 3, 3) * 2 + 1, torch.randn(8, 6)
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    variance = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    normalised = (x - mean) / torch.sqrt(variance + norm.norm.eps)
    gain = 1 + condition @ norm.gain.weight.t()
    bias = condition @ norm.bias.weight.t()
    expected = normalised * gain[:, :, None, None] + bias[:, :, None, None]
    assert torch.allclose(norm(x, condition), expected, atol=1e-5)


@pytest.mark.parametrize("preactivation", [False, True])
def test_discriminator_block_computes_the_releases_dblock(preactivation):
    # BigGAN-PyTorch layers.DBlock: h = [relu](x), conv1, relu, conv2, avg-pool; shortcut: (conv_sc, pool) with
    # preactivation, (pool, conv_sc) without; the two orders agree as a 1x1 conv commutes with average pooling
    torch.manual_seed(0)
    block = DiscriminatorBlock(3, 5, downsample=True, preactivation=preactivation)
    x = torch.randn(2, 3, 8, 8)
    relu, pool = torch.nn.functional.relu, torch.nn.functional.avg_pool2d
    with torch.no_grad():
        h = relu(x) if preactivation else x
        expected = pool(block.conv2(relu(block.conv1(h))), 2) + pool(block.shortcut(x), 2)
        assert torch.allclose(block(x), expected, atol=1e-5)
