"""HAT's latency method on a `hat export` folder in onnxruntime, to set beside `hat latency measure`.

Usage:
    python benchmarks/onnx_latency.py EXPORT_DIR [--length 30] [--beam 5] [--iterations 20] [--warmup 5] [--threads 1]
        [--ep cpu|cuda|coreml|openvino|qnn] [--plain]

The measurement is measurers/onnxruntime_latency.py's (the `--command` measurer shipped with
hat; its docstring has the method): encoder.onnx once, then LENGTH steps of decoder_step.onnx
over BEAM rows with cached states, an argmax per row and a reorder of every cache per step;
the trimmed means (fastest and slowest 10 % dropped) of encoder and decoder milliseconds, as
JSON (or, with --plain, as two numbers).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "measurers"))
from onnxruntime_latency import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
