"""HAT's latency method on a `hat export` folder in onnxruntime, with a chosen execution provider.

Usage:
    python measurers/onnxruntime_latency.py EXPORT_DIR [--ep cpu] [--ep-option KEY=VALUE ...]
        [--length 30] [--beam 5] [--iterations 20] [--warmup 5] [--threads 1] [--plain] [--memory]

The same work as hat's LatencyMeasurer (hat-reference.md section 6): one sentence of LENGTH
non-special tokens, batch 1; the encoder once (encoder.onnx, which here also computes the
cross-attention keys and values: part of hat's decoder set-up); then LENGTH steps of
decoder_step.onnx over BEAM rows with cached states, each step followed by an argmax per row
and a reorder of every cache (a rotation of the rows, as hat's measurement does). WARMUP untimed
runs, ITERATIONS timed ones; prints the trimmed means (fastest and slowest 10 % dropped) of
encoder and decoder milliseconds, as JSON (or, with --plain, as two numbers: what `hat latency
... --command-output encoder-decoder` reads; measurers/onnxruntime_measure.sh wraps it).

--ep picks onnxruntime's execution provider: cpu, cuda, coreml, openvino or qnn (onnxruntime's
CPU, CUDA, CoreML, OpenVINO and QNN execution providers; a full name such as
TensorrtExecutionProvider is taken as it is). --ep-option passes the provider's options
(openvino: device_type=GPU; qnn: backend_path=libQnnHtp.so). A provider that this onnxruntime
does not have, or that fails to start, stops the run with one line on stderr naming it and the
providers there are, and exit status 2: onnxruntime would otherwise run the graphs on its CPU
provider and the numbers would be the CPU's. Nodes a provider cannot run still go to the CPU
provider, as in any onnxruntime application. Inputs and outputs go through numpy (host memory)
on every step, as onnxruntime's Python API does without I/O binding, so a GPU's times include
those copies.

--memory also reports memory in MB (10^6 bytes), as `hat latency ... --command-output
encoder-decoder-memory` reads it (with --plain: four numbers): the model, the bytes of the two
graphs' initializers (the weights onnxruntime loads), and the peak, how far this process's
resident memory rose above what it held before the sessions were made (the weights as
onnxruntime keeps them, its arena and the inputs and outputs of every run; Linux and macOS).
A GPU provider's device memory is not in it.
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import onnxruntime as ort

PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "qnn": "QNNExecutionProvider",
}


class ProviderUnavailable(Exception):
    pass


def provider_name(ep):
    """onnxruntime's name of the provider `ep` (a short name, or a full one as it is)."""
    if ep in PROVIDERS:
        return PROVIDERS[ep]
    if ep.endswith("ExecutionProvider"):
        return ep
    raise ProviderUnavailable(f"execution provider '{ep}' is not one of: {', '.join(PROVIDERS)} "
                              f"(or a full onnxruntime name such as TensorrtExecutionProvider; "
                              f"available: {', '.join(ort.get_available_providers())})")


def unavailable(name, why):
    return ProviderUnavailable(f"execution provider {name} {why} (onnxruntime {ort.__version__}; "
                               f"available: {', '.join(ort.get_available_providers())})")


def check_provider(name):
    """Raises ProviderUnavailable when this onnxruntime was built without provider `name`."""
    if name not in ort.get_available_providers():
        raise unavailable(name, "is not available")


def open_session(path, name, provider_options, session_options):
    """A session on provider `name`; an error, never a CPU fallback, when it does not start."""
    providers = [(name, provider_options)] if provider_options else [name]
    session = ort.InferenceSession(path, session_options, providers=providers)
    # onnxruntime falls back to its CPU provider, with only a warning, when a provider's
    # libraries (CUDA, cuDNN, ...) cannot be loaded.
    if name not in session.get_providers():
        raise unavailable(name, f"did not start for {path} (the session got {', '.join(session.get_providers())})")
    return session


def trimmed(samples):
    s = sorted(samples)
    cut = len(s) // 10
    kept = s[cut:len(s) - cut]
    return sum(kept) / len(kept)


def resident_bytes():
    """This process's resident memory now (Linux: /proc/self/statm), else its peak so far."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_resident_bytes()


def peak_resident_bytes():
    """The most this process has held resident (getrusage: KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def initializer_bytes(path):
    """Bytes of a graph's weights: its initializers' raw data (external data included)."""
    import onnx
    from onnx import numpy_helper
    model = onnx.load(path)
    return sum(numpy_helper.to_array(t).nbytes for t in model.graph.initializer)


def measure(folder, length=30, beam=5, iterations=20, warmup=5, threads=1, ep="cpu", provider_options=None, memory=None):
    """(encoder ms, decoder ms): trimmed means of HAT's method on the graphs of `folder`. With a
    dict as `memory`, also fills its "model_mb" and "peak_mb" (--memory)."""
    name = provider_name(ep)
    check_provider(name)
    info = json.load(open(f"{folder}/export.json"))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    before = resident_bytes()
    encoder = open_session(f"{folder}/encoder.onnx", name, provider_options, options)
    step = open_session(f"{folder}/decoder_step.onnx", name, provider_options, options)
    vocab = info["source_vocab_size"]
    src = np.array([[4 + i % (vocab - 4) for i in range(length)]], dtype=np.int64)
    encoder_names = [o.name for o in encoder.get_outputs()]
    cross_names = [n for n in encoder_names if n.startswith("cross_")]
    d = info["decoder_step"]
    past_names = [f"past_{k}.{l}" for l in range(len(d["self_attention_heads"])) for k in ("key", "value")]
    output_names = ["log_probs"] + [n.replace("past_", "present_") for n in past_names]
    rotation = np.array([(r + 1) % beam for r in range(beam)])
    src_rows = np.repeat(src, beam, axis=0)
    enc_ms, dec_ms = [], []
    for it in range(warmup + iterations):
        t0 = time.perf_counter()
        states = dict(zip(encoder_names, encoder.run(encoder_names, {"src_tokens": src})))
        t1 = time.perf_counter()
        cross = {n: np.repeat(states[n], beam, axis=0) for n in cross_names}
        past = {f"past_{k}.{l}": np.zeros((beam, h, 0, hd), dtype=np.float32)
                for l, (h, hd) in enumerate(zip(d["self_attention_heads"], d["head_dim"])) for k in ("key", "value")}
        tokens = np.full((beam, 1), info["eos_id"], dtype=np.int64)
        for _ in range(length):
            values = step.run(output_names, {"prev_token": tokens, "src_tokens": src_rows, **cross, **past})
            tokens = values[0][:, 4:].argmax(axis=1).reshape(beam, 1) + 4
            past = {n: v[rotation] for n, v in zip(past_names, values[1:])}
        t2 = time.perf_counter()
        if it >= warmup:
            enc_ms.append((t1 - t0) * 1e3)
            dec_ms.append((t2 - t1) * 1e3)
    if memory is not None:
        memory["peak_mb"] = max(0, peak_resident_bytes() - before) / 1e6
        memory["model_mb"] = sum(initializer_bytes(f"{folder}/{g}") for g in ("encoder.onnx", "decoder_step.onnx")) / 1e6
    return trimmed(enc_ms), trimmed(dec_ms)


def parse_options(pairs):
    """KEY=VALUE strings as onnxruntime's provider options (a dict of strings)."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ValueError(f"--ep-option '{pair}': give KEY=VALUE")
        options[key] = value
    return options


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder")
    p.add_argument("--length", type=int, default=30)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--ep", default="cpu", help=f"execution provider: {', '.join(PROVIDERS)} (default cpu)")
    p.add_argument("--ep-option", action="append", default=[], metavar="KEY=VALUE", help="a provider option (repeatable)")
    p.add_argument("--plain", action="store_true", help="print 'ENCODER_MS DECODER_MS' (hat latency --command-output encoder-decoder)")
    p.add_argument("--memory", action="store_true",
                   help="also the model's and the peak memory, MB (with --plain: four numbers, --command-output encoder-decoder-memory)")
    a = p.parse_args(argv)
    if a.iterations < 1 or a.warmup < 0 or a.length < 1 or a.beam < 1 or a.threads < 1:
        p.error("--iterations, --length, --beam and --threads must be at least 1, --warmup at least 0")
    try:
        provider_options = parse_options(a.ep_option)
    except ValueError as e:
        p.error(str(e))
    try:
        memory = {} if a.memory else None
        e, dd = measure(a.folder, a.length, a.beam, a.iterations, a.warmup, a.threads, a.ep, provider_options, memory)
    except ProviderUnavailable as e:
        print(f"onnxruntime_latency: {e}", file=sys.stderr)
        return 2
    if a.plain:
        print(f"{e:.4f} {dd:.4f}" + (f" {memory['model_mb']:.4f} {memory['peak_mb']:.4f}" if a.memory else ""))
        return 0
    runtime = f"onnxruntime {ort.__version__}" + ("" if a.ep == "cpu" else f" {provider_name(a.ep)}")
    print(json.dumps({"encoderMeanMs": round(e, 3), "decoderMeanMs": round(dd, 3), "totalMs": round(e + dd, 3),
                      "length": a.length, "beam": a.beam, "iterations": a.iterations, "runtime": runtime}
                     | ({"modelMB": round(memory["model_mb"], 4), "peakMB": round(memory["peak_mb"], 4)} if a.memory else {})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
