#!/usr/bin/env python3
"""Replays `recur-train train`'s exact random draws in PyTorch and compares the epoch losses.

recur-train draws everything from one GSL mt19937 seeded with --seed: the training sequences, the validation
sequences, the initial weights (gsl_ran_flat on ±1/sqrt(H), tensor by tensor in state_dict order), then each epoch's
gsl_ran_shuffle of the example indices. This script calls the same GSL functions through ctypes, builds the same
float32 windows as the notebook's to_batches, sets nn.RNN + nn.Linear to the same initial weights, and trains with
torch.optim.Adam and nn.MSELoss over the same minibatches. If the Swift trainer is faithful, the printed losses agree.

Measured (torch 2.13, default configurations, seeds 0 to 4): every "Epoch NN | Loss" line identical to all six
printed digits.

Usage:
  /tmp/torchenv/bin/python tools/pytorch/replay_trainer.py odd 0 [--recur-train .build/release/recur-train]
"""
import argparse
import ctypes
import ctypes.util
import math
import subprocess
import sys
import tempfile

import torch
import torch.nn as nn

CONFIG = {"odd": (16, 5, 8, 1e-2, (5, 12)), "fib": (32, 6, 12, 5e-3, (6, 14))}


def load_gsl():
    ctypes.CDLL(ctypes.util.find_library("gslcblas") or "libgslcblas.so", mode=ctypes.RTLD_GLOBAL)
    gsl = ctypes.CDLL(ctypes.util.find_library("gsl") or "libgsl.so")
    gsl.gsl_rng_alloc.restype = ctypes.c_void_p
    gsl.gsl_rng_alloc.argtypes = [ctypes.c_void_p]
    gsl.gsl_rng_set.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    gsl.gsl_rng_uniform_int.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
    gsl.gsl_rng_uniform_int.restype = ctypes.c_ulong
    gsl.gsl_ran_flat.argtypes = [ctypes.c_void_p, ctypes.c_double, ctypes.c_double]
    gsl.gsl_ran_flat.restype = ctypes.c_double
    gsl.gsl_ran_shuffle.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t]
    return gsl


def replay(family, seed, sequences=2000, validation=400, batch=128):
    hidden, window, epochs, lr, (min_len, max_len) = CONFIG[family]
    gsl = load_gsl()
    r = gsl.gsl_rng_alloc(ctypes.c_void_p.in_dll(gsl, "gsl_rng_mt19937"))
    gsl.gsl_rng_set(r, seed)

    def randint(a, b):  # random.randint(a, b)
        return a + gsl.gsl_rng_uniform_int(r, b - a + 1)

    def make(n):  # make_odd_sequences / make_fib_sequences, same draw order
        out = []
        for _ in range(n):
            length = randint(min_len, max_len)
            if family == "odd":
                start = [1, 3, 5, 7, 9, 11, 13][gsl.gsl_rng_uniform_int(r, 7)]
                out.append([start + 2 * i for i in range(length)])
            else:
                a0, a1 = randint(0, 2), randint(1, 3)
                s = [a0, a1]
                for _ in range(length - 2):
                    s.append(s[-1] + s[-2])
                out.append(s)
        return out

    train = make(sequences)
    make(validation)  # drawn (and discarded here) so the weights come from the same point of the stream
    xs, ys = [], []
    for s in train:  # the notebook's to_batches
        scale = max(abs(v) for v in s) if max(abs(v) for v in s) > 0 else 1.0
        ns = [v / scale for v in s]
        for start in range(0, len(ns) - window):
            xs.append([[x] for x in ns[start : start + window]])
            ys.append([[y] for y in ns[start + 1 : start + window + 1]])
    X, Y = torch.tensor(xs, dtype=torch.float32), torch.tensor(ys, dtype=torch.float32)

    rnn, fc = nn.RNN(1, hidden, nonlinearity="tanh", batch_first=True), nn.Linear(hidden, 1)
    bound = 1.0 / math.sqrt(hidden)
    with torch.no_grad():
        for p in [rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, fc.weight, fc.bias]:
            flat = p.view(-1)
            for i in range(flat.numel()):
                flat[i] = gsl.gsl_ran_flat(r, -bound, bound)
    params = list(rnn.parameters()) + list(fc.parameters())
    opt = torch.optim.Adam(params, lr=lr)
    loss_fn = nn.MSELoss()
    n = len(X)
    lines = []
    for epoch in range(1, epochs + 1):
        order = (ctypes.c_long * n)(*range(n))
        gsl.gsl_ran_shuffle(r, order, n, ctypes.sizeof(ctypes.c_long))
        index = torch.tensor(list(order))
        total = 0.0
        for s in range(0, n, batch):
            b = index[s : s + batch]
            opt.zero_grad()
            out, _ = rnn(X[b])
            loss = loss_fn(fc(out), Y[b])
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        lines.append(f"Epoch {epoch:02d} | Loss {total / n:.6f}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("family", choices=sorted(CONFIG))
    parser.add_argument("seed", type=int)
    parser.add_argument("--recur-train", help="path of a recur-train binary to compare against")
    args = parser.parse_args()
    torch.set_num_threads(1)
    lines = replay(args.family, args.seed)
    print("\n".join(lines))
    if args.recur_train:
        with tempfile.TemporaryDirectory() as d:
            run = subprocess.run(
                [args.recur_train, "train", "--family", args.family, "--seed", str(args.seed), "-o", d + "/m.recur"],
                capture_output=True, text=True, check=True)
        theirs = [l for l in run.stdout.splitlines() if l.startswith("Epoch ")]
        same = theirs == lines
        print("recur-train: " + ("identical epoch lines" if same else "DIFFERENT:\n" + "\n".join(theirs)))
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
