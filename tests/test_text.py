"""Terms for BM25 and the reader: stemming stays right when many requests stem at once."""

import sys
import threading

from assistant.text import stem, words
from tests.conftest import CORPUS


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
