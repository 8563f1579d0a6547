"""docTR's `labels.json` layouts (`doctr.datasets.DetectionDataset` / `RecognitionDataset`):
`doctr-det` and `doctr-rec`.

doctr-det (`DetectionDataset(img_folder=OUT/images, label_path=OUT/labels.json)`):
  * `OUT/images/<key>.<ext>`: the stored image, bytes unchanged;
  * `OUT/labels.json`: `{"<key>.<ext>": {"img_dimensions": [height, width], "img_hash": sha256
    of the image file, "polygons": [[[x1, y1], ..., [x4, y4]], ...]}}` in absolute pixels
    (1/100 px), clockwise from the text's top-left.
  * docTR has no don't-care flag: ignored text (tiny, cut by the frame, occluded) is written as
    text; docTR's DB/LinkNet targets mask boxes under their minimum size themselves.
  * An image without text is left out (image and entry): `DetectionDataset` cannot read an
    empty polygon list (numpy has no min over its missing axis). The summary counts them.

doctr-rec (`RecognitionDataset(img_folder=OUT/images, labels_path=OUT/labels.json)`):
  * `OUT/images/<name>.<ext>`: the crops (as paddleocr-rec); `OUT/labels.json`: `{"<name>.<ext>": text}`.
  * Train with a vocab that holds every character (`doctr.datasets.VOCABS`, or your own string).
"""

from __future__ import annotations

import hashlib

from ..exports import Crop, ExportStats
from .base import DetFormat, DetImage, JsonStream, RecFormat

LABELS = "labels.json"


class DoctrDet(DetFormat):
    title = "detection: images/ + labels.json (docTR: img_dimensions, img_hash, polygons)"

    def __init__(self, root, options) -> None:
        super().__init__(root, options)
        self.out = self.json_stream(LABELS, "{", "}\n")

    def accept(self, img: DetImage) -> bool:
        return bool(img.regions)

    def add_image(self, img: DetImage) -> None:
        rec = {"img_dimensions": [img.height, img.width], "img_hash": hashlib.sha256(img.data).hexdigest(),
               "polygons": [r.points() for r in img.regions]}
        self.out.item(JsonStream.value(img.name) + b": " + JsonStream.value(rec))

    def close(self, stats: ExportStats) -> None:
        if stats.left_out:
            stats.notes.append(f"{stats.left_out} images without text left out: docTR's DetectionDataset "
                               "cannot read an empty polygon list")
        super().close(stats)


class DoctrRec(RecFormat):
    title = "recognition: images/ crops + labels.json (docTR: {image: text})"

    def __init__(self, root, options) -> None:
        super().__init__(root, options)
        self.out = self.json_stream(LABELS, "{", "}\n")

    def add_crop(self, crop: Crop, file: str) -> None:
        name = file.split("/", 1)[1]
        self.out.item(JsonStream.value(name) + b": " + JsonStream.value(crop.text))
