"""CycleGAN's two networks, as the released code builds them (github.com/junyanz/pytorch-CycleGAN-and-pix2pix,
``models/networks.py``), with its CycleGAN defaults (``--norm instance``, ``--init_type normal``,
``--init_gain 0.02``, no dropout, ``--netD basic``):

- :class:`ResnetGenerator` (``ResnetGenerator``; paper Appendix 7.2, after Johnson et al. 2016): a 7x7
  convolution to ``ngf`` channels, two 3x3 stride-2 convolutions (``ngf`` -> 2 ``ngf`` -> 4 ``ngf``), ``blocks``
  residual blocks of two 3x3 convolutions at 4 ``ngf``, two 3x3 stride-1/2 transposed convolutions back to
  ``ngf``, a 7x7 convolution to the image's channels and tanh; every padding of the 7x7 and residual
  convolutions is reflection padding (``padding_type='reflect'``); each hidden convolution is followed by
  instance norm without affine parameters or running statistics, then ReLU (the paper's c7s1-64, d128, d256,
  R256 x blocks, u128, u64, c7s1-3). Convolutions keep their biases, as the code does with instance norm
  (``use_bias``).
- :class:`PatchDiscriminator` (``NLayerDiscriminator``, the pix2pix PatchGAN): ``d_layers`` 4x4 stride-2
  convolutions (``ndf``, 2 ``ndf``, 4 ``ndf``, ... capped at 8 ``ndf``), one 4x4 stride-1 convolution, then a 4x4
  stride-1 convolution to one score per patch, padding 1 throughout; leaky ReLU 0.2; instance norm after every
  convolution but the first and the last. At ``d_layers = 3`` each score sees a 70x70 patch of the image
  (:func:`receptive_field`; paper section 4 and Appendix 7.2: C64-C128-C256-C512).

Weights are drawn from N(0, 0.02) and biases start at 0 (``init_weights``; paper Appendix 7.1).
"""

from __future__ import annotations

from torch import Tensor, nn

INIT_STD = 0.02  # init_weights' gain for 'normal' (paper Appendix 7.1)
LEAK = 0.2  # NLayerDiscriminator's LeakyReLU slope
DOWNSAMPLINGS = 2  # ResnetGenerator's n_downsampling: image sides must be multiples of 2**2


def _instance_norm(channels: int) -> nn.InstanceNorm2d:
    # the code's get_norm_layer('instance'): no learned scale and shift, statistics of each image alone, always
    return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)


class ResidualBlock(nn.Module):
    """x + (reflect-pad, 3x3 conv, instance norm, ReLU, reflect-pad, 3x3 conv, instance norm)(x)."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _instance_norm(channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3), _instance_norm(channels))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """Maps images of one domain to images of the same shape in the other; see the module docstring."""

    def __init__(self, channels: int, ngf: int, blocks: int):
        super().__init__()
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(channels, ngf, 7), _instance_norm(ngf), nn.ReLU()]
        width = ngf
        for _ in range(DOWNSAMPLINGS):
            layers += [nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), _instance_norm(2 * width), nn.ReLU()]
            width *= 2
        layers += [ResidualBlock(width) for _ in range(blocks)]
        for _ in range(DOWNSAMPLINGS):
            layers += [nn.ConvTranspose2d(width, width // 2, 3, stride=2, padding=1, output_padding=1),
                       _instance_norm(width // 2), nn.ReLU()]
            width //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, channels, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_normal(self)

    def forward(self, images: Tensor) -> Tensor:
        return self.model(images)


class PatchDiscriminator(nn.Module):
    """Scores every overlapping patch of an image: ``(n, C, H, W)`` -> a map of shape ``(n, 1, h, w)``."""

    def __init__(self, channels: int, ndf: int, d_layers: int):
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(channels, ndf, 4, stride=2, padding=1), nn.LeakyReLU(LEAK)]
        width = ndf
        for n in range(1, d_layers + 1):
            wider = ndf * min(2**n, 8)
            stride = 2 if n < d_layers else 1  # the last of these keeps the map's size
            layers += [nn.Conv2d(width, wider, 4, stride=stride, padding=1), _instance_norm(wider),
                       nn.LeakyReLU(LEAK)]
            width = wider
        layers += [nn.Conv2d(width, 1, 4, stride=1, padding=1)]
        self.model = nn.Sequential(*layers)
        init_normal(self)

    def forward(self, images: Tensor) -> Tensor:
        return self.model(images)


def init_normal(network: nn.Module) -> None:
    """Every convolution's weights from N(0, 0.02), its bias 0 (the released ``init_weights``, 'normal')."""
    for layer in network.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(layer.weight, 0.0, INIT_STD)
            if layer.bias is not None:
                nn.init.zeros_(layer.bias)


def receptive_field(network: nn.Module) -> int:
    """The side of the input patch one output of a stack of convolutions sees, computed from its layers: going
    from the output back to the input, each layer of kernel k and stride s turns a side r into (r - 1) s + k."""
    side = 1
    for layer in reversed([m for m in network.modules() if isinstance(m, nn.Conv2d)]):
        (kernel, _), (stride, _) = layer.kernel_size, layer.stride
        side = (side - 1) * stride + kernel
    return side


def patch_map_side(side: int, d_layers: int) -> tuple[int, int]:
    """For images of ``side``: the side of the last normalised map and of the score map of a PatchGAN of
    ``d_layers`` (each 4x4 stride-2 convolution with padding 1 halves a side, rounding down; each stride-1 one
    takes 1 off)."""
    for _ in range(d_layers):
        side //= 2
    return side - 1, side - 2
