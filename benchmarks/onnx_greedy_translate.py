"""Greedy translation with a `hat export` folder in onnxruntime: a user's deployment, no hat binary.

Usage:
    python benchmarks/onnx_greedy_translate.py EXPORT_DIR [--full] < sources.txt > hypotheses.txt

Reads export.json for the special ids and input names; encodes each line with the exported
spm.model and appends eos; runs encoder.onnx once, then decoder_step.onnx once per output token
with the cached self-attention keys and values (present_* fed back as past_*), or with --full
decoder.onnx over the whole prefix each time; picks the argmax (never padding or bos, no eos
first, as hat's beam search) until eos or
1.2 * source length + 10 tokens (hat's default limit), and prints the detokenized hypothesis.
Compare with `hat translate --beam 1`.
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort
import sentencepiece as spm

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "measurers"))
from greedy import next_token  # noqa: E402


def main():
    folder = sys.argv[1]
    full = "--full" in sys.argv[2:]
    info = json.load(open(f"{folder}/export.json"))
    eos, pad = info["eos_id"], info["padding_id"]
    sp = spm.SentencePieceProcessor(model_file=f"{folder}/{info['vocabulary']}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1

    def load(name):
        return ort.InferenceSession(f"{folder}/{name}", options, providers=["CPUExecutionProvider"])

    encoder = load("encoder.onnx")
    decoder = load("decoder.onnx" if full else "decoder_step.onnx")
    encoder_names = [o.name for o in encoder.get_outputs()]
    wanted = [i.name for i in decoder.get_inputs()]
    step = info["decoder_step"]
    for line in sys.stdin:
        src = np.array([sp.encode(line.strip()) + [eos]], dtype=np.int64)
        states = dict(zip(encoder_names, encoder.run(encoder_names, {"src_tokens": src})))
        fixed = {name: value for name, value in states.items() if name in wanted}
        past = {f"past_{kind}.{l}": np.zeros((1, heads, 0, dim), dtype=np.float32)
                for l, (heads, dim) in enumerate(zip(step["self_attention_heads"], step["head_dim"])) for kind in ("key", "value")}
        out = [eos]
        for _ in range(int(1.2 * src.shape[1] + 10)):
            if full:
                (logits,) = decoder.run(["logits"], {"prev_output_tokens": np.array([out], dtype=np.int64), "src_tokens": src, **fixed})
                scores = logits[0, -1]
            else:
                names = ["log_probs"] + [n.replace("past_", "present_") for n in past]
                values = decoder.run(names, {"prev_token": np.array([[out[-1]]], dtype=np.int64), "src_tokens": src, **fixed, **past})
                scores = values[0][0]
                past = {n.replace("present_", "past_"): v for n, v in zip(names[1:], values[1:])}
            token = next_token(scores, pad, eos, first=len(out) == 1)
            if token == eos:
                break
            out.append(token)
        print(sp.decode(out[1:]))


if __name__ == "__main__":
    main()
