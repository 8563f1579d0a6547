"""GeneGAN: shapes, the null attribute, every loss against its formula, clipping, a short
training run, checkpoints (round trip and every way to break one). CPU only, small widths."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from synthgen.cli import main as cli  # noqa: E402
from synthgen.errors import UserError  # noqa: E402
from synthgen.gan import losses as L  # noqa: E402
from synthgen.gan.checkpoint import load_generator, save  # noqa: E402
from synthgen.gan.data import ProceduralPairs, to_tensor  # noqa: E402
from synthgen.gan.model import Decoder, Encoder, GeneGANConfig  # noqa: E402
from synthgen.gan.trainer import TrainConfig, Trainer, forward  # noqa: E402

TINY = GeneGANConfig(widths=(8, 16, 32), u_channels=8, d_widths=(8, 16, 32))


@pytest.fixture(scope="module")
def pool():
    return ProceduralPairs("glasses", seed=5, n=16)


def test_latent_split_shapes_reference_and_scaled():
    ref = GeneGANConfig(widths=(128, 256, 512), u_channels=128)
    a, u = Encoder(ref)(torch.zeros(2, 3, 64, 64))
    assert a.shape == (2, 384, 8, 8) and u.shape == (2, 128, 8, 8)  # 8x8x512, last 128 = u
    a, u = Encoder(TINY)(torch.zeros(3, 3, 64, 64))
    assert a.shape == (3, 24, 8, 8) and u.shape == (3, 8, 8, 8)


def test_u_is_the_last_channels_of_the_latent():
    enc = Encoder(TINY)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    z = enc.net(x)
    a, u = enc(x)
    assert torch.equal(u, z[:, -8:]) and torch.equal(a, z[:, :-8])


def test_decoding_with_the_null_attribute_uses_exact_zeros():
    dec = Decoder(TINY)
    a = torch.randn(2, 24, 8, 8)
    z = dec.latent(a, None)
    assert z.shape == (2, 32, 8, 8)
    assert torch.count_nonzero(z[:, -8:]) == 0 and torch.equal(z[:, :24], a)
    assert torch.equal(dec(a, None), dec(a, torch.zeros(2, 8, 8, 8)))


def test_trainer_forward_decodes_b_and_a0_with_zero_u():
    m = Trainer(TINY, TrainConfig(mode="wgan")).model
    x, y = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 3, 64, 64) * 2 - 1
    f = forward(m, x, y)
    with torch.no_grad():
        assert torch.allclose(f["b_0_rec"], m.gen.dec(f["b"], None), atol=1e-6)
        assert torch.allclose(f["a_0"], m.gen.dec(f["a"], None), atol=1e-6)
        assert torch.allclose(f["b_u"], m.gen.dec(f["b"], f["u"]), atol=1e-6)


def t(*v):
    return torch.tensor(v, dtype=torch.float32).reshape(1, 1, 1, len(v))


def test_losses_equal_their_formulas_on_fixed_tensors():
    # reconstruction: mean|A_u - A_u'| + mean|B_0 - B_0'| = mean(0.5, 1.5) + mean(0, 2) = 1 + 1
    assert L.reconstruction(t(1, 2), t(0.5, 0.5), t(3, 3), t(3, 1)).item() == pytest.approx(2.0)
    # nulling: mean |e| of (-1, 0, 3) = 4/3
    assert L.nulling(t(-1, 0, 3)).item() == pytest.approx(4 / 3)
    # parallelogram: A_u + B_0 - A_0 - B_u = (1+2-0-0, 0+0-1-1) -> mean(|3|, |-2|) = 2.5
    assert L.parallelogram(t(1, 0), t(2, 0), t(0, 1), t(0, 1)).item() == pytest.approx(2.5)
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([-0.5, 1.5])
    assert L.wgan_critic(real, fake).item() == pytest.approx(0.5 - 1.0)  # E[fake] - E[real]
    assert L.wgan_generator(fake).item() == pytest.approx(-0.5)
    # hinge: relu(1-2)=0, relu(1-0)=1 -> 0.5 ; relu(1-0.5)=0.5, relu(1+1.5)=2.5 -> 1.5
    assert L.hinge_critic(real, fake).item() == pytest.approx(0.5 + 1.5)
    assert L.hinge_generator(fake).item() == pytest.approx(-0.5)


def test_reference_mode_keeps_critic_weights_inside_the_clip(pool):
    tr = Trainer(TINY, TrainConfig(mode="wgan", batch=4, clip=0.01))
    assert tr.tcfg.lr == 5e-5 and isinstance(tr.opt_d, torch.optim.RMSprop)
    a, b = pool.batch(np.random.default_rng(0), 4)
    tr.step(to_tensor(a), to_tensor(b))
    for d in (tr.model.d_with, tr.model.d_without):
        w = torch.cat([p.detach().flatten() for p in d.parameters()])
        assert w.abs().max().item() <= 0.01
        assert w.abs().max().item() > 0.009  # the clip is actually reached (init is wider)


@pytest.mark.parametrize("mode", ["hinge", "wgan"])
def test_twenty_steps_lower_the_reconstruction_loss(pool, mode):
    torch.set_num_threads(1)
    tr = Trainer(TINY, TrainConfig(mode=mode, batch=8, lr=1e-3 if mode == "hinge" else 5e-4))
    a, b = (to_tensor(x) for x in pool.batch(np.random.default_rng(1), 8))
    rec = [tr.step(a, b)["rec"] for _ in range(20)]
    assert rec[-1] < 0.92 * rec[0] and np.mean(rec[-5:]) < np.mean(rec[:5]), rec


def test_checkpoint_round_trip(tmp_path, pool):
    tr = Trainer(TINY, TrainConfig(mode="hinge", batch=4))
    a, b = pool.batch(np.random.default_rng(2), 4)
    tr.step(to_tensor(a), to_tensor(b))
    save(tmp_path / "full", tr, meta={"steps": 1})
    gen, conf = load_generator(tmp_path / "full")
    assert conf["kind"] == "genegan" and conf["model"]["u_channels"] == 8
    x = to_tensor(a)
    with torch.no_grad():  # inference loads the moving average of the generator
        want = tr.ema.dec(*tr.ema.enc(x))
        assert torch.equal(gen.dec(*gen.enc(x)), want)
        assert not torch.equal(tr.model.gen.dec(*tr.model.gen.enc(x)), want)
    save(tmp_path / "half", tr, generator_only=True, half=True)
    g16, conf16 = load_generator(tmp_path / "half" / "model.safetensors")
    assert conf16["kind"] == "generator" and conf16["dtype"] == "float16"
    with torch.no_grad():
        assert (g16.dec(*g16.enc(x)) - want).abs().max().item() < 0.05  # fp16 weights, fp32 compute


def _broken(tmp_path, how):
    tr = Trainer(TINY, TrainConfig())
    d = save(tmp_path / how, tr, generator_only=True, half=True)
    w, c = d / "model.safetensors", d / "config.json"
    if how == "truncated":
        w.write_bytes(w.read_bytes()[: w.stat().st_size // 2])
    elif how == "garbage":
        w.write_bytes(b"\x00" * 64)
    elif how == "bad_json":
        c.write_text("{not json")
    elif how == "mismatched":
        conf = json.loads(c.read_text())
        conf["model"]["widths"] = [8, 16, 48]  # weights are for (8, 16, 32)
        c.write_text(json.dumps(conf))
    elif how == "missing":
        w.unlink()
    return d


@pytest.mark.parametrize("how", ["truncated", "garbage", "bad_json", "mismatched", "missing"])
def test_broken_checkpoint_is_one_line_exit_2(tmp_path, capsys, how):
    d = _broken(tmp_path, how)
    with pytest.raises(UserError):
        load_generator(d)
    rc = cli(["gan", "swap", "--ckpt", str(d), "a.png", "b.png", "-o", str(tmp_path / "o.png")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert not (tmp_path / "o.png").exists()


def test_cli_broken_checkpoint_in_a_fresh_process(tmp_path):
    d = _broken(tmp_path, "truncated")
    p = subprocess.run([sys.executable, "-m", "synthgen.cli", "gan", "eval", "--ckpt", str(d), "--n", "2"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "corrupt" in p.stderr


def close(x, y):
    return np.abs(x.astype(int) - y).max() <= 1


def test_inference_api_swap_interpolate_arithmetic(tmp_path, pool):
    from synthgen.gan.infer import GeneGAN

    tr = Trainer(TINY, TrainConfig())
    save(tmp_path / "g", tr, generator_only=True)
    gan = GeneGAN.load(tmp_path / "g", batch=3)  # 5 images in chunks of 3
    a, b = pool.batch(np.random.default_rng(3), 5)
    a0, bu = gan.swap(a, b)
    assert a0.shape == bu.shape == (5, 64, 64, 3) and a0.dtype == np.uint8
    one_a0, one_bu = gan.swap(a[2], b[2])
    # batch size can change the conv kernel's summation order (oneDNN): a grey level at most
    assert close(one_a0, a0[2]) and close(one_bu, bu[2])
    frames = gan.interpolate(b, a, steps=3)
    assert frames.shape == (5, 3, 64, 64, 3)
    assert close(frames[:, 0], gan.reconstruct(b, null=True))  # lambda 0 = Dec(B, 0)
    assert close(frames[:, -1], bu)  # lambda 1 = the swap
    assert not close(frames[:, 0], bu)
    mix = gan.arithmetic(b[:2], a[:3], weights=[1.0, 0.0, 0.0])
    assert close(mix, gan.decode(gan.encode(b[:2])[0], gan.encode(a[:1])[1].expand(2, -1, -1, -1)))
    with pytest.raises(UserError):
        gan.swap(a, b[:3])
    with pytest.raises(UserError):
        gan.swap(np.zeros((32, 32, 3), np.uint8), b[0])


def test_celeba_folder_loader(tmp_path):
    import cv2

    from synthgen.gan.data import CelebAFolder

    (tmp_path / "img_align_celeba").mkdir()
    rows = []
    for i in range(4):
        name = f"{i:06d}.jpg"
        cv2.imwrite(str(tmp_path / "img_align_celeba" / name), np.full((218, 178, 3), 40 * i, np.uint8))
        rows.append(f"{name} {1 if i % 2 else -1} -1")
    (tmp_path / "list_attr_celeba.txt").write_text("4\nEyeglasses Smiling\n" + "\n".join(rows) + "\n")
    ds = CelebAFolder(tmp_path, "glasses")
    assert len(ds.pos) == 2 and len(ds.neg) == 2
    a, b = ds.batch(np.random.default_rng(0), 3)
    assert a.shape == (3, 64, 64, 3) and set(np.unique(a)) <= {40, 120} and set(np.unique(b)) <= {0, 80}
    with pytest.raises(UserError, match="needs images both"):
        CelebAFolder(tmp_path, "Smiling")
    with pytest.raises(UserError, match="no attribute"):
        CelebAFolder(tmp_path, "Bald")


def test_cli_train_writes_log_samples_and_checkpoints(tmp_path, capsys):
    out = tmp_path / "run"
    rc = cli(["gan", "train", "--out", str(out), "--steps", "2", "--pool", "4", "--widths", "8,16,32",
              "--u-channels", "8", "--batch", "2", "--sample-every", "1", "-q", "--export", str(tmp_path / "ship")])
    assert rc == 0 and "trained 2 steps" in capsys.readouterr().out
    rows = (out / "log.csv").read_text().splitlines()
    assert rows[0].startswith("step,") and [r.split(",")[0] for r in rows[1:]] == ["1", "2"]
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_000001.png", "step_000002.png"]
    gen, conf = load_generator(tmp_path / "ship")
    assert conf["kind"] == "generator" and conf["dtype"] == "float16" and conf["meta"]["steps"] == 2


# -- issue 25: the masked composition, EMA, the gradient term, resuming ------------------------
MASKED = GeneGANConfig(widths=(8, 16, 32), u_channels=8, d_widths=(8, 16, 32), compose="mask")


def test_new_loss_terms_equal_their_formulas():
    x = torch.tensor([[[[0.0, 1.0, 3.0], [0.0, 0.0, 0.0]]]])  # 1 x 1 x 2 x 3
    y = torch.zeros_like(x)
    # dx(x) = (1, 2 | 0, 0) -> mean|.| = 3/4 ; dy(x) = (0, -1, -3) -> mean 4/3
    assert L.gradient_l1(x, y).item() == pytest.approx(3 / 4 + 4 / 3)
    assert L.gradient_l1(x, x + 7.0).item() == 0  # a constant offset has the same gradients
    m = torch.tensor([[[[0.0, 1.0], [0.5, 0.5]]]])
    assert L.mask_sparsity(m).item() == pytest.approx(0.5)
    # dx: |1-0|, |0.5-0.5| -> 0.5 ; dy: |0.5-0|, |0.5-1| -> 0.5
    assert L.mask_tv(m).item() == pytest.approx(1.0)
    two = torch.stack([m[0], torch.zeros_like(m[0])])  # areas 0.5 and 0
    assert L.mask_area(two, 0.2).item() == pytest.approx((0.3 + 0.0) / 2)
    assert L.mask_area(two, 0.6).item() == 0


def test_mask_is_a_stretched_clipped_sigmoid_with_exact_ends():
    from synthgen.gan.model import mask_of

    z = torch.tensor([-10.0, -4.5, 0.0, 4.5, 10.0])
    m = mask_of(z)
    assert m[0] == 0 and m[1] == 0 and m[-1] == 1 and m[-2] == 1  # sigmoid(+-4.5) is past the stretch
    assert m[2].item() == pytest.approx(0.5)
    z = torch.tensor([-1.0], requires_grad=True)
    mask_of(z).sum().backward()
    assert z.grad.item() == pytest.approx(1.04 * torch.sigmoid(torch.tensor(-1.0)).item()
                                          * (1 - torch.sigmoid(torch.tensor(-1.0)).item()))


def test_masked_output_is_the_input_where_the_mask_is_zero_and_the_decoder_where_it_is_one():
    from synthgen.gan.model import Generator

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        g = Generator(MASKED)
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    a, u = g.enc(x)
    with torch.no_grad():
        out, img, m = g.render(a, u, x)
        assert m.shape == (2, 1, 64, 64) and 0 <= m.min() and m.max() < 1
        assert torch.allclose(out, m * img + (1 - m) * x, atol=1e-6)
        assert m.mean().item() == pytest.approx(1.04 / (1 + math.exp(2.5)) - 0.02, abs=0.03)  # starts near "keep"
        g.dec.mask_head.conv.weight.zero_()
        g.dec.mask_head.conv.bias.fill_(-1e4)  # mask exactly 0: the output is the input, bit for bit
        out0, _, m0 = g.render(a, u, x)
        assert torch.count_nonzero(m0) == 0 and torch.equal(out0, x)
        g.dec.mask_head.conv.bias.fill_(1e4)  # mask 1: the decoder's image
        out1, img1, _ = g.render(a, u, x)
        assert torch.equal(out1, img1)
    with pytest.raises(ValueError, match="needs the input image"):
        g.render(a, u, None)
    with pytest.raises(ValueError, match="compose"):
        GeneGANConfig(compose="blend")


def test_masked_trainer_losses_use_the_decoded_image_and_the_critics_see_the_composite(pool):
    tr = Trainer(MASKED, TrainConfig(mode="hinge", batch=4))
    a, b = (to_tensor(x) for x in pool.batch(np.random.default_rng(5), 4))
    f = forward(tr.model, a, b)
    for k in ("a_u_rec", "b_0_rec", "a_0", "b_u"):
        assert f["mask_" + k].shape == (4, 1, 64, 64)
        base = a if k in ("a_u_rec", "a_0") else b
        assert torch.allclose(f[k], f["mask_" + k] * f["raw_" + k] + (1 - f["mask_" + k]) * base, atol=1e-6)
    logs = tr.step(a, b)
    assert logs["mask"] > 0 and logs["tv"] >= 0
    ref = Trainer(TINY, TrainConfig(mode="hinge", batch=4)).step(a, b)
    assert ref["mask"] == 0 and ref["tv"] == 0


def test_ema_follows_the_weights_slowly_and_is_what_export_writes(tmp_path, pool):
    tr = Trainer(TINY, TrainConfig(mode="hinge", batch=4, ema=0.9, lr=1e-3))
    a, b = (to_tensor(x) for x in pool.batch(np.random.default_rng(6), 4))
    w0 = tr.model.gen.dec.net[0].weight.detach().clone()
    for _ in range(30):
        tr.step(a, b)
    w, we = tr.model.gen.dec.net[0].weight.detach(), tr.ema.dec.net[0].weight
    assert not torch.equal(we, w) and not torch.equal(we, w0)
    assert (we - w).abs().mean() < (w0 - w).abs().mean()  # between the start and now, nearer now
    save(tmp_path / "ship", tr, generator_only=True)
    gen, _ = load_generator(tmp_path / "ship")
    assert torch.equal(gen.dec.net[0].weight, we)
    off = Trainer(TINY, TrainConfig(ema=0.0))
    assert off.ema is None and off.inference_gen is off.model.gen
    with pytest.raises(ValueError, match="ema"):
        TrainConfig(ema=1.0)


def test_old_reference_checkpoint_loads_in_reference_mode(tmp_path, pool):
    """A config written before issue 25 has no `compose` key: it is the reference GeneGAN, its
    output the decoded image (the shipped checkpoint of that time is such a folder)."""
    from synthgen.gan.infer import GeneGAN

    tr = Trainer(TINY, TrainConfig(ema=0.0))
    d = save(tmp_path / "old", tr, generator_only=True, half=True)
    conf = json.loads((d / "config.json").read_text())
    del conf["model"]["compose"]
    (d / "config.json").write_text(json.dumps(conf))
    gan = GeneGAN.load(d)
    assert gan.compose == "none" and gan.gen.dec.mask_head is None
    a, b = pool.batch(np.random.default_rng(7), 2)
    a0, bu = gan.swap(a, b)
    enc_a, enc_u = gan.encode(a)
    assert np.array_equal(a0, gan.decode(enc_a, None))  # no base needed, none used
    ma, mb = gan.swap_masks(a, b)
    assert (ma == 255).all() and (mb == 255).all()


def test_masked_inference_passes_the_input_through(tmp_path, pool):
    from synthgen.gan.infer import GeneGAN

    tr = Trainer(MASKED, TrainConfig(ema=0.0))
    with torch.no_grad():
        tr.model.gen.dec.mask_head.conv.weight.zero_()
        tr.model.gen.dec.mask_head.conv.bias.fill_(-1e4)  # a model that changes nothing
    save(tmp_path / "m", tr, generator_only=True)
    gan = GeneGAN.load(tmp_path / "m", batch=3)
    assert gan.compose == "mask"
    a, b = pool.batch(np.random.default_rng(8), 5)
    a0, bu = gan.swap(a, b)
    assert np.array_equal(a0, a) and np.array_equal(bu, b)
    assert np.array_equal(gan.reconstruct(b, null=True), b)
    assert np.array_equal(gan.interpolate(b[:2], a[:1], steps=3)[:, 1], b[:2])
    ma, mb = gan.swap_masks(a, b)
    assert ma.shape == (5, 64, 64) and (ma == 0).all() and (mb == 0).all()
    with pytest.raises(UserError, match="base"):
        gan.decode(gan.encode(b)[0], None)


def test_warm_start_from_a_reference_checkpoint_copies_every_shared_layer(tmp_path):
    from synthgen.gan.checkpoint import warm_start

    ref = Trainer(TINY, TrainConfig(seed=3, ema=0.0))
    save(tmp_path / "ref", ref, generator_only=True)
    tr = Trainer(MASKED, TrainConfig(seed=4))
    head = tr.model.gen.dec.mask_head.conv.weight.detach().clone()
    warm_start(tmp_path / "ref", tr)
    for k, v in ref.model.gen.state_dict().items():
        assert torch.equal(tr.model.gen.state_dict()[k], v) and torch.equal(tr.ema.state_dict()[k], v)
    assert torch.equal(tr.model.gen.dec.mask_head.conv.weight, head)
    wide = Trainer(GeneGANConfig(widths=(8, 16, 48), u_channels=8, d_widths=(8, 16, 32)), TrainConfig())
    with pytest.raises(UserError, match="do not fit"):
        warm_start(tmp_path / "ref", wide)


def test_resume_restores_weights_ema_optimiser_and_step(tmp_path, pool):
    from synthgen.gan.checkpoint import load_trainer

    torch.set_num_threads(1)
    a, b = (to_tensor(x) for x in pool.batch(np.random.default_rng(9), 4))
    tr = Trainer(MASKED, TrainConfig(batch=4, ema=0.9))
    for _ in range(3):
        tr.step(a, b)
    save(tmp_path / "ck", tr, meta={"steps": tr.steps, "seconds": 12.5})
    assert (tmp_path / "ck" / "optim.safetensors").is_file()
    back = load_trainer(tmp_path / "ck", Trainer(MASKED, TrainConfig(batch=4, ema=0.9, seed=1)))
    assert back.steps == 3 and back.seconds == 12.5
    for k, v in tr.model.state_dict().items():
        assert torch.equal(back.model.state_dict()[k], v), k
    for k, v in tr.ema.state_dict().items():
        assert torch.equal(back.ema.state_dict()[k], v), k
    # the next step is the same as the uninterrupted run's (Adam moments restored)
    la, lb = tr.step(a, b), back.step(a, b)
    assert la == pytest.approx(lb, rel=1e-5)
    for k, v in tr.model.gen.state_dict().items():
        assert torch.allclose(back.model.gen.state_dict()[k], v, atol=1e-6), k
    with pytest.raises(UserError, match="compose"):
        load_trainer(tmp_path / "ck", Trainer(TINY, TrainConfig()))


def test_cli_train_init_then_resume_and_eval_grid_with_masks(tmp_path, capsys):
    import cv2

    ref = tmp_path / "ref"
    assert cli(["gan", "train", "--out", str(ref), "--steps", "1", "--pool", "4", "--widths", "8,16,32",
                "--u-channels", "8", "--batch", "2", "--compose", "none", "-q"]) == 0
    out = tmp_path / "run"
    common = ["--pool", "4", "--widths", "8,16,32", "--u-channels", "8", "--batch", "2", "--sample-every", "2", "-q"]
    assert cli(["gan", "train", "--out", str(out), "--steps", "2", "--init", str(ref / "checkpoint")] + common) == 0
    conf = json.loads((out / "checkpoint" / "config.json").read_text())
    assert conf["model"]["compose"] == "mask" and conf["ema"] is True and conf["meta"]["init"]["compose"] == "none"
    assert cli(["gan", "train", "--out", str(out), "--steps", "2", "--resume", "--export", str(tmp_path / "x")]
               + common) == 0
    assert "trained 4 steps" in capsys.readouterr().out
    rows = (out / "log.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2", "3", "4"]
    assert json.loads((tmp_path / "x" / "config.json").read_text())["meta"]["init"]["from"] == str(ref / "checkpoint")
    rc = cli(["gan", "eval", "--ckpt", str(tmp_path / "x"), "--n", "3", "--grid", str(tmp_path / "g.png"),
              "--json", str(tmp_path / "m.json")])
    assert rc == 0
    assert cv2.imread(str(tmp_path / "g.png")).shape == (3 * 128, 8 * 128, 3)  # 3 pairs; 6 columns + 2 masks, x2
    m = json.loads((tmp_path / "m.json").read_text())
    for k in ("add_psnr_band", "remove_ssim_band", "add_speckle_ratio", "remove_psnr_do_nothing", "add_acc"):
        assert k in m
    assert "summary:" in capsys.readouterr().out
    assert cli(["gan", "train", "--out", str(out), "--steps", "1", "--resume", "--compose", "none"] + common) == 2
    assert cli(["gan", "train", "--out", str(tmp_path / "r2"), "--steps", "1", "--init", "x", "--resume"]
               + common) == 2


def test_mask_head_equals_a_3x3_conv_of_the_upsampled_features():
    from synthgen.gan.model import MaskHead

    torch.manual_seed(0)
    head = MaskHead(5)
    h = torch.randn(2, 5, 7, 9)
    up = torch.nn.functional.interpolate(h, scale_factor=2, mode="nearest")
    with torch.no_grad():
        want = torch.nn.functional.conv2d(up, head.conv.weight, head.conv.bias, padding=1)
        got = head(h)
    assert got.shape == (2, 1, 14, 18) and torch.allclose(got, want, atol=1e-5)
    assert set(head.state_dict()) == {"conv.weight", "conv.bias"}


def test_wrong_image_size_names_the_resize_function_users_have(tmp_path):
    """The one-line error for images that are not 64 x 64 x 3 uint8 names the real resize call
    (synthgen.gan.infer.fit; `synthgen gan swap` resizes by itself), not a `genegan.fit()` that
    does not exist."""
    import importlib

    from synthgen.gan import infer
    from synthgen.gan.infer import GeneGAN

    tr = Trainer(TINY, TrainConfig())
    save(tmp_path / "g", tr, generator_only=True)
    gan = GeneGAN.load(tmp_path / "g")
    big = np.zeros((80, 100, 3), np.uint8)
    with pytest.raises(UserError) as e:
        gan.swap(big, big)
    msg = str(e.value)
    assert "\n" not in msg and "genegan.fit" not in msg and "synthgen.gan.infer.fit" in msg, msg
    mod, _, fn = "synthgen.gan.infer.fit".rpartition(".")
    assert getattr(importlib.import_module(mod), fn) is infer.fit
    assert gan.swap(infer.fit(big), infer.fit(big))[0].shape == (64, 64, 3)
