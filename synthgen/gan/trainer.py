"""GeneGAN training step and loop.

Two adversarial modes:
- "wgan" (the reference): weight-clipped WGAN critics, RMSProp at lr 5e-5, clip 0.01.
- "hinge" (the stable option): hinge loss, spectral-norm critics, Adam (2e-4, betas 0.5/0.999).

One step = one generator update, then one update of each critic on the same (detached) fakes:
the swap images are computed once per step, which halves the CPU cost of a step.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import RunError
from . import losses as L
from .data import to_tensor, to_uint8
from .model import GeneGAN, GeneGANConfig


@dataclass
class TrainConfig:
    mode: str = "hinge"  # "wgan" (reference) or "hinge"
    batch: int = 32
    lr: float | None = None  # default per mode: wgan 5e-5, hinge 2e-4
    clip: float = 0.01  # wgan critic weight clip
    w_rec: float = 10.0
    w_null: float = 1.0
    w_para: float = 1.0
    w_adv: float = 1.0
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in L.ADVERSARIAL:
            raise ValueError(f"mode must be one of {sorted(L.ADVERSARIAL)}")
        if self.lr is None:
            self.lr = 5e-5 if self.mode == "wgan" else 2e-4


def build(cfg: GeneGANConfig, tcfg: TrainConfig) -> GeneGAN:
    """The networks, initialised from tcfg.seed only (global torch RNG state is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tcfg.seed)
        return GeneGAN(cfg)


def forward(model: GeneGAN, a_u: torch.Tensor, b_0: torch.Tensor) -> dict[str, torch.Tensor]:
    """Encode both sets, decode the four combinations in one decoder call."""
    g = model.gen
    a, u = g.enc(a_u)
    b, e = g.enc(b_0)
    zero = torch.zeros_like(u)
    out = g.dec(torch.cat([a, b, a, b]), torch.cat([u, zero, zero, u]))
    a_u_rec, b_0_rec, a_0, b_u = out.chunk(4)
    return {"a": a, "u": u, "b": b, "e": e, "a_u_rec": a_u_rec, "b_0_rec": b_0_rec, "a_0": a_0, "b_u": b_u}


class Trainer:
    def __init__(self, cfg: GeneGANConfig, tcfg: TrainConfig, device: str = "cpu") -> None:
        if tcfg.mode == "hinge" and not cfg.spectral_norm:
            cfg = GeneGANConfig(**{**cfg.__dict__, "spectral_norm": True})
        self.cfg, self.tcfg, self.device = cfg, tcfg, device
        self.model = build(cfg, tcfg).to(device)
        gp = self.model.gen.parameters()
        dp = list(self.model.d_with.parameters()) + list(self.model.d_without.parameters())
        if tcfg.mode == "wgan":
            self.opt_g = torch.optim.RMSprop(gp, lr=tcfg.lr)
            self.opt_d = torch.optim.RMSprop(dp, lr=tcfg.lr)
        else:
            self.opt_g = torch.optim.Adam(gp, lr=tcfg.lr, betas=(0.5, 0.999))
            self.opt_d = torch.optim.Adam(dp, lr=tcfg.lr, betas=(0.5, 0.999))
        self.crit_loss, self.gen_loss = L.ADVERSARIAL[tcfg.mode]
        self.steps = 0

    def clip_critics(self) -> None:
        c = self.tcfg.clip
        with torch.no_grad():
            for p in list(self.model.d_with.parameters()) + list(self.model.d_without.parameters()):
                p.clamp_(-c, c)

    def step(self, a_u: torch.Tensor, b_0: torch.Tensor) -> dict[str, float]:
        t, m = self.tcfg, self.model
        m.train()
        f = forward(m, a_u, b_0)
        rec = L.reconstruction(a_u, f["a_u_rec"], b_0, f["b_0_rec"])
        null = L.nulling(f["e"])
        para = L.parallelogram(a_u, b_0, f["a_0"], f["b_u"])
        for p in list(m.d_with.parameters()) + list(m.d_without.parameters()):
            p.requires_grad_(False)
        adv = self.gen_loss(m.d_with(f["b_u"])) + self.gen_loss(m.d_without(f["a_0"]))
        g_loss = t.w_rec * rec + t.w_null * null + t.w_para * para + t.w_adv * adv
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        for p in list(m.d_with.parameters()) + list(m.d_without.parameters()):
            p.requires_grad_(True)
        b_u, a_0 = f["b_u"].detach(), f["a_0"].detach()
        d_loss = self.crit_loss(m.d_with(a_u), m.d_with(b_u)) + self.crit_loss(m.d_without(b_0), m.d_without(a_0))
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        if t.mode == "wgan":
            self.clip_critics()
        self.steps += 1
        vals = torch.stack([rec, null, para, adv, d_loss, g_loss]).detach().tolist()
        return dict(zip(("rec", "null", "para", "adv_g", "d", "g"), vals))


def sample_grid(model: GeneGAN, a_u: torch.Tensor, b_0: torch.Tensor) -> np.ndarray:
    """Columns: A_u | B_0 | A_0 (attribute removed) | B_u (attribute added); one row per pair."""
    model.eval()
    with torch.no_grad():
        f = forward(model, a_u, b_0)
    cols = [to_uint8(x) for x in (a_u, b_0, f["a_0"], f["b_u"])]
    rows = [np.concatenate([c[i] for c in cols], 1) for i in range(a_u.shape[0])]
    return np.concatenate(rows, 0)


def train(source: Any, cfg: GeneGANConfig, tcfg: TrainConfig, steps: int, out: Path, device: str = "cpu",
          sample_every: int = 500, log_every: int = 25, progress: bool = True,
          trainer: Trainer | None = None, attr: str = "glasses", max_seconds: float | None = None) -> Trainer:
    """Train for `steps` (or until `max_seconds` have passed), writing out/log.csv, out/samples/step_NNNNNN.png and out/checkpoint/."""
    import cv2

    from .checkpoint import save

    out = Path(out)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    tr = trainer or Trainer(cfg, tcfg, device)
    rng = np.random.default_rng(tcfg.seed)  # batch order of this training run (not a renderer)
    fa, fb = source.batch(np.random.default_rng(tcfg.seed + 1), 8)
    fixed = to_tensor(fa, device), to_tensor(fb, device)
    it = range(steps)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = it = tqdm(it, desc=f"gan train ({tcfg.mode})", unit="step")
    t0 = time.perf_counter()
    with open(out / "log.csv", "a", newline="") as fh:
        w = csv.writer(fh)
        if fh.tell() == 0:
            w.writerow(["step", "seconds", "rec", "null", "para", "adv_g", "d", "g"])
        for _ in it:
            a, b = source.batch(rng, tcfg.batch)
            logs = tr.step(to_tensor(a, device), to_tensor(b, device))
            s = tr.steps
            if not all(math.isfinite(v) for v in logs.values()):  # never save a NaN checkpoint over a good one
                bad = ", ".join(k for k, v in logs.items() if not math.isfinite(v))
                raise RunError(f"training diverged at step {s} ({bad} not finite); lower --lr or change --seed "
                               f"(the last good checkpoint, if any, is kept in {out / 'checkpoint'})")
            last = _ == steps - 1 or (max_seconds is not None and time.perf_counter() - t0 > max_seconds)
            if s % log_every == 0 or s == 1 or last:
                w.writerow([s, round(time.perf_counter() - t0, 2)] + [round(logs[k], 5) for k in
                                                                       ("rec", "null", "para", "adv_g", "d", "g")])
                fh.flush()
                if bar is not None:
                    bar.set_postfix(rec=f"{logs['rec']:.3f}", para=f"{logs['para']:.3f}", d=f"{logs['d']:.3f}")
            if s % sample_every == 0 or last:
                g = sample_grid(tr.model, *fixed)
                cv2.imwrite(str(out / "samples" / f"step_{s:06d}.png"), cv2.cvtColor(g, cv2.COLOR_RGB2BGR))
                save(out / "checkpoint", tr, meta={"steps": s, "seconds": round(time.perf_counter() - t0, 1),
                                                    "train": asdict(tcfg)}, attr=attr)
            if last:
                break
    return tr
