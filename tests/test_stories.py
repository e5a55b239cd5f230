from pathlib import Path

import pytest

from assistant.stories import detect_language, link_translations, make_title, parse_date, parse_text

CORPUS = Path(__file__).resolve().parent.parent / "data" / "corpus"


def parse(name: str):
    text = (CORPUS / name).read_text(encoding="utf-8")
    return text, parse_text(text, name)


def test_every_story_is_a_verbatim_slice_of_its_file():
    for path in sorted(CORPUS.glob("*.txt")):
        text, stories = parse(path.name)
        assert stories, path.name
        for s in stories:
            assert text[s.start : s.end] == s.text
            assert s.text.strip() == s.text


def test_listing_page_splits_into_its_stories_without_teasers():
    _, stories = parse("001_39b3ef53bbcef721.txt")
    titles = [s.title for s in stories]
    assert len(stories) == 14
    assert len(set(s.story_id for s in stories)) == 14
    # the three "Latest" teasers repeat stories printed in full: each title appears once
    for title in (
        "Driving change: UN and Kazakhstan business join forces towards sustainable development",
        "UNICEF and NINETY ONE urge Kazakhstanis to listen to youth",
        "UN Mobilizes Diplomatic Corps Ahead of the SDG Summit",
    ):
        assert titles.count(title) == 1
    by_title = {s.title: s for s in stories}
    alliance = next(s for s in stories if "Central Asian Alliance" in s.title)
    assert (alliance.date, alliance.kind, alliance.language) == ("2023-07-03", "Story", "en")
    assert alliance.text.startswith("The Central Asian Alliance to End Gender-Based Violence was officially launched")
    assert not alliance.text.rstrip().endswith("1 of 5")
    # the full story's date wins over the teaser's (30 vs 28 November)
    assert by_title["Driving change: UN and Kazakhstan business join forces towards sustainable development"].date == (
        "2023-11-30"
    )
    kinds = {s.kind for s in stories}
    assert kinds == {"Story", "Press Release", "Publication", "Page"}
    six = by_title["Six Transitions: Investment Pathways to Deliver the SDGs"]
    assert (six.kind, six.date) == ("Publication", "2023-09-28")
    page = by_title["The Sustainable Development Goals in Kazakhstan"]
    assert page.date is None and "30 most developed countries" in page.text


@pytest.mark.parametrize(
    "name, title_start, date",
    [
        ("000_5c89e8c983283150.txt", "Partnership for effective development: UNDP Kazakhstan and MFA", "2023-08-28"),
        (
            "002_2beb8d086b7d9575.txt",
            "Government of Kazakhstan and the United Nations Development Programme",
            "2016-11-28",
        ),
        ("003_2c06ceceba27ef83.txt", "Prime Minister of Kazakhstan Olzhas Bektenov held a meeting", "2025-06-01"),
        ("004_94c644065135c97a.txt", "Тиімді даму үшін серіктестік", "2023-08-28"),
    ],
)
def test_single_story_files(name, title_start, date):
    _, stories = parse(name)
    assert len(stories) == 1
    assert stories[0].title.startswith(title_start)
    assert stories[0].date == date


def test_header_only_file_gets_a_title_and_its_site():
    _, (story,) = parse("003_2c06ceceba27ef83.txt")
    assert story.site == "primeminister.kz"
    assert len(story.title) <= 150 and "date" not in story.title
    assert story.text.startswith("Prime Minister of Kazakhstan Olzhas Bektenov")


def test_languages():
    assert parse("004_94c644065135c97a.txt")[1][0].language == "kk"
    assert parse("000_5c89e8c983283150.txt")[1][0].language == "en"
    assert detect_language("Кто запустил Центральноазиатский альянс?") == "ru"


def test_translation_link_uses_similarity_and_date():
    _, (en,) = parse("000_5c89e8c983283150.txt")
    _, (kk,) = parse("004_94c644065135c97a.txt")
    _, (other,) = parse("002_2beb8d086b7d9575.txt")
    linked = link_translations([en, kk, other], lambda a, b: 0.9)
    assert linked[1].translation_of == en.story_id
    assert linked[0].translation_of == "" and linked[2].translation_of == ""
    assert link_translations([en, kk], lambda a, b: 0.5)[1].translation_of == ""


@pytest.mark.parametrize(
    "text, iso",
    [
        ("28 November 2023", "2023-11-28"),
        ("August 28, 2023", "2023-08-28"),
        ("Nov 28, 2016", "2016-11-28"),
        ("2023 ж. 28 August", "2023-08-28"),
        ("2025-06-01", "2025-06-01"),
        ("5 июня 2024", "2024-06-05"),
        ("Photo: UNDP", None),
        ("31 February 2023", None),
    ],
)
def test_parse_date(text, iso):
    assert parse_date(text) == iso


def test_ids_are_stable_and_unique():
    text, first = parse("001_39b3ef53bbcef721.txt")
    again = parse_text(text, "001_39b3ef53bbcef721.txt")
    assert [s.story_id for s in first] == [s.story_id for s in again]
    doubled = parse_text("Title\n12 May 2024\nBody one.\n", "x.txt") + parse_text(
        "Title\n12 May 2024\nBody.\n", "x.txt"
    )
    assert doubled[0].story_id == doubled[1].story_id  # same file, title and date: same story


def test_degenerate_inputs_do_not_crash():
    assert parse_text("", "empty.txt") == []
    assert parse_text("\n\n   \n", "blank.txt") == []
    assert parse_text("Story\n1 of 5\n", "markers.txt") == []
    one = parse_text("Just one line of text that is a story on its own.", "one.txt")
    assert len(one) == 1 and one[0].text == "Just one line of text that is a story on its own."


def test_make_title_cuts_at_a_clause():
    assert make_title("The Prime Minister met the envoy, who arrived yesterday. More text.") == (
        "The Prime Minister met the envoy"
    )
