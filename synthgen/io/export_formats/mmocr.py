"""MMOCR 1.x annotation files (OpenMMLab 2.0 format: `metainfo` + `data_list`, read by
MMOCR's `OCRDataset`, i.e. mmengine's `BaseDataset`): `mmocr-det` and `mmocr-rec`.

mmocr-det:
  * `OUT/images/<key>.<ext>`: the stored image, bytes unchanged;
  * `OUT/textdet_<split>.json` (split: `--split`, default train):
    `{"metainfo": {"dataset_type": "TextDetDataset", "task_name": "textdet", "category":
    [{"id": 0, "name": "text"}]}, "data_list": [{"img_path": "images/<key>.<ext>", "height",
    "width", "instances": [{"polygon": [x1, y1, ..., x4, y4], "bbox": [x_min, y_min, x_max,
    y_max], "bbox_label": 0, "ignore": bool, "text": str}]}]}` (1/100 px; `text` as in MMOCR's
    text-spotting files, which detection ignores). Images without text are listed with no
    instances (`filter_cfg=dict(filter_empty_gt=True)` drops them in training).
  * Config: `dict(type="OCRDataset", data_root=OUT, ann_file="textdet_train.json", pipeline=...)`.

mmocr-rec:
  * `OUT/images/<name>.<ext>`: the crops (as paddleocr-rec);
  * `OUT/textrecog_<split>.json`: `{"metainfo": {"dataset_type": "TextRecogDataset",
    "task_name": "textrecog"}, "data_list": [{"img_path": "images/<name>.<ext>", "instances":
    [{"text": str}]}]}`;
  * `OUT/dict.txt`: the characters used, one per line in code-point order, the space included
    (a `Dictionary(dict_file=...)`).
"""

from __future__ import annotations

import json

from ..exports import Crop, ExportStats
from .base import DetFormat, DetImage, JsonStream, RecFormat

DET_META = {"dataset_type": "TextDetDataset", "task_name": "textdet", "category": [{"id": 0, "name": "text"}]}
REC_META = {"dataset_type": "TextRecogDataset", "task_name": "textrecog"}


def _head(meta: dict) -> str:
    return '{"metainfo": ' + json.dumps(meta) + ', "data_list": ['


class MmocrDet(DetFormat):
    title = "detection: images/ + textdet_<split>.json (MMOCR 1.x)"

    def __init__(self, root, options) -> None:
        super().__init__(root, options)
        self.out = self.json_stream(f"textdet_{options.split}.json", _head(DET_META), "]}\n")

    def add_image(self, img: DetImage) -> None:
        inst = [{"polygon": [v for p in r.points() for v in p], "bbox": r.bbox(), "bbox_label": 0,
                 "ignore": r.ignore, "text": r.text} for r in img.regions]
        self.out.item(JsonStream.value({"img_path": img.file, "height": img.height, "width": img.width,
                                        "instances": inst}))


class MmocrRec(RecFormat):
    title = "recognition: images/ crops + textrecog_<split>.json (MMOCR 1.x) + dict.txt"
    DICT = "dict.txt"

    def __init__(self, root, options) -> None:
        super().__init__(root, options)
        self.out = self.json_stream(f"textrecog_{options.split}.json", _head(REC_META), "]}\n")
        self.chars: set[str] = set()

    def add_crop(self, crop: Crop, file: str) -> None:
        self.chars.update(crop.text)
        self.out.item(JsonStream.value({"img_path": file, "instances": [{"text": crop.text}]}))

    def close(self, stats: ExportStats) -> None:
        chars = sorted(self.chars - {"\n", "\r"})  # a dictionary file holds one character per line
        (self.root / self.DICT).write_text("".join(c + "\n" for c in chars), encoding="utf-8", newline="\n")
        stats.notes.append(f"dict.txt: {len(chars)} characters (space included when used): "
                           "dictionary=dict(type='Dictionary', dict_file=...)")
        super().close(stats)
