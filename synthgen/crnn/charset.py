"""The recogniser's alphabet: CTC blank = 0, characters 1..N.

DEMO_CHARS covers every character the demo pipeline (ocr_line_narrow restricted to Latin corpora
and generators, DEMO_OVERRIDES) produces: printable ASCII plus the currency and date symbols
of the price and date generators (measured over 3000 samples)."""

from __future__ import annotations

import string

DEMO_CHARS = "".join(sorted(set(string.printable) - set(string.whitespace))) + " £¥€￥元年日月"

# ocr_line(_narrow) with the Chinese corpora switched off and 1-2 words per line.
DEMO_OVERRIDES = {"line.corpus.sources": {"zh_words": 0, "zh_chars": 0}, "line.corpus.words": [1, 2]}


class Charset:
    def __init__(self, chars: str = DEMO_CHARS) -> None:
        if len(set(chars)) != len(chars):
            raise ValueError("charset has repeated characters")
        self.chars = chars
        self.index = {c: k + 1 for k, c in enumerate(chars)}

    def __len__(self) -> int:
        return len(self.chars) + 1  # with the blank

    def encode(self, text: str) -> list[int]:
        """Ids of the characters the charset knows (others are dropped: the caller counts them)."""
        return [self.index[c] for c in text if c in self.index]

    def covers(self, text: str) -> bool:
        return all(c in self.index for c in text)

    def decode_greedy(self, ids) -> str:
        """Best-path CTC decoding: collapse repeats, drop blanks."""
        out, prev = [], 0
        for k in ids:
            k = int(k)
            if k != prev and k != 0:
                out.append(self.chars[k - 1])
            prev = k
        return "".join(out)
