"""The mask head's image branch (issue 25, `--mask-input`): the mask also reads the input and
decoded images. Off by default; its last convolution starts at zero, so a trained model given
the branch computes exactly what it did; checkpoints keep the flag; a masked checkpoint without
the branch resumes into a run with it. CPU only, small widths."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from synthgen.cli import main as cli  # noqa: E402
from synthgen.errors import UserError  # noqa: E402
from synthgen.gan.checkpoint import load_generator, load_trainer, save  # noqa: E402
from synthgen.gan.data import ProceduralPairs, to_tensor  # noqa: E402
from synthgen.gan.model import GeneGANConfig, Generator  # noqa: E402
from synthgen.gan.trainer import TrainConfig, Trainer, forward  # noqa: E402

KW = dict(widths=(8, 16, 32), u_channels=8, d_widths=(8, 16, 32), compose="mask")
MASKED = GeneGANConfig(**KW)
WITH_IMAGE = GeneGANConfig(**KW, mask_input=True)


@pytest.fixture(scope="module")
def batch():
    torch.set_num_threads(1)
    src = ProceduralPairs("glasses", seed=5, n=16)
    return tuple(to_tensor(x) for x in src.batch(np.random.default_rng(3), 4))


def test_off_by_default_and_only_with_compose_mask():
    assert GeneGANConfig().mask_input is False and Generator(MASKED).dec.mask_image is None
    assert "mask_input" not in MASKED.to_json()  # old readers still load new configs without it
    assert GeneGANConfig.from_json(WITH_IMAGE.to_json()) == WITH_IMAGE
    with pytest.raises(ValueError, match="compose"):
        GeneGANConfig(widths=(8, 16, 32), u_channels=8, mask_input=True)
    with pytest.raises(ValueError, match="true or false"):
        GeneGANConfig.from_json({**WITH_IMAGE.to_json(), "mask_input": "yes"})


def test_zero_initialised_branch_leaves_every_output_of_the_old_model(batch):
    a_u, b_0 = batch
    old = Trainer(MASKED, TrainConfig(batch=4, seed=2, ema=0.0))
    for _ in range(2):  # a trained, not freshly initialised, model
        old.step(a_u, b_0)
    new = Generator(WITH_IMAGE)
    missing = new.load_state_dict(old.model.gen.state_dict(), strict=False).missing_keys
    assert missing and all(k.startswith("dec.mask_image.") for k in missing)
    with torch.no_grad():
        f0 = forward(None, a_u, b_0, gen=old.model.gen.eval())
        f1 = forward(None, a_u, b_0, gen=new.eval())
        assert set(f0) == set(f1)
        for k in f0:
            assert torch.equal(f0[k], f1[k]), k
        new.dec.mask_image.conv2.bias.fill_(1.0)  # the branch is really in the path
        assert not torch.equal(forward(None, a_u, b_0, gen=new)["mask_a_0"], f0["mask_a_0"])
        with pytest.raises(ValueError, match="input image"):
            new.dec.parts(*new.enc(a_u))


def test_the_training_gradient_reaches_the_image_channels(batch):
    tr = Trainer(WITH_IMAGE, TrainConfig(batch=4, seed=2, w_rec_mask=1.0))
    before = {k: v.detach().clone() for k, v in tr.model.gen.dec.mask_image.named_parameters()}
    tr.step(*batch)
    br = tr.model.gen.dec.mask_image
    assert br.conv2.weight.grad is not None and br.conv2.weight.grad.abs().sum() > 0
    # the weights that read the input image (channels 0-2) and the decoded image (3-5) both move
    assert not torch.equal(br.conv2.weight, before["conv2.weight"])
    tr.step(*batch)
    g = br.conv1.weight.grad
    assert g[:, :3].abs().sum() > 0 and g[:, 3:].abs().sum() > 0


def test_flag_round_trips_through_checkpoints_and_inference(tmp_path, batch):
    from synthgen.gan.checkpoint import export
    from synthgen.gan.infer import GeneGAN

    tr = Trainer(WITH_IMAGE, TrainConfig(batch=4, ema=0.9))
    tr.step(*batch)
    save(tmp_path / "full", tr, meta={"steps": 1})
    assert json.loads((tmp_path / "full" / "config.json").read_text())["model"]["mask_input"] is True
    gen, _ = load_generator(tmp_path / "full")
    assert gen.cfg.mask_input and gen.dec.mask_image is not None
    assert torch.equal(gen.dec.mask_image.conv2.weight, tr.ema.dec.mask_image.conv2.weight)
    export(tmp_path / "full", tmp_path / "fp16")
    gan = GeneGAN.load(tmp_path / "fp16")
    assert gan.gen.cfg.mask_input
    a = ((batch[0] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    b = ((batch[1] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()
    a0, bu = gan.swap(a, b)
    assert a0.shape == a.shape and bu.shape == b.shape
    # the flag is what builds the branch: a config without it cannot take these weights
    conf = json.loads((tmp_path / "fp16" / "config.json").read_text())
    del conf["model"]["mask_input"]
    (tmp_path / "fp16" / "config.json").write_text(json.dumps(conf))
    with pytest.raises(UserError, match="unexpected"):
        load_generator(tmp_path / "fp16")


def test_resume_adds_the_branch_to_an_old_masked_checkpoint(tmp_path, batch):
    old = Trainer(MASKED, TrainConfig(batch=4, ema=0.9))
    for _ in range(2):
        old.step(*batch)
    save(tmp_path / "ck", old, meta={"steps": old.steps, "seconds": 3.0})
    new = load_trainer(tmp_path / "ck", Trainer(WITH_IMAGE, TrainConfig(batch=4, ema=0.9, seed=7)))
    assert new.steps == 2 and len(new.opt_g.state) == len(old.opt_g.state)
    assert torch.count_nonzero(new.model.gen.dec.mask_image.conv2.weight) == 0
    assert torch.count_nonzero(new.ema.dec.mask_image.conv2.weight) == 0
    for k, v in old.model.state_dict().items():
        assert torch.equal(new.model.state_dict()[k], v), k
    with torch.no_grad():
        f0, f1 = forward(None, *batch, gen=old.ema), forward(None, *batch, gen=new.ema)
    assert all(torch.equal(f0[k], f1[k]) for k in f0)
    assert [g["lr"] for g in new.opt_g.param_groups] == [2e-4, 2e-4 * 5.0]  # the branch learns faster
    assert all(new.opt_g.state[p] for p in new.opt_g.param_groups[0]["params"])  # Adam moments restored
    new.step(*batch)  # the restored Adam state fits the generator's parameters
    save(tmp_path / "ck2", new, meta={"steps": new.steps})
    with pytest.raises(UserError, match="--mask-input"):
        load_trainer(tmp_path / "ck2", Trainer(MASKED, TrainConfig(batch=4)))


def test_cli_flag_trains_and_resumes(tmp_path):
    out = tmp_path / "run"
    args = ["gan", "train", "--out", str(out), "--steps", "1", "--pool", "4", "--widths", "8,16,32",
            "--u-channels", "8", "--batch", "2", "--threads", "1", "-q"]
    assert cli(args) == 0
    assert cli(args + ["--mask-input", "--resume"]) == 0
    conf = json.loads((out / "checkpoint" / "config.json").read_text())
    assert conf["model"]["mask_input"] is True and conf["meta"]["steps"] == 2
    assert cli(args + ["--resume"]) == 2  # a run with the branch does not resume without it
