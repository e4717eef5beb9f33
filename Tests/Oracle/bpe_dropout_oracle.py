"""BPE-dropout oracle: SentencePiece's own sampler (`enable_sampling=True, alpha=P`, which for a
BPE model discards each merge with probability P) segments the same lines as the Swift
`BPEDropout`, so the tests can compare how many pieces each produces.

Usage: bpe_dropout_oracle.py MODEL INPUT.txt ALPHA PASSES SEED OUTPUT.json
  INPUT.txt: one normalized sentence per line.
  OUTPUT.json: {"deterministic_total": N, "sampled_totals": [N, ...] (one per pass)}.
  Written atomically.
"""
import json
import os
import sys

import sentencepiece as spm


def main():
    model, source, alpha, passes, seed, output = sys.argv[1:7]
    alpha, passes = float(alpha), int(passes)
    spm.set_random_generator_seed(int(seed))
    sp = spm.SentencePieceProcessor(model_file=model)
    with open(source, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    totals = []
    for _ in range(passes):
        total = 0
        for line in lines:
            total += len(sp.encode(line, out_type=int, enable_sampling=True, alpha=alpha, nbest_size=-1))
        totals.append(total)
    result = {
        "deterministic_total": sum(len(sp.encode(line, out_type=int)) for line in lines),
        "sampled_totals": totals,
    }
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f)
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
