"""Loaders of the original dSprites npz / Shapes3D h5 files, on small files written in their format."""
from __future__ import annotations

import math

import h5py
import numpy as np
import pytest
import torch

import groupdrl.worlds as W

DS_SIZES = (3, 2, 4, 3, 2)  # shape, scale, orientation, posX, posY: a reduced grid
SH_SIZES = (2, 3, 2, 2, 4, 3)  # floor, wall, object hue, scale, shape, orientation


def _grid(sizes) -> np.ndarray:
    return np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))


def _images_of(classes: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Distinct, recognisable images: the first pixels spell out the state."""
    imgs = np.zeros((len(classes), *shape), dtype=np.uint8)
    flat = imgs.reshape(len(classes), -1)
    flat[:, : classes.shape[1]] = classes
    return imgs


def write_dsprites(path, sizes=DS_SIZES, endpoint=True, **overrides) -> np.ndarray:
    classes = _grid(sizes)
    full = np.concatenate([np.zeros((len(classes), 1), dtype=np.int64), classes], 1)  # constant colour
    orient = np.linspace(0, 2 * math.pi, sizes[2], endpoint=endpoint)
    values = np.stack([np.ones(len(classes)), classes[:, 0] + 1.0, 0.5 + 0.1 * classes[:, 1], orient[classes[:, 2]],
                       classes[:, 3] / 2, classes[:, 4] / 1.0], 1)
    arrays = {"imgs": _images_of(classes, (8, 8)), "latents_classes": full, "latents_values": values}
    arrays.update(overrides)
    np.savez(path, **{k: v for k, v in arrays.items() if v is not None})
    return classes


def write_shapes3d(path, sizes=SH_SIZES, **overrides) -> np.ndarray:
    classes = _grid(sizes)
    labels = classes / np.array([10, 10, 10, 4, 1, 0.5]) + np.array([0, 0, 0, 0.75, 0, -30])
    arrays = {"images": _images_of(classes, (8, 8, 3)), "labels": labels}
    arrays.update(overrides)
    with h5py.File(path, "w") as f:
        for k, v in arrays.items():
            if v is not None:
                f[k] = v
    return classes


def test_load_dsprites_reduced_grid(tmp_path):
    classes = write_dsprites(tmp_path / "d.npz")
    w = W.load_dsprites(tmp_path / "d.npz")
    assert w.factor_names == W.dsprites().factor_names and w.sizes == DS_SIZES
    assert w.observation_shape == (1, 8, 8)
    # rendering looks the image up by full-grid index: its first pixels spell the state back
    s = torch.tensor(classes[[0, 17, 143]])
    assert torch.equal(w.render(s)[:, 0].reshape(3, -1)[:, :5].long(), s)
    assert w.factors[1].values == pytest.approx((0.5, 0.6))
    # linspace(0, 2π, n) repeats its first angle: orientation is bounded, not C_n; scale/positions bounded
    assert [f.periodic for f in w.factors] == [True, False, False, False, False]
    write_dsprites(tmp_path / "p.npz", endpoint=False)
    assert W.load_dsprites(tmp_path / "p.npz").factors[2].periodic
    # transitions work on a loaded world
    b = W.TransitionDataset(w, n=4, seed=0).sample_batch(16)
    assert torch.equal(b["gx"], w.render(b["gstate"]))


def test_load_dsprites_sizes_without_labels(tmp_path):
    classes = write_dsprites(tmp_path / "d.npz", latents_classes=None, latents_values=None)
    w = W.load_dsprites(tmp_path / "d.npz", sizes=DS_SIZES)
    assert torch.equal(w.render(torch.tensor(classes[[5]]))[0, 0, 0, :5].long(), torch.tensor(classes[5]))
    with pytest.raises(ValueError, match="d.npz.*no 'latents_classes'.*sizes="):
        W.load_dsprites(tmp_path / "d.npz")
    with pytest.raises(ValueError, match=r"d.npz: 144 images, but the factor grid .* has 288 states"):
        W.load_dsprites(tmp_path / "d.npz", sizes=(3, 2, 4, 3, 4))


def test_load_dsprites_wrong_files(tmp_path):
    p = tmp_path / "bad.npz"
    write_dsprites(p, imgs=None)
    with pytest.raises(ValueError, match="bad.npz: no 'imgs' array"):
        W.load_dsprites(p)
    write_dsprites(p, imgs=np.zeros((144, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"bad.npz: 'imgs' should be .*\(N, H, W\)"):
        W.load_dsprites(p)
    classes = _grid(DS_SIZES)
    write_dsprites(p, imgs=_images_of(classes[:-10], (8, 8)))
    with pytest.raises(ValueError, match="bad.npz: 'latents_classes' should have shape"):
        W.load_dsprites(p)
    with pytest.raises(ValueError, match="sizes=.*do not match"):
        write_dsprites(p)
        W.load_dsprites(p, sizes=(3, 2, 4, 2, 3))
    shuffled = np.concatenate([np.zeros((144, 1), dtype=np.int64), classes[::-1]], 1)
    write_dsprites(p, latents_classes=shuffled)
    with pytest.raises(ValueError, match="bad.npz: 'latents_classes' are not in full-grid order"):
        W.load_dsprites(p)
    # truncated bytes and pickled contents
    write_dsprites(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="bad.npz: cannot read"):
        W.load_dsprites(p)
    np.savez(p, imgs=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="bad.npz: cannot read"):
        W.load_dsprites(p)
    with pytest.raises(FileNotFoundError):
        W.load_dsprites(tmp_path / "missing.npz")


def test_load_shapes3d_reduced_grid(tmp_path):
    classes = write_shapes3d(tmp_path / "s.h5")
    w = W.load_shapes3d(tmp_path / "s.h5")
    assert w.factor_names == W.shapes3d().factor_names and w.sizes == SH_SIZES
    assert w.observation_shape == (3, 8, 8)
    s = torch.tensor(classes[[0, 100, len(classes) - 1]])
    x = w.render(s)
    assert x.shape == (3, 3, 8, 8) and float(x.max()) <= 3 / 255 + 1e-6  # channel-first, scaled to [0, 1]
    hwc = (x.permute(0, 2, 3, 1).reshape(3, -1)[:, :6] * 255).round().long()
    assert torch.equal(hwc, s)
    assert [f.periodic for f in w.factors] == [True, True, True, False, True, False]
    assert w.factors[5].values == pytest.approx((-30.0, -28.0, -26.0))


def test_load_shapes3d_wrong_files(tmp_path):
    p = tmp_path / "bad.h5"
    write_shapes3d(p, images=None)
    with pytest.raises(ValueError, match="bad.h5: no 'images' dataset"):
        W.load_shapes3d(p)
    n = int(np.prod(SH_SIZES))
    write_shapes3d(p, images=np.zeros((n, 8, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"bad.h5: 'images' should have shape \(N, H, W, 3\)"):
        W.load_shapes3d(p)
    p.unlink()
    write_shapes3d(p, labels=None)
    with pytest.raises(ValueError, match="bad.h5: no 'labels'.*sizes="):
        W.load_shapes3d(p)
    assert W.load_shapes3d(p, sizes=SH_SIZES).sizes == SH_SIZES
    p.unlink()
    classes = _grid(SH_SIZES)[:-5]
    labels = classes / 10.0
    write_shapes3d(p, images=_images_of(classes, (8, 8, 3)), labels=labels)
    with pytest.raises(ValueError, match="bad.h5: .*images, but the factor grid"):
        W.load_shapes3d(p)
    p.write_bytes(b"not an h5 file at all")
    with pytest.raises(ValueError, match="bad.h5: cannot read"):
        W.load_shapes3d(p)
