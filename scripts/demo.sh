#!/usr/bin/env bash
# Sets up everything and runs the main job on the built-in default.
# For now the main job is the engine's smoke run (`hat self-check`); it grows into the whole
# HAT pipeline on the built-in corpus as the pipeline stages land.
set -euo pipefail
cd "$(dirname "$0")/.."
HAT_SKIP_ORACLE=1 scripts/setup.sh
swift build -c release --product hat
.build/release/hat self-check "$@"
