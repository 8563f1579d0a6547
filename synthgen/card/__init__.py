"""`synthgen card DIR`: a Hugging Face dataset card (README.md) and a contact sheet for a
rendered dataset folder. `write_card(path)` does it from Python; see page.py and stats.py."""

from .page import CARD_MARK, SHEET_NAME, write_card

__all__ = ["CARD_MARK", "SHEET_NAME", "write_card"]
