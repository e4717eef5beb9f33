"""Independent PyTorch oracle for the Swift tensor engine's op tests.

Usage:
    python ops_oracle.py OUT.safetensors

This file was written from the mathematical formulas of each op (and, for the
label-smoothed cross entropy, from fairseq's published semantics). It was NOT
derived from the Swift code, so it can serve as an independent reference.

Everything is computed with PyTorch on the CPU in float32, deterministically
(torch.manual_seed(1234) once at start, cases generated in a fixed order,
torch.use_deterministic_algorithms(True)).

Naming convention, for a case named C:
    C/in/NAME    every input BASE tensor (float32, or int64 for index tensors).
                 When an op consumes a view (a corner such as A[:5, :7], a
                 transpose, a prefix), the BASE tensor is stored; the Swift
                 test takes the same view itself.
    C/out        forward output, float32, contiguous. Scalar outputs are
                 0-dim tensors (shape []).
    C/dy         random upstream gradient (torch.randn) with out's shape.
    C/grad/NAME  gradient of sum(out * dy) w.r.t. float BASE input NAME.
                 For an input used through a view this is the gradient w.r.t.
                 the base, i.e. zero outside the view. No grads are written
                 for int64 inputs or for "no grad" inputs (additive masks).
Extra keys:
    label_smoothed_ce/nll   the nll_loss part (0-dim) of the fairseq loss.
    distilled_ce            the same loss mixed with a teacher's renormalized top-3
                            (teacher logits: an input without grad).

Additive masks (softmax_masked/in/mask, mha/in/mask) contain 0.0 for kept and
-inf for masked positions; every other stored value is finite.

The file is written atomically (OUT + '.tmp', then os.replace). A single
summary line is printed to stdout.
"""

import math
import os
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

torch.manual_seed(1234)
torch.use_deterministic_algorithms(True)
torch.set_default_dtype(torch.float32)

F32 = torch.float32


def randn(*shape):
    return torch.randn(*shape, dtype=F32)


class Oracle:
    def __init__(self):
        self.tensors = {}
        self.cases = []

    def _put(self, key, t):
        assert key not in self.tensors, key
        self.tensors[key] = t.detach().clone().contiguous()

    def case(self, name, inputs, fn, no_grad=(), extra=None):
        """inputs: dict NAME -> base tensor. fn(**leaf_tensors) -> out.

        Float inputs not listed in no_grad get requires_grad and a C/grad/NAME.
        extra: optional fn(**leaf_tensors) -> dict of extra tensors saved as
        C/KEY (computed without grad).
        """
        self.cases.append(name)
        leaves = {}
        grad_names = []
        for k, v in inputs.items():
            assert v.dtype in (F32, torch.int64), (name, k, v.dtype)
            self._put(f"{name}/in/{k}", v)
            if v.dtype == F32 and k not in no_grad:
                leaf = v.detach().clone().requires_grad_(True)
                grad_names.append(k)
            else:
                leaf = v.detach().clone()
            leaves[k] = leaf

        out = fn(**leaves)
        assert out.dtype == F32, (name, out.dtype)
        dy = torch.randn(out.shape, dtype=F32)
        self._put(f"{name}/out", out)
        self._put(f"{name}/dy", dy)

        if grad_names:
            grads = torch.autograd.grad(
                (out * dy).sum(), [leaves[k] for k in grad_names]
            )
            for k, g in zip(grad_names, grads):
                self._put(f"{name}/grad/{k}", g)

        if extra is not None:
            with torch.no_grad():
                for k, v in extra(**leaves).items():
                    self._put(f"{name}/{k}", v)


def build():
    o = Oracle()

    # 1-7: matmul / linear -------------------------------------------------
    o.case("matmul_2d", dict(a=randn(5, 7), b=randn(7, 4)), lambda a, b: a @ b)
    o.case(
        "matmul_corner",
        dict(A=randn(8, 10), B=randn(12, 9)),
        lambda A, B: A[:5, :7] @ B[:7, :4],
    )
    o.case(
        "matmul_transposed",
        dict(A=randn(7, 5), B=randn(4, 7)),
        lambda A, B: A.t() @ B.t(),
    )
    o.case("bmm", dict(a=randn(2, 3, 5, 6), b=randn(2, 3, 6, 4)), lambda a, b: a @ b)
    o.case(
        "bmm_kt",
        dict(q=randn(2, 3, 5, 8), k=randn(2, 3, 6, 8)),
        lambda q, k: q @ k.transpose(-1, -2),
    )
    o.case(
        "linear",
        dict(x=randn(2, 3, 7), W=randn(5, 7), b=randn(5)),
        lambda x, W, b: x @ W.t() + b,
    )
    o.case(
        "linear_corner",
        dict(x=randn(2, 3, 6), W=randn(9, 11), b=randn(9)),
        lambda x, W, b: x @ W[:5, :6].t() + b[:5],
    )

    # 8-14: elementwise with broadcasting ------------------------------------
    o.case("add_bias", dict(a=randn(2, 3, 4), b=randn(4)), lambda a, b: a + b)
    o.case("add_same", dict(a=randn(3, 4), b=randn(3, 4)), lambda a, b: a + b)
    o.case("add_col", dict(a=randn(2, 3, 4), b=randn(3, 1)), lambda a, b: a + b)
    o.case("sub_broadcast", dict(a=randn(2, 3, 4), b=randn(2, 1, 4)), lambda a, b: a - b)
    o.case("mul_broadcast", dict(a=randn(2, 3, 4), b=randn(3, 1)), lambda a, b: a * b)
    o.case(
        "div",
        dict(a=randn(3, 4), b=torch.rand(3, 4, dtype=F32) + 0.5),
        lambda a, b: a / b,
    )
    o.case("scale", dict(a=randn(3, 4)), lambda a: a * 0.37)

    # 15-19: activations / softmax -------------------------------------------
    o.case("relu", dict(a=randn(4, 5)), lambda a: torch.relu(a))
    o.case("gelu", dict(a=randn(4, 5)), lambda a: F.gelu(a, approximate="none"))
    o.case("softmax", dict(a=randn(3, 4, 9)), lambda a: torch.softmax(a, -1))
    o.case("log_softmax", dict(a=randn(3, 4, 9)), lambda a: torch.log_softmax(a, -1))

    mask = torch.zeros(2, 1, 5, dtype=F32)
    mask[0, 0, 3:] = -math.inf  # batch 0: last 2 positions masked
    mask[1, 0, 4:] = -math.inf  # batch 1: last position masked
    o.case(
        "softmax_masked",
        dict(a=randn(2, 3, 5), mask=mask),
        lambda a, mask: torch.softmax(a + mask, -1),
        no_grad=("mask",),
    )

    # 20-21: layer norm --------------------------------------------------------
    o.case(
        "layer_norm",
        dict(x=randn(4, 6, 16), w=1 + 0.1 * randn(16), b=0.1 * randn(16)),
        lambda x, w, b: F.layer_norm(x, (16,), w, b, eps=1e-5),
    )
    o.case(
        "layer_norm_prefix",
        dict(X=randn(6, 16), W=1 + 0.1 * randn(16), B=0.1 * randn(16)),
        lambda X, W, B: F.layer_norm(X[:4, :10], (10,), W[:10], B[:10], eps=1e-5),
    )

    # 22-23: embedding ---------------------------------------------------------
    ids = torch.randint(0, 11, (2, 5), dtype=torch.int64)
    ids[1, 3] = ids[0, 0]  # guarantee a repeated index (grad accumulation)
    o.case(
        "embedding",
        dict(table=randn(11, 8), ids=ids),
        lambda table, ids: F.embedding(ids, table),
    )
    ids = torch.randint(0, 11, (3, 4), dtype=torch.int64)
    ids[2, 1] = ids[0, 2]  # repeat
    o.case(
        "embedding_corner",
        dict(table=randn(11, 12), ids=ids),
        lambda table, ids: F.embedding(ids, table[:, :8]),
    )

    # 24-28: concat / permute ----------------------------------------------------
    o.case(
        "concat_axis1",
        dict(a=randn(2, 3, 4), b=randn(2, 5, 4)),
        lambda a, b: torch.cat([a, b], 1),
    )
    o.case(
        "concat_last",
        dict(a=randn(3, 2), b=randn(3, 5)),
        lambda a, b: torch.cat([a, b], -1),
    )
    o.case(
        "concat_views",
        dict(A=randn(4, 6), B=randn(5, 6)),
        lambda A, B: torch.cat([A[:3, :4], B[:2, :4]], 0),
    )
    o.case(
        "permute_contiguous",
        dict(a=randn(2, 3, 4)),
        lambda a: a.permute(2, 0, 1).contiguous(),
    )
    o.case(
        "permute_reshape",
        dict(a=randn(2, 3, 4)),
        lambda a: a.permute(0, 2, 1).reshape(2, 12),
    )

    # 29-32: reductions ----------------------------------------------------------
    o.case("sum_all", dict(a=randn(3, 4)), lambda a: a.sum())
    o.case("mean_all", dict(a=randn(3, 4)), lambda a: a.mean())
    o.case("sum_last", dict(a=randn(2, 3, 4)), lambda a: a.sum(-1))
    o.case("mean_last_keepdim", dict(a=randn(2, 3, 4)), lambda a: a.mean(-1, keepdim=True))

    # 33: fairseq label-smoothed cross entropy -----------------------------------
    V, PAD, EPS = 10, 1, 0.1
    target = torch.randint(0, V, (7,), dtype=torch.int64)
    # keep non-pad rows genuinely non-pad, then force exactly rows 2 and 5 to pad
    target[target == PAD] = 0
    target[2] = PAD
    target[5] = PAD

    def lsce_parts(logits, target):
        lprobs = torch.log_softmax(logits, -1)
        nll = -lprobs.gather(-1, target[:, None])[:, 0]
        smooth = -lprobs.sum(-1)
        pad = target.eq(PAD)
        nll = nll.masked_fill(pad, 0.0)
        smooth = smooth.masked_fill(pad, 0.0)
        nll_loss = nll.sum()
        smooth_loss = smooth.sum()
        eps_i = EPS / V
        loss = (1.0 - EPS) * nll_loss + eps_i * smooth_loss
        return loss, nll_loss

    o.case(
        "label_smoothed_ce",
        dict(logits=randn(7, V), target=target),
        lambda logits, target: lsce_parts(logits, target)[0],
        extra=lambda logits, target: {"nll": lsce_parts(logits, target)[1]},
    )

    # 33b: the same mixed with a teacher's renormalized top-k (token-level distillation, HAT §4):
    # (1 - alpha) * label-smoothed loss + alpha * sum over non-pad rows of -sum_j p_j log q[idx_j],
    # p = softmax of the teacher's k largest logits. The teacher's logits are an input without grad.
    KD_K, KD_ALPHA, KD_V = 3, 0.4, 50
    kd_target = torch.randint(0, KD_V, (9,), dtype=torch.int64)
    kd_target[kd_target == PAD] = 0
    kd_target[4] = PAD

    def distilled(logits, teacher, target):
        lprobs = torch.log_softmax(logits, -1)
        pad = target.eq(PAD)
        nll = (-lprobs.gather(-1, target[:, None])[:, 0]).masked_fill(pad, 0.0).sum()
        smooth = (-lprobs.sum(-1)).masked_fill(pad, 0.0).sum()
        hard = (1.0 - EPS) * nll + EPS / KD_V * smooth
        values, ids = torch.topk(teacher, KD_K, dim=-1)
        p = torch.softmax(values, -1)
        soft = (-(p * lprobs.gather(-1, ids)).sum(-1)).masked_fill(pad, 0.0).sum()
        return (1.0 - KD_ALPHA) * hard + KD_ALPHA * soft

    o.case(
        "distilled_ce",
        dict(logits=randn(9, KD_V), teacher=randn(9, KD_V) * 3, target=kd_target),
        distilled,
        no_grad=("teacher",),
    )

    # 34: self-attention ---------------------------------------------------------
    B_, T, D, H = 2, 5, 16, 4
    hd = D // H
    mha_mask = torch.zeros(B_, 1, 1, T, dtype=F32)
    mha_mask[1, 0, 0, T - 2:] = -math.inf  # batch 1: last 2 keys padded

    def mha(x, Wqkv, bqkv, Wo, bo, mask):
        qkv = x @ Wqkv.t() + bqkv
        q, k, v = qkv.split(D, -1)
        q = q * (hd ** -0.5)
        q = q.reshape(B_, T, H, hd).permute(0, 2, 1, 3)
        k = k.reshape(B_, T, H, hd).permute(0, 2, 1, 3)
        v = v.reshape(B_, T, H, hd).permute(0, 2, 1, 3)
        scores = q @ k.transpose(-1, -2) + mask
        p = torch.softmax(scores, -1)
        o_ = (p @ v).permute(0, 2, 1, 3).reshape(B_, T, D)
        return o_ @ Wo.t() + bo

    o.case(
        "mha",
        dict(
            x=randn(B_, T, D),
            Wqkv=randn(3 * D, D),
            bqkv=randn(3 * D),
            Wo=randn(D, D),
            bo=randn(D),
            mask=mha_mask,
        ),
        mha,
        no_grad=("mask",),
    )

    # 35: cross-attention on corners of super weights ------------------------------
    Tq, Tk, d, d_enc, qk, H2 = 4, 6, 12, 10, 8, 2
    hd2 = qk // H2

    def mha_cross(x, enc, Wq, Wk, Wv, Wo, bq, bk, bv, bo):
        q = (x @ Wq[:qk, :d].t() + bq[:qk]) * (hd2 ** -0.5)
        k = enc @ Wk[:qk, :d_enc].t() + bk[:qk]
        v = enc @ Wv[:qk, :d_enc].t() + bv[:qk]
        q = q.reshape(2, Tq, H2, hd2).permute(0, 2, 1, 3)
        k = k.reshape(2, Tk, H2, hd2).permute(0, 2, 1, 3)
        v = v.reshape(2, Tk, H2, hd2).permute(0, 2, 1, 3)
        p = torch.softmax(q @ k.transpose(-1, -2), -1)
        o_ = (p @ v).permute(0, 2, 1, 3).reshape(2, Tq, qk)
        return o_ @ Wo[:d, :qk].t() + bo[:d]

    o.case(
        "mha_cross_corner",
        dict(
            x=randn(2, Tq, d),
            enc=randn(2, Tk, d_enc),
            Wq=randn(20, 16),
            Wk=randn(20, 16),
            Wv=randn(20, 16),
            Wo=randn(16, 20),
            bq=randn(20),
            bk=randn(20),
            bv=randn(20),
            bo=randn(16),
        ),
        mha_cross,
    )

    # 36-38: fused multi-head attention (heads merged; Q, K, V as column blocks of one base) --
    def attention(q, k, v, heads, additive):
        B, T, W = q.shape
        S = k.shape[1]
        hd = W // heads
        qh = q.reshape(B, T, heads, hd).permute(0, 2, 1, 3)
        kh = k.reshape(B, S, heads, hd).permute(0, 2, 1, 3)
        vh = v.reshape(B, S, heads, hd).permute(0, 2, 1, 3)
        p = torch.softmax(qh @ kh.transpose(-1, -2) / math.sqrt(hd) + additive, -1)
        return (p @ vh).permute(0, 2, 1, 3).reshape(B, T, W)

    W = 12
    pad = torch.zeros(2, 1, 1, 5, dtype=F32)
    pad[1, 0, 0, 3:] = -math.inf  # batch 1: last 2 keys padded
    o.case(
        "attention_self_padding",
        dict(qkv=randn(2, 5, 3 * W), mask=pad),
        lambda qkv, mask: attention(qkv[..., :W], qkv[..., W:2 * W], qkv[..., 2 * W:], 3, mask),
        no_grad=("mask",),
    )
    causal = torch.triu(torch.full((5, 5), -math.inf, dtype=F32), 1)
    o.case(
        "attention_causal",
        dict(qkv=randn(2, 5, 3 * W)),
        lambda qkv: attention(qkv[..., :W], qkv[..., W:2 * W], qkv[..., 2 * W:], 2, causal),
    )
    cross_pad = torch.zeros(2, 1, 1, 7, dtype=F32)
    cross_pad[0, 0, 0, 6:] = -math.inf  # batch 0: last key padded
    o.case(
        "attention_cross",
        dict(q=randn(2, 4, 8), kv=randn(2, 7, 16), mask=cross_pad),
        lambda q, kv, mask: attention(q, kv[..., :8], kv[..., 8:], 2, mask),
        no_grad=("mask",),
    )

    return o


def main(argv):
    if len(argv) != 2:
        print("usage: python ops_oracle.py OUT.safetensors", file=sys.stderr)
        return 2
    out_path = argv[1]
    o = build()
    tmp = out_path + ".tmp"
    save_file(o.tensors, tmp)
    os.replace(tmp, out_path)
    print(f"wrote {len(o.cases)} cases to {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
