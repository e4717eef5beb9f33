#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs every test, in release mode: the numeric
# tests are far too slow in a debug build (build-notes.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

swift test -c release "$@"
