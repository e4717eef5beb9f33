"""Independent oracle for `hat export`: runs the exported graphs in onnxruntime.

Usage:
    python onnx_oracle.py ENCODER.onnx DECODER.onnx IN.safetensors OUT.safetensors

IN holds int64 `src_tokens` [B,S] and `prev_output_tokens` [B,T]. Both graphs are first
validated by onnx's checker (full_check: types and shapes inferred through every node), then
run on onnxruntime's CPU provider: the encoder on src_tokens, the decoder on
prev_output_tokens, src_tokens and every encoder output the decoder declares as an input.
OUT gets float32 `logits` [B,T,V] and each encoder output under its graph name. Metadata
"opset" and "ir_version" report what the files declare.
"""
import sys

import numpy as np
import onnx
import onnxruntime as ort
from safetensors.numpy import load_file, save_file


def main():
    encoder_path, decoder_path, in_path, out_path = sys.argv[1:5]
    for path in (encoder_path, decoder_path):
        onnx.checker.check_model(onnx.load(path), full_check=True)
    inputs = load_file(in_path)
    src = inputs["src_tokens"].astype(np.int64)
    prev = inputs["prev_output_tokens"].astype(np.int64)

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    encoder = ort.InferenceSession(encoder_path, options, providers=["CPUExecutionProvider"])
    decoder = ort.InferenceSession(decoder_path, options, providers=["CPUExecutionProvider"])

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
    model = onnx.load(decoder_path)
    save_file(out, out_path, metadata={"opset": str(model.opset_import[0].version), "ir_version": str(model.ir_version)})


if __name__ == "__main__":
    main()
