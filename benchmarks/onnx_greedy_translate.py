"""Greedy translation with a `hat export` folder in onnxruntime: a user's deployment, no hat binary.

Usage:
    python benchmarks/onnx_greedy_translate.py EXPORT_DIR < sources.txt > hypotheses.txt

Reads export.json for the special ids; encodes each line with the exported spm.model, appends
eos, runs encoder.onnx once and decoder.onnx once per output token (the whole prefix each time:
the exported decoder has no cache), picks the argmax until eos or 1.2 * source length + 10
tokens (hat's default), and prints the detokenized hypothesis. Compare with
`hat translate --beam 1`.
"""
import json
import sys

import numpy as np
import onnxruntime as ort
import sentencepiece as spm


def main():
    folder = sys.argv[1]
    info = json.load(open(f"{folder}/export.json"))
    eos, pad = info["eos_id"], info["padding_id"]
    sp = spm.SentencePieceProcessor(model_file=f"{folder}/{info['vocabulary']}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    encoder = ort.InferenceSession(f"{folder}/encoder.onnx", options, providers=["CPUExecutionProvider"])
    decoder = ort.InferenceSession(f"{folder}/decoder.onnx", options, providers=["CPUExecutionProvider"])
    names = info["encoder"]["outputs"]
    for line in sys.stdin:
        src = np.array([sp.encode(line.strip()) + [eos]], dtype=np.int64)
        states = dict(zip(names, encoder.run(names, {"src_tokens": src})))
        out = [eos]
        for _ in range(int(1.2 * src.shape[1] + 10)):
            feed = {"prev_output_tokens": np.array([out], dtype=np.int64), "src_tokens": src, **states}
            (logits,) = decoder.run(["logits"], feed)
            scores = logits[0, -1].copy()
            scores[pad] = -np.inf
            token = int(scores.argmax())
            if token == eos:
                break
            out.append(token)
        print(sp.decode(out[1:]))


if __name__ == "__main__":
    main()
