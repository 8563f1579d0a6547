"""The prior on the reconstruction masks (issue 25, `--w-rec-mask`): w_rec_mask x the mean of the
masks of Dec(A, u) and Dec(B, 0) joins the generator's loss in compose "mask" only; 0 (the
default) leaves the old objective. CPU only, small widths."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from synthgen.cli import main as cli  # noqa: E402
from synthgen.gan.data import ProceduralPairs, to_tensor  # noqa: E402
from synthgen.gan.model import GeneGANConfig  # noqa: E402
from synthgen.gan.trainer import LOG_KEYS, TrainConfig, Trainer, forward  # noqa: E402

MASKED = GeneGANConfig(widths=(8, 16, 32), u_channels=8, d_widths=(8, 16, 32), compose="mask")
REFERENCE = GeneGANConfig(widths=(8, 16, 32), u_channels=8, d_widths=(8, 16, 32))


@pytest.fixture(scope="module")
def batch():
    src = ProceduralPairs("glasses", seed=5, n=16)
    return tuple(to_tensor(x) for x in src.batch(np.random.default_rng(3), 4))


def _step(cfg, w, batch, bias=None):
    tr = Trainer(cfg, TrainConfig(mode="hinge", batch=4, w_rec_mask=w))
    if bias is not None:
        with torch.no_grad():
            tr.model.gen.dec.mask_head.conv.weight.zero_()
            tr.model.gen.dec.mask_head.conv.bias.fill_(bias)
    logs = tr.step(*batch)
    return tr, logs


def test_default_is_off_and_the_flag_defaults_to_it():
    assert TrainConfig().w_rec_mask == 0.0
    assert "rec_mask" in LOG_KEYS


def test_the_term_is_the_mean_of_the_reconstruction_masks_times_its_weight(batch):
    a, b = batch
    tr0, off = _step(MASKED, 0.0, batch)
    tr2, on = _step(MASKED, 2.0, batch)
    # the same initial weights (seed 0), so the same forward pass before the update
    init = Trainer(MASKED, TrainConfig(mode="hinge", batch=4))
    with torch.no_grad():
        f = forward(init.model, a, b)
    want = torch.cat([f["mask_a_u_rec"], f["mask_b_0_rec"]]).mean().item()
    assert want > 0.01  # a fresh mask head starts near 0.05, not at 0
    assert off["rec_mask"] == pytest.approx(want, rel=1e-5) and on["rec_mask"] == pytest.approx(want, rel=1e-5)
    assert on["g"] == pytest.approx(off["g"] + 2.0 * want, rel=1e-5)
    # and it reaches the mask head: the prior pushes the mask logits' bias down (its gradient is larger)
    g0 = tr0.model.gen.dec.mask_head.conv.bias.grad.item()
    g2 = tr2.model.gen.dec.mask_head.conv.bias.grad.item()
    assert g2 > g0 + 1e-4


def test_the_term_is_zero_when_the_reconstruction_masks_are_zero(batch):
    _, off = _step(MASKED, 0.0, batch, bias=-1e4)
    _, on = _step(MASKED, 5.0, batch, bias=-1e4)
    assert on["rec_mask"] == 0 and on["mask"] == 0
    assert on["g"] == off["g"]


def test_reference_mode_is_untouched(batch):
    _, off = _step(REFERENCE, 0.0, batch)
    _, on = _step(REFERENCE, 5.0, batch)
    assert on["rec_mask"] == 0
    assert on == off


def test_training_with_the_prior_shrinks_the_reconstruction_masks(batch):
    a, b = batch
    means = {}
    for w in (0.0, 20.0):
        tr = Trainer(MASKED, TrainConfig(mode="hinge", batch=4, w_rec_mask=w, ema=0.0))
        for _ in range(15):
            tr.step(a, b)
        with torch.no_grad():
            f = forward(tr.model, a, b)
        means[w] = torch.cat([f["mask_a_u_rec"], f["mask_b_0_rec"]]).mean().item()
    assert means[20.0] < 0.95 * means[0.0]  # 15 steps at lr 2e-4: ~0.89x here


def test_cli_flag_reaches_the_trainer_and_the_log(tmp_path, capsys):
    out = tmp_path / "run"
    common = ["--pool", "4", "--widths", "8,16,32", "--u-channels", "8", "--batch", "2", "-q"]
    assert cli(["gan", "train", "--out", str(out), "--steps", "2", "--w-rec-mask", "0.75"] + common) == 0
    conf = json.loads((out / "checkpoint" / "config.json").read_text())
    assert conf["meta"]["train"]["w_rec_mask"] == 0.75
    header, *rows = (out / "log.csv").read_text().splitlines()
    assert header.split(",")[-1] == "rec_mask" and float(rows[-1].split(",")[-1]) > 0
    capsys.readouterr()
    assert cli(["gan", "train", "--out", str(tmp_path / "bad"), "--steps", "1", "--w-rec-mask", "-1"] + common) == 2
    assert "--w-rec-mask" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def _train_gan_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "train_gan.py"
    spec = importlib.util.spec_from_file_location("train_gan_script", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_w_para_option_and_the_script_has_the_commands_options(tmp_path, capsys, monkeypatch):
    """`--w-para` (the parallelogram weight) on `synthgen gan train` and scripts/train_gan.py, and the
    script's --w-rec-mask and --mask-input (the command's), each with --help text and reaching
    the training config."""
    import sys

    common = ["--pool", "4", "--widths", "8,16,32", "--u-channels", "8", "--batch", "2", "-q"]
    with pytest.raises(SystemExit):
        cli(["gan", "train", "--help"])
    assert "--w-para" in capsys.readouterr().out
    out = tmp_path / "run"
    assert cli(["gan", "train", "--out", str(out), "--steps", "1", "--w-para", "0.25"] + common) == 0
    assert json.loads((out / "checkpoint" / "config.json").read_text())["meta"]["train"]["w_para"] == 0.25
    capsys.readouterr()
    assert cli(["gan", "train", "--out", str(tmp_path / "bad"), "--steps", "1", "--w-para", "nan"] + common) == 2
    assert "--w-para" in capsys.readouterr().err and not (tmp_path / "bad").exists()

    script = _train_gan_script()
    monkeypatch.setattr(sys, "argv", ["train_gan.py", "--help"])
    with pytest.raises(SystemExit):
        script.main()
    helptext = capsys.readouterr().out
    for flag in ("--w-rec-mask", "--mask-input", "--w-para"):
        assert flag in helptext, flag
    out = tmp_path / "script"
    monkeypatch.setattr(sys, "argv", ["train_gan.py", "--out", str(out), "--steps", "1", "--batch", "2", "--pool", "4",
                                      "--threads", "1", "--no-export", "--w-rec-mask", "0.5", "--mask-input",
                                      "--w-para", "0.75", "--w-area", "0.125", "--widths", "8,16,32",
                                      "--u-channels", "4"])
    assert script.main() == 0  # --w-area, --widths, --u-channels: options the script does not name, passed on
    conf = json.loads((out / "checkpoint" / "config.json").read_text())
    assert conf["meta"]["train"]["w_rec_mask"] == 0.5 and conf["meta"]["train"]["w_para"] == 0.75
    assert conf["meta"]["train"]["w_area"] == 0.125
    assert conf["model"]["mask_input"] is True
