"""A sweep's grid: models × worlds × world options × hyperparameters × seeds, from a TOML/YAML file or a dict.

A grid file (TOML; ``.yaml``/``.yml`` when PyYAML is installed)::

    seeds = [0, 1, 2]                  # or an int n: seeds 0 … n-1

    [fit]                              # one fit setting for every run
    steps = 3000
    batch_size = 32
    lr = 1e-3
    checkpoint_every = 500             # how often a run can be resumed from (not part of a run's identity)

    [verify]                           # how every run is verified
    full = true                        # false: verify_group + MIG/DCI only (what `groupdrl compare` shows)
    n_metric = 2000                    # states of the intuitive metrics
    seed = 0                           # seed of the verifier's samples (the same for every run)

    [resources]                        # per task, so Ray packs them (flags override)
    cpus = 1
    gpus = 0                           # > 0: the run trains on CUDA; fractions share a GPU

    [[models]]
    name = "beta_vae"
    hparams = { latent_dim = 10 }      # fixed
    grid = { beta = [1, 4, 16] }       # each key is an axis of the grid

    [[worlds]]
    name = "flatland"
    options = { image_size = 16 }
    grid = { n = [8, 16] }

``models = ["beta_vae", "hae"]`` and ``worlds = ["flatland"]`` are short for entries with only a name.
Each grid point becomes one run directory named after it (:attr:`Point.name`).
"""
from __future__ import annotations

import hashlib
import inspect
import itertools
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

#: Defaults of the ``[fit]`` table (those of ``groupdrl train``).
FIT = {"steps": 2000, "batch_size": 64, "lr": 1e-3, "checkpoint_every": 500}
#: Defaults of the ``[verify]`` table (those of ``groupdrl verify``).
VERIFY = {"full": True, "n_metric": 10000, "seed": 0}
#: Defaults of the ``[resources]`` table: per-task CPUs and GPUs.
RESOURCES = {"cpus": 1, "gpus": 0}
_TOP = {"seeds", "models", "worlds", "fit", "verify", "resources"}
_ENTRY = {"name", "hparams", "options", "grid"}
_NAME_MAX = 160


@dataclass
class Point:
    """One run of a sweep: a model with its hyperparameters on a world with its options, a seed, and how it
    is trained and verified. ``to_dict()`` is what its run directory records (``point.json``)."""

    model: str
    hparams: dict
    world: str
    world_options: dict
    seed: int
    fit: dict = field(default_factory=lambda: {k: FIT[k] for k in ("steps", "batch_size", "lr")})
    verify: dict = field(default_factory=lambda: dict(VERIFY))

    @property
    def name(self) -> str:
        """Run directory name, e.g. ``beta_vae+beta=4__flatland+image_size=16+n=8__seed0``.

        Hyperparameters and world options in sorted order; characters outside ``[A-Za-z0-9._=+-]`` become
        ``-``; a name longer than 160 characters is cut and ends with a hash of the point.
        """
        name = f"{label(self.model, self.hparams)}__{label(self.world, self.world_options)}__seed{self.seed}"
        name = re.sub(r"[^A-Za-z0-9._=+-]", "-", name)
        if len(name) > _NAME_MAX:
            digest = hashlib.sha1(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()[:10]
            name = f"{name[:_NAME_MAX - 11]}-{digest}"
        return name

    def identity(self) -> dict:
        """What names the run: model, hyperparameters, world, world options, seed (not fit/verify settings)."""
        return {"model": {"name": self.model, "hparams": self.hparams},
                "world": {"name": self.world, "kwargs": self.world_options}, "seed": self.seed}

    def to_dict(self) -> dict:
        return {**self.identity(), "fit": dict(self.fit), "verify": dict(self.verify)}

    @classmethod
    def from_dict(cls, d: dict) -> Point:
        return cls(model=d["model"]["name"], hparams=dict(d["model"]["hparams"]), world=d["world"]["name"],
                   world_options=dict(d["world"]["kwargs"]), seed=d["seed"], fit=dict(d["fit"]),
                   verify=dict(d["verify"]))


@dataclass
class Entry:
    """A model or world of the grid: ``name``, fixed keyword arguments, and axes (key → list of values)."""

    name: str
    fixed: dict
    axes: dict

    def settings(self) -> list[dict]:
        """Every combination of the axes, each merged with the fixed keywords (axes in sorted key order)."""
        keys = sorted(self.axes)
        return [{**self.fixed, **dict(zip(keys, combo))} for combo in itertools.product(*(self.axes[k] for k in keys))]


@dataclass
class Grid:
    """The whole sweep: ``points()`` is the list of runs (models × model settings × worlds × world settings ×
    seeds, in that nesting order); ``checkpoint_every`` and ``resources`` say how each run is executed."""

    models: list[Entry]
    worlds: list[Entry]
    seeds: list[int]
    fit: dict = field(default_factory=lambda: dict(FIT))
    verify: dict = field(default_factory=lambda: dict(VERIFY))
    resources: dict = field(default_factory=lambda: dict(RESOURCES))

    @property
    def checkpoint_every(self) -> int:
        return self.fit["checkpoint_every"]

    def points(self) -> list[Point]:
        fit = {k: self.fit[k] for k in ("steps", "batch_size", "lr")}
        points = [Point(m.name, hp, w.name, wo, seed, dict(fit), dict(self.verify))
                  for m in self.models for hp in m.settings()
                  for w in self.worlds for wo in w.settings() for seed in self.seeds]
        seen: dict[str, Point] = {}
        for p in points:
            other = seen.setdefault(p.name, p)
            if other is not p:
                raise ValueError(f"grid: two grid points share the run name {p.name!r} ({other.identity()} and "
                                 f"{p.identity()}); a model or world listed twice with the same settings, or "
                                 "values that differ only in characters a directory name cannot hold")
        return points

    def to_dict(self) -> dict:
        """The grid in the layout of a grid file (``grid_from_dict(grid.to_dict())`` rebuilds it)."""
        return {"seeds": list(self.seeds),
                "models": [{"name": m.name, "hparams": m.fixed, "grid": m.axes} for m in self.models],
                "worlds": [{"name": w.name, "options": w.fixed, "grid": w.axes} for w in self.worlds],
                "fit": dict(self.fit), "verify": dict(self.verify), "resources": dict(self.resources)}


def load_grid(path: str | Path) -> Grid:
    """Read a grid file: TOML (``tomllib``), or YAML for ``.yaml``/``.yml`` (needs PyYAML)."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"config: {path} is not a file")
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ValueError(f"config: {path} is YAML and PyYAML is not installed; pip install pyyaml or use "
                             "TOML") from None
        try:
            spec = yaml.safe_load(path.read_text())
        except yaml.YAMLError as err:
            raise ValueError(f"config: {path} is not valid YAML ({err})") from None
    else:
        import tomllib

        try:
            spec = tomllib.loads(path.read_text())
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"config: {path} is not valid TOML ({err})") from None
    return grid_from_dict(spec, where=str(path))


def grid_from_dict(spec: dict, where: str = "grid") -> Grid:
    """Validate a grid given as a dict (the layout of a grid file, see the module docstring).

    Unknown model or world names, unknown hyperparameter names, unknown keys and wrongly typed settings
    raise ``ValueError``/``TypeError`` naming where they are.
    """
    if not isinstance(spec, dict):
        raise TypeError(f"{where}: expected a table (dict), got {type(spec).__name__}")
    _known(spec, _TOP, where)
    for key in ("models", "worlds", "seeds"):
        if key not in spec:
            raise ValueError(f"{where}: '{key}' is required")
    models = [_entry(e, f"{where}: models[{i}]", "hparams") for i, e in enumerate(_list(spec["models"], f"{where}: models"))]
    worlds = [_entry(e, f"{where}: worlds[{i}]", "options") for i, e in enumerate(_list(spec["worlds"], f"{where}: worlds"))]
    for i, m in enumerate(models):
        _check_model(m, f"{where}: models[{i}]")
    for i, w in enumerate(worlds):
        _check_world(w, f"{where}: worlds[{i}]")
    return Grid(models=models, worlds=worlds, seeds=_seeds(spec["seeds"], f"{where}: seeds"),
                fit=_fit({**FIT, **_table(spec, "fit", FIT, where)}, f"{where}: fit"),
                verify=_verify({**VERIFY, **_table(spec, "verify", VERIFY, where)}, f"{where}: verify"),
                resources=check_resources({**RESOURCES, **_table(spec, "resources", RESOURCES, where)},
                                          f"{where}: resources"))


def check_resources(res: dict, where: str = "resources") -> dict:
    """``{"cpus": ≥ 1 int, "gpus": ≥ 0 number}`` per task."""
    cpus, gpus = res["cpus"], res["gpus"]
    if isinstance(cpus, bool) or not isinstance(cpus, int) or cpus < 1:
        raise ValueError(f"{where}: cpus must be a positive int (CPUs per task), got {cpus!r}")
    if isinstance(gpus, bool) or not isinstance(gpus, (int, float)) or not math.isfinite(gpus) or gpus < 0:
        raise ValueError(f"{where}: gpus must be a number ≥ 0 (GPUs per task; fractions share one), got {gpus!r}")
    return {"cpus": cpus, "gpus": gpus}


# ---- validation -----------------------------------------------------------------------------------------------

def _known(table: dict, allowed, where: str) -> None:
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(allowed)}")


def _list(value, where: str) -> list:
    if isinstance(value, (str, dict)):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: expected a non-empty list, got {value!r}")
    return value


def _table(spec: dict, key: str, allowed: dict, where: str) -> dict:
    table = spec.get(key, {})
    if not isinstance(table, dict):
        raise TypeError(f"{where}: [{key}] must be a table, got {type(table).__name__}")
    _known(table, allowed, f"{where}: [{key}]")
    return table


def _entry(e, where: str, fixed_key: str) -> Entry:
    if isinstance(e, str):
        e = {"name": e}
    if not isinstance(e, dict) or not isinstance(e.get("name"), str):
        raise ValueError(f"{where}: expected a name or a table with 'name', got {e!r}")
    _known(e, {"name", fixed_key, "grid"}, where)
    fixed, axes = e.get(fixed_key, {}), e.get("grid", {})
    for key, table in ((fixed_key, fixed), ("grid", axes)):
        if not isinstance(table, dict) or not all(isinstance(k, str) and k.isidentifier() for k in table):
            raise ValueError(f"{where}: '{key}' must be a table of identifier keys, got {table!r}")
    for k, values in axes.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: grid.{k} must be a non-empty list of values (one run per value), got "
                             f"{values!r}")
    both = sorted(set(fixed) & set(axes))
    if both:
        raise ValueError(f"{where}: {both} given both as fixed '{fixed_key}' and as grid axes")
    return Entry(e["name"], dict(fixed), {k: list(v) for k, v in axes.items()})


def _check_model(entry: Entry, where: str) -> None:
    """The name is registered and every hyperparameter is a keyword of the model's constructor."""
    from groupdrl import models

    try:
        cls = models.model_class(entry.name)
    except ValueError as err:
        raise ValueError(f"{where}: {err}") from None
    params = inspect.signature(cls.__init__).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    accepted = {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)} - {"self", "world"}
    unknown = sorted((set(entry.fixed) | set(entry.axes)) - accepted)
    if unknown:
        raise ValueError(f"{where}: model {entry.name!r} has no hyperparameter(s) {unknown}; it takes "
                         f"{sorted(accepted)}")


def _check_world(entry: Entry, where: str) -> None:
    """Every world setting builds (worlds validate their own options; building one is cheap)."""
    from groupdrl import worlds

    for options in entry.settings():
        try:
            worlds.get(entry.name, **options)
        except (ValueError, TypeError) as err:
            raise type(err)(f"{where}: world {entry.name!r} with {options}: {err}") from None


def _seeds(value, where: str) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise ValueError(f"{where}: an int means seeds 0 … n-1 and must be ≥ 1, got {value}")
        return list(range(value))
    if not isinstance(value, list) or not value or not all(isinstance(s, int) and not isinstance(s, bool)
                                                           for s in value):
        raise ValueError(f"{where}: expected a non-empty list of ints or an int n (seeds 0 … n-1), got {value!r}")
    if len(set(value)) != len(value):
        raise ValueError(f"{where}: repeated seeds in {value}")
    return list(value)


def _fit(fit: dict, where: str) -> dict:
    for key in ("steps", "batch_size", "checkpoint_every"):
        v = fit[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{where}: {key} must be a positive int, got {v!r}")
    lr = fit["lr"]
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"{where}: lr must be a positive finite number, got {lr!r}")
    return {**fit, "lr": float(lr)}


def _verify(verify: dict, where: str) -> dict:
    if not isinstance(verify["full"], bool):
        raise TypeError(f"{where}: full must be true or false, got {verify['full']!r}")
    for key, low in (("n_metric", 2), ("seed", 0)):
        v = verify[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ValueError(f"{where}: {key} must be an int ≥ {low}, got {v!r}")
    return verify


def label(name: str, kwargs: dict) -> str:
    """``name+key=value+…`` with the keywords in sorted order (e.g. ``flatland+image_size=16+n=8``)."""
    return name + "".join(f"+{k}={_value(kwargs[k])}" for k in sorted(kwargs))


def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "x".join(_value(x) for x in v)
    if isinstance(v, dict):
        return "-".join(f"{k}={_value(v[k])}" for k in sorted(v))
    return repr(v) if isinstance(v, float) else str(v)
