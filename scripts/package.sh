#!/usr/bin/env bash
# Builds dist/hat-linux-ARCH: the `hat` binary as one self-contained file, to copy to the device
# whose latency you measure (`hat latency dataset ...` runs there) or to any Linux machine of the
# same architecture, without Swift, OpenBLAS or SentencePiece installed there. The Swift runtime
# and Foundation (--static-swift-stdlib), OpenBLAS and SentencePiece are linked in statically; the
# file needs only the system's C and C++ runtimes (glibc >= 2.35, libstdc++ of GCC >= 12: Debian 12,
# Ubuntu 22.04 and later, Raspberry Pi OS bookworm). Downloads (`hat data multi30k`) use curl.
#
#   scripts/package.sh            build dist/hat-linux-ARCH (+ .sha256)
#   scripts/package.sh --check    also run it with the Swift toolchain, OpenBLAS and SentencePiece
#                                 hidden from it and check that it prepares data and trains exactly
#                                 as the development build does
#
# Debian ships SentencePiece only as a shared library, so the first run builds SentencePiece 0.1.99
# (headers identical to Debian 12's 0.1.97; checked below) from PyPI's source archive into
# .build/static-deps with cmake. OpenBLAS's static archive comes with libopenblas-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    *) echo "package.sh: unknown argument '$arg' (only --check)" >&2; exit 2 ;;
  esac
done

case "$PWD" in *[[:space:]]*)
  echo "package: the checkout's path '$PWD' contains a space, which pkg-config and the linker flags cannot carry; move it" >&2
  exit 1 ;;
esac
HAT_SKIP_ORACLE=1 scripts/setup.sh
if ! command -v cmake >/dev/null; then
  echo "package: installing cmake (to build SentencePiece as a static library)"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq cmake >/dev/null
fi

deps="$PWD/.build/static-deps"
spm_version=0.1.99
spm_sha256=189c48f5cb2949288f97ccdb97f0473098d9c3dcf5a3d99d4eabe719ec27297f
mkdir -p "$deps/lib" "$deps/pkgconfig" "$deps/src"

# 1. SentencePiece, static (rebuilt when spm_version changes: the stamp names the version).
spm_src="$deps/src/sentencepiece-$spm_version/sentencepiece"
if [ ! -f "$deps/lib/.sentencepiece-$spm_version" ]; then
  archive="$deps/src/sentencepiece-$spm_version.tar.gz"
  if [ ! -f "$archive" ]; then
    echo "package: downloading SentencePiece $spm_version's sources from PyPI"
    # pip, not a fixed URL, so that a configured index or mirror is used.
    if [ -x .venv-oracle/bin/pip ]; then pip=(.venv-oracle/bin/pip)
    elif python3 -m pip --version >/dev/null 2>&1; then pip=(python3 -m pip)
    else python3 -m venv "$deps/venv" && pip=("$deps/venv/bin/pip")
    fi
    "${pip[@]}" download -q --no-binary :all: --no-deps "sentencepiece==$spm_version" -d "$deps/src" || {
      echo "package: cannot download SentencePiece $spm_version's sources from PyPI; put" \
           "sentencepiece-$spm_version.tar.gz into $deps/src yourself and rerun" >&2; exit 1; }
  fi
  echo "$spm_sha256  $archive" | sha256sum -c --quiet - || {
    echo "package: $archive is not the expected SentencePiece $spm_version archive (sha256); delete it and rerun" >&2; exit 1; }
  rm -rf "$deps/src/sentencepiece-$spm_version" "$deps/spm-build" "$deps/lib"/.sentencepiece-*
  tar -xzf "$archive" -C "$deps/src"
  echo "package: building SentencePiece $spm_version (static)"
  cmake -S "$spm_src" -B "$deps/spm-build" -DSPM_ENABLE_SHARED=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$deps/spm-build" --target sentencepiece-static sentencepiece_train-static --parallel "$(nproc)" >/dev/null
  cp "$deps/spm-build/src/libsentencepiece.a" "$deps/spm-build/src/libsentencepiece_train.a" "$deps/lib/"
  touch "$deps/lib/.sentencepiece-$spm_version"
fi
# The shim compiles against the system's headers, so the static library must come from the same
# API; checked on every run, since libsentencepiece-dev may have been upgraded since the build.
for header in sentencepiece_processor.h sentencepiece_trainer.h; do
  cmp -s "$spm_src/src/$header" "/usr/include/$header" || {
    echo "package: /usr/include/$header differs from SentencePiece $spm_version's; change spm_version" \
         "(and spm_sha256) in scripts/package.sh to the system's version" >&2; exit 1; }
done

# 2. OpenBLAS and zlib, static: their archives in a folder searched before the system's, and a
#    pkg-config file that points the CBLAS target there.
blas_libdir=$(pkg-config --variable=libdir openblas)
blas_includedir=$(pkg-config --variable=includedir openblas)
cp -L "$blas_libdir/libopenblas.a" "$deps/lib/libopenblas.a"
zlib_a="$(pkg-config --variable=libdir zlib)/libz.a"
[ -f "$zlib_a" ] || { echo "package: libz.a not found (apt-get install zlib1g-dev)" >&2; exit 1; }
cp -L "$zlib_a" "$deps/lib/libz.a"
cat > "$deps/pkgconfig/openblas.pc" <<EOF
Name: openblas
Description: OpenBLAS, linked statically into the packaged hat
Version: $(pkg-config --modversion openblas)
Libs: -L$deps/lib -lopenblas
Cflags: -I$blas_includedir
EOF

# 3. The binary.
echo "package: building hat with everything linked in (.build/static)"
PKG_CONFIG_PATH="$deps/pkgconfig" swift build -c release --product hat --static-swift-stdlib \
  --scratch-path .build/static -Xlinker -L"$deps/lib"
built=.build/static/release/hat

# Every shared library it still needs must be part of the C/C++ runtime of any Linux system.
allowed='^(libc|libm|libstdc\+\+|libgcc_s|libpthread|libdl|librt|ld-linux-[a-z0-9_-]+)\.so'
extra=$(readelf -d "$built" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | grep -Ev "$allowed" || true)
if [ -n "$extra" ]; then
  echo "package: $built still needs shared libraries that another machine may lack: $extra" >&2
  exit 1
fi
glibc=$(objdump -T "$built" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n1)
glibcxx=$(objdump -T "$built" | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -n1)

out="dist/hat-linux-$(uname -m)"
mkdir -p dist
strip -o "$out.tmp" "$built"
mv "$out.tmp" "$out"
(cd dist && sha256sum "$(basename "$out")" > "$(basename "$out").sha256")
echo "package: $out ($(du -m "$out" | cut -f1) MB; needs $glibc and $glibcxx, nothing else)"

[ "$check" = 1 ] || exit 0

# 4. --check: the packaged file alone does the work of the development build, bit for bit.
swift build -c release --product hat
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run_dev() { .build/release/hat "$@"; }
# Hide from it every shared library the development build loads from the Swift toolchain, OpenBLAS
# and SentencePiece (each file replaced by an empty one in a mount namespace: as root, else in a
# user namespace). Where neither is allowed, the NEEDED check above is the evidence.
hide=""
libs=$(ldd .build/release/hat | awk '/libswift|libFoundation|libdispatch|libBlocksRuntime|libopenblas|libsentencepiece/ {print $3}' \
  | xargs -r readlink -f | sort -u)
namespace=""
if unshare -m true 2>/dev/null; then namespace="unshare -m"
elif unshare -rm true 2>/dev/null; then namespace="unshare -rm"   # not root: a user namespace
fi
if [ -n "$namespace" ]; then
  for lib in $libs; do hide="${hide:+$hide && }mount --bind /dev/null '$lib'"; done
  echo "package: --check hides $(echo $libs | wc -w) shared libraries of the Swift toolchain, OpenBLAS and SentencePiece"
  hidden="with those libraries hidden"
else
  echo "package: --check cannot hide the shared libraries here (no mount namespace allowed); only the NEEDED check above shows they are not used"
  hidden="WITHOUT hiding the libraries (no mount namespace here)"
fi
run_hidden() {  # BINARY ARGS...: run it with those libraries hidden
  if [ -n "$hide" ]; then $namespace sh -c "$hide && exec \"\$@\"" sh "$@"; else "$@"; fi
}
run_packaged() { run_hidden "$PWD/$out" "$@"; }
# The hiding must be real: the development build cannot start without those libraries.
if [ -n "$hide" ] && run_hidden "$PWD/.build/release/hat" --version >/dev/null 2>&1; then
  echo "package: --check: the development build still starts with the libraries hidden, so the check proves nothing" >&2
  exit 1
fi
run_dev sample --space configs/builtin_tiny_space.yml --which largest --out "$work/largest.yml" >/dev/null
for who in dev packaged; do
  "run_$who" data builtin --out "$work/$who-data" >/dev/null
  "run_$who" train --config configs/builtin_tiny_space.yml --data "$work/$who-data" --save-dir "$work/$who-train" \
    --seed 3 --max-update 4 >/dev/null
  head -n 20 "$work/dev-data/test.en.txt" | "run_$who" translate --subtransformer "$work/largest.yml" \
    --checkpoint "$work/$who-train/checkpoint_last.safetensors" > "$work/$who-translation.txt"
done
for f in spm.model train.bin valid.bin test.bin; do
  cmp "$work/dev-data/$f" "$work/packaged-data/$f" || { echo "package: --check: $f differs from the development build's" >&2; exit 1; }
done
# Per-update losses (the metrics lines without their timing fields) must agree bitwise.
losses() { grep -o '"update":[0-9]*\|"loss":[-0-9.e]*' "$1/metrics.jsonl"; }
cmp <(losses "$work/dev-train") <(losses "$work/packaged-train") || {
  echo "package: --check: the training losses differ from the development build's" >&2; exit 1; }
[ "$(losses "$work/dev-train" | grep -c loss)" -ge 4 ] || { echo "package: --check: no training losses recorded" >&2; exit 1; }
cmp "$work/dev-translation.txt" "$work/packaged-translation.txt" || {
  echo "package: --check: the translation differs from the development build's" >&2; exit 1; }
echo "package: --check passed: same data, the same $(losses "$work/dev-train" | grep -c loss) loss values in metrics.jsonl (updates and validation), same translation; ran $hidden"
