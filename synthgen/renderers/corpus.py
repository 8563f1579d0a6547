"""Text sources: shipped word lists (`synthgen/data/corpus/<name>.txt`) or user text files."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ..errors import UserError

CORPUS_DIR = Path(__file__).resolve().parent.parent / "data" / "corpus"


def shipped() -> list[str]:
    return sorted(p.stem for p in CORPUS_DIR.glob("*.txt"))


@lru_cache(maxsize=64)
def load_corpus(name: str) -> tuple[str, ...]:
    """Lines of a shipped corpus (by name) or of a user file (by path); blank lines dropped."""
    p = CORPUS_DIR / f"{name}.txt"
    if not p.is_file():
        p = Path(name).expanduser()
        if not p.is_file():
            raise UserError(f"unknown corpus {name!r}: not a shipped corpus ({', '.join(shipped())}) nor a file")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"corpus {str(p)!r} cannot be read as UTF-8 text: {e}") from None
    words = tuple(s.strip() for s in lines if s.strip())
    if not words:
        raise UserError(f"corpus {str(p)!r} is empty")
    return words
