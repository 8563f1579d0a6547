"""Train / val / test splits segregated by identity, not merely by image.

`synthgen render ocr_line --n 1e5 --split test` renders only text whose strings fall in the
test part; `--split train` only train strings, so no test string was ever seen in training,
in any image. What is held out (config `splits.by`):
  strings     corpus entries (words) by their normalised form (NFKC, case-folded, spaces
              collapsed: 'Apple' and 'APPLE' are one string); generated strings (numbers,
              codes, dates) and character runs are drawn again until they fall in the part
  identities  document identity records (the person: full name + birth date, else the
              document number), drawn again until they fall in the part
  fonts       font faces by family name (each part renders with its own faces)
A value's part is a keyed hash of the value alone (`splits.key`, not the job seed), cut by the
ratios in a fixed order (train, val, test, then other names sorted): every job with the same
key and ratios agrees on every value's part, whatever its seed, size or pipeline.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import Any

ORDER = ("train", "val", "test")
RETRIES = 400  # draws before giving up on a generated value in a small part (0.1 ** 400: never)


def norm(text: str) -> str:
    """The identity of a string: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def part_bounds(ratios: dict[str, float], part: str) -> tuple[float, float]:
    names = [p for p in ORDER if p in ratios] + sorted(p for p in ratios if p not in ORDER)
    total = sum(float(ratios[p]) for p in names)
    acc = 0.0
    for p in names:
        lo, acc = acc, acc + float(ratios[p]) / total
        if p == part:
            return lo, (1.0 if p == names[-1] else acc)
    raise KeyError(part)


def unit(key: str, kind: str, value: str) -> float:
    """The value's keyed position in [0, 1)."""
    h = hashlib.blake2b(f"{kind}\0{value}".encode(), digest_size=8, key=key.encode()[:64] or b"synthgen")
    return int.from_bytes(h.digest(), "big") / 2.0**64


class Splitter:
    """Does a value belong to the configured part? (`accepts(kind, value)`; kind: strings,
    identities, fonts). With no split configured it accepts everything."""

    def __init__(self, part: str | None, ratios: dict[str, float] | None = None, key: str = "synthgen",
                 by: tuple[str, ...] = ("strings", "identities")) -> None:
        self.part, self.key, self.by = part, key, tuple(by)
        self.lo, self.hi = part_bounds(ratios or {}, part) if part else (0.0, 1.0)

    @classmethod
    def from_config(cls, cfg: Any) -> "Splitter":
        part = getattr(cfg, "split", None)
        sc = getattr(cfg, "splits", None)
        if not part or sc is None:
            return cls(None)
        return cls(part, dict(sc.ratios), sc.key, tuple(sc.by))

    def active(self, kind: str) -> bool:
        return self.part is not None and kind in self.by

    def accepts(self, kind: str, value: str) -> bool:
        if not self.active(kind):
            return True
        return self.lo <= unit(self.key, kind, norm(value)) < self.hi

    def describe(self) -> str:
        return f"{self.part} [{self.lo:.3f}, {self.hi:.3f}) by {', '.join(self.by)} (key {self.key!r})"


def person_key(identity: dict[str, Any]) -> str:
    """Who a document identity record is: name + birth date (a person may hold several
    documents), else the document / ID number, else the whole record."""
    name = identity.get("full_name") or identity.get("name_native") or \
        " ".join(str(identity.get(k) or "") for k in ("given_names", "surname")).strip()
    birth = identity.get("birth_date")
    if name and birth:
        return f"{name}|{birth}"
    for k in ("document_number", "id_number", "personal_number"):
        if identity.get(k):
            return str(identity[k])
    return repr(sorted(identity.items()))


def split_faces(faces: list, splitter: Splitter) -> list:
    """The font faces of the part, by family (only when `fonts` is in splits.by)."""
    if not splitter.active("fonts"):
        return faces
    kept = [f for f in faces if splitter.accepts("fonts", getattr(f, "family", "") or f.name)]
    if not kept:
        from .errors import UserError

        fams = sorted({getattr(f, "family", "") or f.name for f in faces})
        raise UserError(f"no font family of {fams[:6]}{' ...' if len(fams) > 6 else ''} falls in split part "
                        f"{splitter.part!r}; add font families, or drop fonts from splits.by")
    return kept
