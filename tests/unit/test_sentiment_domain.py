"""The sentiment rules: what makes a post a negative remark about the service."""

from __future__ import annotations

from pathlib import Path

import pytest

from member_api.cli import main
from member_api.errors import InvalidInput
from member_api.intelligence import sentiment_eval
from member_api.intelligence.segment import Segmenter
from member_api.intelligence.sentiment import (
    DEFAULT_PHRASES,
    Lexicon,
    PhraseKind,
    classify,
    clean_phrase,
)

DEFAULTS = Lexicon.of()


def negative(text: str, lexicon: Lexicon = DEFAULTS) -> bool:
    return classify(text, lexicon).negative


@pytest.mark.parametrize(
    "text",
    [
        "鉴定慢",
        "售后差",
        "鉴定太慢了",
        "客服没人理",
        "问了三天客服都没人理我",
        "客服回复太敷衍",
        "物流等了太久",
        "发货好慢啊",
        "客服不专业",  # a negated positive
        "售后服务一点也不好",
        "物流不是很快",
        "下单一周了还没发货",
        "退货寄回去半个月了还没退款",  # an aspect that did not happen
        "客服的态度，真的太差了",  # the aspect in the clause before
        "包很喜欢，但是发货太慢了",
        "售后态度恶劣",  # a sentiment word inside a longer word
        "送货的师傅把盒子弄坏了",
        "物流速度慢",  # 速度慢 is one word
    ],
)
def test_a_negative_remark_about_the_service_is_negative(text: str) -> None:
    assert negative(text), classify(text, DEFAULTS)


@pytest.mark.parametrize(
    "text",
    [
        "鉴定不慢",
        "物流一点也不慢",
        "售后一点也不差",
        "包装没有问题",
        "物流没有想象中那么慢",
        "鉴定很快",
        "客服很好",
        "退款很顺利，点赞",
        "没想到鉴定这么快",
        "不是客服的问题，是我自己填错了地址",
    ],
)
def test_negations_and_praise_are_not_negative(text: str) -> None:
    assert not negative(text), classify(text, DEFAULTS)


@pytest.mark.parametrize(
    "text",
    [
        "今天天气太差了",
        "这个包的设计很差",
        "这家品牌的做工越来越差",
        "我的网速太慢了",
        "周末排队吃饭等了好久",
        "鉴定很快，就是天气太差",  # the second clause has a subject of its own
        "这个帖子没人理我",
        "鉴定师出差了",  # 出差 is a trip, not 差
        "时差太大了",
    ],
)
def test_negative_remarks_about_other_things_are_not_about_the_service(text: str) -> None:
    assert not negative(text), classify(text, DEFAULTS)


@pytest.mark.parametrize(
    "text", ["鉴定慢吗？", "请问鉴定一般要多久？", "之前担心物流慢，结果第二天就到了"]
)
def test_questions_and_suppositions_are_not_remarks(text: str) -> None:
    assert not negative(text)


def test_the_verdict_names_the_phrases_and_says_why() -> None:
    verdict = classify("东西挺好的，可是物流实在太慢", DEFAULTS)
    assert verdict.negative
    assert verdict.matched == ("物流", "慢")
    assert verdict.reasons == ("物流 + 慢",)
    compact = classify("鉴定慢", DEFAULTS)
    assert (compact.matched, compact.reasons) == (("鉴定慢",), ("complaint: 鉴定慢",))
    negated = classify("鉴定一点也不慢", DEFAULTS)
    assert not negated.negative
    assert negated.matched == ()
    assert negated.reasons == ("慢 negated (不慢)",)
    # The first aspect a word holds, whatever order the phrases are kept in.
    assert classify("售后服务差", DEFAULTS).matched == ("售后", "差")
    elsewhere = classify("今天天气太差了", DEFAULTS)
    assert elsewhere.reasons == ("差 is not said of the service",)


def test_operators_phrases_change_the_verdict() -> None:
    text = "寄卖的包被压价压得厉害"
    assert not negative(text)
    added = Lexicon.of(added=[(PhraseKind.NEGATIVE, "压价")])
    assert negative(text, added)
    assert classify(text, added).matched == ("寄卖", "压价")
    # A default taken away no longer counts, and the words around it are found again.
    trimmed = Lexicon.of(removed=[(PhraseKind.COMPLAINT, "鉴定慢"), (PhraseKind.NEGATIVE, "慢")])
    assert not negative("鉴定慢", trimmed)
    assert negative("鉴定慢", DEFAULTS)


def test_a_phrase_removed_from_the_segmenter_is_cut_as_before() -> None:
    segmenter = Segmenter()
    plain = segmenter.cut("问了客服没人理我")
    assert "没人理" not in plain
    assert "没人理" in segmenter.cut("问了客服没人理我", {"没人理"})
    assert segmenter.cut("问了客服没人理我") == plain


def test_the_defaults_include_the_programmes_examples() -> None:
    assert {"鉴定慢", "售后差"} <= set(DEFAULT_PHRASES[PhraseKind.COMPLAINT])
    assert {"鉴定", "售后", "客服", "物流", "发货", "退款", "退货", "包装"} <= set(
        DEFAULT_PHRASES[PhraseKind.ASPECT]
    )


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "INVALID_PHRASE"),
        ("   ", "INVALID_PHRASE"),
        ("太 慢", "INVALID_PHRASE"),
        ("慢!", "INVALID_PHRASE"),
        ("慢\x00", "INVALID_PHRASE"),
        ("很" * 13, "PHRASE_TOO_LONG"),
    ],
)
def test_a_bad_phrase_is_refused(raw: str, code: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_phrase(raw)
    assert refused.value.code == code
    assert refused.value.field == "phrase"


def test_a_phrase_is_kept_in_one_form() -> None:
    assert clean_phrase(" 压价 ") == "压价"
    assert clean_phrase("ＡＰＰ") == "app"  # full width and capitals as texts are matched


def test_the_labelled_set_is_balanced_and_large_enough() -> None:
    examples = sentiment_eval.load()
    positives = sum(e.label for e in examples)
    assert len(examples) >= 200
    assert 0.4 <= positives / len(examples) <= 0.6
    assert len({e.text for e in examples}) == len(examples)


def test_precision_and_recall_on_the_labelled_set_stay_above_their_floors() -> None:
    evaluation = sentiment_eval.evaluate(sentiment_eval.load(), DEFAULTS)
    assert evaluation.total >= 200
    assert evaluation.precision >= 0.9, evaluation.summary()
    assert evaluation.recall >= 0.85, evaluation.summary()
    holdout = sentiment_eval.evaluate(sentiment_eval.load(sentiment_eval.HOLDOUT_SET), DEFAULTS)
    assert holdout.precision >= 0.9, holdout.summary()
    assert holdout.recall >= 0.75, holdout.summary()


def test_the_command_prints_precision_recall_and_counts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sentiment-eval"]) == 0
    shipped = capsys.readouterr().out.splitlines()
    assert shipped[0].startswith("sentiment_eval.tsv: 217 sentences (110 negative")
    assert "precision " in shipped[0]
    assert "recall " in shipped[0]
    assert "false negatives" in shipped[0]
    assert shipped[1].startswith("sentiment_holdout.tsv: 60 sentences")
    mine = tmp_path / "mine.tsv"
    mine.write_text("label\ttext\n1\t鉴定慢\n0\t鉴定很快\n1\t包包很好看\n", encoding="utf-8")
    assert main(["sentiment-eval", "--file", str(mine), "--misses"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == (
        "mine.tsv: 3 sentences (2 negative about the service, 1 not): precision 1.000, "
        "recall 0.500 (true positives 1, false positives 0, true negatives 1, "
        "false negatives 1)"
    )
    assert lines[1].startswith("  missed: 包包很好看")
