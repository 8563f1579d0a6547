"""GeneGAN: shapes, the null attribute, every loss against its formula, clipping, a short
training run, checkpoints (round trip and every way to break one). CPU only, small widths."""

import json
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
    with torch.no_grad():
        want = tr.model.gen.dec(*tr.model.gen.enc(x))
        assert torch.equal(gen.dec(*gen.enc(x)), want)
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
