"""Reading numpy arrays from pickle files without letting the file run code.

``pickle.load`` calls whatever function a file names, so a doctored file can
run anything (``os.system`` included). CIFAR's python batches are pickles, so
they are read with :class:`ArrayOnlyUnpickler`, which resolves only the
globals a pickled ndarray references and refuses every other one before it is
called. A CIFAR batch written by Python 2's cPickle (the published files)
names ``numpy.core.multiarray._reconstruct``, ``numpy.ndarray`` and
``numpy.dtype``; numpy 2 writes ``numpy._core.multiarray._reconstruct``
instead (protocols 2 to 4; checked with ``pickletools.dis``). Python 3 at
protocol 2 writes each bytes object as a call of ``_codecs.encode`` on a str,
which only turns text into bytes, so it is allowed too.
"""

from __future__ import annotations

import codecs
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from ganzoo.errors import GanzooError, one_line

try:  # numpy >= 2 moved the module; the published files still name the old path
    from numpy._core.multiarray import _reconstruct
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core.multiarray import _reconstruct  # type: ignore[no-redef]

# Resolved here rather than through importlib so that naming a module never imports it.
ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class UnsafePickleError(GanzooError):
    """A pickle names a global outside :data:`ALLOWED_GLOBALS`; nothing it names was called."""


class ArrayOnlyUnpickler(pickle.Unpickler):
    def __init__(self, file: Any, where: Path):
        # latin1 is how Python 3 must read Python 2 pickles of numpy arrays: byte strings map 1:1 to code points.
        super().__init__(file, encoding="latin1")
        self.where = where

    def find_class(self, module: str, name: str) -> Any:
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise UnsafePickleError(f"{self.where}: refusing to unpickle, the file names {module}.{name} and only "
                                    "numpy arrays are allowed; it is not a data file ganzoo can trust")
        return allowed


def load_array_pickle(path: Path) -> Any:
    """The object pickled in ``path``, built only from plain containers and numpy arrays."""
    try:
        with path.open("rb") as file:
            return ArrayOnlyUnpickler(file, path).load()
    except GanzooError:
        raise
    except Exception as exc:  # truncated or garbled: EOFError, UnpicklingError, ValueError, TypeError, ...
        raise GanzooError(f"{path}: not a readable pickle, the file is damaged ({one_line(exc)})") from None
