"""hat's greedy choice of the next token (its beam search at beam 1), for the Python translators
that check a runtime's graphs against `hat translate --beam 1` (benchmarks/onnx_greedy_translate.py,
measurers/rknn/rknn_translate.py)."""
import numpy as np


def next_token(scores, pad, eos, first):
    """The argmax of one row of scores (log-probabilities or logits), never padding or bos (id 0),
    and not eos as the first token, as hat's BeamSearch."""
    scores = np.array(scores, dtype=np.float32)
    scores[pad] = scores[0] = -np.inf
    if first:
        scores[eos] = -np.inf
    return int(scores.argmax())
