"""One fingerprint for "did the files a model depends on change?", with a defined meaning for a missing file."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.settings import PROJECT_ROOT
from bot.training.fingerprints import files_fingerprint
from bot.training.project_model import TRAINING_INPUTS, training_fingerprint


def test_a_missing_file_counts_as_missing_and_does_not_raise(tmp_path: Path) -> None:
    (tmp_path / "config.yml").write_text("a", encoding="utf-8")
    missing = files_fingerprint(tmp_path, ("config.yml", "domain.yml"))
    (tmp_path / "domain.yml").write_text("", encoding="utf-8")
    empty = files_fingerprint(tmp_path, ("config.yml", "domain.yml"))
    assert missing != empty
    (tmp_path / "domain.yml").unlink()
    assert files_fingerprint(tmp_path, ("config.yml", "domain.yml")) == missing


def test_paths_and_contents_count_and_python_caches_do_not(tmp_path: Path) -> None:
    (tmp_path / "data" / "nlu").mkdir(parents=True)
    (tmp_path / "data" / "nlu" / "a.yml").write_text("x", encoding="utf-8")
    before = files_fingerprint(tmp_path, ("data",))
    (tmp_path / "data" / "__pycache__").mkdir()
    (tmp_path / "data" / "__pycache__" / "a.pyc").write_bytes(b"\0")
    assert files_fingerprint(tmp_path, ("data",)) == before
    (tmp_path / "data" / "nlu" / "a.yml").rename(tmp_path / "data" / "nlu" / "b.yml")
    assert files_fingerprint(tmp_path, ("data",)) != before


def test_the_digest_of_present_files_is_what_earlier_releases_stored(tmp_path: Path) -> None:
    """models/.fingerprint and the history's fingerprints stay valid: no retraining or rescoring after an upgrade."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "b.yml").write_text("bee", encoding="utf-8")
    (tmp_path / "config.yml").write_text("conf", encoding="utf-8")
    expected = hashlib.sha256(b"config.ymlconf" + b"data/b.ymlbee").hexdigest()
    assert files_fingerprint(tmp_path, ("config.yml", "data")) == expected


def test_python_m_bot_train_uses_the_same_fingerprint() -> None:
    assert training_fingerprint() == files_fingerprint(PROJECT_ROOT, TRAINING_INPUTS)
