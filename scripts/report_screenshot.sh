#!/usr/bin/env bash
# A PNG of a pipeline report as a browser renders it, for machines without a display:
#   scripts/report_screenshot.sh runs/pipeline [OUT.png]   (default: runs/pipeline/report.png)
# Installs Debian's headless Chromium the first time (apt-get; root or sudo).
set -euo pipefail
dir=${1:?usage: scripts/report_screenshot.sh PIPELINE_DIR [OUT.png]}
out=${2:-$dir/report.png}
[ -f "$dir/report.html" ] || { echo "error: $dir/report.html not found; run 'hat report $dir' first" >&2; exit 1; }
if ! command -v chromium-headless-shell >/dev/null; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get install -y -q chromium-headless-shell fonts-dejavu-core >/dev/null
fi
# Tall enough for the whole page (the report is one column of charts and tables).
chromium-headless-shell --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,6000 \
  --screenshot="$(realpath -m "$out")" "file://$(realpath "$dir/report.html")" 2>/dev/null
echo "screenshot: $out"
