"""Terms for BM25 and the reader: words, stems per language, stopwords; stemming stays right across threads."""

import sys
import threading

from assistant.text import STOPWORDS, content_terms, stem, terms, words
from tests.conftest import CORPUS


def test_words_are_runs_of_letters_and_digits_keeping_inner_apostrophes():
    text = "UNDP's 2023 report: well-being, co_op — Қазақстан’s «жаңа»"
    assert words(text) == ["UNDP's", "2023", "report", "well", "being", "co", "op", "Қазақстан’s", "жаңа"]


def test_english_and_russian_are_snowball_stemmed_and_kazakh_cut_to_six_letters():
    assert stem("launched") == stem("Launching") == "launch"
    assert stem("UNICEF’s") == stem("unicef's") == "unicef"  # either apostrophe, possessive dropped
    assert stem("скважин") == stem("скважины")
    assert stem("серіктестік") == stem("серіктестігі") == "серікт"


def test_terms_drop_the_stopwords_of_each_language_unless_kept():
    assert terms("Who launched the Sauran hub and what did it teach?") == ["launch", "sauran", "hub", "teach"]
    assert terms("Who launched the hub?", keep_stopwords=True) == ["who", "launch", "the", "hub"]
    assert terms("Кто запустил проект? Жобаны кім бастады?")[:2] == ["запуст", "проект"]
    assert {"the", "кто", "кім", "туралы"} <= STOPWORDS
    assert not {"кто", "кім"} & set(terms("кто кім"))


def test_content_terms_are_distinct_in_order_of_first_use():
    assert content_terms("Hub launch: who launched the hub?") == ["hub", "launch"]


def test_stemming_from_many_threads_at_once_gives_the_same_stems():
    """A Snowball stemmer object holds the word it works on; the server stems from many threads."""
    vocabulary = sorted({w for f in sorted(CORPUS.glob("*.txt"))[:2] for w in words(f.read_text(encoding="utf-8"))})
    uncached = stem.__wrapped__  # past the cache, so every call really stems
    expected = [uncached(w) for w in vocabulary]
    results, errors = {}, []

    def work(i: int) -> None:
        try:
            results[i] = [uncached(w) for w in vocabulary]
        except Exception as err:  # an IndexError inside the stemmer, before the lock
            errors.append(err)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == [] and all(r == expected for r in results.values())
