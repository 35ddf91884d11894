"""The one place escnn is imported: quietly, or with an ImportError that says how to install it."""
from __future__ import annotations

import warnings
from types import ModuleType

#: How to add escnn to an environment (also in the README and docs/install.md).
INSTALL = ('pip install "groupdrl[escnn]" && pip install --no-deps escnn==1.0.11 '
           "(or bash scripts/setup.sh for a ready .venv)")


def import_escnn(feature: str) -> ModuleType:
    """Import escnn (with its groups) for ``feature``, without escnn's ``py3nj`` warning.

    escnn is an optional extra: only the escnn-backed parts of groupdrl need it
    (:class:`groupdrl.nn.EquivariantImageEncoder`, the ``equivariant_vae`` model,
    the groups' ``.escnn`` counterparts and ``SO3`` irreps of degree >= 2). Without
    its Fortran ``py3nj`` dependency escnn warns on import and uses a numerical
    Clebsch–Gordan solver, which is what groupdrl relies on; that warning is silenced.

    Raises
    ------
    ImportError
        Naming ``feature`` and the install commands, when escnn (or its numpy-1-only
        dependency ``lie_learn``) cannot be imported.
    """
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="`py3nj` package not found", category=UserWarning)
            import escnn
            import escnn.group  # noqa: F401  (imports SO(3), where the py3nj warning is raised)
    except ImportError as err:
        raise ImportError(f"escnn, an optional extra of groupdrl that needs numpy<2, is needed for {feature}: "
                          f"{INSTALL}; the import failed with: {err}") from err
    return escnn
