"""The small helpers several stages share: the month table, loopback ports, the shortener."""

import re
import socket
import subprocess
import sys

from assistant.dates import MONTH_NAMES, MONTH_NUMBERS, MONTH_PATTERN, MONTH_STEMS, MONTH_WORD_PATTERN
from assistant.display import shorten
from assistant.netutil import free_port, listening, port_is_free, wait_for_port


# -- the month table ----------------------------------------------------------------------------
def test_every_month_name_and_abbreviation_has_its_number():
    assert len(MONTH_NAMES) == 12
    for number, name in enumerate(MONTH_NAMES, 1):
        assert MONTH_NUMBERS[name] == MONTH_NUMBERS[name[:3]] == number
    assert MONTH_NUMBERS["sept"] == 9 and MONTH_NUMBERS["may"] == 5
    assert len(MONTH_NUMBERS) == 12 + 11 + 1  # "may" is its own abbreviation


def test_month_stems_read_english_russian_and_kazakh():
    assert MONTH_STEMS["nov"] == MONTH_STEMS["ноя"] == MONTH_STEMS["қар"] == 11
    assert MONTH_STEMS["мая"] == MONTH_STEMS["май"] == MONTH_STEMS["мам"] == 5
    assert sorted(set(MONTH_STEMS.values())) == list(range(1, 13))


def test_the_capitalised_pattern_finds_names_and_abbreviations():
    pattern = re.compile(rf"{MONTH_PATTERN}$")
    for word in ("January", "Sept.", "Sep", "May", "Dec."):
        assert pattern.match(word), word
    assert not re.match(MONTH_PATTERN, "january")  # case matters unless the caller says otherwise
    assert not re.match(MONTH_PATTERN, "Almaty")


def test_the_word_pattern_takes_any_month_word_case_blind():
    pattern = re.compile(rf"^{MONTH_WORD_PATTERN}$", re.I)
    assert all(pattern.match(w) for w in ("sept.", "SEPTEMBER", "Oct", "decembre"))
    assert not pattern.match("almaty")


# -- loopback ports ---------------------------------------------------------------------------
def test_a_free_port_is_free_until_something_listens():
    port = free_port()
    assert port_is_free(port) and not listening(port)
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        assert listening(port) and not port_is_free(port)
        assert wait_for_port(port, timeout=5)


def test_waiting_stops_when_the_process_exits_or_time_is_up():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert wait_for_port(port, timeout=30, proc=proc) is False  # at once, not after 30 s
    assert wait_for_port(port, timeout=0.2, poll_s=0.05) is False


# -- the shortener ----------------------------------------------------------------------------
def test_shorten_keeps_whole_words_and_the_mark_within_the_limit():
    text = "The trainings aimed to equip about 90 participants"
    assert shorten(text, 60) == text
    assert shorten(text, 20) == "The trainings aimed…"
    assert shorten(text, 20, " ...") == "The trainings ..."
    assert len(shorten(text, 20, " ...")) <= 20
    assert shorten("x" * 30, 10) == "x" * 10 + "…"  # no space to cut at: cut mid-word
