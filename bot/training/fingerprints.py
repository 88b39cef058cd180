"""A digest of the files a model is trained or judged on, to tell whether any of them changed.

One function for every such question: `python -m bot train` (train again only if the inputs changed),
a candidate's data_fingerprint (trained on the same data as an earlier model?) and the test set's
fingerprint (are two models' scores comparable?).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

MISSING = b"<missing>"  # what a missing file contributes instead of its contents


def files_fingerprint(root: Path, names: Iterable[str]) -> str:
    """sha256 over the named files and folders under root: for each file its path relative to root, then
    its bytes. A folder counts as every file in it, in sorted order; __pycache__ folders are left out.

    A missing name counts too, never raises: its path, then b"<missing>" in place of contents. So a file
    that disappears changes the fingerprint, and an absent optional file (tests/test_stories.yml before
    anyone wrote it) still gives one. A missing folder counts as one missing file; an empty folder adds
    nothing. (The digest does not separate a path from its contents: it detects changes, it is not a
    signature.)"""
    digest = hashlib.sha256()
    for name in names:
        path = root / name
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.relative_to(path).parts)
            if path.is_dir()
            else [path]
        )
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes() if file.exists() else MISSING)
    return digest.hexdigest()
