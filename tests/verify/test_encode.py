"""One encoder call for verify_group, the metrics and the CLI (groupdrl.verify.encode)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from groupdrl.verify import verify
from groupdrl.verify.encode import CachedEncoder, as_codes, cached, encode, encoder_device, load_encoder
from groupdrl.verify.metrics import mig
from groupdrl.worlds import Factor, World


def circle_code(states: torch.Tensor) -> torch.Tensor:
    """(cos, sin) of each factor's angle on a 4 × 4 world: linearly disentangled."""
    t = 2 * math.pi * states.double() / 4
    return torch.cat([t[:, :1].cos(), t[:, :1].sin(), t[:, 1:].cos(), t[:, 1:].sin()], 1)


class DeviceEncoder(torch.nn.Module):
    """An encoder living on ``device`` in float64 that asserts every input is on its device, in its dtype.

    The ``meta`` device holds no values, so there the code is computed from the CPU batch the world
    rendered last (``world.rendered``); on a real device (CUDA) from the input itself, and returned there.
    """

    def __init__(self, device: str, world) -> None:
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones((), device=device, dtype=torch.float64))
        self.world = world
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.device == self.scale.device, f"input on {x.device}, encoder on {self.scale.device}"
        assert x.dtype == torch.float64, f"input dtype {x.dtype}, encoder dtype float64"
        assert not torch.is_grad_enabled()
        self.calls += 1
        if x.device.type == "meta":
            return circle_code(self.world.rendered[-1])
        return circle_code(x) * self.scale


def logging_world() -> World:
    world = World([Factor("a", 4), Factor("b", 4)], render=lambda s: world.rendered.append(s.float()) or s.float())
    world.rendered = []
    return world


@pytest.mark.parametrize("device", ["meta", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="needs a CUDA device"))])
def test_verify_moves_observations_to_the_encoder_device(device):
    """Both halves of verify() (group definition and every metric) call the encoder on its own device, and
    the report is the one the same code gives as a plain CPU function."""
    kwargs = dict(group_kwargs={"n_states": 64}, intuitive_kwargs={"n_train": 100, "n_test": 50})
    world = logging_world()
    enc = DeviceEncoder(device, world)
    report = verify(enc, world, **kwargs)
    assert enc.calls > 0 and report.group.disentangled, report.group.reasons
    cpu = verify(circle_code, world, **kwargs)
    assert report.intuitive.scores == pytest.approx(cpu.intuitive.scores, abs=1e-12)
    assert report.group.equivariance_error == pytest.approx(cpu.group.equivariance_error, abs=1e-12)


def test_encoder_device_reads_modules_and_their_methods():
    lin = torch.nn.Linear(2, 2).double()
    assert encoder_device(lin) == (torch.device("cpu"), torch.float64)
    assert encoder_device(lin.forward) == (torch.device("cpu"), torch.float64)
    assert encoder_device(lambda x: x) == (None, None)


def test_dict_states_are_sliced_per_batch():
    class DictWorld:
        def render(self, s):
            return torch.stack([s["a"], s["b"]], 1).float()

    states = {"a": torch.arange(10), "b": torch.arange(10) % 3}
    z = encode(lambda x: x * 2, DictWorld(), states, batch_size=3)
    np.testing.assert_array_equal(z, np.stack([np.arange(10), np.arange(10) % 3], 1) * 2.0)


@pytest.mark.parametrize(
    "output, exc, match",
    [
        (lambda x: x.to(torch.complex64), TypeError, "complex"),
        (lambda x: x.numpy().astype(np.complex128), TypeError, "complex"),
        (lambda x: (x, x), TypeError, "tuple"),
        (lambda x: None, TypeError, "NoneType"),
        (lambda x: x[:, 0], ValueError, r"expected a \(\d+, d\) array"),
        (lambda x: x[:1], ValueError, "rows"),
        (lambda x: x[:, :0], ValueError, "shape"),
        (lambda x: x * math.nan, ValueError, "NaN or inf"),
        (lambda x: x.numpy().astype(object), TypeError, "dtype object"),
    ],
)
def test_bad_encoder_outputs_are_refused_everywhere(output, exc, match):
    world = logging_world()
    states = world.sample_states(8, generator=torch.Generator().manual_seed(0))
    with pytest.raises(exc, match=match):
        encode(output, world, states)
    with pytest.raises(exc, match="encoder output"):
        mig(output, world, n_train=20)


def test_as_codes_accepts_real_arrays_and_refuses_the_rest():
    np.testing.assert_array_equal(as_codes(torch.tensor([[True], [False]])), [[1.0], [0.0]])
    assert as_codes([[1, 2], [3, 4]]).dtype == np.float64
    with pytest.raises(TypeError, match="codes"):
        as_codes("abc")
    with pytest.raises(TypeError, match="batch_size|encoder"):
        encode("not callable", logging_world(), torch.zeros(1, 2, dtype=torch.long))
    with pytest.raises(ValueError, match="batch_size"):
        encode(lambda x: x, logging_world(), torch.zeros(1, 2, dtype=torch.long), batch_size=0)


class Counting:
    """A deterministic encoder that counts the observations it is given."""

    def __init__(self) -> None:
        self.rows = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        self.rows += len(x)
        return circle_code(x)


def test_cached_encoder_encodes_each_state_once_and_gives_the_same_codes():
    world = World([Factor("a", 4), Factor("b", 4)], render=lambda s: s.float())
    states = world.sample_states(1000, generator=torch.Generator().manual_seed(0))
    plain, counting = Counting(), Counting()
    table = cached(counting, world)
    assert isinstance(table, CachedEncoder) and cached(table, world) is table
    np.testing.assert_array_equal(encode(table, world, states, batch_size=7), encode(plain, world, states))
    np.testing.assert_array_equal(encode(table, world, states[:10]), encode(plain, world, states[:10]))
    assert counting.rows == table.encoded == 16 and table.served == 1010
    assert table(world.render(states[:3])).shape == (3, 4)  # called directly it is the encoder


def test_verify_encodes_every_state_of_a_small_world_once():
    world = World([Factor("a", 4), Factor("b", 4)], render=lambda s: s.float())
    enc = Counting()
    report = verify(enc, world, group_kwargs={"n_states": 64}, intuitive_kwargs={"n_train": 500, "n_test": 200})
    assert enc.rows == 16  # BetaVAE, FactorVAE, traversals and the group half ask for > 100,000 codes
    assert report.group.disentangled
    again = verify(Counting(), world, group_kwargs={"n_states": 64},
                   intuitive_kwargs={"n_train": 500, "n_test": 200, "encode_once": False})
    assert again.intuitive.scores == report.intuitive.scores  # exact for a deterministic encoder


def test_cache_falls_back_when_the_table_is_too_large_or_there_is_no_grid():
    world = World([Factor("a", 4), Factor("b", 4)], render=lambda s: s.float())
    enc = Counting()
    small = CachedEncoder(enc, world, max_bytes=16 * 4 * 8 - 1)  # one byte short of the table
    states = world.sample_states(100, generator=torch.Generator().manual_seed(0))
    np.testing.assert_array_equal(encode(small, world, states), encode(circle_code, world, states))
    assert not small.table
    encode(small, world, states)
    assert enc.rows == 16 + 200  # the first call's table, then the plain path
    from groupdrl.groups import SO2

    continuous = World([Factor("t", group=SO2())], render=lambda s: s.float())
    assert cached(circle_code, continuous) is circle_code


class Encoder(torch.nn.Module):
    """A module encoder whose forward returns the codes."""

    def __init__(self, d: int = 3) -> None:
        super().__init__()
        self.lin = torch.nn.Linear(2, d)

    def forward(self, x):
        return self.lin(x.float())


def make_encoder(d: int = 5) -> Encoder:
    return Encoder(d)


def test_load_encoder_accepts_modules_functions_and_factories():
    module = Encoder().train()
    assert load_encoder(module, device="cpu") is module and not module.training
    assert load_encoder(circle_code) is circle_code
    built = load_encoder(Encoder)  # a class is a factory
    assert isinstance(built, Encoder) and not built.training
    assert load_encoder(make_encoder).lin.out_features == 5  # every parameter has a default: a factory
    assert load_encoder(lambda: circle_code) is circle_code
    with pytest.raises(TypeError, match="factory .* returned int"):
        load_encoder(lambda: 3)
    with pytest.raises(TypeError, match="expected an nn.Module"):
        load_encoder(3)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device"):
            load_encoder(Encoder(), device="cuda")
