"""Dates, language codes and questions as people type them (issue 11, items 1 and 6)."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.config import load_settings
from assistant.dates import MONTH_NAMES
from assistant.display import count, json_text, terminal_safe
from assistant.errors import ConfigError, InvalidFilterError, InvalidQuestionError
from assistant.inputs import check_language, clean_question, parse_date_bound

DAYS = st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31))


@given(
    DAYS,
    st.sampled_from(
        [
            "{y}-{m:02d}-{d:02d}",
            "{y}-{m}-{d}",
            "{y}/{m:02d}/{d:02d}",
            "{y}.{m}.{d}",
            "{d} {month} {y}",
            "{d} {mon} {y}",
            "{month} {d}, {y}",
            "{Month} {d} {y}",
            " {d}  {Month}   {y} ",
        ]
    ),
)
def test_every_accepted_day_form_reads_as_that_day(day, form):
    month = MONTH_NAMES[day.month - 1]
    text = form.format(y=day.year, m=day.month, d=day.day, month=month, Month=month.title(), mon=month[:3])
    assert parse_date_bound(text) == day.isoformat()
    assert parse_date_bound(text, end=True) == day.isoformat()


@given(DAYS, st.sampled_from(["{Month} {y}", "{mon} {y}", "{y}-{m}", "{y}/{m:02d}"]))
def test_a_month_is_its_first_day_as_a_start_and_its_last_as_an_end(day, form):
    month = MONTH_NAMES[day.month - 1]
    text = form.format(y=day.year, m=day.month, Month=month.title(), mon=month[:3])
    first, last = parse_date_bound(text), parse_date_bound(text, end=True)
    assert first == day.replace(day=1).isoformat()
    assert date.fromisoformat(last).month == day.month and (date.fromisoformat(last).day >= 28)
    assert parse_date_bound(str(day.year), end=True) == f"{day.year}-12-31"


@given(st.text(max_size=40))
def test_any_text_is_a_valid_iso_date_or_a_refusal_listing_the_forms(text):
    try:
        iso = parse_date_bound(text, label="From date")
    except InvalidFilterError as err:
        assert "From date" in str(err) and "YYYY-MM-DD" in str(err) and "July 2023" in str(err)
        return
    assert iso == "" or date.fromisoformat(iso).isoformat() == iso


@pytest.mark.parametrize("text", ["yesterday", "01/07/2023", "2023-02-30", "2023-13-01", "Juli 2023", "garbage", "23"])
def test_ambiguous_or_impossible_dates_are_refused(text):
    with pytest.raises(InvalidFilterError, match="YYYY-MM-DD"):
        parse_date_bound(text)


def test_settings_store_dates_as_iso_and_refuse_the_rest():
    s = load_settings(env_file=None, environ={"DATE_FROM": "2023/07/01", "DATE_TO": "July 2023", "LANGUAGE": "KK"})
    assert (s.retrieval.date_from, s.retrieval.date_to, s.retrieval.language) == ("2023-07-01", "2023-07-31", "kk")
    with pytest.raises(ConfigError, match=r"DATE_FROM is invalid: .*garbage.*YYYY-MM-DD"):
        load_settings(env_file=None, environ={"DATE_FROM": "garbage"})
    with pytest.raises(ConfigError, match=r"LANGUAGE is invalid: .*en \(English\), kk \(Kazakh\), ru \(Russian\)"):
        load_settings(env_file=None, environ={"LANGUAGE": "xx"})


def test_languages():
    assert [check_language(c) for c in ("", "all", "EN", " ru ")] == ["", "", "en", "ru"]
    with pytest.raises(InvalidFilterError, match="en \\(English\\), kk \\(Kazakh\\), ru \\(Russian\\)"):
        check_language("xx")


@given(st.text(alphabet=st.characters(categories=["Cc", "Zs", "Zl", "Zp", "Po"]), max_size=60))
def test_a_question_without_letters_or_digits_is_refused(text):
    with pytest.raises(InvalidQuestionError, match="empty"):
        clean_question(text, 1000)


def test_control_characters_leave_the_question():
    assert clean_question("Who\x1b]0;x\x07 launched\x00 it\x1b[1m?", 1000) == ("Who launched it ?", "")


# -- terminal safety (item 6) ------------------------------------------------------------
ESCAPES = st.sampled_from(
    [
        "\x1b]0;PWNED\x07",
        "\x1b]8;;http://x\x1b\\",
        "\x1b[31m",
        "\x1b[2J",
        "\x9b31m",
        "\x9d0;t\x9c",
        "\x1bPq#0\x1b\\",
        "\x1b(0",
        "\x1bc",
        "\r",
        "\x08",
        "\u202e",
        "\u2067",
        "\x00",
        "\x7f",
    ]
)


@given(st.lists(st.one_of(st.text(max_size=20), ESCAPES), max_size=12))
def test_terminal_text_never_holds_an_escape_or_control(parts):
    out = terminal_safe("".join(parts))
    assert "\x1b" not in out and "\u202e" not in out
    assert all(ch in "\n\t" or not (ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F) for ch in out)


def test_terminal_text_keeps_the_words_around_an_osc_sequence():
    assert terminal_safe("wells \x1b]0;PWNED-TITLE\x07 in 2024 \x1b[31mred\x1b[0m") == "wells  in 2024 red"
    assert terminal_safe("Алматы — Қазақстан\n\tend") == "Алматы — Қазақстан\n\tend"


def test_json_keeps_the_text_exact_but_escapes_controls():
    text = json_text({"quote": "a\x1b]0;x\x07 b \x9b \u202e c Қазақ"})
    assert "\x1b" not in text and "\x9b" not in text and "\u202e" not in text and "Қазақ" in text
    import json

    assert json.loads(text) == {"quote": "a\x1b]0;x\x07 b \x9b \u202e c Қазақ"}


def test_counts_are_in_plain_words():
    assert [count(1, "story", "stories"), count(2, "story", "stories"), count(1, "file")] == [
        "1 story",
        "2 stories",
        "1 file",
    ]
