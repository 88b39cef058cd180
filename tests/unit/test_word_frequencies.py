"""wordfreq's word lists (bot/word_frequencies.py) and what they add to language detection (bot/language.py)."""

from __future__ import annotations

import gzip
import hashlib
import zipfile

import msgpack
import pytest

from bot import language, word_frequencies
from bot.word_frequencies import MISSING_CENTIBELS, WordListsMissing


def test_the_built_lists_know_everyday_danish_and_bokmal_apart() -> None:
    lists = word_frequencies.centibels()
    assert set(lists) == {"nb", "da", "sv", "en"}
    assert all(len(words) > 20_000 for words in lists.values())
    for danish, bokmal in [("fik", "fikk"), ("uge", "uke"), ("mellem", "mellom")]:
        assert lists["da"][danish] < MISSING_CENTIBELS and danish not in lists["nb"]
        assert lists["nb"][bokmal] < MISSING_CENTIBELS and bokmal not in lists["da"]
    assert "hvad" not in lists["nb"]  # ("hva" is in both: Danes write it in chat too)
    assert lists["en"]["the"] < lists["en"]["parcel"]  # fewer centibels: more frequent


@pytest.mark.parametrize("page", ["nb", "en"])
def test_one_danish_only_word_takes_an_otherwise_shared_message_to_danish(page: str) -> None:
    # Every other word is Bokmål as much as Danish; lingua alone kept both on the Norwegian side.
    assert language.choose_language("kan jeg dele betalingen mellem to kort", None, page) == "da"
    assert language.detect_language("jeg venter stadig på pengene")[0] == "da"


@pytest.mark.parametrize("page", ["da", "en"])
def test_the_bokmal_counterparts_stay_norwegian(page: str) -> None:
    assert language.choose_language("kan jeg dele betalingen mellom to kort", None, page) == "nb"
    assert language.detect_language("jeg venter fortsatt på pengene")[0] == "nb"


def test_missing_lists_name_the_package_and_the_command(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(word_frequencies, "built_lists", lambda: tmp_path / "wordfreq-none")
    word_frequencies.centibels.cache_clear()
    try:
        with pytest.raises(WordListsMissing) as error:
            word_frequencies.centibels()
        assert "wordfreq" in str(error.value) and "make install" in str(error.value)
    finally:
        word_frequencies.centibels.cache_clear()


def test_a_wheel_with_another_hash_is_refused(tmp_path) -> None:
    wheel = tmp_path / "wordfreq-3.1.1-py3-none-any.whl"
    wheel.write_bytes(b"not the wheel")
    with pytest.raises(ValueError, match="sha256"):
        word_frequencies.build(wheel)


def test_build_reads_wordfreqs_format(monkeypatch, tmp_path) -> None:
    # A wheel laid out as wordfreq's, with its cBpack lists: bin i holds the words of frequency -i centibels.
    wheel = tmp_path / "wordfreq-3.1.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for code in word_frequencies.LANGUAGES:
            bins = [{"format": "cB", "version": 1}, [], [f"{code}-common"], [], [f"{code}-rare", "shared"]]
            archive.writestr(f"wordfreq/data/small_{code}.msgpack.gz", gzip.compress(msgpack.packb(bins)))
    monkeypatch.setattr(word_frequencies, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setattr(word_frequencies, "built_lists", lambda: tmp_path / "lists")
    word_frequencies.centibels.cache_clear()
    try:
        assert word_frequencies.build(wheel) == tmp_path / "lists"
        assert word_frequencies.centibels()["da"] == {"da-common": 2, "da-rare": 4, "shared": 4}
    finally:
        word_frequencies.centibels.cache_clear()
