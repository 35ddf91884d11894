"""Declared hyperparameter ranges, checked before a model is built (issue 10: ``--set beta=-1`` trained with
a negative KL weight, ``--set beta=nan`` failed later as "lower the learning rate")."""
from __future__ import annotations

import math

import pytest

from groupdrl import cli, models
from groupdrl.models.hparams import COUNT, NONNEGATIVE, WIDTHS, Range, check_hparams, ranges
from groupdrl.worlds import vector_world

WORLD = vector_world((4, 3), names=("a", "b"), embedding="onehot")


@pytest.mark.parametrize("value, exc", [(-1, ValueError), (math.nan, ValueError), (math.inf, ValueError),
                                        ("abc", TypeError), (True, TypeError), (None, TypeError)])
def test_bad_beta_is_refused_naming_it(value, exc):
    with pytest.raises(exc, match=r"^beta: expected"):
        models.get("beta_vae", WORLD, beta=value)
    with pytest.raises(exc, match=r"^beta: expected"):
        models.BetaVAE(WORLD, beta=value)  # built directly too


@pytest.mark.parametrize("setting", ["beta=-1", "beta=nan", "latent_dim=0", "hidden=[64,-3]"])
def test_cli_refuses_before_training(tmp_path, capsys, setting):
    assert cli.main(["train", "beta_vae", "--world", "vector", "--steps", "2", "--out", str(tmp_path / "r"),
                     "--set", setting, "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"error: {setting.split('=')[0]}" in err and not (tmp_path / "r").exists()


def test_every_model_declares_its_numeric_hyperparameters():
    """Each registered model's numeric keyword arguments (all but names, flags and the world) have a range."""
    import inspect

    for name in models.names():
        cls = models.model_class(name)
        params = inspect.signature(cls.__init__).parameters
        numeric = {k for k, p in params.items() if k not in ("self", "world")
                   and (isinstance(p.default, (int, float)) and not isinstance(p.default, bool)
                        or isinstance(p.default, tuple) or k in ("latent_dim", "lambda_d", "dataset_size"))}
        missing = numeric - set(ranges(cls))
        assert not missing, f"{name}: no declared range for {sorted(missing)}"


def test_defaults_lie_in_their_ranges():
    for name in models.names():
        cls = models.model_class(name)
        import inspect

        defaults = {k: p.default for k, p in inspect.signature(cls.__init__).parameters.items()
                    if p.default is not inspect.Parameter.empty}
        check_hparams(cls, defaults)


def test_ranges_merge_along_the_hierarchy_and_sequences_are_checked_entrywise():
    class Base:
        hparam_ranges = {"a": WIDTHS, "b": NONNEGATIVE, "c": COUNT}

    class Child(Base):
        hparam_ranges = {"b": Range(1.0, 2.0)}

    assert ranges(Child) == {"a": WIDTHS, "b": Range(1.0, 2.0), "c": COUNT}
    check_hparams(Child, {"a": [1, 2], "b": 1.5, "c": 3, "other": -1})
    with pytest.raises(ValueError, match=r"^a\[1\]: expected an int >= 1, got 0"):
        check_hparams(Child, {"a": [1, 0]})
    with pytest.raises(TypeError, match=r"^a: expected a list of ints, got int 3"):
        check_hparams(Child, {"a": 3})
    with pytest.raises(TypeError, match=r"^c: expected an int, got list"):
        check_hparams(Child, {"c": [3]})
    with pytest.raises(ValueError, match=r"^b: expected a finite number in \[1, 2\]"):
        check_hparams(Child, {"b": 0.5})
    Range(0, 1, integer=True, optional=True).check(None, "x")
    with pytest.raises(ValueError, match="x: expected an int <= 0"):
        Range(None, 1, integer=True, open_high=True).check(1, "x")
