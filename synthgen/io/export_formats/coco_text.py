"""COCO instances JSON with polygons and COCO-Text's text fields: `coco-text`, for generic
detection trainers (pycocotools, detectron2's `register_coco_instances`, mmdet's CocoDataset).

  * `OUT/images/<key>.<ext>`: the stored image, bytes unchanged;
  * `OUT/annotations.json`: `{"info", "licenses": [], "images": [{"id", "file_name":
    "<key>.<ext>" (relative to images/), "height", "width"}], "annotations": [...],
    "categories": [...]}`; image and annotation ids count from 1.
  * An annotation: `{"id", "image_id", "category_id", "segmentation": [[x1, y1, ..., x4, y4]],
    "bbox": [x, y, w, h], "area" (of the polygon), "iscrowd", "utf8_string", "legibility",
    "class": "machine printed", "kind", "field"}`; coordinates in pixels (1/100 px), (0, 0)
    the image's top-left corner, clockwise from the text's top-left, not clipped to the image.
  * Don't-care text: `iscrowd: 1` and `legibility: "illegible"` (COCO evaluation and
    detectron2 training ignore crowd regions), its transcription kept in `utf8_string`.
  * Categories: `text` (id 1) for the text kinds; `photo` (2) and `document` (3) regions too
    when `--kinds` asks for them.
  * Written streaming: images into the file as they come, annotations into a side file that
    is appended at the end.
"""

from __future__ import annotations

import json
import shutil

from ...core import TEXT_KINDS
from ...version import __version__
from ..exports import ExportStats
from .base import DetFormat, DetImage, JsonStream

CATEGORIES = {"text": 1, "photo": 2, "document": 3}
ANNOTATIONS = "annotations.json"


class CocoText(DetFormat):
    title = "detection: images/ + annotations.json (COCO polygons + COCO-Text utf8_string, legibility)"
    text_only = False

    def __init__(self, root, options) -> None:
        super().__init__(root, options)
        info = {"description": "synthgen export", "version": __version__}
        self.images = self.json_stream(ANNOTATIONS, '{"info": ' + json.dumps(info) + ', "licenses": [], "images": [',
                                       "]")
        self.anns = self.json_stream(ANNOTATIONS + ".anns", "", "")
        self.image_id = 0
        self.ann_id = 0
        self.used: set[str] = set()

    def add_image(self, img: DetImage) -> None:
        self.image_id += 1
        self.images.item(JsonStream.value({"id": self.image_id, "file_name": img.name, "height": img.height,
                                           "width": img.width}))
        for r in img.regions:
            self.ann_id += 1
            cat = "text" if r.kind in TEXT_KINDS else r.kind
            self.used.add(cat)
            x0, y0, x1, y1 = r.bbox()
            self.anns.item(JsonStream.value({
                "id": self.ann_id, "image_id": self.image_id, "category_id": CATEGORIES.get(cat, 0),
                "segmentation": [[v for p in r.points() for v in p]],
                "bbox": [x0, y0, round(x1 - x0, 2), round(y1 - y0, 2)], "area": round(r.area(), 2),
                "iscrowd": int(r.ignore), "utf8_string": r.text,
                "legibility": "illegible" if r.ignore else "legible", "class": "machine printed",
                "kind": r.kind, "field": r.field}))

    def close(self, stats: ExportStats) -> None:
        self.anns.close()
        self.images.close()  # ends the images list: `]`
        side = self.root / (ANNOTATIONS + ".anns")
        cats = [{"id": i, "name": n, "supercategory": n} for n, i in CATEGORIES.items() if n in self.used or n == "text"]
        with open(self.root / ANNOTATIONS, "ab") as f:
            f.write(b', "annotations": [')
            with open(side, "rb") as a:
                shutil.copyfileobj(a, f)
            f.write(b'], "categories": ' + json.dumps(cats).encode() + b"}\n")
        side.unlink()
        super().close(stats)
