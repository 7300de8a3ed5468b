#!/usr/bin/env python3
"""Write PyTorch parity fixtures for stacked RNN / GRU / LSTM models to Fixtures/torch-parity/cells/.

One file per (kind, L, I, H, O) in CONFIGS, named `{kind}-l{L}-i{I}-h{H}-o{O}.json`:
  * model = Net(kind, I, H, O, L): `self.{kind} = nn.RNN(tanh) / nn.GRU / nn.LSTM(I, H, num_layers=L,
    batch_first=True, bias=True)` followed by `self.fc = nn.Linear(H, O)`, so the state_dict keys are
    `{kind}.weight_ih_l{k}`, `{kind}.weight_hh_l{k}`, `{kind}.bias_ih_l{k}`, `{kind}.bias_hh_l{k}` for k < L,
    then `fc.weight`, `fc.bias`;
  * weights: torch.manual_seed(model_seed(...)) then PyTorch's default init, then every parameter of the
    recurrent module (not fc) multiplied by 1.5 in float32 (livelier dynamics, still stable); the stored
    tensors are the scaled ones;
  * "inputs": T = 400 rows of I float32 values uniform in [-1.5, 1.5) from torch.Generator seeded with
    input_seed(...), then channel 0 of steps 97, 194, 291, 388 overwritten by +4, -4, +4, -4;
  * "outputs": the float32 model (model.float(), eval) run once over the whole [1, T, I] sequence from the zero
    state, y_t = fc(h_t of the top layer) after consuming x_t: T rows of O values;
  * "outputs_double": the same with a deep copy of the model converted by .double() and the same inputs
    converted to float64.

Plus `stacked-modules-gru.json`: two GRU modules in sequence (`self.gru = nn.GRU(1, 8)`, `self.gru2 = nn.GRU(8, 8,
num_layers=3)`, `self.fc = nn.Linear(8, 1)`, all batch_first), same recipe with seeds STACKED_MODEL_SEED and
STACKED_INPUT_SEED, T = 50 (so no spike), inputs run through gru, then gru2, then fc; tensors written through
tools/torch_dump.py's state_object (so this file also exercises that tool), with the extra key
"modules": ["gru", "gru2"] and "layers": 4.

Exactness: every tensor value and input is a float32, written as the Python float of `tensor.tolist()` (the exact
double of that float32) by json.dump, which uses repr, the shortest decimal that reads back as the same double.
Parsing a number as a double and converting to float32 therefore gives PyTorch's float32 bit pattern exactly.
"outputs" are float32 values too; "outputs_double" are exact doubles (generally not float32 values).

After writing each file the script reads it back, checks every float32 value round-trips, and re-computes the
float64 run with an independent numpy implementation of the cells from PyTorch's documented equations; it fails
if that differs from "outputs_double" by more than 1e-12 and prints the worst differences.

Nothing in the Swift package runs this script or PyTorch; it needs torch and numpy. Usage (repository root):
  /work/torchenv/bin/python tools/pytorch/make_cell_parity_fixtures.py [--out Fixtures/torch-parity/cells]
"""
import argparse
import copy
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from torch_dump import state_object  # noqa: E402  (tools/torch_dump.py)
from make_parity_fixtures import flat, is_f32  # noqa: E402  (this directory: the vanilla fixtures' checks)

KINDS = ["rnn", "gru", "lstm"]
# (layers, input_size, hidden_size, output_size), for each kind
CONFIGS = [(1, 1, 16, 1), (1, 1, 64, 1), (2, 3, 17, 2), (3, 1, 8, 1), (1, 3, 1, 2), (3, 3, 32, 2), (2, 1, 5, 1)]
T = 400
SPIKE_EVERY = 97
SPIKE = 4.0
SCALE = 1.5
STACKED_H, STACKED_T = 8, 50
STACKED_MODEL_SEED = 4_410_081  # 4_000_000 + L * 100_000 + I * 10_000 + H * 10 + O with L=4, I=1, H=8, O=1
STACKED_INPUT_SEED = 10_000_000 + STACKED_MODEL_SEED
TOLERANCE = 1e-12  # numpy float64 re-implementation vs PyTorch float64


def model_seed(kind, L, I, H, O):
    return (KINDS.index(kind) + 1) * 1_000_000 + L * 100_000 + I * 10_000 + H * 10 + O


def input_seed(kind, L, I, H, O):
    return 10_000_000 + model_seed(kind, L, I, H, O)


def recurrent(kind, I, H, L):
    if kind == "rnn":
        return nn.RNN(I, H, num_layers=L, nonlinearity="tanh", batch_first=True, bias=True)
    if kind == "gru":
        return nn.GRU(I, H, num_layers=L, batch_first=True, bias=True)
    if kind == "lstm":
        return nn.LSTM(I, H, num_layers=L, batch_first=True, bias=True)
    raise ValueError(kind)


class Net(nn.Module):
    """Recurrent stack named after its kind (self.rnn / self.gru / self.lstm), then self.fc."""

    def __init__(self, kind, input_size, hidden_size, output_size, layers):
        super().__init__()
        self.kind = kind
        setattr(self, kind, recurrent(kind, input_size, hidden_size, layers))
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        out, _ = getattr(self, self.kind)(x)
        return self.fc(out)


class StackedGRU(nn.Module):
    """Two GRU modules in sequence, then the readout."""

    def __init__(self, H=8):
        super().__init__()
        self.gru = nn.GRU(1, H, batch_first=True)
        self.gru2 = nn.GRU(H, H, num_layers=3, batch_first=True)
        self.fc = nn.Linear(H, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        out, _ = self.gru2(out)
        return self.fc(out)


def make_inputs(seed, steps, I):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(steps, I, generator=g, dtype=torch.float32) * 3.0 - 1.5
    for k, t in enumerate(range(SPIKE_EVERY, steps, SPIKE_EVERY)):
        x[t, 0] = SPIKE if k % 2 == 0 else -SPIKE
    return x


@torch.no_grad()
def scale_recurrent(model, names):
    for name in names:
        for p in getattr(model, name).parameters():
            p.mul_(SCALE)


@torch.no_grad()
def run_both(model, x):
    """(float32 outputs, float64 outputs) for one [1, T, I] sequence from the zero state."""
    model = model.float().eval()
    y32 = model(x.unsqueeze(0))[0]
    m64 = copy.deepcopy(model).double().eval()
    y64 = m64(x.double().unsqueeze(0))[0]
    assert y32.dtype == torch.float32 and y64.dtype == torch.float64
    return y32.tolist(), y64.tolist()


# ---------------------------------------------------------------- independent numpy float64 re-implementation

def sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


def np_layer(kind, t, prefix, k, xs):
    """One layer over the whole sequence xs [T, in]; returns the hidden states [T, H]."""
    Wi = np.array(t[f"{prefix}.weight_ih_l{k}"], dtype=np.float64)
    Wh = np.array(t[f"{prefix}.weight_hh_l{k}"], dtype=np.float64)
    bi = np.array(t[f"{prefix}.bias_ih_l{k}"], dtype=np.float64)
    bh = np.array(t[f"{prefix}.bias_hh_l{k}"], dtype=np.float64)
    H = Wh.shape[1]
    h = np.zeros(H)
    c = np.zeros(H)
    out = np.zeros((len(xs), H))
    for step, x in enumerate(xs):
        gi = Wi @ x + bi
        gh = Wh @ h + bh
        if kind == "rnn":
            h = np.tanh(gi + gh)
        elif kind == "gru":  # gates r, z, n
            r = sigmoid(gi[:H] + gh[:H])
            z = sigmoid(gi[H:2 * H] + gh[H:2 * H])
            n = np.tanh(gi[2 * H:] + r * gh[2 * H:])
            h = (1.0 - z) * n + z * h
        elif kind == "lstm":  # gates i, f, g, o
            a = gi + gh
            i, f, g, o = sigmoid(a[:H]), sigmoid(a[H:2 * H]), np.tanh(a[2 * H:3 * H]), sigmoid(a[3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            raise ValueError(kind)
        out[step] = h
    return out


def np_forward(doc):
    t = doc["tensors"]
    xs = np.array(doc["inputs"], dtype=np.float64)
    for prefix in doc.get("modules", [doc["kind"]]):
        k = 0
        while f"{prefix}.weight_ih_l{k}" in t:
            xs = np_layer(doc["kind"], t, prefix, k, xs)
            k += 1
    W = np.array(t["fc.weight"], dtype=np.float64)
    b = np.array(t["fc.bias"], dtype=np.float64)
    return xs @ W.T + b


# ---------------------------------------------------------------- checks and output

def write_and_check(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    back = json.load(open(path))
    assert back == doc, path
    for key in ("inputs", "outputs"):
        assert all(is_f32(v) for v in flat(back[key])), (path, key)
    for key, tensor in back["tensors"].items():
        assert all(is_f32(v) for v in flat(tensor)), (path, key)
    n_layers = sum(1 for k in back["tensors"] if ".weight_ih_l" in k)
    assert n_layers == back["layers"], (path, n_layers)
    steps = len(back["inputs"])
    assert len(back["outputs"]) == len(back["outputs_double"]) == steps
    assert all(len(r) == back["input_size"] for r in back["inputs"])
    assert all(len(r) == back["output_size"] for r in back["outputs"] + back["outputs_double"])

    ref = np_forward(back)
    y64 = np.array(back["outputs_double"])
    y32 = np.array(back["outputs"])
    np_abs = float(np.max(np.abs(ref - y64)))
    np_rel = float(np.max(np.abs(ref - y64) / np.maximum(np.abs(y64), 1e-3)))
    f32_abs = float(np.max(np.abs(y32 - y64)))
    assert np_abs <= TOLERANCE, (path, np_abs)
    return np_abs, np_rel, f32_abs


def build_cell(kind, L, I, H, O):
    torch.manual_seed(model_seed(kind, L, I, H, O))
    model = Net(kind, I, H, O, L)
    scale_recurrent(model, [kind])
    sd = model.state_dict()
    expected = [f"{kind}.{w}_l{k}" for k in range(L) for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    assert list(sd.keys()) == expected + ["fc.weight", "fc.bias"], list(sd.keys())
    x = make_inputs(input_seed(kind, L, I, H, O), T, I)
    y32, y64 = run_both(model, x)
    return {
        "kind": kind, "layers": L, "input_size": I, "hidden_size": H, "output_size": O,
        "torch_version": torch.__version__,
        "tensors": {k: v.tolist() for k, v in sd.items()},
        "inputs": x.tolist(), "outputs": y32, "outputs_double": y64,
    }


def build_stacked():
    H, steps = STACKED_H, STACKED_T
    torch.manual_seed(STACKED_MODEL_SEED)
    model = StackedGRU(H)
    scale_recurrent(model, ["gru", "gru2"])
    x = make_inputs(STACKED_INPUT_SEED, steps, 1)
    y32, y64 = run_both(model, x)
    tensors = state_object(model)  # tools/torch_dump.py
    assert tensors == {k: v.tolist() for k, v in model.state_dict().items()}
    assert list(tensors) == list(model.state_dict())
    return {
        "kind": "gru", "modules": ["gru", "gru2"], "layers": 4, "input_size": 1, "hidden_size": H,
        "output_size": 1, "torch_version": torch.__version__,
        "tensors": tensors, "inputs": x.tolist(), "outputs": y32, "outputs_double": y64,
    }


def main():
    ap = argparse.ArgumentParser()
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Fixtures", "torch-parity", "cells")
    ap.add_argument("--out", default=os.path.normpath(default))
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    jobs = [(f"{kind}-l{L}-i{I}-h{H}-o{O}.json", lambda c=(kind, L, I, H, O): build_cell(*c))
            for kind in KINDS for (L, I, H, O) in CONFIGS]
    jobs.append(("stacked-modules-gru.json", build_stacked))
    total = 0
    worst = {}
    for name, build in jobs:
        doc = build()
        path = os.path.join(args.out, name)
        np_abs, np_rel, f32_abs = write_and_check(path, doc)
        size = os.path.getsize(path)
        total += size
        key = "stacked" if "modules" in doc else doc["kind"]
        worst[key] = max(worst.get(key, 0.0), np_abs)
        print(f"{name}: {size} bytes; numpy-f64 vs torch-f64 max abs {np_abs:.3g} (rel {np_rel:.3g}); "
              f"torch-f32 vs torch-f64 max abs {f32_abs:.3g}")
    print(f"total {total} bytes in {len(jobs)} files")
    for key, v in worst.items():
        print(f"worst numpy-f64 vs torch-f64 ({key}): {v:.3g}")


if __name__ == "__main__":
    sys.exit(main())
