# Varde's two commands: `make run` (install, seed, train if needed, start everything) and `make test`.
.PHONY: run test test-fast install lint train seed

PY := .venv/bin/python

install:
	@scripts/install.sh

seed: install
	@$(PY) -m bot seed --if-stale

train: install
	@$(PY) -m bot train

# The demo: its page's switcher signs customer tokens (POST /demo/token, loopback only; never in production).
run: seed train
	@BOT_DEMO_TOKENS=$${BOT_DEMO_TOKENS:-1} $(PY) -m bot up

lint: install
	@.venv/bin/ruff check bot actions tests bench scripts
	@.venv/bin/ruff format --check bot actions tests bench scripts
	@.venv/bin/mypy

test: install
	@scripts/services.sh
	@$(PY) -m bot train
	@.venv/bin/ruff check bot actions tests bench scripts
	@.venv/bin/mypy
	@$(PY) -m pytest

# No trained model, Rasa, browser or training: unit, store, actions and the gateway's own tests;
# the fuzzer draws a third of its examples (tests/gateway/test_fuzz.py; `make test` draws them all).
test-fast: install
	@scripts/services.sh
	@BOT_TEST_FUZZ=quick $(PY) -m pytest -m "not slow"
