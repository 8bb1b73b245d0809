"""How well the sentiment rules do on a labelled set of sentences (`member-api
sentiment-eval`): precision and recall of "a negative remark about the service".

The set ships with the package (`data/sentiment_eval.tsv`): a header, then one sentence
a line as `label<TAB>text`, label 1 for a negative remark about the service, 0 for
anything else (praise, questions, negations, negative remarks about other things).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from member_api.intelligence.sentiment import Lexicon, Verdict, classify

DATA = Path(__file__).resolve().parent / "data"
EVAL_SET = DATA / "sentiment_eval.tsv"
# Written after the rules, to see how they do on sentences they were not shaped on.
HOLDOUT_SET = DATA / "sentiment_holdout.tsv"
SHIPPED_SETS = (EVAL_SET, HOLDOUT_SET)


@dataclass(frozen=True)
class Example:
    label: bool
    text: str


@dataclass(frozen=True)
class Miss:
    example: Example
    verdict: Verdict


@dataclass(frozen=True)
class Evaluation:
    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int
    misses: tuple[Miss, ...]

    @property
    def total(self) -> int:
        return (
            self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
        )

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    def summary(self) -> str:
        positives = self.true_positives + self.false_negatives
        return (
            f"{self.total} sentences ({positives} negative about the service, "
            f"{self.total - positives} not): precision {self.precision:.3f}, "
            f"recall {self.recall:.3f} (true positives {self.true_positives}, "
            f"false positives {self.false_positives}, true negatives {self.true_negatives}, "
            f"false negatives {self.false_negatives})"
        )


def load(path: Path = EVAL_SET) -> list[Example]:
    examples = []
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        label, sep, text = line.partition("\t")
        if not sep or label not in ("0", "1") or not text.strip():
            raise ValueError(f"{path}:{number}: expected 0 or 1, a tab, then the text")
        examples.append(Example(label == "1", text.strip()))
    return examples


def evaluate(examples: list[Example], lexicon: Lexicon) -> Evaluation:
    counts = {(True, True): 0, (False, True): 0, (False, False): 0, (True, False): 0}
    misses = []
    for example in examples:
        verdict = classify(example.text, lexicon)
        counts[(verdict.negative, example.label)] += 1
        if verdict.negative != example.label:
            misses.append(Miss(example, verdict))
    return Evaluation(
        true_positives=counts[(True, True)],
        false_positives=counts[(True, False)],
        true_negatives=counts[(False, False)],
        false_negatives=counts[(False, True)],
        misses=tuple(misses),
    )
