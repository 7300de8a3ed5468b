#!/usr/bin/env python3
"""PyTorch CPU baselines for Recur, on this machine: one thread, warm, median of repeats.

  (a) the seed notebook's generate_sequence, per generated step (H=16, H=32)
  (b) a raw single-step loop `y, h = model(x, h)` under torch.no_grad, x preallocated (H=16, H=32)
  (c) streaming: 1,000,000 values through the model as one call on a [1, 1e6, 1] tensor (model(x): nn.RNN +
      nn.Linear), and a per-value Python loop over 10,000 values (tensor from a Python float, model(x, h),
      .item() on the output: what a naive streaming loop does), values/s (H=16, H=32)
  (d) training wall time of the notebook recipe, warm: odd (H16, window 5, 8 epochs, lr 1e-2) and
      fib (H32, window 6, 12 epochs, lr 5e-3); data built once with random.seed(0), each timed call re-seeds
      torch with 0 (so every repeat does identical work)

Each measurement is run once untimed (warm-up) and then REPEATS times; the median (and min/max) are reported.

Usage:
  /tmp/torchenv/bin/python tools/pytorch/bench_torch.py [--repeats 7] [--train-repeats 5] [--parts abcd] [--quick]

The last column reports how many cores other processes used during each measurement (from /proc/stat):
the machine has 2 cores, so anything above ~0.9 means the other core was busy.
"""
import argparse
import contextlib
import io
import os
import platform
import random
import statistics
import sys
import time

import torch

sys.dont_write_bytecode = True  # do not leave __pycache__ in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# Re-use the notebook's code verbatim (importing does not run the notebook part; its argparse sees no args).
_argv, sys.argv = sys.argv, [sys.argv[0]]
import seed_notebook as nb  # noqa: E402
sys.argv = _argv


def med_stats(xs):
    return statistics.median(xs), min(xs), max(xs)


def busy_jiffies():
    f = open("/proc/stat").readline().split()[1:]
    v = [int(x) for x in f]
    return sum(v) - v[3] - v[4]  # all minus idle and iowait


OTHER_LOAD = []  # cores used by other processes during each timeit call


def timeit(fn, repeats):
    fn()  # warm-up
    ts = []
    hz = os.sysconf("SC_CLK_TCK")
    b0, p0, w0 = busy_jiffies(), time.process_time(), time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    b1, p1, w1 = busy_jiffies(), time.process_time(), time.perf_counter()
    OTHER_LOAD.append(max(0.0, ((b1 - b0) / hz - (p1 - p0)) / (w1 - w0)))
    return ts


def fresh_model(H, seed=0):
    torch.manual_seed(seed)
    m = nb.VanillaRNN(1, H, 1)
    m.eval()
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--train-repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke test")
    ap.add_argument("--parts", default="abcd", help="which measurements to run, e.g. 'ab' or 'd'")
    args = ap.parse_args()
    torch.set_num_threads(1)
    R = args.repeats
    gen_steps = 200 if args.quick else 2000
    raw_steps = 2000 if args.quick else 20000
    stream_n = 100_000 if args.quick else 1_000_000
    loop_n = 1000 if args.quick else 10_000

    print(f"torch {torch.__version__}, python {platform.python_version()}, threads {torch.get_num_threads()}, "
          f"cpu capability {torch.backends.cpu.get_cpu_capability()}, repeats {R} (train {args.train_repeats}), "
          f"loadavg before {open('/proc/loadavg').read().split()[:3]}")
    rows = []

    for H in (16, 32) if set(args.parts) & set("abc") else ():
        model = fresh_model(H)
        if "a" in args.parts:
            # (a) notebook generate_sequence; per generated step = call time / steps (priming amortised over gen_steps)
            ts = timeit(lambda: nb.generate_sequence(model, [1, 3, 5, 7, 9], steps=gen_steps), R)
            m, lo, hi = med_stats([t / gen_steps * 1e6 for t in ts])
            rows.append((f"(a) notebook generate_sequence, H={H}", f"{m:.2f} µs/step", f"{lo:.2f}–{hi:.2f}",
                         f"{gen_steps} steps/call"))
            # the notebook's own call shape: 8 steps, whole call
            ts = timeit(lambda: nb.generate_sequence(model, [1, 3, 5, 7, 9], steps=8), R * 20)
            m, lo, hi = med_stats([t * 1e6 for t in ts])
            rows.append((f"(a') notebook generate_sequence(steps=8) whole call, H={H}", f"{m:.1f} µs/call",
                         f"{lo:.1f}–{hi:.1f}", "includes seed priming"))

        if "b" in args.parts:
            # (b) raw single-step loop under no_grad
            x = torch.tensor([[[0.5]]], dtype=torch.float32)

            def raw_loop(mode):
                def run():
                    h = None
                    with mode():
                        for _ in range(raw_steps):
                            y, h = model(x, h)
                    return y
                return run
            ts = timeit(raw_loop(torch.no_grad), R)
            m, lo, hi = med_stats([t / raw_steps * 1e6 for t in ts])
            rows.append((f"(b) raw `y, h = model(x, h)` no_grad, H={H}", f"{m:.2f} µs/step", f"{lo:.2f}–{hi:.2f}",
                         f"{raw_steps} steps/run"))

            # (b') same with torch.inference_mode (for reference)
            ts = timeit(raw_loop(torch.inference_mode), R)
            m, lo, hi = med_stats([t / raw_steps * 1e6 for t in ts])
            rows.append((f"(b') same, inference_mode, H={H}", f"{m:.2f} µs/step", f"{lo:.2f}–{hi:.2f}", ""))
        if "c" in args.parts:
            # (c) streaming, one call
            g = torch.Generator().manual_seed(1)
            big = (torch.rand(1, stream_n, 1, generator=g) * 3 - 1.5).contiguous()

            def one_call():
                with torch.no_grad():
                    y, _ = model(big)
                return y
            ts = timeit(one_call, max(3, R // 2))
            m, lo, hi = med_stats([stream_n / t for t in ts])
            rows.append((f"(c) one call model([1,{stream_n},1]), H={H}", f"{m/1e6:.3f} M values/s",
                         f"{lo/1e6:.3f}–{hi/1e6:.3f}", f"= {1e6/m:.3f} µs/value"))

            # (c') same, nn.RNN alone (no Linear)
            def one_call_rnn():
                with torch.no_grad():
                    out, _ = model.rnn(big)
                return out
            ts = timeit(one_call_rnn, max(3, R // 2))
            m, lo, hi = med_stats([stream_n / t for t in ts])
            rows.append((f"(c') one call model.rnn([1,{stream_n},1]) only, H={H}", f"{m/1e6:.3f} M values/s",
                         f"{lo/1e6:.3f}–{hi/1e6:.3f}", f"= {1e6/m:.3f} µs/value"))

            # (c) per-value Python loop
            vals = big[0, :loop_n, 0].tolist()

            def per_value():
                h = None
                outs = []
                with torch.no_grad():
                    for v in vals:
                        y, h = model(torch.tensor([[[v]]], dtype=torch.float32), h)
                        outs.append(y[0, 0, 0].item())
                return outs
            ts = timeit(per_value, R)
            m, lo, hi = med_stats([loop_n / t for t in ts])
            rows.append((f"(c) per-value Python loop, {loop_n} values, H={H}", f"{m:,.0f} values/s",
                         f"{lo:,.0f}–{hi:,.0f}", f"= {1e6/m:.2f} µs/value"))

    if "d" in args.parts:
        random.seed(0)
        odd = nb.to_batches(nb.make_odd_sequences(), in_len=5)
        fib = nb.to_batches(nb.make_fib_sequences(), in_len=6)
        for name, (X, Y), H, ep, lr in (("odd", odd, 16, 8, 1e-2), ("fib", fib, 32, 12, 5e-3)):
            def train():
                torch.manual_seed(0)
                with contextlib.redirect_stdout(io.StringIO()):
                    nb.train_model(X, Y, hidden_size=H, epochs=ep, lr=lr)
            ts = timeit(train, args.train_repeats)
            m, lo, hi = med_stats(ts)
            nb_ = (X.shape[0] + 127) // 128
            rows.append((f"(d) train {name}: H{H}, {X.shape[0]} windows x {X.shape[1]}, {ep} epochs, lr {lr:g}",
                         f"{m:.3f} s", f"{lo:.3f}–{hi:.3f}", f"{ep * nb_} Adam steps, {m / (ep * nb_) * 1e3:.2f} ms/step"))

    print(f"loadavg after {open('/proc/loadavg').read().split()[:3]}\n")
    print("| measurement (1 thread, warm) | median | min–max | note | other procs' CPU (cores) |")
    print("|---|---:|---:|---|---:|")
    for r, load in zip(rows, OTHER_LOAD):
        print("| " + " | ".join(r) + f" | {load:.2f} |")


if __name__ == "__main__":
    main()
