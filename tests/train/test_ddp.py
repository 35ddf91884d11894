"""Distributed data parallel on 2 CPU processes (gloo), launched the way users launch it: torchrun."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import torch

SCRIPT = textwrap.dedent("""
    import sys, torch, torch.distributed as dist
    from groupdrl import models
    from groupdrl.train import fit
    from groupdrl.worlds import vector_world

    out = sys.argv[1]
    world = vector_world((6, 5), embedding="onehot")
    model = models.get("beta_vae", world, seed=0, latent_dim=4, hidden=[16])
    fit(model, world, steps=6, batch_size=8, seed=3, out_dir=out, checkpoint_every=3, quiet=True, log_every=1)
    rank = int(__import__("os").environ["RANK"])
    torch.save({k: v.clone() for k, v in model.state_dict().items()}, f"{out}/rank{rank}.pt")
""")


def test_two_cpu_processes_stay_in_sync(tmp_path):
    script = tmp_path / "ddp_run.py"
    script.write_text(SCRIPT)
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", str(script), str(out)],
        capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0 = torch.load(out / "rank0.pt", weights_only=True)
    r1 = torch.load(out / "rank1.pt", weights_only=True)
    assert all(torch.equal(r0[k], r1[k]) for k in r0)  # gradients were averaged across the two processes
    config = json.loads((out / "config.json").read_text())
    assert config["fit"]["world_size"] == 2
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 6 and all(torch.equal(ckpt["model"][k], r0[k]) for k in r0)
    # each process drew its own batches: a single-process run with the same seed ends elsewhere
    from groupdrl import models
    from groupdrl.train import fit
    from groupdrl.worlds import vector_world

    world = vector_world((6, 5), embedding="onehot")
    single = fit(models.get("beta_vae", world, seed=0, latent_dim=4, hidden=[16]), world, steps=6, batch_size=8,
                 seed=3, out_dir=tmp_path / "single", quiet=True)
    assert not all(torch.equal(v, r0[k]) for k, v in single.state_dict().items())
