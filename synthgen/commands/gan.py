"""`synthgen gan train|swap|eval`: GeneGAN attribute swapping (torch is imported lazily)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UserError
from ._args import seed_arg

ORDER = 60
MAX_EVAL_PAIRS = 10_000  # gan eval holds every pair's images (~100 KB a pair) in memory
MAX_POOL = 1_000_000  # procedural faces per set (2 x 12 KB each in memory)


def INTERRUPTED(a: argparse.Namespace) -> str:  # what Ctrl-C / SIGTERM leave (cli.py)
    if getattr(a, "gan_cmd", None) == "train":
        return (f"the last checkpoint (saved every --sample-every steps), if one was saved, is kept in "
                f"{Path(a.out) / 'checkpoint'}: rerun with --resume to continue")
    return "its output files are written only at the end: rerun the same command"

EPILOG = """\
examples:
  synthgen gan train --data procedural --attr glasses --out runs/gan --steps 4000
  synthgen gan train --out runs/gan_mask --compose mask --init shipped --max-minutes 30
  synthgen gan train --out runs/gan_mask --compose mask --resume --max-minutes 30   # continue it
  synthgen gan train --data ~/celeba --attr Eyeglasses --out runs/gan_celeba --device cuda
  synthgen gan swap A_with_glasses.png B_without.png -o B_with_glasses.png --strip strip.png
  synthgen gan eval                      # the shipped glasses checkpoint, 500 held-out pairs
  synthgen gan eval --ckpt runs/gan/checkpoint --grid swaps.png --strip interp.png

train writes DIR/log.csv (losses), DIR/samples/step_*.png (columns: A, B, A without, B with)
and DIR/checkpoint/ (model.safetensors + config.json); --export writes a generator-only fp16 copy.
"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    g = sub.add_parser("gan", help="GeneGAN: train, swap attributes, evaluate",
                       description="GeneGAN (Zhou et al. 2017): learn an attribute from two unpaired face sets and "
                       "swap it between images. Procedural faces give exact ground truth for evaluation.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    s = g.add_subparsers(dest="gan_cmd", required=True, parser_class=type(g))

    t = s.add_parser("train", help="train a GeneGAN", description="Train a GeneGAN on procedural faces or a "
                     "CelebA-style folder.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    t.add_argument("--data", default="procedural", help="'procedural' or a CelebA-style folder (default procedural)")
    t.add_argument("--attr", default="glasses", help="attribute: glasses|smile (procedural) or a CelebA column")
    t.add_argument("--out", required=True, help="output folder")
    t.add_argument("--steps", type=int, default=4000, help="generator steps (default 4000)")
    t.add_argument("--mode", choices=["hinge", "wgan"], default="hinge",
                   help="hinge: spectral-norm critics + Adam (default, trains better here); "
                   "wgan: the reference weight-clipped WGAN + RMSProp 5e-5")
    t.add_argument("--batch", type=int, default=32, help="pairs per step (default 32)")
    t.add_argument("--lr", type=float, help="learning rate (default: hinge 2e-4, wgan 5e-5)")
    t.add_argument("--widths", default="32,64,128", help="encoder/decoder widths (reference 128,256,512)")
    t.add_argument("--u-channels", type=int, default=32, help="latent channels of u (reference 128)")
    t.add_argument("--compose", choices=["none", "mask"], default="mask",
                   help="mask (default): the decoder also predicts a soft mask and the output is "
                   "mask * decoded + (1 - mask) * input, so only what the attribute owns changes; "
                   "none: the reference GeneGAN (the output is the decoded image)")
    t.add_argument("--mask-input", action="store_true", help="compose mask: the mask head also reads the input "
                   "and decoded images, not only the latent (its new weights start at zero, so --resume of a masked "
                   "checkpoint without it continues the same model); default off")
    t.add_argument("--init", help="start the generator from this checkpoint's weights ('shipped' = the shipped "
                   "one); layers it lacks (the mask head) start fresh, the critics too")
    t.add_argument("--ema", type=float, default=0.999, help="decay of the generator's moving average, used for "
                   "samples, checkpoints and --export (0 = off; default 0.999)")
    t.add_argument("--w-para", type=float, default=1.0, help="weight of the parallelogram term "
                   "|A + B - A_0 - B_u| (the inputs against their swaps: a swap moves one difference from one image "
                   "to the other; default 1)")
    t.add_argument("--w-grad", type=float, default=1.0, help="weight of the gradient term of the reconstruction "
                   "(0 = the paper's plain L1; default 1)")
    t.add_argument("--w-mask", type=float, default=0.05, help="compose mask: weight of the mask's mean (default 0.05)")
    t.add_argument("--w-area", type=float, default=10.0, help="compose mask: weight of the mask's area beyond "
                   "--mask-budget (default 10)")
    t.add_argument("--mask-budget", type=float, default=0.06, help="compose mask: share of the image a mask covers "
                   "free of the area prior (default 0.06; glasses take ~4%% of a face crop)")
    t.add_argument("--w-tv", type=float, default=0.1, help="compose mask: weight of the mask's total variation "
                   "(default 0.1)")
    t.add_argument("--w-rec-mask", type=float, default=0.0, help="compose mask: weight of the mean of the "
                   "reconstruction masks (Dec(A,u), Dec(B,0)), so reconstructing returns the input exactly "
                   "(default 0: off, no prior on them)")
    t.add_argument("--pool", type=int, default=4096, help="procedural faces rendered per set (default 4096)")
    t.add_argument("--max-minutes", type=float, help="stop cleanly (checkpoint + samples) after this long")
    t.add_argument("--sample-every", type=int, default=250, help="steps between sample grids and checkpoints")
    t.add_argument("--seed", type=seed_arg, default=0, help="seed of the face pool, the initial weights and the batch order "
                   "(0 to 2**64 - 1; default 0)")
    t.add_argument("--device", default="cpu", help="cpu (default), cuda or cuda:N")
    t.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint")
    t.add_argument("--export", help="also write a generator-only fp16 checkpoint to this folder")
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    w = s.add_parser("swap", help="swap the attribute between two images",
                     description="A has the attribute, B has not: writes B with A's attribute (and A without it).",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    w.add_argument("a", help="image WITH the attribute")
    w.add_argument("b", help="image WITHOUT the attribute")
    w.add_argument("-o", "--out", required=True, help="PNG: B with A's attribute (64 x 64)")
    w.add_argument("--removed", help="PNG: A with the attribute removed")
    w.add_argument("--strip", help="PNG: A | B | A without | B with, and Dec(B, lambda u) for lambda 0..1")
    w.add_argument("--ckpt", help="checkpoint folder (default: the shipped glasses checkpoint)")
    w.add_argument("--device", default="cpu")

    e = s.add_parser("eval", help="measure a checkpoint on held-out procedural pairs",
                     description="Swap glasses on held-out procedural pairs and compare with exact ground truth: "
                     "PSNR and SSIM over the whole image and inside the eye band (each beside doing nothing), a speckle "
                     "score (high-frequency energy outside the eye band, swap vs input), attribute-classifier "
                     "rates, reconstruction PSNR. Last line: a one-line summary.",
                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("--ckpt", help="checkpoint folder (default: the shipped glasses checkpoint)")
    e.add_argument("--n", default="500", help=f"pairs (default 500, at most {MAX_EVAL_PAIRS:,}: all are held in memory)")
    e.add_argument("--device", default="cpu")
    e.add_argument("--grid", help="PNG: 8 pairs, columns A | B | A_0 | true A_0 | B_u | true B_u "
                   "(and, for a masked checkpoint, the masks of A_0 and B_u)")
    e.add_argument("--strip", help="PNG: interpolation Dec(B, lambda u) for 4 faces, lambda 0..1.25")
    e.add_argument("--json", help="write the metrics as JSON here")
    return g


def _read(path: str):
    import cv2
    import numpy as np

    img = cv2.imread(path, cv2.IMREAD_COLOR) if Path(path).is_file() else None
    if img is None:
        raise UserError(f"{path}: missing or not an image; give a PNG or JPEG file")
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


def _write(path: str, rgb, scale: int = 1) -> None:
    import cv2

    if scale > 1:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(path, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)):
        raise UserError(f"{path}: cannot write (use a .png name in a writable folder)")


def _device(value: str) -> str:
    """A torch device this machine has: cpu, cuda, cuda:N (mps where torch has it)."""
    import torch

    try:
        dev = torch.device(value)
    except (RuntimeError, ValueError, TypeError):
        raise UserError(f"--device {value!r} is not a device; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError("--device cuda asked for, but torch sees no CUDA device; use --device cpu")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise UserError(f"--device {value}: torch sees {torch.cuda.device_count()} CUDA device(s) "
                            f"(cuda:0 .. cuda:{torch.cuda.device_count() - 1})")
    elif dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise UserError("--device mps asked for, but torch sees no MPS device; use --device cpu")
    elif dev.type != "cpu":
        raise UserError(f"--device {value!r}: use cpu, cuda or cuda:N")
    return value


def _at_least(value, flag: str, lo: int = 1, hi: int | None = None) -> int:
    if value is None or value < lo or (hi is not None and value > hi):
        raise UserError(f"{flag} must be a whole number from {lo}" + (f" to {hi:,}" if hi is not None else " up")
                        + f", got {value}")
    return value


def _train(a: argparse.Namespace) -> int:
    import math
    from dataclasses import asdict

    from ..run.job import parse_seed
    from ..io.outpaths import check_out_folder

    # Every argument is checked before torch is asked for anything and before OUT is made.
    _at_least(a.steps, "--steps")
    _at_least(a.batch, "--batch", 1, 4096)
    _at_least(a.u_channels, "--u-channels", 1, 4096)
    _at_least(a.sample_every, "--sample-every")
    if a.data == "procedural":
        _at_least(a.pool, "--pool", 1, MAX_POOL)
    if a.threads is not None:
        _at_least(a.threads, "--threads", 1, 1024)
    if a.lr is not None and not (math.isfinite(a.lr) and 0 < a.lr <= 1):
        raise UserError(f"--lr must be a learning rate above 0 and at most 1 (e.g. 2e-4), got {a.lr}")
    if a.max_minutes is not None and not (math.isfinite(a.max_minutes) and a.max_minutes > 0):
        raise UserError(f"--max-minutes must be above 0, got {a.max_minutes}")
    if not (math.isfinite(a.ema) and 0 <= a.ema < 1):
        raise UserError(f"--ema must be a decay from 0 (off) up to but not including 1 (e.g. 0.999), got {a.ema}")
    for flag, v in (("--w-para", a.w_para), ("--w-grad", a.w_grad), ("--w-mask", a.w_mask), ("--w-tv", a.w_tv),
                    ("--w-area", a.w_area), ("--w-rec-mask", a.w_rec_mask)):
        if not (math.isfinite(v) and v >= 0):
            raise UserError(f"{flag} must be a weight of 0 or more, got {v}")
    if not (math.isfinite(a.mask_budget) and 0 <= a.mask_budget <= 1):
        raise UserError(f"--mask-budget is a share of the image, from 0 to 1, got {a.mask_budget}")
    if a.mask_input and a.compose != "mask":
        raise UserError("--mask-input feeds the mask head: it needs --compose mask")
    if a.init and a.resume:
        raise UserError("--init starts a new run from a checkpoint's weights, --resume continues OUT/checkpoint; give one")
    if a.init and a.init != "shipped" and not Path(a.init).exists():
        raise UserError(f"--init {a.init}: no such checkpoint folder ('shipped' = the shipped glasses checkpoint)")
    seed = parse_seed(a.seed)
    try:
        widths = tuple(int(x) for x in a.widths.split(","))
    except ValueError:
        widths = ()
    if len(widths) < 1 or any(not 1 <= w <= 4096 for w in widths):
        raise UserError(f"--widths {a.widths!r}: give whole numbers from 1 to 4096 separated by commas, e.g. 32,64,128")
    check_out_folder(a.out)
    if a.export:
        check_out_folder(a.export, "--export")
    if a.resume and not (Path(a.out) / "checkpoint").is_dir():
        raise UserError(f"--resume: {a.out}/checkpoint does not exist; train without --resume first")

    from ..gan import require_torch

    require_torch("synthgen gan")
    import numpy as np
    import torch

    from ..gan.checkpoint import load_trainer, read_config, save, shipped, warm_start
    from ..gan.data import CelebAFolder, ProceduralPairs
    from ..gan.model import GeneGANConfig
    from ..gan.trainer import TrainConfig, Trainer, train

    _device(a.device)
    if a.threads:
        torch.set_num_threads(a.threads)
    try:
        cfg = GeneGANConfig(widths=widths, u_channels=a.u_channels,
                            d_widths=widths if len(widths) == 3 else (32, 64, 128), compose=a.compose, mask_input=a.mask_input)
        tcfg = TrainConfig(mode=a.mode, batch=a.batch, lr=a.lr, seed=seed, ema=a.ema, w_para=a.w_para, w_grad=a.w_grad,
                           w_mask=a.w_mask, w_tv=a.w_tv, w_area=a.w_area, mask_budget=a.mask_budget,
                           w_rec_mask=a.w_rec_mask)
    except ValueError as e:
        raise UserError(f"bad model settings: {e} (--widths takes three integers, e.g. 32,64,128)") from None
    out = Path(a.out)
    if a.data == "procedural":
        src = ProceduralPairs(a.attr, a.seed, a.pool, progress=not a.quiet)
    else:
        src = CelebAFolder(a.data, a.attr)
    tr = Trainer(cfg, tcfg, a.device)
    meta = {}
    if a.resume:
        load_trainer(out / "checkpoint", tr)
        meta = dict(read_config(out / "checkpoint").get("meta", {}))
        meta.pop("steps", None), meta.pop("seconds", None), meta.pop("train", None)
    elif a.init:
        src_conf = warm_start(shipped() if a.init == "shipped" else a.init, tr)
        meta = {"init": {"from": "shipped" if a.init == "shipped" else str(a.init),
                         "steps": src_conf.get("meta", {}).get("steps"),
                         "compose": src_conf.get("model", {}).get("compose", "none")}}
    created = not out.exists()
    try:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as e:  # a read-only filesystem (/proc, a read-only mount): was a traceback
            raise UserError(f"--out {a.out!r}: cannot create the folder ({e.strerror or e}); choose another --out") from None
        train(src, cfg, tcfg, a.steps, out, device=a.device, sample_every=a.sample_every, progress=not a.quiet,
              trainer=tr, attr=a.attr, max_seconds=None if a.max_minutes is None else 60 * a.max_minutes,
              meta=meta)
    except BaseException:
        if created and not (out / "checkpoint").exists():  # stopped before anything worth keeping
            import shutil

            shutil.rmtree(out, ignore_errors=True)
        raise
    if a.export:
        save(a.export, tr, meta={**meta, "steps": tr.steps, "seconds": round(tr.seconds, 1), "train": asdict(tcfg)},
             generator_only=True, half=True, attr=a.attr)
    last = np.genfromtxt(out / "log.csv", delimiter=",", names=True)
    last = np.atleast_1d(last)[-1]
    print(f"trained {tr.steps} steps ({a.mode}, compose {a.compose}) -> {out}/checkpoint; last rec {last['rec']:.4f} "
          f"para {last['para']:.4f} d {last['d']:.4f}")
    return 0


def _swap(a: argparse.Namespace) -> int:
    from ._args import check_out_file

    for flag, path in (("-o", a.out), ("--removed", a.removed), ("--strip", a.strip)):
        if path is not None:
            check_out_file(path, flag, image=True)
    from ..gan import require_torch

    require_torch("synthgen gan")
    import numpy as np

    from ..gan.infer import GeneGAN, fit

    _device(a.device)
    _read(a.a), _read(a.b)  # both readable before the model loads
    gan = GeneGAN.load(a.ckpt, a.device)
    ia, ib = fit(_read(a.a)), fit(_read(a.b))
    a0, bu = gan.swap(ia, ib)
    _write(a.out, bu)
    if a.removed:
        _write(a.removed, a0)
    if a.strip:
        frames = gan.interpolate(ib, ia, steps=6)
        row1 = np.concatenate([ia, ib, a0, bu, np.full_like(ia, 255), np.full_like(ia, 255)], 1)
        _write(a.strip, np.concatenate([row1, np.concatenate(list(frames), 1)], 0), scale=2)
    print(f"{a.out}: B with A's {gan.attr}" + (f"; {a.removed}: A without" if a.removed else ""))
    return 0


def _eval(a: argparse.Namespace) -> int:
    import json

    from ..run.job import parse_count
    from ._args import check_out_file

    n = parse_count(a.n)
    if n > MAX_EVAL_PAIRS:
        raise UserError(f"--n {n:,}: at most {MAX_EVAL_PAIRS:,} pairs (every pair's images are held in memory, "
                        f"~100 KB each; the metrics settle by 500)")
    for flag, path, image in (("--grid", a.grid, True), ("--strip", a.strip, True), ("--json", a.json, False)):
        if path is not None:
            check_out_file(path, flag, image=image)
    from ..gan import require_torch

    require_torch("synthgen gan")
    import numpy as np

    from ..gan.evaluate import evaluate, report_lines
    from ..gan.infer import GeneGAN

    _device(a.device)
    gan = GeneGAN.load(a.ckpt, a.device)
    m = evaluate(gan, n)
    imgs = m.pop("_images")
    if a.grid:
        cols = [imgs[k] for k in ("a_with", "b_without", "a_0", "a_without_true", "b_u", "b_with_true")]
        if gan.compose != "none":
            cols += [np.repeat(mk[:, :, :, None], 3, 3) for mk in gan.swap_masks(imgs["a_with"], imgs["b_without"])]
        _write(a.grid, np.concatenate([np.concatenate([c[i] for c in cols], 1) for i in range(len(cols[0]))], 0), 2)
    if a.strip:
        frames = gan.interpolate(imgs["b_without"][:4], imgs["a_with"][:4], steps=6, hi=1.25)
        rows = [np.concatenate([imgs["a_with"][i]] + list(frames[i]), 1) for i in range(len(frames))]
        _write(a.strip, np.concatenate(rows, 0), 2)
    if a.json:
        Path(a.json).write_text(json.dumps(m, indent=1))
    for line in report_lines(m):
        print(line)
    sys.stdout.flush()
    return 0


def run(a: argparse.Namespace) -> int:
    return {"train": _train, "swap": _swap, "eval": _eval}[a.gan_cmd](a)
