"""Independent oracle: Lloyd's K-means on scalars with linear initialization.

Usage:
    python kmeans_oracle.py IN.safetensors OUT.safetensors

Written from the textbook algorithm (Lloyd 1982) and Deep Compression's linear
initialization (Han et al. 2016, section 3.2), not from the Swift code: every
value's distance to every centroid, argmin (the first index on ties), each
centroid the mean of its members (a centroid without members stays), until no
assignment changes or max_iter iterations. float64 throughout.

IN: float32 tensors `values.NAME`; metadata `clusters` (k) and `max_iter`.
    Initial centroids: numpy.linspace(min, max, k).
OUT: `centroids.NAME` float64 [k], `assignments.NAME` int64 [n],
     `iterations.NAME` int64 [] (iterations run, the last one included).
"""

import os
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import save_file


def lloyd(x, k, max_iter):
    x = x.astype(np.float64)
    c = np.linspace(x.min(), x.max(), k)
    assign = np.argmin(np.abs(x[:, None] - c[None, :]), axis=1)
    iterations = 0
    while iterations < max_iter:
        iterations += 1
        for j in range(k):
            members = x[assign == j]
            if members.size:
                c[j] = members.mean()
        new = np.argmin(np.abs(x[:, None] - c[None, :]), axis=1)
        if np.array_equal(new, assign):
            break
        assign = new
    return c, assign, iterations


def main(argv):
    src, dst = argv[1], argv[2]
    out = {}
    with safe_open(src, framework="np") as f:
        meta = f.metadata()
        k, max_iter = int(meta["clusters"]), int(meta["max_iter"])
        for key in f.keys():
            name = key[len("values."):]
            c, a, it = lloyd(f.get_tensor(key), k, max_iter)
            out["centroids." + name] = c
            out["assignments." + name] = a.astype(np.int64)
            out["iterations." + name] = np.array(it, dtype=np.int64)
    tmp = dst + ".tmp"
    save_file(out, tmp)
    os.replace(tmp, dst)
    print(f"kmeans oracle: {len(out) // 3} fits, k={k} -> {dst}")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
