"""Independent oracle for the Swift safetensors reader/writer (SafeTensors.swift).

It uses the reference `safetensors` library (with numpy and torch), never our code, so the
Swift tests check interoperability with the real format in both directions:

  roundtrip IN OUT  Load IN (written by Swift) with safetensors.numpy and safetensors.torch,
                    assert both agree, read its metadata with safe_open, print a JSON summary
                    (metadata; per tensor: dtype, shape, float64 sum), and re-save every tensor
                    plus the metadata to OUT with safetensors.numpy.save_file.
  write OUT         Save tensors of every supported dtype (F32, F64, F16, BF16, I64, I32, I8,
                    U8, BOOL) with deterministic values, exactly representable in their dtype,
                    via safetensors.torch.save_file (numpy has no bfloat16), and print a JSON
                    of the expected values.
"""

import json
import sys

import numpy as np
import torch
from safetensors import safe_open
from safetensors.numpy import load_file as np_load, save_file as np_save
from safetensors.torch import load_file as torch_load, save_file as torch_save

NUMPY_DTYPE_NAMES = {"float32": "F32", "float64": "F64", "float16": "F16", "int64": "I64",
                     "int32": "I32", "int16": "I16", "int8": "I8", "uint8": "U8", "bool": "BOOL"}


def roundtrip(path_in, path_out):
    arrays = np_load(path_in)
    tensors = torch_load(path_in)
    assert sorted(arrays) == sorted(tensors), (sorted(arrays), sorted(tensors))
    for name, array in arrays.items():
        assert np.array_equal(array, tensors[name].numpy()), name
    with safe_open(path_in, framework="np") as f:
        metadata = f.metadata() or {}
    summary = {
        "metadata": metadata,
        "tensors": {name: {"dtype": NUMPY_DTYPE_NAMES[str(a.dtype)], "shape": list(a.shape),
                           "sum": float(a.astype(np.float64).sum())}
                    for name, a in arrays.items()},
    }
    print(json.dumps(summary))
    np_save(arrays, path_out, metadata=metadata or None)


def write(path_out):
    f32 = torch.arange(-6, 6, dtype=torch.float32).reshape(3, 4) * 0.5
    tensors = {
        "f32": f32,
        "f64": torch.arange(-4, 4, dtype=torch.float64).reshape(2, 2, 2) * 0.25 + 1e-3,
        "f16": torch.arange(-8, 8, dtype=torch.float16).reshape(4, 4) * 0.125,
        "bf16": torch.arange(-8, 8, dtype=torch.bfloat16).reshape(2, 8) * 0.5,
        "i64": torch.tensor([-(2**40), -1, 0, 1, 2**40, 2**62], dtype=torch.int64).reshape(2, 3),
        "i32": torch.tensor([-(2**31), -7, 0, 7, 2**31 - 1], dtype=torch.int32),
        "i8": torch.tensor([-128, -1, 0, 1, 127], dtype=torch.int8),
        "u8": torch.tensor([0, 1, 128, 254, 255], dtype=torch.uint8),
        "bool": torch.tensor([[True, False, True], [False, False, True]]),
        "scalar": torch.tensor(3.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }
    metadata = {"format": "pt", "written_by": "safetensors_oracle.py"}
    torch_save(tensors, path_out, metadata=metadata)
    expected = {}
    for name, t in tensors.items():
        dtype = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16",
                 torch.bfloat16: "BF16", torch.int64: "I64", torch.int32: "I32",
                 torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}[t.dtype]
        # F64 is read as Float in Swift, so give its value rounded to float32.
        flat = t.reshape(-1)
        if t.is_floating_point():
            values = [float(v) for v in flat.to(torch.float32).tolist()]
        else:
            values = [int(v) for v in flat.to(torch.int64).tolist()]
        expected[name] = {"dtype": dtype, "shape": list(t.shape), "values": values}
    print(json.dumps({"metadata": metadata, "tensors": expected}))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"roundtrip": roundtrip, "write": write}[command](*args)
