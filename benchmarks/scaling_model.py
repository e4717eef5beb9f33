"""Time per update of data-parallel supernet training at scale (docs/SCALING.md).

    python3 benchmarks/scaling_model.py --node-tokens-per-s R --gradient-mb S [--batch 524288] [--updates 40000]

Model: an update of BATCH target tokens is split over N nodes, each computing BATCH / N tokens
at R tokens/s, then the gradients (S MB) are summed with a ring allreduce, which sends
2 (N - 1) / N * S over each node's link at BANDWIDTH and pays 2 (N - 1) message latencies.
Nothing overlaps (hat sums the gradients after the backward pass). A node's share must hold one
batch of max-tokens (4096), so N <= BATCH / 4096.
"""

import argparse


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--node-tokens-per-s", type=float, required=True, help="supernet training throughput of one node")
    p.add_argument("--gradient-mb", type=float, required=True, help="gradient bytes summed per update, MB")
    p.add_argument("--batch", type=int, default=524288, help="target tokens per update (HAT's WMT: 4096 x 16 x 8)")
    p.add_argument("--updates", type=int, default=40000, help="updates of the training (HAT's WMT supernet: 40k)")
    p.add_argument("--max-tokens", type=int, default=4096)
    p.add_argument("--nodes", default="1,8,32,128")
    args = p.parse_args()
    links = [("10 Gb/s", 10e9 / 8, 20e-6), ("100 Gb/s", 100e9 / 8, 5e-6)]
    print(f"inputs: {args.node_tokens_per_s:.0f} tokens/s per node, {args.gradient_mb:.0f} MB of gradients, "
          f"{args.batch} tokens per update, {args.updates} updates")
    print("| nodes | link | compute s | allreduce s | update s | efficiency | whole training |")
    print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for n in [int(x) for x in args.nodes.split(",")]:
        if args.batch / n < args.max_tokens:
            print(f"| {n} | | | | | | a node's share ({args.batch / n:.0f} tokens) is under one batch: scaling stops |")
            continue
        compute = args.batch / n / args.node_tokens_per_s
        for name, bandwidth, latency in links if n > 1 else links[:1]:
            reduce = 0.0 if n == 1 else 2 * (n - 1) / n * args.gradient_mb * 1e6 / bandwidth + 2 * (n - 1) * latency
            update = compute + reduce
            total = update * args.updates
            days = total / 86400
            print(f"| {n} | {name if n > 1 else '-'} | {compute:.2f} | {reduce:.3f} | {update:.2f} | {100 * compute / update:.1f} % | "
                  f"{days:.1f} days |")


if __name__ == "__main__":
    main()
