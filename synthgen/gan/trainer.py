"""GeneGAN training step and loop.

Two adversarial modes:
- "wgan" (the reference): weight-clipped WGAN critics, RMSProp at lr 5e-5, clip 0.01.
- "hinge" (the stable option): hinge loss, spectral-norm critics, Adam (2e-4, betas 0.5/0.999).

One step = one generator update, then one update of each critic on the same (detached) fakes:
the swap images are computed once per step, which halves the CPU cost of a step.

Losses (w_* in TrainConfig): the reference terms -- reconstruction, nulling, parallelogram --
act on the decoder's image; the critics judge the output image. With compose "none" the two are
the same image (the paper's objective). With compose "mask" the output is
mask * decoded + (1 - mask) * input, and priors on the swap masks keep the change to the pixels
the attribute owns: sparsity (w_mask x the mean), area (w_area x the share beyond mask_budget)
and total variation (w_tv). w_rec_mask x the mean of the reconstruction masks (Dec(A, u),
Dec(B, 0)) asks those to be 0, so reconstructing an image (and lambda = 0) returns the input
exactly; off (0) by default, the reconstruction loss then sees only the decoder's image and the
reconstruction masks are free. Reconstruction is L1 plus
w_grad x an L1 on image gradients (w_grad 0 = the paper's plain L1). The generator's weights
are also tracked as an exponential moving average (decay `ema`; 0 = off), which is what
sample grids, checkpoints for inference and exports use. The mask head's image branch
(mask_input) learns at MASK_IMAGE_LR x the generator's rate: it starts at zero beside a trained
model, and at the base rate its weights were still moving by the full Adam step every step
(one consistent direction) 500 steps in.
"""

from __future__ import annotations

import copy
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


MASK_IMAGE_LR = 5.0  # learning-rate factor of the mask head's image branch (mask_input)


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
    w_grad: float = 1.0  # gradient term of the reconstruction (0: the paper's L1 only)
    w_mask: float = 0.05  # compose "mask": mean of the swap masks
    w_area: float = 10.0  # compose "mask": each swap mask's area beyond mask_budget
    mask_budget: float = 0.06  # share of the image a swap mask covers for free (glasses: ~4% of a face crop)
    w_tv: float = 0.1  # compose "mask": total variation of the swap masks
    w_rec_mask: float = 0.0  # compose "mask": mean of the reconstruction masks (0: off, the old behaviour)
    ema: float = 0.999  # decay of the generator's moving average (0: off)
    seed: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in L.ADVERSARIAL:
            raise ValueError(f"mode must be one of {sorted(L.ADVERSARIAL)}")
        if self.lr is None:
            self.lr = 5e-5 if self.mode == "wgan" else 2e-4
        if not 0.0 <= self.ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {self.ema}")


def build(cfg: GeneGANConfig, tcfg: TrainConfig) -> GeneGAN:
    """The networks, initialised from tcfg.seed only (global torch RNG state is restored)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(tcfg.seed)
        return GeneGAN(cfg)


def forward(model: GeneGAN, a_u: torch.Tensor, b_0: torch.Tensor, gen: Any = None) -> dict[str, torch.Tensor]:
    """Encode both sets, decode the four combinations in one decoder call. Keys: the latents
    a, u, b, e; the output images a_u_rec, b_0_rec, a_0, b_u; with compose "mask" also the
    decoder's images (raw_*) and masks (mask_*), each N x 1 x 64 x 64."""
    g = gen if gen is not None else model.gen
    a, u = g.enc(a_u)
    b, e = g.enc(b_0)
    zero = torch.zeros_like(u)
    out, raw, mask = g.render(torch.cat([a, b, a, b]), torch.cat([u, zero, zero, u]),
                              torch.cat([a_u, b_0, a_u, b_0]))
    names = ("a_u_rec", "b_0_rec", "a_0", "b_u")
    f = {"a": a, "u": u, "b": b, "e": e, **dict(zip(names, out.chunk(4)))}
    if mask is not None:
        f.update({"raw_" + k: v for k, v in zip(names, raw.chunk(4))})
        f.update({"mask_" + k: v for k, v in zip(names, mask.chunk(4))})
    return f


class Trainer:
    def __init__(self, cfg: GeneGANConfig, tcfg: TrainConfig, device: str = "cpu") -> None:
        if tcfg.mode == "hinge" and not cfg.spectral_norm:
            cfg = GeneGANConfig(**{**cfg.__dict__, "spectral_norm": True})
        self.cfg, self.tcfg, self.device = cfg, tcfg, device
        self.model = build(cfg, tcfg).to(device)
        gp = list(self.model.gen.parameters())
        branch = self.model.gen.dec.mask_image
        if branch is not None:  # its parameters are the generator's last, so optimiser indices stay
            own = {id(p) for p in branch.parameters()}
            gp = [{"params": [p for p in gp if id(p) not in own]},
                  {"params": list(branch.parameters()), "lr": tcfg.lr * MASK_IMAGE_LR}]
        dp = list(self.model.d_with.parameters()) + list(self.model.d_without.parameters())
        if tcfg.mode == "wgan":
            self.opt_g = torch.optim.RMSprop(gp, lr=tcfg.lr)
            self.opt_d = torch.optim.RMSprop(dp, lr=tcfg.lr)
        else:
            self.opt_g = torch.optim.Adam(gp, lr=tcfg.lr, betas=(0.5, 0.999))
            self.opt_d = torch.optim.Adam(dp, lr=tcfg.lr, betas=(0.5, 0.999))
        self.crit_loss, self.gen_loss = L.ADVERSARIAL[tcfg.mode]
        self.steps = 0
        self.seconds = 0.0  # training time so far, over resumed runs
        self.ema = None  # the moving average of the generator, a separate copy (None: ema 0)
        if tcfg.ema > 0:
            self.ema = copy.deepcopy(self.model.gen).eval()
            for p in self.ema.parameters():
                p.requires_grad_(False)

    @property
    def inference_gen(self):
        """The generator inference and export use: the moving average when there is one."""
        return self.ema if self.ema is not None else self.model.gen

    def reset_ema(self) -> None:
        """Restart the moving average from the current weights (after loading weights)."""
        if self.ema is not None:
            self.ema.load_state_dict(self.model.gen.state_dict())

    @torch.no_grad()
    def update_ema(self) -> None:
        # warm-up as in TF's ExponentialMovingAverage(num_updates): early steps follow the weights
        d = min(self.tcfg.ema, (1.0 + self.steps) / (10.0 + self.steps))
        for pe, p in zip(self.ema.parameters(), self.model.gen.parameters()):
            pe.lerp_(p, 1.0 - d)
        for be, b in zip(self.ema.buffers(), self.model.gen.buffers()):
            be.copy_(b)

    def clip_critics(self) -> None:
        c = self.tcfg.clip
        with torch.no_grad():
            for p in list(self.model.d_with.parameters()) + list(self.model.d_without.parameters()):
                p.clamp_(-c, c)

    def step(self, a_u: torch.Tensor, b_0: torch.Tensor) -> dict[str, float]:
        t, m = self.tcfg, self.model
        m.train()
        f = forward(m, a_u, b_0)
        masked = "mask_a_0" in f
        # the reference terms act on the decoder's image (the same as the output without a mask)
        r = {k: f["raw_" + k] if masked else f[k] for k in ("a_u_rec", "b_0_rec", "a_0", "b_u")}
        rec = L.reconstruction(a_u, r["a_u_rec"], b_0, r["b_0_rec"])
        if t.w_grad:
            rec = rec + t.w_grad * (L.gradient_l1(a_u, r["a_u_rec"]) + L.gradient_l1(b_0, r["b_0_rec"]))
        null = L.nulling(f["e"])
        para = L.parallelogram(a_u, b_0, r["a_0"], r["b_u"])
        for p in list(m.d_with.parameters()) + list(m.d_without.parameters()):
            p.requires_grad_(False)
        adv = self.gen_loss(m.d_with(f["b_u"])) + self.gen_loss(m.d_without(f["a_0"]))
        g_loss = t.w_rec * rec + t.w_null * null + t.w_para * para + t.w_adv * adv
        zero = rec.new_zeros(())
        msk, tv, rmsk = zero, zero, zero
        if masked:
            swap_masks = torch.cat([f["mask_a_0"], f["mask_b_u"]])
            msk, tv = L.mask_sparsity(swap_masks), L.mask_tv(swap_masks)
            g_loss = g_loss + t.w_mask * msk + t.w_area * L.mask_area(swap_masks, t.mask_budget) + t.w_tv * tv
            rmsk = L.mask_sparsity(torch.cat([f["mask_a_u_rec"], f["mask_b_0_rec"]]))  # logged even when off
            if t.w_rec_mask:
                g_loss = g_loss + t.w_rec_mask * rmsk
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
        if self.ema is not None:
            self.update_ema()
        vals = torch.stack([rec, null, para, adv, d_loss, g_loss, msk, tv, rmsk]).detach().tolist()
        return dict(zip(LOG_KEYS, vals))


LOG_KEYS = ("rec", "null", "para", "adv_g", "d", "g", "mask", "tv", "rec_mask")


def sample_grid(model: GeneGAN, a_u: torch.Tensor, b_0: torch.Tensor, gen: Any = None) -> np.ndarray:
    """Columns: A_u | B_0 | A_0 (attribute removed) | B_u (attribute added), and with compose
    "mask" the two swap masks (white = changed); one row per pair. `gen`: which generator
    (default the model's own; training passes the moving average)."""
    g = gen if gen is not None else model.gen
    was = g.training
    g.eval()
    with torch.no_grad():
        f = forward(model, a_u, b_0, gen=g)
    g.train(was)
    cols = [to_uint8(x) for x in (a_u, b_0, f["a_0"], f["b_u"])]
    if "mask_a_0" in f:
        cols += [to_uint8(f[k].expand(-1, 3, -1, -1) * 2 - 1) for k in ("mask_a_0", "mask_b_u")]
    rows = [np.concatenate([c[i] for c in cols], 1) for i in range(a_u.shape[0])]
    return np.concatenate(rows, 0)


def _open_log(path: Path):
    """Append to out/log.csv; a log of another column layout (an older synthgen) is moved aside
    to log.<k>.csv first, so every file has one header."""
    header = ["step", "seconds", *LOG_KEYS]
    if path.is_file() and path.stat().st_size:
        with open(path, newline="") as fh:
            first = next(csv.reader(fh), None)
        if first != header:
            k = 1
            while path.with_name(f"log.{k}.csv").exists():
                k += 1
            path.rename(path.with_name(f"log.{k}.csv"))
    fh = open(path, "a", newline="")
    w = csv.writer(fh)
    if fh.tell() == 0:
        w.writerow(header)
    return fh, w


def train(source: Any, cfg: GeneGANConfig, tcfg: TrainConfig, steps: int, out: Path, device: str = "cpu",
          sample_every: int = 500, log_every: int = 25, progress: bool = True,
          trainer: Trainer | None = None, attr: str = "glasses", max_seconds: float | None = None,
          meta: dict | None = None) -> Trainer:
    """Train for `steps` more steps (or until `max_seconds` have passed), writing out/log.csv,
    out/samples/step_NNNNNN.png and out/checkpoint/ (weights, moving average and optimiser
    state: `--resume` continues where this stopped, with a batch order of its own)."""
    import cv2

    from .checkpoint import save

    out = Path(out)
    (out / "samples").mkdir(parents=True, exist_ok=True)
    tr = trainer or Trainer(cfg, tcfg, device)
    start = tr.steps
    # batch order of this training run (not a renderer); a resumed run draws new batches
    rng = np.random.default_rng(tcfg.seed if start == 0 else [tcfg.seed, start])
    fa, fb = source.batch(np.random.default_rng(tcfg.seed + 1), 8)
    fixed = to_tensor(fa, device), to_tensor(fb, device)
    it = range(steps)
    bar = None
    if progress:
        from tqdm import tqdm
        bar = it = tqdm(it, desc=f"gan train ({tcfg.mode}, {cfg.compose})", unit="step")
    t0 = time.perf_counter()
    before = float(getattr(tr, "seconds", 0.0))
    fh, w = _open_log(out / "log.csv")
    with fh:
        for _ in it:
            a, b = source.batch(rng, tcfg.batch)
            logs = tr.step(to_tensor(a, device), to_tensor(b, device))
            s = tr.steps
            if not all(math.isfinite(v) for v in logs.values()):  # never save a NaN checkpoint over a good one
                bad = ", ".join(k for k, v in logs.items() if not math.isfinite(v))
                raise RunError(f"training diverged at step {s} ({bad} not finite); lower --lr or change --seed "
                               f"(the last good checkpoint, if any, is kept in {out / 'checkpoint'})")
            last = _ == steps - 1 or (max_seconds is not None and time.perf_counter() - t0 > max_seconds)
            if s % log_every == 0 or s == start + 1 or last:
                w.writerow([s, round(time.perf_counter() - t0, 2)] + [round(logs[k], 5) for k in LOG_KEYS])
                fh.flush()
                if bar is not None:
                    bar.set_postfix(rec=f"{logs['rec']:.3f}", para=f"{logs['para']:.3f}", d=f"{logs['d']:.3f}")
            if s % sample_every == 0 or last:
                g = sample_grid(tr.model, *fixed, gen=tr.inference_gen)
                cv2.imwrite(str(out / "samples" / f"step_{s:06d}.png"), cv2.cvtColor(g, cv2.COLOR_RGB2BGR))
                tr.seconds = before + time.perf_counter() - t0
                save(out / "checkpoint", tr, meta={**(meta or {}), "steps": s, "seconds": round(tr.seconds, 1),
                                                    "train": asdict(tcfg)}, attr=attr)
            if last:
                break
    return tr
