"""HAT's latency method on a `hat export` folder in onnxruntime, to set beside `hat latency measure`.

Usage:
    python benchmarks/onnx_latency.py EXPORT_DIR [--length 30] [--beam 5] [--iterations 20] [--warmup 5] [--threads 1]

The same work as hat's LatencyMeasurer (hat-reference.md section 6): one sentence of LENGTH
non-special tokens, batch 1; the encoder once (encoder.onnx, which here also computes the
cross-attention keys and values: part of hat's decoder set-up); then LENGTH steps of
decoder_step.onnx over BEAM rows with cached states, each step followed by an argmax per row
and a reorder of every cache (a rotation of the rows, as hat's measurement does). Prints the
trimmed means (fastest and slowest 10 % dropped) of encoder and decoder milliseconds, as JSON
(or, with --plain, as two numbers: what `hat latency ... --command-output encoder-decoder` reads;
benchmarks/onnx_measure.sh wraps it for `hat latency dataset --command`).
"""
import argparse
import json
import time

import numpy as np
import onnxruntime as ort


def trimmed(samples):
    s = sorted(samples)
    cut = len(s) // 10
    kept = s[cut:len(s) - cut]
    return sum(kept) / len(kept)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--length", type=int, default=30)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--plain", action="store_true", help="print 'ENCODER_MS DECODER_MS' (hat latency --command-output encoder-decoder)")
    a = p.parse_args()
    info = json.load(open(f"{a.folder}/export.json"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads
    options.inter_op_num_threads = 1
    encoder = ort.InferenceSession(f"{a.folder}/encoder.onnx", options, providers=["CPUExecutionProvider"])
    step = ort.InferenceSession(f"{a.folder}/decoder_step.onnx", options, providers=["CPUExecutionProvider"])
    vocab = info["source_vocab_size"]
    src = np.array([[4 + i % (vocab - 4) for i in range(a.length)]], dtype=np.int64)
    encoder_names = [o.name for o in encoder.get_outputs()]
    cross_names = [n for n in encoder_names if n.startswith("cross_")]
    d = info["decoder_step"]
    past_names = [f"past_{k}.{l}" for l in range(len(d["self_attention_heads"])) for k in ("key", "value")]
    output_names = ["log_probs"] + [n.replace("past_", "present_") for n in past_names]
    rotation = np.array([(r + 1) % a.beam for r in range(a.beam)])
    src_rows = np.repeat(src, a.beam, axis=0)
    enc_ms, dec_ms = [], []
    for it in range(a.warmup + a.iterations):
        t0 = time.perf_counter()
        states = dict(zip(encoder_names, encoder.run(encoder_names, {"src_tokens": src})))
        t1 = time.perf_counter()
        cross = {n: np.repeat(states[n], a.beam, axis=0) for n in cross_names}
        past = {f"past_{k}.{l}": np.zeros((a.beam, h, 0, hd), dtype=np.float32)
                for l, (h, hd) in enumerate(zip(d["self_attention_heads"], d["head_dim"])) for k in ("key", "value")}
        tokens = np.full((a.beam, 1), info["eos_id"], dtype=np.int64)
        for _ in range(a.length):
            values = step.run(output_names, {"prev_token": tokens, "src_tokens": src_rows, **cross, **past})
            tokens = values[0][:, 4:].argmax(axis=1).reshape(a.beam, 1) + 4
            past = {n: v[rotation] for n, v in zip(past_names, values[1:])}
        t2 = time.perf_counter()
        if it >= a.warmup:
            enc_ms.append((t1 - t0) * 1e3)
            dec_ms.append((t2 - t1) * 1e3)
    e, dd = trimmed(enc_ms), trimmed(dec_ms)
    if a.plain:
        print(f"{e:.4f} {dd:.4f}")
        return
    print(json.dumps({"encoderMeanMs": round(e, 3), "decoderMeanMs": round(dd, 3), "totalMs": round(e + dd, 3),
                      "length": a.length, "beam": a.beam, "iterations": a.iterations, "runtime": f"onnxruntime {ort.__version__}"}))


if __name__ == "__main__":
    main()
