"""Independent oracle for `hat export`: runs the exported graphs in onnxruntime.

Usage:
    python onnx_oracle.py ENCODER.onnx DECODER.onnx IN.safetensors OUT.safetensors [STEP.onnx]

IN holds int64 `src_tokens` [B,S] and `prev_output_tokens` [B,T]. Every graph is first
validated by onnx's checker (full_check: types and shapes inferred through every node), then
run on onnxruntime's CPU provider: the encoder on src_tokens, the decoder on
prev_output_tokens, src_tokens and every encoder output the decoder declares as an input.
With STEP (decoder_step.onnx), the same prefix is also decoded one token at a time
(teacher forcing): prev_token = prev_output_tokens[:, t], the past keys and values start
empty ([B, heads, 0, head_dim], sizes read from the graph's inputs) and each step's present_*
is fed back as past_*.
OUT gets float32 `logits` [B,T,V], each encoder output under its graph name, and with STEP
`step_log_probs` [B,T,V]. Metadata "opset" and "ir_version" report what the files declare.
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort
from safetensors.numpy import load_file, save_file


def session(path):
    onnx.checker.check_model(onnx.load(path), full_check=True)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def main():
    encoder_path, decoder_path, in_path, out_path = sys.argv[1:5]
    step_path = sys.argv[5] if len(sys.argv) > 5 else None
    inputs = load_file(in_path)
    src = inputs["src_tokens"].astype(np.int64)
    prev = inputs["prev_output_tokens"].astype(np.int64)

    encoder, decoder = session(encoder_path), session(decoder_path)
    encoder_names = [o.name for o in encoder.get_outputs()]
    encoder_values = dict(zip(encoder_names, encoder.run(None, {"src_tokens": src})))
    feed = {"prev_output_tokens": prev, "src_tokens": src}
    for i in decoder.get_inputs():
        if i.name not in feed:
            feed[i.name] = encoder_values[i.name]
    (logits,) = decoder.run(["logits"], feed)

    out = {"logits": np.ascontiguousarray(logits, dtype=np.float32)}
    for name, value in encoder_values.items():
        out[name] = np.ascontiguousarray(value, dtype=np.float32)

    if step_path:
        step = session(step_path)
        batch = src.shape[0]
        past = {}
        for i in step.get_inputs():
            if i.name.startswith("past_"):
                _, heads, _, head_dim = i.shape
                past[i.name] = np.zeros((batch, heads, 0, head_dim), dtype=np.float32)
        output_names = [o.name for o in step.get_outputs()]
        rows = []
        for t in range(prev.shape[1]):
            feed = {"prev_token": prev[:, t:t + 1], "src_tokens": src, **past}
            for i in step.get_inputs():
                if i.name.startswith("cross_"):
                    feed[i.name] = encoder_values[i.name]
            values = dict(zip(output_names, step.run(output_names, feed)))
            rows.append(values["log_probs"])
            past = {name.replace("present_", "past_"): value for name, value in values.items() if name.startswith("present_")}
        out["step_log_probs"] = np.ascontiguousarray(np.stack(rows, axis=1), dtype=np.float32)

    model = onnx.load(decoder_path)
    save_file(out, out_path, metadata={"opset": str(model.opset_import[0].version), "ir_version": str(model.ir_version)})


if __name__ == "__main__":
    main()
