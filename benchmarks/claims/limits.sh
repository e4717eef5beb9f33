# Sourced by search_curves.sh and device_picks.sh: latency limits at SHARES (percent) of the way
# from the smallest to the largest SubTransformer of the space, on a predictor's own scale.
# predicted_limits PREDICTOR "SHARES" DIR sets low, high (predicted ms of the two ends) and limits
# (comma-separated, written as `hat search` labels them: no trailing zeros, "ms"); it needs $hat and
# $space, and writes DIR/smallest.yml and DIR/largest.yml.
predicted_limits() {
  local predictor=$1 shares=$2 dir=$3 ends s
  [ -f "$dir/smallest.yml" ] || $hat sample --space "$space" --which smallest --out "$dir/smallest.yml"
  [ -f "$dir/largest.yml" ] || $hat sample --space "$space" --which largest --out "$dir/largest.yml"
  ends=$($hat latency predict --predictor "$predictor" --space "$space" "$dir/smallest.yml" "$dir/largest.yml" --json 2>/dev/null |
    python3 -c "import json,sys; print(' '.join('%.6f' % p['predicted_ms'] for p in json.load(sys.stdin)))")
  read -r low high <<< "$ends"
  limits=$(for s in $shares; do python3 -c "print(('%.3f' % ($low + $s / 100 * ($high - $low))).rstrip('0').rstrip('.') + 'ms')"; done | paste -sd, -)
}
