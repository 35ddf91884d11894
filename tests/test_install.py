"""Installing: imports print nothing, and escnn is an extra whose absence is explained where it is needed."""
from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import groupdrl.groups as G
from groupdrl import models, worlds
from groupdrl.nn import EquivariantImageEncoder

IMPORT_ALL = """
import importlib, pkgutil, groupdrl
for m in pkgutil.walk_packages(groupdrl.__path__, "groupdrl."):
    if not m.name.endswith("__main__"):
        importlib.import_module(m.name)
"""


def _quiet_run(code: str) -> None:
    out = subprocess.run([sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout == "" and out.stderr == "", out.stdout + out.stderr


def test_importing_every_module_prints_nothing():
    _quiet_run(IMPORT_ALL)


@pytest.mark.escnn
def test_escnn_features_print_no_warning():
    """escnn warns that ``py3nj`` is missing on import; groupdrl does not pass that on."""
    _quiet_run(IMPORT_ALL + """
from groupdrl.nn import EquivariantImageEncoder
import groupdrl.groups as G
EquivariantImageEncoder(1, 16, widths=(8, 8), hidden=16, latent=("irrep:1",))
G.SO3().escnn
""")


@pytest.mark.parametrize("feature, call", [
    ("Cyclic(4).escnn", lambda: G.Cyclic(4).escnn),
    ("SO3().escnn", lambda: G.SO3().representation("irrep:2")(G.SO3().identity(1))),
    ("EquivariantImageEncoder", lambda: EquivariantImageEncoder(1, 16, widths=(8,), hidden=8)),
    ("EquivariantImageEncoder", lambda: models.get("equivariant_vae", worlds.get("arrow", n_orientations=4,
                                                                                 n_colours=2, image_size=16))),
])
def test_without_escnn_the_error_names_the_extra(monkeypatch, feature, call):
    monkeypatch.setitem(sys.modules, "escnn", None)  # import escnn now raises ImportError
    with pytest.raises(ImportError, match=rf"needed for {feature.replace('(', '.').replace(')', '.')}: "
                                          r'pip install "groupdrl\[escnn\]" && pip install --no-deps escnn'):
        call()


def test_core_groups_work_without_escnn(monkeypatch):
    monkeypatch.setitem(sys.modules, "escnn", None)
    so3 = G.SO3()
    r = so3.sample(3, generator=torch.Generator().manual_seed(0))
    assert so3.representation("irrep:1")(r).shape == (3, 3, 3)
    assert G.Torus(2).escnn is None
