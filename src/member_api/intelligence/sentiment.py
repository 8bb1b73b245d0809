"""Is a post or comment a negative remark about the service? Rules as plain functions.

A text is cut into clauses (at punctuation and at 但是, 不过 ...), each clause into words
(`segment`). A clause is a negative remark about the service when it holds

- a complaint phrase, which says it all by itself (鉴定慢, 售后差, 还没发货), or
- a negative word (慢, 差, 敷衍, 没人理 ...) or a negated positive one (不专业, 不太好)
  together with a service aspect (鉴定, 售后, 客服, 物流 ...). A clause that starts with
  the negative word (客服态度，真的太差了) takes the aspect of the clause before.

A negation word up to three words before (不, 没有, 一点也不) turns a word round: 不慢
and 没有问题 are not complaints, 不专业 is. A clause ending in 吗 is a question, not a
remark. Negative words about anything else (the weather, a brand's design) raise
nothing: without an aspect there is no remark about the service.

The phrases are data (`Lexicon`): built-in defaults, which operators extend or trim.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from member_api.error_codes import SentimentErrorCode
from member_api.errors import InvalidInput
from member_api.intelligence.segment import SEGMENTER, Segmenter

PHRASE_MAX = 12
# How many words before a sentiment word a negation still reaches.
NEGATION_REACH = 3


class PhraseKind(StrEnum):
    # What the service is made of: 鉴定, 客服, 物流 ...
    ASPECT = "ASPECT"
    # A negative remark about the service on its own: 鉴定慢, 售后差.
    COMPLAINT = "COMPLAINT"
    # Negative about whatever it is said of: 慢, 差, 敷衍.
    NEGATIVE = "NEGATIVE"
    # Positive about whatever it is said of: 快, 专业; negated, a complaint.
    POSITIVE = "POSITIVE"
    # Turns the next sentiment word round: 不, 没有.
    NEGATION = "NEGATION"


DEFAULT_PHRASES: dict[PhraseKind, tuple[str, ...]] = {
    PhraseKind.ASPECT: (
        "鉴定", "鉴别", "验货", "质检", "售后", "客服", "物流", "快递", "发货", "到货",
        "配送", "送货", "退款", "退货", "换货", "退换", "包装", "服务", "平台", "寄卖",
        "寄售", "回收", "估价", "审核", "打款", "回款", "提现", "结算", "养护", "保养",
        "维修", "专员", "顾问", "工作人员", "客户经理", "订单", "积分", "会员", "app",
        "小程序", "门店",
    ),
    PhraseKind.COMPLAINT: (
        "鉴定慢", "售后差", "客服差", "物流慢", "发货慢", "退款慢", "还没发货", "不发货",
        "迟迟不发货", "不给退", "不给退款", "退款难", "退货难", "联系不上客服",
        "找不到客服", "客服不回", "已读不回", "乱扣积分", "丢件",
    ),
    PhraseKind.NEGATIVE: (
        "慢", "差", "久", "拖", "拖延", "拖拉", "拖拖拉拉", "磨蹭", "慢吞吞", "龟速",
        "敷衍", "推诿", "踢皮球", "扯皮", "差劲", "垃圾", "糟糕", "恶劣", "失望", "不满",
        "不满意", "不专业", "不靠谱", "不负责", "不负责任", "没人理", "不理人", "爱答不理",
        "没人管", "没人回", "没回复", "不回复", "没回音", "没消息", "没动静", "石沉大海",
        "坑", "坑人", "骗人", "忽悠", "破损", "压坏", "弄坏", "弄丢", "有问题", "出问题",
        "烂", "离谱", "无语", "气人", "闹心", "糟心", "生气", "投诉", "效率低", "不耐烦",
        "没耐心", "不及时", "不给力", "麻烦", "折腾", "乱收费", "等半天", "没到账",
        "退不了", "心累", "崩溃", "不行", "卡顿", "闪退", "报错", "搞错", "弄错", "粗糙",
        "难用", "后悔", "错", "变形", "随便", "说不清", "没收到", "傲慢", "繁琐",
        "敷衍了事", "打不通", "联系不上", "查不到", "找不到", "收不到", "登录不上",
        "解决不了", "用不了",
    ),
    PhraseKind.POSITIVE: (
        "快", "好", "不错", "满意", "专业", "靠谱", "贴心", "耐心", "周到", "及时", "迅速",
        "给力", "点赞", "赞", "棒", "完美", "放心", "热情", "细致", "高效", "神速", "认真",
        "负责", "到位", "安心", "准时", "顺利", "麻利", "友好", "礼貌", "用心", "好评",
        "回复", "处理", "解决", "舒服", "客气",
    ),
    PhraseKind.NEGATION: (
        "不", "没", "没有", "未", "无", "并不", "并没有", "并非", "不是", "从不", "从没",
        "从来不", "从来没有", "毫不", "绝不", "不太", "不算", "不会", "不怎么", "谈不上",
        "算不上",
    ),
}  # fmt: skip

# Grammar rather than vocabulary, so not data: degree words a sentiment word may carry
# (太慢, 很差), words that end a clause's scope, and what may stand before the sentiment
# word of a clause that takes the aspect of the clause before.


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DEGREE = _words(
    "太 很 好 超 超级 特别 非常 真 真的 挺 最 极 极其 更 十分 相当 比较 有点 有些 有点儿 "
    "那么 这么 如此 实在 简直 巨 贼 老 太过 也 都 还 又"
)
CONTRAST = _words("但是 但 可是 不过 然而 只是 而是")
LEAD_INS = DEGREE | _words(
    "了 啊 呀 吧 呢 的 得 是 感觉 觉得 真是 实在是 就 总是 一直 老是 每次 还是 确实 一点 "
    "结果 然后 后来 最后 而且 并且"
)
# A clause that only fears or supposes (担心物流慢, 以为售后会很麻烦) is no remark.
HEDGES = _words("担心 以为 本以为 原以为 还以为 怕 害怕 听说 如果 要是 万一 假如")
# Negations that, right before an aspect, say the service did not happen (还没退款).
NOT_DONE = _words("不 没 没有 未 还没")
# Endings a word may carry (弄坏了).
PARTICLES = _words("了 的 啊 呀 吧 呢 啦 哦 嘛")
QUESTION_ENDS = frozenset({"吗"})
_CLAUSE_BREAK = re.compile(r"[\s,.!?;:~…。，！？；：、()\[\]{}<>《》「」『』\"'“”‘’]+")


@dataclass(frozen=True)
class Lexicon:
    """The phrases in force, by kind."""

    phrases: dict[PhraseKind, frozenset[str]]

    @classmethod
    def of(
        cls,
        added: Iterable[tuple[PhraseKind, str]] = (),
        removed: Iterable[tuple[PhraseKind, str]] = (),
        defaults: dict[PhraseKind, tuple[str, ...]] = DEFAULT_PHRASES,
    ) -> Lexicon:
        """The defaults, with operators' additions and less their removals."""
        found = {kind: set(defaults.get(kind, ())) for kind in PhraseKind}
        for kind, phrase in added:
            found[kind].add(phrase)
        for kind, phrase in removed:
            found[kind].discard(phrase)
        return cls({kind: frozenset(values) for kind, values in found.items()})

    def has(self, kind: PhraseKind, phrase: str) -> bool:
        return phrase in self.phrases[kind]

    def words(self) -> frozenset[str]:
        """Every phrase, for the segmenter to keep whole."""
        return frozenset().union(*self.phrases.values())


def clean_phrase(raw: str) -> str:
    """A phrase as stored and matched: NFKC, lower case, 1 to PHRASE_MAX characters of
    letters and digits (Chinese characters are letters), nothing else."""
    phrase = unicodedata.normalize("NFKC", raw).strip().lower()
    if not phrase:
        raise InvalidInput(
            SentimentErrorCode.INVALID_PHRASE, "The phrase is empty.", field="phrase"
        )
    if len(phrase) > PHRASE_MAX:
        raise InvalidInput(
            SentimentErrorCode.PHRASE_TOO_LONG,
            f"A phrase is at most {PHRASE_MAX} characters.",
            field="phrase",
        )
    if not all(ch.isalnum() for ch in phrase):
        raise InvalidInput(
            SentimentErrorCode.INVALID_PHRASE,
            "A phrase is letters and digits only: no spaces, punctuation or symbols.",
            field="phrase",
        )
    return phrase


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True)
class Verdict:
    """Whether the text is a negative remark about the service, the phrases that made it
    one (aspects and negative words, in order of appearance), and why, in words."""

    negative: bool
    matched: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Mark:
    kind: PhraseKind
    phrase: str
    position: int
    # A negation inside the word itself (不太好 cut as one word).
    negated: bool = False


def _sentiment_of(word: str, lexicon: Lexicon) -> tuple[PhraseKind, str, bool] | None:
    """The word as a complaint, negative or positive phrase; a degree word or negation
    in front of it is taken off (太慢, 不太好), each negation turning it round."""
    negated = False
    rest = word
    while len(rest) > 1 and rest[-1] in PARTICLES:
        rest = rest[:-1]
    while rest:
        for kind in (PhraseKind.COMPLAINT, PhraseKind.NEGATIVE, PhraseKind.POSITIVE):
            if lexicon.has(kind, rest):
                return kind, rest, negated
        prefix = _prefix(rest, lexicon)
        if prefix is None:
            return _suffix(rest, lexicon, negated)
        negated ^= lexicon.has(PhraseKind.NEGATION, prefix)
        rest = rest[len(prefix) :]
    return None


def _suffix(word: str, lexicon: Lexicon, negated: bool) -> tuple[PhraseKind, str, bool] | None:
    """A word ending in a sentiment phrase (态度恶劣, 速度慢): one of two characters or
    more, or a single one after a noun of two or more (so not 出差, 时差)."""
    for start in range(1, len(word)):
        rest = word[start:]
        if len(rest) == 1 and start < 2:
            continue
        for kind in (PhraseKind.COMPLAINT, PhraseKind.NEGATIVE, PhraseKind.POSITIVE):
            if lexicon.has(kind, rest):
                return kind, rest, negated
    return None


def _prefix(word: str, lexicon: Lexicon) -> str | None:
    candidates = DEGREE | lexicon.phrases[PhraseKind.NEGATION]
    found = [p for p in candidates if word.startswith(p) and len(p) < len(word)]
    return max(found, key=len) if found else None


def _aspect_of(word: str, lexicon: Lexicon) -> str | None:
    """The first aspect the word holds (the longest of those starting there)."""
    found = [(word.index(a), -len(a), a) for a in lexicon.phrases[PhraseKind.ASPECT] if a in word]
    return min(found)[2] if found else None


def _marks(words: list[str], lexicon: Lexicon) -> list[_Mark]:
    marks = []
    for position, word in enumerate(words):
        sentiment = _sentiment_of(word, lexicon)
        if sentiment is not None:
            kind, phrase, negated = sentiment
            marks.append(_Mark(kind, phrase, position, negated))
            continue
        if lexicon.has(PhraseKind.NEGATION, word):
            marks.append(_Mark(PhraseKind.NEGATION, word, position))
            continue
        aspect = _aspect_of(word, lexicon)
        if aspect is not None:
            marks.append(_Mark(PhraseKind.ASPECT, aspect, position))
    return marks


def _negated_by(mark: _Mark, marks: list[_Mark], words: list[str]) -> list[str]:
    """The negations reaching `mark`: up to NEGATION_REACH words before it (degree words
    aside: 没有那么慢), stopping at an aspect or another sentiment word."""
    found = []
    for other in reversed([m for m in marks if m.position < mark.position]):
        between = words[other.position + 1 : mark.position]
        if 1 + sum(w not in DEGREE for w in between) > NEGATION_REACH:
            break
        if other.kind is not PhraseKind.NEGATION:
            break
        found.append(other.phrase)
    return found


@dataclass
class _Clause:
    words: list[str]
    marks: list[_Mark] = field(default_factory=list)

    def aspects(self) -> list[str]:
        return [m.phrase for m in self.marks if m.kind is PhraseKind.ASPECT]


def _clauses(text: str, lexicon: Lexicon, segmenter: Segmenter) -> list[_Clause]:
    clauses = []
    for piece in _CLAUSE_BREAK.split(normalise(text)):
        if not piece:
            continue
        current: list[str] = []
        for word in segmenter.cut(piece, lexicon.words()):
            if word in CONTRAST and current:
                clauses.append(_Clause(current))
                current = []
            elif word not in CONTRAST:
                current.append(word)
        if current:
            clauses.append(_Clause(current))
    for clause in clauses:
        clause.marks = _marks(clause.words, lexicon)
    return clauses


def _judge(clause: _Clause, before: _Clause | None) -> tuple[list[str], list[str]]:
    """The phrases that make `clause` a complaint (empty if it is none), and why."""
    reasons: list[str] = []
    if clause.words[-1] in QUESTION_ENDS:
        return [], [f"a question: {''.join(clause.words)}"]
    aspects = clause.aspects()
    for mark in clause.marks:
        if mark.kind not in (PhraseKind.COMPLAINT, PhraseKind.NEGATIVE, PhraseKind.POSITIVE):
            continue
        if any(w in HEDGES for w in clause.words[: mark.position]):
            reasons.append(f"{mark.phrase} only supposed")
            continue
        negations = _negated_by(mark, clause.marks, clause.words)
        turned = mark.negated ^ (len(negations) % 2 == 1)
        said = "".join(negations) + mark.phrase
        if mark.kind is PhraseKind.POSITIVE and not turned:
            continue
        if mark.kind is not PhraseKind.POSITIVE and turned:
            reasons.append(f"{mark.phrase} negated ({said})")
            continue
        if mark.kind is PhraseKind.COMPLAINT:
            return [mark.phrase], [f"complaint: {mark.phrase}"]
        about = aspects or _inherited(clause, mark, before)
        word = said if mark.kind is PhraseKind.POSITIVE else mark.phrase
        if about:
            return [about[0], mark.phrase], [f"{about[0]} + {word}"]
        reasons.append(f"{word} is not said of the service")
    undone = _not_done(clause)
    if undone:
        return [undone], [f"not done: {undone}"]
    return [], reasons


def _not_done(clause: _Clause) -> str | None:
    """An aspect right after 没, 未 or 不 (还没退款, 一直不发货): the service did not
    happen. 不是 does not count (不是客服的问题)."""
    for previous, mark in itertools.pairwise(clause.marks):
        adjacent = mark.position - previous.position == 1
        hedged = any(w in HEDGES for w in clause.words[: mark.position])
        negated = previous.phrase in NOT_DONE
        if mark.kind is PhraseKind.ASPECT and adjacent and negated and not hedged:
            return mark.phrase
    return None


def _inherited(clause: _Clause, mark: _Mark, before: _Clause | None) -> list[str]:
    """The aspects of the nearest clause before that has one, when `clause` has nothing
    of its own before its sentiment word (客服的态度，真的太差了)."""
    if before is None:
        return []
    lead = clause.words[: mark.position]
    if any(w not in LEAD_INS and not _is_negation(w, clause) for w in lead):
        return []
    return before.aspects()


def _is_negation(word: str, clause: _Clause) -> bool:
    return any(m.kind is PhraseKind.NEGATION and m.phrase == word for m in clause.marks)


def classify(text: str, lexicon: Lexicon, *, segmenter: Segmenter = SEGMENTER) -> Verdict:
    """The verdict on one post or comment."""
    matched: list[str] = []
    reasons: list[str] = []
    negative = False
    before: _Clause | None = None
    for clause in _clauses(text, lexicon, segmenter):
        phrases, why = _judge(clause, before)
        reasons += why
        if phrases:
            negative = True
            matched += [p for p in phrases if p not in matched]
        if clause.aspects():
            before = clause
    if not reasons and not negative:
        reasons.append("no negative remark about the service")
    return Verdict(negative, tuple(matched), tuple(reasons))
