"""HAT's latency method on a `hat export` folder converted for a Rockchip NPU, run from the host
by rknn-toolkit2: on a connected board (--target rk3588; the board runs rknn_server, adb connects
it) or, as a dry run, in the toolkit's simulator (no --target: the times are the simulator's and
say nothing about the NPU). Float16 graphs, or int8 (`--dtype int8`, with `--float16-attention` the
hybrid that translates as well as float: README, "int8").

Usage:
    python measurers/rknn/rknn_latency.py EXPORT_DIR [--platform rk3588] [--target rk3588]
        [--dtype fp16|int8 [--float16-attention]] [--length 30] [--beam 5] [--iterations 20] [--warmup 5] [--plain]
        [--memory]

--memory (with --target only: rknn-toolkit2 evaluates memory on the board) also reports the
model's and the peak memory in MB, as `hat latency ... --command-output encoder-decoder-memory`
reads them: the encoder's and the decoder's weight allocations, and their total allocations
(weights and internal buffers), added since both graphs stay loaded. Written from rknn-toolkit2's
documented `eval_memory` result; not yet run on a board (none here).

int8 needs calibration inputs; latency does not depend on their values (the weights are random
anyway), so they are a few synthetic sentences of the measured shape: token ids above the specials
for the encoder, and for the decoder the same sentences with the int8 encoder's states and a prefix
that starts with end-of-sentence.

Fixed shapes (measurers/rknn/README.md): the encoder over [1, LENGTH] tokens; the full decoder
(decoder.onnx) over [BEAM, LENGTH] prefixes, once per step for LENGTH steps (RKNN graphs take no
growing cache, so every step reruns the fixed prefix: the cost of this deployment), each followed
by an argmax per row. WARMUP untimed runs, ITERATIONS timed ones; prints the trimmed means (fastest
and slowest 10 % dropped) of encoder and decoder milliseconds as JSON, or with --plain as two
numbers, what `hat latency ... --command-output encoder-decoder` reads (rknn_measure.sh wraps it).
A graph that rknn-toolkit2 cannot load or build for these shapes stops the run with one line
naming the graph, the shapes and the platform, and exit status 2 (the decoder first falls back to
one beam row per run, saying so on stderr).
"""
import argparse
import atexit
import ctypes
import json
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import onnx

from rknn_convert import ConversionFailed, convert


def board_memory(graphs, target, folder):
    """(model MB, peak MB) of the converted graphs on the board `target`: each exported to an .rknn
    file, loaded for rknn-toolkit2's memory evaluation (init_runtime(eval_mem=True)) and measured
    with eval_memory, whose result holds total_weight_allocation and total_model_allocation (bytes)."""
    from rknn.api import RKNN
    weights = total = 0
    for name, rknn in graphs:
        path = f"{folder}/{name}.rknn"
        if rknn.export_rknn(path) != 0:
            raise ConversionFailed(f"rknn-toolkit2 could not export the {name} graph to {path}")
        probe = RKNN(verbose=False)
        try:
            if probe.load_rknn(path) != 0 or probe.init_runtime(target=target, eval_mem=True) != 0:
                raise ConversionFailed(f"no memory evaluation of the {name} graph on {target}")
            memory = probe.eval_memory(is_print=False)
            if not isinstance(memory, dict) or not {"total_weight_allocation", "total_model_allocation"} <= memory.keys():
                raise ConversionFailed(f"rknn-toolkit2's eval_memory gave no weight and model allocations for the {name} graph: {memory!r}")
            weights += memory["total_weight_allocation"]
            total += memory["total_model_allocation"]
        finally:
            probe.release()
    return weights / 1e6, total / 1e6


def fail(message):
    print(f"rknn_latency: {message}", file=sys.stderr)
    sys.exit(2)


def trimmed_mean(values):
    values = sorted(values)
    cut = len(values) // 10
    kept = values[cut:len(values) - cut] or values
    return sum(kept) / len(kept)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("export_dir")
    p.add_argument("--platform", default="rk3588")
    p.add_argument("--target", default=None, help="a connected board (default: the simulator, a dry run)")
    p.add_argument("--length", type=int, default=30)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--plain", action="store_true")
    p.add_argument("--dtype", choices=["fp16", "int8"], default="fp16")
    p.add_argument("--memory", action="store_true",
                   help="also the model's and the peak memory on the board, MB (needs --target)")
    p.add_argument("--float16-attention", action="store_true",
                   help="--dtype int8: keep the attention core (scores, mask, softmax, weighted sum) in float16")
    a = p.parse_args()
    if a.float16_attention and a.dtype != "int8":
        p.error("--float16-attention goes with --dtype int8")
    if a.memory and not a.target:
        p.error("--memory needs --target: rknn-toolkit2 evaluates memory on a board only, not in the simulator")
    # rknn-toolkit2 and its C++ core print progress on stdout; until the result, stdout goes to
    # stderr, so the result is the only line `hat` reads there.
    result_out = os.dup(1)
    os.dup2(2, 1)
    folder, L, B = a.export_dir, a.length, a.beam
    info = json.load(open(f"{folder}/export.json"))
    eos, pad = info["eos_id"], info["padding_id"]
    enc_graph = onnx.load(f"{folder}/encoder.onnx", load_external_data=False).graph
    states = [o.name for o in enc_graph.output if o.name.startswith("encoder_out.")]
    width = {o.name: o.type.tensor_type.shape.dim[2].dim_value for o in enc_graph.output}
    dec_graph = onnx.load(f"{folder}/decoder.onnx", load_external_data=False).graph
    wanted = [i.name for i in dec_graph.input if i.name.startswith("encoder_out.")]

    # Calibration sentences for int8 (their values do not change latency), and the .rknn files of
    # --memory, in a folder removed at exit.
    tmp = tempfile.mkdtemp(prefix="rknn-latency-")
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    calibration = [((np.arange(L, dtype=np.int64) * (7 + 2 * i) + 13 * i) % 100 + 4).reshape(1, L) for i in range(4)]
    enc_dataset = None
    if a.dtype == "int8":
        for i, src in enumerate(calibration):
            np.save(f"{tmp}/src{i}.npy", src)
        enc_dataset = f"{tmp}/encoder.txt"
        open(enc_dataset, "w").write("".join(f"{tmp}/src{i}.npy\n" for i in range(len(calibration))))
    precision = dict(dtype=a.dtype, float16_attention=a.float16_attention)

    def decoder_dataset(rows):
        """The decoder's calibration inputs for `rows` beam rows per run (int8 only)."""
        if a.dtype != "int8":
            return None
        lines = []
        for i, src in enumerate(calibration):
            outs = dict(zip(states, encoder.inference(inputs=[src])))
            prefix = np.full((rows, L), pad, dtype=np.int64)
            prefix[:, 0] = eos
            files = [f"{tmp}/prefix{rows}-{i}.npy", f"{tmp}/rows{rows}-src{i}.npy"]
            np.save(files[0], prefix)
            np.save(files[1], np.repeat(src, rows, axis=0))
            for name in wanted:
                files.append(f"{tmp}/rows{rows}-{name}{i}.npy")
                np.save(files[-1], np.repeat(outs[name], rows, axis=0).astype(np.float32))
            lines.append(" ".join(files))
        path = f"{tmp}/decoder{rows}.txt"
        open(path, "w").write("\n".join(lines) + "\n")
        return path

    try:
        encoder, _, _ = convert(f"{folder}/encoder.onnx", ["src_tokens"], [[1, L]], a.platform, target=a.target,
                                dataset=enc_dataset, **precision)
    except ConversionFailed as error:
        fail(str(error))
    # The beam's rows as one batch; where the toolkit cannot convert that shape (rknn-toolkit2
    # 2.3.2 raises on batch > 1 of this decoder), one row at a time, BEAM runs per step.
    rows_per_run = B
    while True:
        sizes = [[rows_per_run, L], [rows_per_run, L]] + [[rows_per_run, L, width[n]] for n in wanted]
        try:
            decoder, _, _ = convert(f"{folder}/decoder.onnx", ["prev_output_tokens", "src_tokens"] + wanted, sizes,
                                    a.platform, target=a.target, dataset=decoder_dataset(rows_per_run), **precision)
            break
        except ConversionFailed as error:
            if rows_per_run == 1:
                fail(str(error))
            print(f"rknn_latency: {error}; measuring the decoder one beam row per run instead", file=sys.stderr)
            rows_per_run = 1
    # One sentence of L non-special tokens (ids above the specials), as hat's measurement.
    src = (np.arange(L, dtype=np.int64) % 100 + 4).reshape(1, L)
    encoder_ms, decoder_ms = [], []
    for run in range(a.warmup + a.iterations):
        t0 = time.perf_counter()
        outs = dict(zip(states, encoder.inference(inputs=[src])))
        t1 = time.perf_counter()
        rows_src = np.repeat(src, B, axis=0)
        rows_states = [np.repeat(outs[n], B, axis=0) for n in wanted]
        prefix = np.full((B, L), pad, dtype=np.int64)
        prefix[:, 0] = eos
        for step in range(L):
            logits = np.concatenate([
                decoder.inference(inputs=[prefix[r:r + rows_per_run], rows_src[r:r + rows_per_run]]
                                  + [x[r:r + rows_per_run] for x in rows_states])[0]
                for r in range(0, B, rows_per_run)])
            tokens = logits[:, step].argmax(axis=-1)
            if step + 1 < L:
                prefix[:, step + 1] = np.maximum(tokens, 4)
            prefix = np.roll(prefix, 1, axis=0)  # a reorder of the beam's rows, as hat's method does
        t2 = time.perf_counter()
        if run >= a.warmup:
            encoder_ms.append((t1 - t0) * 1e3)
            decoder_ms.append((t2 - t1) * 1e3)
    e, d = trimmed_mean(encoder_ms), trimmed_mean(decoder_ms)
    memory = None
    if a.memory:
        try:
            memory = board_memory([("encoder", encoder), ("decoder", decoder)], a.target, tmp)
        except ConversionFailed as error:
            fail(str(error))
    sys.stdout.flush()
    ctypes.CDLL(None).fflush(None)  # the C++ core's buffered lines, to stderr
    os.dup2(result_out, 1)
    if a.plain:
        print(f"{e:.4f} {d:.4f}" + (f" {memory[0]:.4f} {memory[1]:.4f}" if memory else ""))
    else:
        print(json.dumps({"impl": "rknn", "platform": a.platform, "target": a.target or "simulator", "dtype": a.dtype + ("+fp16-attention" if a.float16_attention else ""),
                          "encoder_ms": round(e, 4), "decoder_ms": round(d, 4), "length": L, "beam": B,
                          "decoder_rows_per_run": rows_per_run, "iterations": a.iterations}
                         | ({"model_mb": round(memory[0], 4), "peak_mb": round(memory[1], 4)} if memory else {})))


if __name__ == "__main__":
    main()
