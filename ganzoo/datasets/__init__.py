"""The core's image data sets, one module per file format, sharing :mod:`ganzoo.datasets.common`.

Heavy imports (torchvision, PIL, lmdb) happen inside the loaders, so listing
the zoo stays fast.
"""

from __future__ import annotations

from ganzoo.datasets.celeba import CELEBA_DATASETS
from ganzoo.datasets.cifar import CIFAR_DATASETS
from ganzoo.datasets.imagefolder import IMAGE_FOLDER_DATASETS
from ganzoo.datasets.lsun import LSUN_DATASETS
from ganzoo.datasets.mnist import MNIST_DATASETS
from ganzoo.datasets.stl10 import STL10_DATASETS

IMAGE_DATASETS = (MNIST_DATASETS + CIFAR_DATASETS + STL10_DATASETS + CELEBA_DATASETS + LSUN_DATASETS
                  + IMAGE_FOLDER_DATASETS)

__all__ = ["IMAGE_DATASETS"]
