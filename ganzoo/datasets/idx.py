"""Reading IDX files, the format of MNIST and Fashion-MNIST (LeCun et al.), gzipped or not.

An IDX file is: two zero bytes, a type code (0x08 for unsigned bytes), the
number of dimensions d, then d big-endian 32-bit sizes, then the data in
row-major order.
"""

from __future__ import annotations

import gzip
import math
import struct
from pathlib import Path

import torch

from ganzoo.errors import GanzooError

UNSIGNED_BYTE = 0x08


def read_idx(path: Path) -> torch.Tensor:
    """The array in ``path`` as a uint8 tensor; any damage is a one-line error."""
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as exc:
        raise GanzooError(f"{path}: cannot read ({exc})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise GanzooError(f"{path} is not an IDX file (bad magic number)")
    if raw[2] != UNSIGNED_BYTE:
        raise GanzooError(f"{path}: IDX type 0x{raw[2]:02x} is not supported (only unsigned bytes, 0x08)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise GanzooError(f"{path}: IDX header is cut short")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = header + math.prod(shape)
    if len(raw) != expected:
        raise GanzooError(f"{path}: IDX data has {len(raw) - header} bytes, its header says {expected - header}")
    return torch.frombuffer(bytearray(raw[header:]), dtype=torch.uint8).reshape(shape)
