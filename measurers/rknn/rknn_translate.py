"""Greedy translation with a `hat export` folder converted for a Rockchip NPU (THANOS's path), run in
rknn-toolkit2's simulator on an x86-64 machine, or on the board (--target rk3588 with a device
attached); compare with `hat translate --beam 1` (measurers/rknn/README.md).

Usage:
    python measurers/rknn/rknn_translate.py EXPORT_DIR [--src-len 32] [--dtype fp16|int8]
        [--calibration SOURCES.txt] [--platform rk3588] [--target rk3588] --out hypotheses.txt < sources.txt

RKNN graphs have fixed shapes, so this uses one bucket: sources of up to --src-len pieces (with
eos) padded with the padding id (the exported graphs mask padding), and the full decoder
(decoder.onnx) over a prefix padded to 1.2 · src-len + 11 tokens, reading the logits at the last
real position: with the causal mask, padding after a position changes nothing before it. A
source longer than the bucket is an error naming its line. int8 quantizes with calibration
sources (their encoder inputs and the decoder's first step), as rknn-toolkit2 requires a dataset
file of .npy inputs. Hypotheses go to --out (rknn-toolkit2 prints its progress on stdout);
conversion times and the translation time to stderr.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import onnx
import sentencepiece as spm

from rknn_convert import ConversionFailed, convert

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from greedy import next_token  # noqa: E402


def build(path, inputs, sizes, platform, dtype, dataset, target, algorithm="normal", quantized_dtype="w8a8",
          float16_attention=False):
    """The converted graph, started; its conversion time (and tensors kept float16) to stderr."""
    try:
        rknn, seconds, kept = convert(path, inputs, sizes, platform, target=target, dtype=dtype, dataset=dataset,
                                      algorithm=algorithm, quantized_dtype=quantized_dtype, float16_attention=float16_attention)
    except ConversionFailed as error:
        sys.exit(f"rknn_translate: {error}")
    kind = "fp16" if dtype == "fp16" else f"{quantized_dtype}, {algorithm}"
    if kept:
        print(f"rknn_translate: {os.path.basename(path)}: {kept} layers kept in float16 (the attention core)",
              file=sys.stderr)
    print(f"rknn_translate: converted {os.path.basename(path)} {sizes} for {platform} ({kind}) in {seconds:.1f} s",
          file=sys.stderr)
    return rknn


def main():
    p = argparse.ArgumentParser()
    p.add_argument("export_dir")
    p.add_argument("--src-len", type=int, default=32)
    p.add_argument("--dtype", choices=["fp16", "int8"], default="fp16")
    p.add_argument("--calibration", help="source sentences for int8 calibration (one per line)")
    p.add_argument("--quantized-dtype", default="w8a8",
                   help="rknn-toolkit2's quantized type for --dtype int8: w8a8 (default) or w16a16i (16-bit integers)")
    p.add_argument("--float16-attention", action="store_true",
                   help="--dtype int8: keep the attention core (scores, mask, softmax, weighted sum) in float16, "
                        "the projections and FFNs int8 (hybrid quantization)")
    p.add_argument("--quantized-algorithm", choices=["normal", "mmse", "kl_divergence"], default="normal",
                   help="rknn-toolkit2's int8 calibration: min-max (normal), MMSE, or KL divergence")
    p.add_argument("--platform", default="rk3588")
    p.add_argument("--target", default=None, help="a connected board (default: the simulator)")
    p.add_argument("--out", required=True, help="file for the hypotheses, one line per source line")
    a = p.parse_args()
    folder = a.export_dir
    info = json.load(open(f"{folder}/export.json"))
    eos, pad = info["eos_id"], info["padding_id"]
    sp = spm.SentencePieceProcessor(model_file=f"{folder}/{info['vocabulary']}")
    S = a.src_len
    T = int(1.2 * S + 10) + 1

    def source(line, number):
        ids = sp.encode(line.strip()) + [eos]
        if len(ids) > S:
            sys.exit(f"rknn_translate: line {number} has {len(ids)} pieces with eos, more than --src-len {S}")
        return np.array([ids + [pad] * (S - len(ids))], dtype=np.int64), len(ids)

    lines = sys.stdin.read().splitlines()
    # Encoder widths from the ONNX graph's outputs (encoder_out.*: [batch, src_len, width]).
    enc_graph = onnx.load(f"{folder}/encoder.onnx", load_external_data=False).graph
    states = [o.name for o in enc_graph.output if o.name.startswith("encoder_out.")]
    width = {o.name: o.type.tensor_type.shape.dim[2].dim_value for o in enc_graph.output}
    dec_graph = onnx.load(f"{folder}/decoder.onnx", load_external_data=False).graph
    dec_inputs = [i.name for i in dec_graph.input]
    wanted = [n for n in dec_inputs if n.startswith("encoder_out.")]

    tmp = tempfile.mkdtemp()  # the calibration inputs
    enc_dataset = dec_dataset = None
    if a.dtype == "int8":
        if not a.calibration:
            sys.exit("rknn_translate: --dtype int8 needs --calibration SOURCES.txt (sentences of the training data)")
        cal = [l for l in open(a.calibration).read().splitlines() if l.strip()][:50]
        enc_lines, dec_lines = [], []
        # The encoder's calibration inputs; the decoder's come from the float16 encoder below.
        for i, line in enumerate(cal):
            src, _ = source(line, i + 1)
            np.save(f"{tmp}/src{i}.npy", src)
            enc_lines.append(f"{tmp}/src{i}.npy")
        enc_dataset = f"{tmp}/encoder.txt"
        open(enc_dataset, "w").write("\n".join(enc_lines) + "\n")
        fp_encoder = build(f"{folder}/encoder.onnx", ["src_tokens"], [[1, S]], a.platform, "fp16", None, a.target)
        for i, line in enumerate(cal):
            src, _ = source(line, i + 1)
            outs = dict(zip(states, fp_encoder.inference(inputs=[src])))
            prefix = np.array([[eos] + [pad] * (T - 1)], dtype=np.int64)
            files = [f"{tmp}/prefix{i}.npy", f"{tmp}/src{i}.npy"]
            np.save(files[0], prefix)
            for name in wanted:
                np.save(f"{tmp}/{name}{i}.npy", outs[name].astype(np.float32))
                files.append(f"{tmp}/{name}{i}.npy")
            dec_lines.append(" ".join(files))
        fp_encoder.release()
        dec_dataset = f"{tmp}/decoder.txt"
        open(dec_dataset, "w").write("\n".join(dec_lines) + "\n")

    encoder = build(f"{folder}/encoder.onnx", ["src_tokens"], [[1, S]], a.platform, a.dtype, enc_dataset, a.target,
                    a.quantized_algorithm, a.quantized_dtype, a.float16_attention)
    sizes = [[1, T], [1, S]] + [[1, S, width[n]] for n in wanted]
    decoder = build(f"{folder}/decoder.onnx", ["prev_output_tokens", "src_tokens"] + wanted, sizes, a.platform, a.dtype,
                    dec_dataset, a.target, a.quantized_algorithm, a.quantized_dtype, a.float16_attention)
    start = time.time()
    hypotheses = []
    for number, line in enumerate(lines, 1):
        src, length = source(line, number)
        outs = dict(zip(states, encoder.inference(inputs=[src])))
        out = [eos]
        for _ in range(int(1.2 * length + 10)):
            prefix = np.array([out + [pad] * (T - len(out))], dtype=np.int64)
            (logits,) = decoder.inference(inputs=[prefix, src] + [outs[n] for n in wanted])
            token = next_token(logits[0, len(out) - 1], pad, eos, first=len(out) == 1)
            if token == eos:
                break
            out.append(token)
        hypotheses.append(sp.decode(out[1:]))
    shutil.rmtree(tmp, ignore_errors=True)
    with open(a.out, "w") as f:
        f.write("".join(h + "\n" for h in hypotheses))
    print(f"rknn_translate: {len(lines)} sentences in {time.time() - start:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
