"""How much of a latency predictor's error is the measurement's: residual autocorrelation in
measurement (row) order, and the test RMSE a predictor would reach if it knew when each row was
measured. Analysis only (docs/LATENCY.md, docs/PERFORMANCE.md "Latency predictors"):

    .venv-oracle/bin/python benchmarks/latency_drift.py

Per HAT dataset, on the split `hat latency train-predictor --seed 0` uses (the Swift
RandomGenerator is replicated below): a least-squares fit on the ridge predictor's terms (encoder
and decoder parts), its residuals' lag-1/lag-20 autocorrelation over all rows in file order, its
test RMSE, and the test RMSE after adding a drift estimate (a Gaussian-kernel average, bandwidth
8 rows, of the training residuals around each test row's position) -- which no predictor of new
architectures can have.
"""
import numpy as np

M64 = (1 << 64) - 1


class RandomGenerator:
    """TensorEngine's RandomGenerator: xoshiro256** seeded through SplitMix64."""

    def __init__(self, seed):
        self.s = []
        for _ in range(4):
            seed = (seed + 0x9E3779B97F4A7C15) & M64
            z = seed
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    def next(self):
        s = self.s
        rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & M64
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45)
        return result

    def next_int(self, upper):  # Swift's next(upperBound:) (Lemire)
        m = self.next() * upper
        if (m & M64) < upper:
            t = ((1 << 64) - upper) % upper
            while (m & M64) < t:
                m = self.next() * upper
        return m >> 64


def hat_split(n, seed):
    order = list(range(n))
    rng = RandomGenerator(seed)
    for i in range(n - 1, 0, -1):
        j = rng.next_int(i + 1)
        order[i], order[j] = order[j], order[i]
    a, b = n * 8 // 10, n // 10
    return np.array(order[:a]), np.array(order[a:a + b]), np.array(order[a + b:])


def terms(x):
    de, le, fe, he, dd, ld, fd, hs, hc, ar = x.T
    one = np.ones(len(x))
    enc = np.stack([one, de, le * de, le * de * fe, le * fe, le * he, le * de * he], 1)
    dec = np.stack([one, dd, ld, ld * dd, ld * dd * fd, ld * fd, ld * hs, ld * hc, ld * ar, ld * ar * dd,
                    ld * de, ld * dd * de, ld * ar * de], 1)
    return enc, dec


def fit(a, y, rows):
    scale = np.maximum(a[rows].std(0), 1e-12)
    scale[0] = 1
    beta = np.linalg.lstsq(a[rows] / scale, y[rows], rcond=None)[0]
    return (a / scale) @ beta


def kernel_average(t_from, r, t_at, bandwidth=8.0):
    w = np.exp(-0.5 * ((t_at[:, None] - t_from[None, :]) / bandwidth) ** 2)
    return (w @ r) / w.sum(1)


def main():
    print(f"{'dataset':34} {'lag-1 ac':>8} {'lag-20 ac':>9} {'test RMSE':>10} {'with drift':>10}")
    for name in ["wmt14ende_cpu_raspberrypi_all", "wmt14ende_cpu_xeon_all", "wmt14ende_gpu_titanxp_all",
                 "iwslt14deen_gpu_titanxp_all"]:
        d = np.genfromtxt(f"../shared/data/hat-latency/{name}.csv", delimiter=",", skip_header=1)
        x, y = d[:, :10], d[:, 10] + d[:, 11]
        enc, dec = terms(x)
        train, _, test = hat_split(len(d), 0)
        everything = np.arange(len(d))
        r_all = y - fit(enc, d[:, 10], everything) - fit(dec, d[:, 11], everything)
        ac = [np.corrcoef(r_all[:-k], r_all[k:])[0, 1] for k in (1, 20)]
        p = fit(enc, d[:, 10], train) + fit(dec, d[:, 11], train)
        r = y - p
        drift = kernel_average(train.astype(float), r[train], test.astype(float))
        rmse = np.sqrt(np.mean(r[test] ** 2))
        rmse_drift = np.sqrt(np.mean((r[test] - drift) ** 2))
        print(f"{name:34} {ac[0]:8.3f} {ac[1]:9.3f} {rmse:10.2f} {rmse_drift:10.2f}")


if __name__ == "__main__":
    main()
