"""The follow-up resolver: ellipsis and references resolved against the previous turn, no LLM."""

from __future__ import annotations

from govqa.app.conversation import PageRef, Turn, company_entities, resolve_followup

WIDGET_ACT = PageRef("Widget Safety Act", "en", "eu", twin_title="小部件安全法")


def test_first_question_is_unchanged() -> None:
    resolution = resolve_followup("and the EU?", [])
    assert resolution.question == "and the EU?" and not resolution.changed


def test_and_the_eu_swaps_the_jurisdiction() -> None:
    resolution = resolve_followup("and the EU?", [Turn("What are China's labeling rules?")])
    assert resolution.question == "What are the EU's labeling rules?"
    assert resolution.reason == "ellipsis" and resolution.changed


def test_what_about_avoids_a_double_article() -> None:
    resolution = resolve_followup("What about the EU?", [Turn("What do the United States require?")])
    assert resolution.question == "What do the EU require?"


def test_entity_added_when_the_previous_question_names_none() -> None:
    resolution = resolve_followup(
        "and the US?", [Turn("When did the Widget Safety Act enter into force?", (WIDGET_ACT,))]
    )
    assert resolution.question == "When did the Widget Safety Act enter into force in the US?"


def test_chinese_ellipsis() -> None:
    assert resolve_followup("那欧盟呢？", [Turn("中国对标识有什么要求？")]).question == "欧盟对标识有什么要求？"


def test_chinese_ellipsis_after_english_question_keeps_its_language() -> None:
    assert (
        resolve_followup("美国呢", [Turn("Who checks labeling in China?")]).question == "Who checks labeling in the US?"
    )


def test_chinese_pronoun_uses_the_twin_title() -> None:
    resolution = resolve_followup("它什么时候生效？", [Turn("What does the Widget Safety Act require?", (WIDGET_ACT,))])
    assert resolution.question == "小部件安全法什么时候生效？"
    assert resolution.reason == "reference"


def test_english_pronoun_uses_the_cited_page_title() -> None:
    history = [Turn("Who must register widgets?", (WIDGET_ACT,))]
    assert (
        resolve_followup("When did it enter into force?", history).question
        == "When did Widget Safety Act enter into force?"
    )
    assert (
        resolve_followup("What are its obligations?", history).question == "What are Widget Safety Act's obligations?"
    )


def test_ellipsis_without_entity_attaches_the_subject() -> None:
    resolution = resolve_followup("and penalties?", [Turn("Who must register widgets?", (WIDGET_ACT,))])
    assert resolution.question == "Penalties of Widget Safety Act?"


def test_standalone_question_is_left_alone() -> None:
    history = [Turn("Who must register widgets?", (WIDGET_ACT,))]
    for question in (
        "What is the boiling point of mercury?",
        "When did the Widget Safety Act enter into force?",
        "小部件安全法什么时候施行？",
    ):
        assert resolve_followup(question, history).question == question


def test_company_entities_swap() -> None:
    entities = company_entities({"acme": "Acme Widgets", "globex": "Globex"})
    resolution = resolve_followup("what about Globex?", [Turn("Did Acme Widgets sign the pledge?")], entities=entities)
    assert resolution.question == "Did Globex sign the pledge?"


def test_rewriter_hook_is_tried_first_and_may_fail() -> None:
    history = [Turn("What are China's labeling rules?")]
    seen: list[tuple[str, int]] = []

    def rewriter(question: str, turns: object) -> str:
        seen.append((question, len(turns)))  # type: ignore[arg-type]
        return "What are the EU's rules on labeling AI content?"

    assert (
        resolve_followup("and the EU?", history, rewriter).question == "What are the EU's rules on labeling AI content?"
    )
    assert seen == [("and the EU?", 1)]

    def broken(question: str, turns: object) -> str:
        raise RuntimeError("LLM down")

    assert resolve_followup("and the EU?", history, broken).question == "What are the EU's labeling rules?"


def test_chinese_possessive_keeps_its_particle() -> None:
    resolution = resolve_followup("它的义务是什么？", [Turn("Who must register widgets?", (WIDGET_ACT,))])
    assert resolution.question == "小部件安全法的义务是什么？"
