"""The core's image data sets, read from small files the tests write in each set's real format."""

from __future__ import annotations

import io
import os
import pickle
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from test_mnistdata import make_fashion

import ganzoo
from conftest import toy_run
from ganzoo.api.options import Options
from ganzoo.datasets import IMAGE_DATASETS
from ganzoo.datasets.cifar import CIFAR100_CLASSES
from ganzoo.datasets.safepickle import load_array_pickle
from ganzoo.errors import GanzooError
from ganzoo.registry.discovery import get_zoo
from ganzoo.run.config import resolve_config
from ganzoo.training.trainer import Trainer


def raises_one_line(match: str, load, *args, **kwargs) -> str:
    """Calls ``load`` and returns the GanzooError's message, checked to match and to fit on one line."""
    with pytest.raises(GanzooError, match=match) as caught:
        load(*args, **kwargs)
    message = str(caught.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def same_samples(a, b) -> None:
    """Two data sets hand out the same items: the in-memory and lazy versions of one set."""
    assert len(a) == len(b)
    for index in range(len(a)):
        # a TensorDataset without labels hands out 1-tuples, lazy sets bare images
        left, right = (item if isinstance(item, tuple) else (item,) for item in (a[index], b[index]))
        assert len(left) == len(right)
        for x, y in zip(left, right, strict=True):
            assert torch.allclose(x, y, atol=1e-6)


def pixels(data) -> torch.Tensor:
    return data.samples.tensors[0]


def test_every_image_data_set_documents_itself():
    names = {spec.name for spec in IMAGE_DATASETS}
    assert names == {"mnist", "fashion-mnist", "cifar10", "cifar100", "stl10", "celeba", "lsun", "image-folder"}
    for spec in IMAGE_DATASETS:
        assert spec.citation and spec.description
        assert issubclass(spec.options, Options) and spec.options.model_config["extra"] == "forbid"
        assert all(field.description for field in spec.options.model_fields.values()), spec.name
        assert "resolution" in spec.options.model_fields and "in_memory" in spec.options.model_fields
    with pytest.raises(ValueError, match="extra"):
        ganzoo.load_dataset("cifar10", resolutoin=32)


# --- MNIST and Fashion-MNIST: IDX files ---------------------------------------------------------------------


def test_mnist_reads_torchvisions_layout_with_digit_names_and_resizes(tmp_path):
    images, labels = make_fashion(tmp_path / "MNIST" / "raw", n=10, split="test", gz=False)
    native = ganzoo.load_dataset("mnist", root=tmp_path, split="test")
    assert native.info.class_names == tuple("0123456789") and native.info.num_classes == 10
    assert torch.equal(pixels(native)[:, 0], images.float() / 127.5 - 1)
    assert torch.equal(native.samples.tensors[1], labels) and native.samples.tensors[1].dtype == torch.int64
    resized = ganzoo.load_dataset("mnist", root=tmp_path, split="test", resolution=32)
    assert resized.info.shape == (1, 32, 32) and pixels(resized).shape == (10, 1, 32, 32)
    assert pixels(resized).min() >= -1 and pixels(resized).max() <= 1
    lazy = ganzoo.load_dataset("mnist", root=tmp_path, split="test", resolution=32, in_memory=False)
    assert not isinstance(lazy.samples, torch.utils.data.TensorDataset)
    same_samples(resized.samples, lazy.samples)


def test_fashion_mnist_has_its_class_names_and_a_one_line_failed_download(tmp_path, monkeypatch):
    make_fashion(tmp_path, n=4, split="train")
    data = ganzoo.load_dataset("fashion-mnist", root=tmp_path)
    assert data.info.class_names[:2] == ("T-shirt/top", "Trouser") and data.info.class_names[-1] == "Ankle boot"

    class Offline:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://..., got:\nNo network")

    monkeypatch.setattr("torchvision.datasets.MNIST", Offline)
    raises_one_line(r"^mnist: download into .* failed \(RuntimeError: Error downloading", ganzoo.load_dataset,
                    "mnist", root=tmp_path / "empty", download=True)


# --- CIFAR: pickled batches, read without running code --------------------------------------------------------


class Python2Pickler(pickle._Pickler):
    """Writes bytes as Python 2's str opcodes, as cPickle wrote the published CIFAR batches."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_python2_str(self, obj: bytes) -> None:
        size = len(obj)
        opcode = pickle.SHORT_BINSTRING + bytes([size]) if size < 256 else pickle.BINSTRING + size.to_bytes(4, "little")
        self.write(opcode + obj)
        self.memoize(obj)

    dispatch[bytes] = save_python2_str


def write_cifar_batch(path, data: np.ndarray, labels: list[int], label_key: bytes = b"labels") -> None:
    """A batch laid out as the published files: keys are byte strings, 'data' is uint8 (n, 3072)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    batch = {b"batch_label": b"training batch", label_key: labels, b"data": data,
             b"filenames": [b"img_%d.png" % i for i in range(len(labels))]}
    Python2Pickler(buffer, protocol=2).dump(batch)
    # numpy 2 writes its new module path; the published files (numpy 1, Python 2) name the old one
    written = buffer.getvalue().replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"cnumpy.core.multiarray\n_reconstruct\n" in written
    path.write_bytes(written)


def cifar_pixels(n: int, seed: int) -> np.ndarray:
    data = np.random.default_rng(seed).integers(0, 256, size=(n, 3072), dtype=np.uint8)
    data[0, :2] = (0, 255)
    return data


def make_cifar10(root) -> tuple[np.ndarray, list[int]]:
    """Five train batches of 2 images and a test batch of 3 under root/cifar-10-batches-py."""
    all_data, all_labels = [], []
    for number in range(1, 6):
        data, labels = cifar_pixels(2, number), [(2 * number) % 10, (2 * number + 1) % 10]
        write_cifar_batch(root / "cifar-10-batches-py" / f"data_batch_{number}", data, labels)
        all_data.append(data)
        all_labels += labels
    write_cifar_batch(root / "cifar-10-batches-py" / "test_batch", cifar_pixels(3, 9), [9, 0, 1])
    return np.concatenate(all_data), all_labels


def test_cifar10_reads_the_python_batches_exactly(tmp_path):
    data, labels = make_cifar10(tmp_path)
    train = ganzoo.load_dataset("cifar10", root=tmp_path)
    images, classes = train.samples.tensors
    assert images.shape == (10, 3, 32, 32) and train.info.shape == (3, 32, 32)
    assert classes.tolist() == labels and classes.dtype == torch.int64
    assert train.info.num_classes == 10 and train.info.class_names[0] == "airplane"
    # rows of 1024 red, 1024 green, 1024 blue values, each a 32x32 image in row-major order
    expected = torch.from_numpy(data.reshape(10, 3, 32, 32)).float() / 127.5 - 1
    assert torch.equal(images, expected)
    assert images[0, 0, 0, 0] == -1 and images[0, 0, 0, 1] == 1
    test = ganzoo.load_dataset("cifar10", root=tmp_path, split="test")
    assert test.samples.tensors[1].tolist() == [9, 0, 1]
    small = ganzoo.load_dataset("cifar10", root=tmp_path, resolution=16)
    assert pixels(small).shape == (10, 3, 16, 16)
    same_samples(small.samples, ganzoo.load_dataset("cifar10", root=tmp_path, resolution=16, in_memory=False).samples)


@pytest.mark.parametrize("protocol", [2, 4])
def test_cifar100_reads_fine_labels_from_a_python3_pickle_in_root(tmp_path, protocol):
    data = cifar_pixels(4, 0)
    with open(tmp_path / "test", "wb") as file:  # a Python 3 re-dump: bytes keys (via _codecs.encode at protocol 2)
        pickle.dump({b"data": data, b"fine_labels": [0, 99, 39, 5], b"coarse_labels": [4, 4, 4, 4]}, file,
                    protocol=protocol)
    test = ganzoo.load_dataset("cifar100", root=tmp_path, split="test")
    assert test.samples.tensors[1].tolist() == [0, 99, 39, 5]
    assert test.info.num_classes == 100 and test.info.class_names == CIFAR100_CLASSES
    assert CIFAR100_CLASSES[39] == "keyboard" and CIFAR100_CLASSES[99] == "worm"


class RunsCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class RunsPython:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return exec, (f"open({str(self.marker)!r}, 'w').close()",)


@pytest.mark.parametrize("payload", [RunsCommand, RunsPython])
def test_a_pickle_naming_any_other_global_is_refused_before_anything_runs(tmp_path, payload):
    marker = tmp_path / "ran"
    batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    batch.parent.mkdir()
    batch.write_bytes(pickle.dumps({"data": payload(marker), "labels": [0]}, protocol=2))
    message = raises_one_line("refusing to unpickle", ganzoo.load_dataset, "cifar10", root=tmp_path, split="test")
    assert ("posix.system" in message or "__builtin__.exec" in message) and str(batch) in message
    raises_one_line("refusing to unpickle", load_array_pickle, batch)
    assert not marker.exists()


def test_damaged_cifar_batches_are_one_line_errors(tmp_path):
    make_cifar10(tmp_path)
    batch = tmp_path / "cifar-10-batches-py" / "test_batch"
    batch.write_bytes(batch.read_bytes()[:5000])
    raises_one_line(r"test_batch: not a readable pickle, the file is damaged", ganzoo.load_dataset, "cifar10",
                    root=tmp_path, split="test")
    batch.write_bytes(pickle.dumps({"data": np.zeros((2, 100), np.uint8), "labels": [0, 1]}))
    raises_one_line(r"no 'data' uint8 array of shape \(n, 3072\)", ganzoo.load_dataset, "cifar10", root=tmp_path,
                    split="test")
    batch.write_bytes(pickle.dumps({"data": np.zeros((2, 3072), np.uint8), "labels": [0, 10]}))
    raises_one_line(r"labels outside 0\.\.9", ganzoo.load_dataset, "cifar10", root=tmp_path, split="test")


def test_missing_cifar_says_where_it_looked_and_a_failed_download_is_one_line(tmp_path, monkeypatch):
    message = raises_one_line("cifar100: cifar-100-python/test not found in", ganzoo.load_dataset, "cifar100",
                              root=tmp_path, split="test")
    assert str(tmp_path) in message and "dataset_options.root" in message and "download = true" in message
    calls = []

    def offline(url, download_root, filename=None, md5=None, **kwargs):
        calls.append((url, filename, md5))
        raise OSError("[Errno -3] Temporary failure in name resolution\n(more)")

    monkeypatch.setattr("torchvision.datasets.utils.download_and_extract_archive", offline)
    raises_one_line(r"cifar10: download into .* failed \(OSError: \[Errno -3\]", ganzoo.load_dataset, "cifar10",
                    root=tmp_path, download=True)
    from torchvision.datasets import CIFAR10

    assert calls == [(CIFAR10.url, CIFAR10.filename, CIFAR10.tgz_md5)]


def test_cifar_download_reads_what_the_archive_unpacked(tmp_path, monkeypatch):
    def unpack(url, download_root, filename=None, md5=None, **kwargs):
        make_cifar10(tmp_path)  # what cifar-10-python.tar.gz holds

    monkeypatch.setattr("torchvision.datasets.utils.download_and_extract_archive", unpack)
    assert len(ganzoo.load_dataset("cifar10", root=tmp_path, download=True).samples) == 10


# --- STL-10: binary files ------------------------------------------------------------------------------------


def write_stl(folder, part: str, images: np.ndarray, labels: list[int] | None = None) -> None:
    """``images`` (n, 3, 96, 96) stored as the published files: each channel in column-major order."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{part}_X.bin").write_bytes(np.ascontiguousarray(images.transpose(0, 1, 3, 2)).tobytes())
    if labels is not None:
        (folder / f"{part}_y.bin").write_bytes(bytes(labels))


def make_stl(root) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    images = {part: rng.integers(0, 256, size=(n, 3, 96, 96), dtype=np.uint8)
              for part, n in (("train", 3), ("test", 2), ("unlabeled", 4))}
    images["train"][0, 0, 0, :2] = (0, 255)
    write_stl(root / "stl10_binary", "train", images["train"], [1, 10, 4])
    write_stl(root / "stl10_binary", "test", images["test"], [2, 2])
    write_stl(root / "stl10_binary", "unlabeled", images["unlabeled"])
    return images


def test_stl10_reads_column_major_images_and_one_based_labels(tmp_path):
    images = make_stl(tmp_path)
    native = ganzoo.load_dataset("stl10", root=tmp_path, resolution=96)
    assert torch.equal(pixels(native), torch.from_numpy(images["train"]).float() / 127.5 - 1)
    assert native.samples.tensors[1].tolist() == [0, 9, 3] and native.info.class_names[9] == "truck"
    default = ganzoo.load_dataset("stl10", root=tmp_path, split="test")
    assert default.info.shape == (3, 64, 64) and pixels(default).shape == (2, 3, 64, 64)


def test_stl10_unlabeled_splits_are_lazy_and_unlabelled(tmp_path):
    make_stl(tmp_path)
    unlabeled = ganzoo.load_dataset("stl10", root=tmp_path, split="unlabeled", resolution=48)
    assert unlabeled.info.num_classes is None and unlabeled.info.class_names is None
    assert not isinstance(unlabeled.samples, torch.utils.data.TensorDataset)
    assert len(unlabeled.samples) == 4 and unlabeled.samples[3].shape == (3, 48, 48)
    both = ganzoo.load_dataset("stl10", root=tmp_path, split="train+unlabeled", resolution=48)
    assert len(both.samples) == 7 and both.info.num_classes is None
    in_memory = ganzoo.load_dataset("stl10", root=tmp_path, split="train+unlabeled", resolution=48, in_memory=True)
    assert isinstance(in_memory.samples, torch.utils.data.TensorDataset) and len(in_memory.samples.tensors) == 1
    same_samples(both.samples, in_memory.samples)


def test_damaged_or_missing_stl10_files_are_one_line_errors(tmp_path, monkeypatch):
    make_stl(tmp_path)
    images = tmp_path / "stl10_binary" / "test_X.bin"
    images.write_bytes(images.read_bytes()[:-100])
    raises_one_line("not a whole number of 96x96 colour images.*cut short", ganzoo.load_dataset, "stl10",
                    root=tmp_path, split="test")
    (tmp_path / "stl10_binary" / "train_y.bin").write_bytes(bytes([1, 2]))
    raises_one_line("2 labels for 3 images", ganzoo.load_dataset, "stl10", root=tmp_path)
    (tmp_path / "stl10_binary" / "train_y.bin").write_bytes(bytes([1, 2, 0]))  # labels are 1..10 on disk
    raises_one_line(r"labels outside 0\.\.9", ganzoo.load_dataset, "stl10", root=tmp_path)
    raises_one_line("stl10_binary/train_X.bin and stl10_binary/train_y.bin not found", ganzoo.load_dataset, "stl10",
                    root=tmp_path / "elsewhere")

    def offline(*args, **kwargs):
        raise ConnectionError("no route to host")

    monkeypatch.setattr("torchvision.datasets.utils.download_and_extract_archive", offline)
    raises_one_line(r"stl10: download into .* failed \(ConnectionError: no route to host\)", ganzoo.load_dataset,
                    "stl10", root=tmp_path / "elsewhere", download=True)


# --- CelebA: JPEG files and the partition list --------------------------------------------------------------


def make_celeba(folder, shades=(0, 60, 120, 180, 240)) -> None:
    """One solid-grey 24x30 (width x height) face per shade; partitions 0, 0, 1, 2, 0."""
    (folder / "img_align_celeba").mkdir(parents=True)
    lines = []
    for number, (shade, partition) in enumerate(zip(shades, (0, 0, 1, 2, 0), strict=True), start=1):
        name = f"{number:06d}.jpg"
        Image.new("RGB", (24, 30), (shade, shade, shade)).save(folder / "img_align_celeba" / name, quality=95)
        lines.append(f"{name} {partition}")
    (folder / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")


def test_celeba_splits_follow_the_partition_file(tmp_path):
    make_celeba(tmp_path / "celeba")  # torchvision's layout: root/celeba/...
    sizes = {split: len(ganzoo.load_dataset("celeba", root=tmp_path, split=split).samples)
             for split in ("train", "valid", "test", "all")}
    assert sizes == {"train": 3, "valid": 1, "test": 1, "all": 5}
    valid = ganzoo.load_dataset("celeba", root=tmp_path, split="valid", resolution=16)
    assert valid.info.shape == (3, 16, 16) and valid.info.num_classes is None
    assert not isinstance(valid.samples, torch.utils.data.TensorDataset) and valid.samples[0].shape == (3, 16, 16)
    assert valid.samples[0].mean().item() == pytest.approx(120 / 127.5 - 1, abs=0.02)  # the third image's grey
    in_memory = ganzoo.load_dataset("celeba", root=tmp_path, resolution=16, in_memory=True)
    assert isinstance(in_memory.samples, torch.utils.data.TensorDataset)
    same_samples(in_memory.samples, ganzoo.load_dataset("celeba", root=tmp_path, resolution=16).samples)


def test_damaged_or_missing_celeba_files_are_one_line_errors(tmp_path, monkeypatch):
    raises_one_line("celeba: img_align_celeba/ and list_eval_partition.txt not found", ganzoo.load_dataset, "celeba",
                    root=tmp_path)
    make_celeba(tmp_path)
    (tmp_path / "img_align_celeba" / "000002.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    item = ganzoo.load_dataset("celeba", root=tmp_path).samples
    raises_one_line("000002.jpg: cannot decode image", item.__getitem__, 1)
    (tmp_path / "img_align_celeba" / "000002.jpg").unlink()
    raises_one_line(r"1 images listed in .* are missing .* \(first: 000002.jpg\)", ganzoo.load_dataset, "celeba",
                    root=tmp_path)
    (tmp_path / "list_eval_partition.txt").write_text("000001.jpg 0\n000003.jpg seven\n")
    raises_one_line("line 2 is '000003.jpg seven'", ganzoo.load_dataset, "celeba", root=tmp_path)

    def no_gdown(*args, **kwargs):
        raise RuntimeError("To download files from GDrive, 'gdown' is required.\nYou can install it")

    monkeypatch.setattr("torchvision.datasets.CelebA", no_gdown)
    raises_one_line("celeba: download into .* failed .*'gdown' is required", ganzoo.load_dataset, "celeba",
                    root=tmp_path / "fresh", download=True)


# --- LSUN: LMDB databases of encoded images ------------------------------------------------------------------


def encode(image: Image.Image, format: str) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format, **({"lossless": True} if format == "WEBP" else {"quality": 95}))
    return buffer.getvalue()


def write_lmdb(folder, items: dict[bytes, bytes]) -> None:
    """A database as LSUN's export writes it: image ids as keys, encoded images as values."""
    lmdb = pytest.importorskip("lmdb")
    env = lmdb.open(str(folder), map_size=1 << 22)
    with env.begin(write=True) as txn:
        for key, value in items.items():
            txn.put(key, value)
    env.close()


def test_lsun_decodes_webp_and_jpeg_values_from_lmdb(tmp_path):
    rng = np.random.default_rng(0)
    exact = rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8)
    exact[0, 0] = (0, 255, 0)
    write_lmdb(tmp_path / "church_outdoor_val_lmdb", {
        b"0a1b": encode(Image.fromarray(exact), "WEBP"),
        b"0c2d": encode(Image.new("RGB", (24, 16), (200, 10, 10)), "JPEG"),
    })
    data = ganzoo.load_dataset("lsun", root=tmp_path, category="church_outdoor", split="val", resolution=16)
    assert len(data.samples) == 2 and data.info.shape == (3, 16, 16) and data.info.num_classes is None
    assert torch.equal(data.samples[0], torch.from_numpy(exact).permute(2, 0, 1).float() / 127.5 - 1)
    assert data.samples[1].shape == (3, 16, 16) and data.samples[1][0].mean() > 0.5  # red stays red after the crop
    in_memory = ganzoo.load_dataset("lsun", root=tmp_path, category="church_outdoor", split="val", resolution=16,
                                    in_memory=True)
    same_samples(in_memory.samples, data.samples)

    write_lmdb(tmp_path / "tower_val_lmdb", {b"0a1b": b"RIFF\x00\x00 cut short"})
    lazy = ganzoo.load_dataset("lsun", root=tmp_path, category="tower", split="val").samples
    raises_one_line("key 0a1b: cannot decode image", lazy.__getitem__, 0)


def test_missing_lsun_points_to_the_download_script_and_to_the_extra(tmp_path, monkeypatch):
    message = raises_one_line("lsun: bedroom_train_lmdb/data.mdb not found in", ganzoo.load_dataset, "lsun",
                              root=tmp_path, download=True)
    assert "download.py -c bedroom" in message and "dataset_options.root" in message
    (tmp_path / "bedroom_train_lmdb").mkdir()
    (tmp_path / "bedroom_train_lmdb" / "data.mdb").write_bytes(b"not an lmdb file" * 100)
    raises_one_line("lsun: .*bedroom_train_lmdb", ganzoo.load_dataset, "lsun", root=tmp_path)
    monkeypatch.setitem(sys.modules, "lmdb", None)  # as if not installed: importing it raises ImportError
    raises_one_line(r"pip install 'ganzoo\[lsun\]'", ganzoo.load_dataset, "lsun", root=tmp_path)


# --- image folders -------------------------------------------------------------------------------------------


def save_png(path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)


def test_image_folder_labels_come_from_class_subfolders(tmp_path):
    shades = {"zebra/a.png": 0, "cat/b.PNG": 255, "cat/deeper/c.png": 100, "dog/d.bmp": 50}
    for name, shade in shades.items():
        save_png(tmp_path / name, np.full((10, 10, 3), shade, np.uint8))
    (tmp_path / "cat" / "notes.txt").write_text("not an image")
    save_png(tmp_path / ".hidden" / "e.png", np.zeros((10, 10, 3), np.uint8))
    data = ganzoo.load_dataset("image-folder", root=tmp_path, resolution=10)
    assert data.info.class_names == ("cat", "dog", "zebra") and data.info.num_classes == 3
    assert not isinstance(data.samples, torch.utils.data.TensorDataset)
    items = [data.samples[i] for i in range(len(data.samples))]  # sorted: cat/b.PNG, cat/deeper/c.png, dog, zebra
    assert [label.item() for _, label in items] == [0, 0, 1, 2]
    assert [image.mean().item() for image, _ in items] == pytest.approx([1, 100 / 127.5 - 1, 50 / 127.5 - 1, -1])
    in_memory = ganzoo.load_dataset("image-folder", root=tmp_path, resolution=10, in_memory=True)
    assert len(in_memory.samples.tensors) == 2
    same_samples(in_memory.samples, data.samples)


def test_a_flat_image_folder_has_no_labels_and_is_cropped_to_a_square(tmp_path):
    wide = np.zeros((10, 20, 3), np.uint8)
    wide[:, 5:15] = 255  # the centre 10x10 is white
    save_png(tmp_path / "wide.png", wide)
    save_png(tmp_path / "sub" / "big.png", np.full((40, 30), 128, np.uint8))  # grayscale, 30 wide, 40 high
    data = ganzoo.load_dataset("image-folder", root=tmp_path, resolution=10)
    assert data.info.num_classes is None and data.info.shape == (3, 10, 10)
    big, cropped = data.samples[0], data.samples[1]
    assert torch.equal(cropped, torch.ones(3, 10, 10))  # shorter side already 10: only the centre crop
    assert big.shape == (3, 10, 10) and torch.allclose(big, torch.full((3, 10, 10), 128 / 127.5 - 1), atol=1e-6)
    gray = ganzoo.load_dataset("image-folder", root=tmp_path, resolution=10, channels=1)
    assert gray.info.shape == (1, 10, 10) and gray.samples[1].shape == (1, 10, 10)


def test_image_folder_errors_are_one_line(tmp_path):
    raises_one_line("is not a folder", ganzoo.load_dataset, "image-folder", root=tmp_path / "missing")
    (tmp_path / "readme.txt").write_text("no pictures here")
    raises_one_line("no image files", ganzoo.load_dataset, "image-folder", root=tmp_path)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n then nothing")
    raises_one_line("broken.png: cannot decode image", ganzoo.load_dataset, "image-folder", root=tmp_path,
                    in_memory=True)


def test_the_runner_trains_on_lazily_decoded_images(tmp_path):
    for number in range(6):
        shade = np.full((12, 12, 3), 40 * number, np.uint8)
        save_png(tmp_path / "data" / f"class{number % 2}" / f"{number}.png", shade)
    zoo = get_zoo()
    raw = toy_run(tmp_path, dataset="image-folder", dataset_options={"root": str(tmp_path / "data"), "resolution": 8},
                  steps=2, batch_size=4, gan_options={"g_hidden": 16, "d_hidden": 8})
    trainer = Trainer(resolve_config(raw, zoo), zoo, progress=False)
    trainer.fit()
    assert trainer.step == 2
