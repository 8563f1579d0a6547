"""docTR reads synthgen's doctr-det / doctr-rec exports with its own dataset classes, and its
recognition model trains a few steps on them (issue 24's must-show).

docTR needs torchvision, whose PyPI wheel does not import beside this project's CPU torch, so it
lives in its own venv (this machine: `python3 -m venv /tmp/doctr_venv && /tmp/doctr_venv/bin/pip
install torch==2.14.1 torchvision==0.29.1 python-doctr`). This script runs in two interpreters:

    python scripts/doctr_readback.py --doctr-python /tmp/doctr_venv/bin/python --work /tmp/doctr_rb

1. here (synthgen's interpreter): render a 200-sample ocr_scene and ocr_line dataset, export
   doctr-det (scene; a line dataset is refused by detection formats) and doctr-rec (both), and write the truth from the SOURCE shards
   (not from the exported files): every text region's quad per image, every kept crop's text;
2. in docTR's interpreter (`--phase doctr`): `DetectionDataset(use_polygons=True)` and
   `RecognitionDataset` load the exports; polygons (docTR gives them relative to the image
   size: scaled back here) and texts are compared with the truth; then `crnn_mobilenet_v3_small`
   trains 3 batches on the recognition set on the CPU (CTC loss must be finite and fall or not,
   we only show the step runs).
Prints a JSON report; `--report FILE` writes it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

TEXT_KINDS = ("word", "line", "field")


def prepare(work: Path, n: int) -> dict:
    from synthgen.cli import main as cli
    from synthgen.io.readers import open_dataset

    work.mkdir(parents=True, exist_ok=True)
    truth: dict = {"det": {}, "rec": {}}
    for pipe in ("ocr_scene", "ocr_line"):
        src = work / pipe
        if not (src / "manifest.json").exists():
            assert cli(["render", pipe, "--n", str(n), "--out", str(src), "--shard-size", "100", "-q"]) == 0
        ds = open_dataset(str(src))
        texts, polys = [], {}
        for s in ds:
            text = [i for i in s.instances if i.get("kind", "word") in TEXT_KINDS]
            if text:
                polys[f"{s.key}.{s.image_ext}"] = [i["quad"] for i in text]
            texts += [i["text"] for i in text if not i["ignore"] and i["text"]]
        truth["rec"][pipe] = texts
        # a line dataset is recognition crops: detection formats refuse it (one line, exit 2)
        for fmt in ("doctr-det", "doctr-rec") if pipe == "ocr_scene" else ("doctr-rec",):
            out = work / f"{pipe}_{fmt}"
            if not out.exists():
                assert cli(["export", str(src), str(out), "--to", fmt, "-q"]) == 0, fmt
        if pipe == "ocr_scene":
            truth["det"][pipe] = polys
    (work / "truth.json").write_text(json.dumps(truth))
    return truth


def doctr_phase(work: Path) -> dict:
    import numpy as np
    import torch
    from doctr.datasets import VOCABS, DetectionDataset, RecognitionDataset
    from doctr.models import crnn_mobilenet_v3_small

    truth = json.loads((work / "truth.json").read_text())
    rep: dict = {"torch": torch.__version__}
    rep["det"] = {}
    for pipe in truth["det"]:
        det_dir = work / f"{pipe}_doctr-det"
        det = DetectionDataset(img_folder=str(det_dir / "images"), label_path=str(det_dir / "labels.json"),
                               use_polygons=True)
        worst, n_polys, names = 0.0, 0, []
        for i in range(len(det)):
            name = det.data[i][0]
            s = det[i]
            h, w = s.image.shape[-2:]
            got = np.asarray(s.target["words"], np.float64) * np.array([w, h])  # docTR: relative coords
            want = np.asarray(truth["det"][pipe][name], np.float64)
            assert got.shape == want.shape, (name, got.shape, want.shape)
            worst = max(worst, float(np.abs(got - want).max()))
            n_polys += len(want)
            names.append(name)
        assert sorted(names) == sorted(truth["det"][pipe]), "images differ"
        rep["det"][pipe] = {"images": len(det), "images_in_truth": len(truth["det"][pipe]), "polygons": n_polys,
                            "max_abs_px_error": worst}
    rep["rec"] = {}
    vocab = VOCABS["multilingual"]
    sets = {}
    for pipe in ("ocr_scene", "ocr_line"):
        d = work / f"{pipe}_doctr-rec"
        rec = RecognitionDataset(img_folder=str(d / "images"), labels_path=str(d / "labels.json"))
        got = [rec[i].target for i in range(len(rec))]
        want = truth["rec"][pipe]
        rep["rec"][pipe] = {"crops": len(rec), "crops_in_truth": len(want), "texts_equal": sorted(got) == sorted(want),
                            "chars_outside_vocab": sorted({c for t in got for c in t if c not in vocab})}
        sets[pipe] = rec
    # three training steps of docTR's CRNN on the line recognition set, CPU
    model = crnn_mobilenet_v3_small(pretrained=False, pretrained_backbone=False, vocab=vocab)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    rec = sets["ocr_line"]
    losses = []
    t0 = time.perf_counter()
    short = [i for i in range(len(rec)) if len(rec.data[i][1]) <= 24]  # docTR's CRNN: 32 CTC steps at 32x128
    for step in range(3):
        imgs, texts = [], []
        for i in short[step * 16: step * 16 + 16]:
            s = rec[i]
            img = torch.nn.functional.interpolate(s.image[None], size=(32, 128), mode="bilinear", align_corners=False)
            imgs.append(img[0])
            texts.append("".join(c for c in s.target if c in vocab))
        out = model(torch.stack(imgs), texts, return_model_output=False)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        losses.append(float(out["loss"].detach()))
    rep["train"] = {"model": "crnn_mobilenet_v3_small", "batches": 3, "batch_size": 16, "input": "32x128", "lines_used": "texts of <= 24 characters (32 CTC steps)",
                    "losses": losses, "seconds": time.perf_counter() - t0}
    return rep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", required=True)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--doctr-python", help="the interpreter that has python-doctr")
    ap.add_argument("--phase", choices=["all", "doctr"], default="all")
    ap.add_argument("--report")
    a = ap.parse_args()
    work = Path(a.work)
    if a.phase == "doctr":
        print(json.dumps(doctr_phase(work)))
        return
    prepare(work, a.n)
    r = subprocess.run([a.doctr_python, __file__, "--phase", "doctr", "--work", str(work)],
                       capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stderr[-3000:])
    rep = json.loads(r.stdout.strip().splitlines()[-1])
    rep["n"] = a.n
    text = json.dumps(rep, indent=2)
    print(text)
    if a.report:
        Path(a.report).write_text(text + "\n")


if __name__ == "__main__":
    main()
