"""How often each word is written in nb, da, sv and en: wordfreq's word lists, built at install time.

Why: lingua scores a word by its letters, so a short Danish chat message ("fik str 42", "tak for det",
"hva er jeres tlf nr") looks as Norwegian as Danish to it. Whole-word frequencies see at once that "fik",
"uge", "jeres" and "mellem" are everyday Danish and not Bokmål, and "fikk", "uke" and "mellom" the
other way round (bot/language.py adds them to its evidence; README, "Languages", has what they changed).

Where the lists come from: the PyPI wheel wordfreq 3.1.1 (code Apache-2.0; its word lists CC BY-SA 4.0,
by Robyn Speer and contributors, from Wikipedia, subtitles, news, books, web text and more). The
package itself can't be installed beside Rasa (it needs a newer `regex`), and we need only four of its
files: scripts/install.sh downloads the wheel, pinned by its hash in requirements-weights.txt, without
its dependencies, and `python -m bot.word_frequencies build WHEEL` writes each language's "small" list
(words of frequency 1e-6 or more, about 30 000 each) as `.venv/varde/wordfreq-<wheel's hash>/<xx>.json`.
Nothing is downloaded at run time.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import sys
import zipfile
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

PACKAGE = "wordfreq"
WHEEL_SHA256 = "4b1c6ecffc6198be3396d5cf871c4423ca71c907c231348d352dd54d62b97473"  # requirements-weights.txt
LANGUAGES = ("nb", "da", "sv", "en")
# wordfreq's lists give each word its frequency in centibels below 1 (300 cB: one word in 1 000); a
# "small" list stops at 600 cB, so a word missing from it is rarer than that.
MISSING_CENTIBELS = 700


class WordListsMissing(RuntimeError):
    """The word lists were not built: `make install` builds them."""


def built_lists() -> Path:
    """Where the build puts the lists, named by the wheel they came from."""
    return Path(sys.prefix) / "varde" / f"wordfreq-{WHEEL_SHA256[:16]}"


def _read_cbpack(packed: bytes) -> dict[str, int]:
    """wordfreq's "cBpack": a header, then for each centibel value i the list of words that frequent."""
    import msgpack  # install time only (in the lock file through CacheControl)

    header, *bins = msgpack.unpackb(gzip.decompress(packed), raw=False)
    if header != {"format": "cB", "version": 1}:
        raise ValueError(f"not a wordfreq cBpack: {header!r}")
    return {word: centibels for centibels, words in enumerate(bins, start=1) for word in words}


def build(wheel: Path) -> Path:
    """Check the wheel's hash, then write one JSON object {word: centibels} per language."""
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise ValueError(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256} (requirements-weights.txt)")
    target = built_lists()
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        for code in LANGUAGES:
            words = _read_cbpack(archive.read(f"wordfreq/data/small_{code}.msgpack.gz"))
            partial = target / f"{code}.json.part"
            partial.write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
            partial.replace(target / f"{code}.json")  # a half-written list is never read
            log.info("%s: %d words", code, len(words))
    return target


@lru_cache(maxsize=1)
def centibels() -> dict[str, dict[str, int]]:
    """Per language, each listed word's frequency in centibels (loaded once per process, about 0.1 s)."""
    folder = built_lists()
    try:
        return {code: json.loads((folder / f"{code}.json").read_text(encoding="utf-8")) for code in LANGUAGES}
    except (OSError, ValueError) as error:
        raise WordListsMissing(
            f"the word lists from the {PACKAGE} wheel are not in {folder} ({error}); run `make install`"
        ) from error


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if len(argv) != 2 or argv[0] != "build":
        print("usage: python -m bot.word_frequencies build WHEEL", file=sys.stderr)
        return 2
    print(f"==> word lists in {build(Path(argv[1]))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
