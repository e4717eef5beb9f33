"""Independent oracle: a quantized hat checkpoint expanded, then run by PyTorch.

Usage:
    python quantized_model_oracle.py QUANTIZED.safetensors TEMPLATE.safetensors OUT.safetensors

Reads the file `hat quantize` writes (layout documented in
Sources/Train/QuantizedCheckpoint.swift) with numpy alone: for a quantized
weight NAME, `model.NAME.indices` (uint8 [rows, ceil(cols*bits/8)], each row
packed densely, least significant bit first) and `model.NAME.codebook`
(float32 [groups, 2**bits], group g serving rows [g*G, (g+1)*G) with G =
group_rows from the `quantization` metadata); a float tensor is `model.NAME`.
Each stored corner is written into the top-left corner of the zero super
tensor of the same name in TEMPLATE, which also holds the token tensors and
the `config` metadata of subtransformer_oracle.py; that oracle then computes
the logits (its OUT format).
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def unpack(packed, rows, cols, bits):
    bit_rows = np.unpackbits(packed.reshape(rows, -1), axis=1, bitorder="little")[:, : cols * bits]
    weights = (1 << np.arange(bits)).astype(np.int64)
    return (bit_rows.reshape(rows, cols, bits).astype(np.int64) * weights).sum(axis=2)


def main(argv):
    qpath, template, out = argv[1], argv[2], argv[3]
    with safe_open(qpath, framework="np") as q:
        meta = q.metadata()
        header = json.loads(meta["quantization"])
        corners = {}
        for name, entry in header["tensors"].items():
            rows, cols = entry["shape"]
            idx = unpack(q.get_tensor(f"model.{name}.indices"), rows, cols, entry["bits"])
            book = q.get_tensor(f"model.{name}.codebook")
            group = np.arange(rows) // entry["group_rows"]
            corners[name] = book[group[:, None], idx].astype(np.float32)
        for key in q.keys():
            if key.startswith("model.") and not key.endswith((".indices", ".codebook")):
                corners[key[len("model."):]] = q.get_tensor(key)
    tensors = {}
    with safe_open(template, framework="np") as t:
        config = t.metadata()["config"]
        for key in t.keys():
            value = t.get_tensor(key)
            if key in corners:
                c = corners[key]
                value = value.copy()
                value[tuple(slice(0, n) for n in c.shape)] = c
            tensors[key] = value
    with tempfile.TemporaryDirectory() as tmp:
        expanded = os.path.join(tmp, "in.safetensors")
        save_file(tensors, expanded, metadata={"config": config})
        here = os.path.dirname(os.path.abspath(__file__))
        subprocess.run([sys.executable, os.path.join(here, "subtransformer_oracle.py"), expanded, out], check=True)
    print(f"quantized model oracle: {len(header['tensors'])} quantized tensors expanded")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
