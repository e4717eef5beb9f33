"""SentencePiece oracle for the data tests: the reference Python binding encodes and decodes
with a model that `hat data prepare` trained through the C++ library and the Swift shim.

Usage: spm_oracle.py MODEL INPUT.txt OUTPUT.json
  INPUT.txt: one sentence per line (already normalized).
  OUTPUT.json: {"vocab_size": N, "specials": {"<s>": id, "<pad>": id, "</s>": id, "<unk>": id},
                "ids": [[...], ...], "decoded": ["...", ...]}
  ids are the pieces only (no bos/eos); decoded is decode(ids). Written atomically.
"""
import json
import os
import sys

import sentencepiece as spm


def main():
    model, source, output = sys.argv[1:4]
    sp = spm.SentencePieceProcessor(model_file=model)
    with open(source, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    ids = [sp.encode(line, out_type=int) for line in lines]
    result = {
        "vocab_size": sp.get_piece_size(),
        "specials": {p: sp.piece_to_id(p) for p in ["<s>", "<pad>", "</s>", "<unk>"]},
        "ids": ids,
        "decoded": [sp.decode(i) for i in ids],
    }
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
