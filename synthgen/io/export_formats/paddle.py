"""PaddleOCR (PP-OCR) label files: `paddleocr-det` and `paddleocr-rec`.

paddleocr-det (PaddleOCR's `SimpleDataSet` + `DetLabelEncode`):
  * `OUT/images/<key>.<ext>`: the stored image, bytes unchanged;
  * `OUT/det_gt.txt`: one line per image, `images/<key>.<ext>` TAB a JSON list of
    `{"transcription": text, "points": [[x1, y1], ..., [x4, y4]]}`; vertices rounded half up to
    whole pixels, clockwise from the text's top-left; don't-care text has the transcription
    `###` (PaddleOCR also treats a transcription `*` as don't-care: a real word `*` reads as
    ignored there). An image without text has `[]` (PaddleOCR skips it while training).
  * Train with `Train.dataset: {name: SimpleDataSet, data_dir: OUT, label_file_list: [OUT/det_gt.txt]}`.

paddleocr-rec (`SimpleDataSet` + `CTCLabelEncode` / `AttnLabelEncode`):
  * `OUT/images/<name>.<ext>`: the crops (`<key>_<i>.png` cut from scenes and documents, a
    line sample's own image `<key>.<ext>` as is);
  * `OUT/rec_gt.txt`: one line per crop, `images/<name>.<ext>` TAB the text (a tab or line
    break inside a text becomes a space: the file is tab-separated and line-based);
  * `OUT/dict.txt`: every character the labels use, one per line, in code-point order, without
    the space (PP-OCR configs add it with `Global.use_space_char: true`; the export says so
    when a label holds one). Point `Global.character_dict_path` at it.
"""

from __future__ import annotations

import json

from ..exports import Crop, ExportStats
from .base import DetFormat, DetImage, RecFormat

IGNORE = "###"


class PaddleDet(DetFormat):
    title = "detection: images/ + det_gt.txt (image<TAB>[{transcription, points}]; ### don't-care)"
    LABELS = "det_gt.txt"

    def __init__(self, root, options) -> None:
        super().__init__(root, options)
        self.f = self.text_file(self.LABELS)

    def add_image(self, img: DetImage) -> None:
        items = [{"transcription": IGNORE if r.ignore else r.text, "points": r.int_points()} for r in img.regions]
        self.f.write(f"{img.file}\t{json.dumps(items, ensure_ascii=False)}\n")


def _one_line(text: str) -> str:
    return text.replace("\t", " ").replace("\r", " ").replace("\n", " ")


class PaddleRec(RecFormat):
    title = "recognition: images/ crops + rec_gt.txt (image<TAB>text) + dict.txt"
    LABELS = "rec_gt.txt"
    DICT = "dict.txt"

    def __init__(self, root, options) -> None:
        super().__init__(root, options)
        self.f = self.text_file(self.LABELS)
        self.chars: set[str] = set()

    def add_crop(self, crop: Crop, file: str) -> None:
        text = _one_line(crop.text)
        self.chars.update(text)
        self.f.write(f"{file}\t{text}\n")

    def close(self, stats: ExportStats) -> None:
        chars = sorted(self.chars - {" "})
        (self.root / self.DICT).write_text("".join(c + "\n" for c in chars), encoding="utf-8", newline="\n")
        if " " in self.chars:
            stats.notes.append("labels hold spaces: set Global.use_space_char: true (dict.txt lists no space)")
        stats.notes.append(f"dict.txt: {len(chars)} characters; set Global.character_dict_path to it")
        super().close(stats)
