"""Chinese word segmentation (jieba), loaded once per process on first use.

The dictionary takes about a second to load, so nothing loads it at import: the first
text segmented does (a worker's first sentiment task, or `warm()`). The phrases of the
sentiment lexicon are added as words, so that a phrase such as 没人理 comes out whole;
a phrase removed from the lexicon gets back the weight the dictionary gave it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any


class Segmenter:
    """Cuts text into words; safe to share between threads (one cut at a time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokenizer: Any = None
        # Words added for the lexicon, with the dictionary's own weight (0: none).
        self._added: dict[str, int] = {}

    def _load(self) -> Any:
        if self._tokenizer is None:
            import jieba  # type: ignore[import-untyped]

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            tokenizer.initialize()
            self._tokenizer = tokenizer
        return self._tokenizer

    def warm(self) -> None:
        with self._lock:
            self._load()

    def _use(self, words: frozenset[str]) -> None:
        tokenizer = self._load()
        for word in [w for w in self._added if w not in words]:
            tokenizer.FREQ[word] = self._added.pop(word)
        for word in words:
            if word not in self._added and len(word) > 1:
                self._added[word] = int(tokenizer.FREQ.get(word) or 0)
                # The weight jieba suggests for a word to be cut out whole.
                tokenizer.add_word(word, tokenizer.suggest_freq(word, False))

    def cut(self, text: str, words: Iterable[str] = ()) -> list[str]:
        """The words of `text` (no statistical guessing of unknown words), with each of
        `words` kept whole wherever it occurs."""
        with self._lock:
            self._use(frozenset(words))
            return [w for w in self._tokenizer.lcut(text, HMM=False) if w.strip()]


SEGMENTER = Segmenter()
