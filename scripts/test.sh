#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs every test, in release mode: the numeric
# tests are far too slow in a debug build (build-notes.md); then packages the self-contained
# binary and checks it (scripts/package.sh --check). HAT_SKIP_PACKAGE=1 leaves that out.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

swift test -c release "$@"

# The self-contained binary (scripts/package.sh): built, and checked against the development
# build with the toolchain hidden, on every full run (not when the tests are filtered).
if [ $# -eq 0 ] && [ "${HAT_SKIP_PACKAGE:-0}" != "1" ]; then
  scripts/package.sh --check
fi
