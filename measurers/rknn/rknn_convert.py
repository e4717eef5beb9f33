"""One graph of a `hat export` folder converted with rknn-toolkit2 for a Rockchip NPU and started on
a target (a connected board, or the toolkit's simulator): shared by rknn_translate.py and
rknn_latency.py. Fixed input shapes (measurers/rknn/README.md); float16, or int8 with a
calibration dataset file (rknn-toolkit2's format: a line of .npy inputs per sample)."""
import os
import re
import shutil
import tempfile
import time

from rknn.api import RKNN


class ConversionFailed(Exception):
    """rknn-toolkit2 refused or raised; the message names the graph, its shapes and the platform."""


def _release(rknn):
    try:
        rknn.release()
    except Exception:  # already released (a failed hybrid step)
        pass


def _last_line(error):
    return (str(error).strip().splitlines() or [""])[-1]  # the toolkit's message ends its own traceback


def _float16_attention(cfg_path, only=None):
    """Rewrites a hybrid-quantization config to keep the attention core in float16: the layers
    rknn-toolkit2 fused into scaled-dot-product attention (names with "sdpa": scores, mask, softmax,
    weighted sum) and the masks' Where. In int8 the mask (-inf or -1e9 at padding) and the softmax
    inputs share one scale and the fused attention's output loses its direction (cosine 0.64 against
    float for one layer in accuracy_analysis); the projections and FFNs stay int8. Returns the names."""
    text = open(cfg_path).read()
    names = [n for n in re.findall(r"^    (\S+):\n", text, re.M)
             if "sdpa" in n or n.startswith("Where_")]
    if only is not None:
        names = [n for n in names if n in only]
    with open(cfg_path, "w") as f:
        f.write(text.replace("custom_quantize_layers: {}", "custom_quantize_layers: {"
                             + ", ".join(f"{n}: float16" for n in names) + "}", 1))
    return names


def _hybrid(rknn, path, dataset):
    """Hybrid quantization: step 1 writes NAME.model/.data/.quantization.cfg into a working folder,
    the config keeps the attention core in float16, step 2 builds from it. Returns the new RKNN and
    how many tensors stayed float16."""
    here, work = os.getcwd(), tempfile.mkdtemp()
    os.chdir(work)
    try:
        if rknn.hybrid_quantization_step1(dataset=dataset, proposal=False) != 0:
            raise ConversionFailed("hybrid quantization step 1 failed")
        stem = os.path.splitext(os.path.basename(path))[0]
        cfg = f"{stem}.quantization.cfg"
        original = open(cfg).read()
        kept = _float16_attention(cfg)
        rknn.release()
        while True:
            rknn = RKNN(verbose=False)
            try:
                if rknn.hybrid_quantization_step2(model_input=f"{stem}.model", data_input=f"{stem}.data",
                                                  model_quantization_cfg=cfg) == 0:
                    return rknn, len(kept)
                error = "hybrid quantization step 2 failed"
            except Exception as e:  # the toolkit raises for names that are tensors, not layers
                error = _last_line(e)
            not_layer = re.search(r"Invalid operands name '([^']+)'", error)
            rknn.release()
            if not not_layer:
                raise ConversionFailed(error)
            kept.remove(not_layer.group(1))  # a constant or a reshaped tensor: not a layer to keep
            with open(cfg, "w") as f:
                f.write(original)
            _float16_attention(cfg, only=kept)
    finally:
        os.chdir(here)
        shutil.rmtree(work, ignore_errors=True)


def convert(path, inputs, sizes, platform, target=None, dtype="fp16", dataset=None, algorithm="normal",
            quantized_dtype="w8a8", float16_attention=False):
    """(the started RKNN, seconds the conversion took, layers kept float16 by `float16_attention`).
    ConversionFailed when the toolkit cannot load, build or start the graph."""
    kind = "fp16" if dtype == "fp16" else f"{quantized_dtype}, {algorithm}"
    what = f"{path} for {platform} ({kind}, input shapes {sizes})"
    rknn = RKNN(verbose=False)
    start, kept = time.time(), 0
    try:
        rknn.config(target_platform=platform, quantized_algorithm=algorithm, quantized_dtype=quantized_dtype)
        if rknn.load_onnx(model=path, inputs=inputs, input_size_list=sizes) != 0:
            raise ConversionFailed("the toolkit could not load it")
        if dtype == "int8" and float16_attention:
            rknn, kept = _hybrid(rknn, path, dataset)
        elif rknn.build(do_quantization=dtype == "int8", dataset=dataset) != 0:
            raise ConversionFailed("the toolkit could not build it")
    except ConversionFailed as error:
        _release(rknn)
        raise ConversionFailed(f"rknn-toolkit2 failed on {what}: {error}") from None
    except Exception as error:  # the toolkit raises from its graph rewrites for some shapes
        _release(rknn)
        raise ConversionFailed(f"rknn-toolkit2 failed on {what}: {_last_line(error)}") from None
    seconds = time.time() - start
    if rknn.init_runtime(target=target) != 0:
        _release(rknn)
        raise ConversionFailed(f"no runtime for {what} on {'the simulator' if target is None else target}")
    return rknn, seconds, kept
