#!/usr/bin/env python3
"""Write PyTorch parity fixtures for the Recur runtime to Fixtures/torch-parity/rnn-h{H}.json.

For each H in HIDDEN_SIZES:
  * torch.manual_seed(H); model = VanillaRNN(1, H, 1)  (the seed notebook's class, PyTorch default init)
  * "inputs": 400 float32 values, drawn from torch.Generator seeded with 10_000 + H:
    uniform(-1.5, 1.5), with 16 fixed positions overwritten by larger magnitudes
    (+-2.5, +-3, +-4, +-6) to exercise tanh saturation;
  * "outputs": model(x)[0] for x = inputs as one [1, 400, 1] sequence from the zero state;
  * "finalHidden": the matching h_T (extra key, [H]);
  * "generate": the notebook's generate_sequence(model, [1,3,5,7,9], 20)[5:], float32 model as in the notebook.

Every tensor value is written as the Python float from tensor.tolist(), i.e. the exact double of a float32;
json.dump uses repr (shortest round-trip), so parsing the text as a double and converting to float32 is exact.
"generate.values" are the de-normalised values the notebook returns: pred(float32) * scale computed in
double precision, exactly as generate_sequence does; they are exact doubles but generally NOT float32
values. "generate.normalizedValues" holds the float32 predictions themselves.

Usage (from the repository root):
  /tmp/torchenv/bin/python tools/pytorch/make_parity_fixtures.py [--out Fixtures/torch-parity]
"""
import argparse
import json
import os
import struct
import sys

import torch
import torch.nn as nn

HIDDEN_SIZES = [1, 3, 16, 17, 32, 64]
N_INPUTS = 400
GEN_SEED = [1, 3, 5, 7, 9]
GEN_STEPS = 20
# (position, value) pairs with larger magnitudes, placed at fixed indices
LARGE = [(7, 3.0), (23, -3.0), (41, 2.5), (42, 2.5), (43, 2.5), (77, -6.0), (101, 4.0), (150, -2.5),
         (151, -4.0), (199, 3.0), (200, -3.0), (257, 6.0), (300, -4.0), (333, 3.0), (350, -3.0), (399, 4.0)]

device = "cpu"


# Copied, not imported: importing seed_notebook parses this script's command line and seeds torch.
class VanillaRNN(nn.Module):  # verbatim from the seed notebook
    def __init__(self, input_size=1, hidden_size=16, output_size=1):
        super().__init__()
        self.hidden_size = hidden_size
        self.rnn = nn.RNN(input_size, hidden_size, nonlinearity='tanh', batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x, h0=None):
        out, hT = self.rnn(x, h0)
        y = self.fc(out)
        return y, hT


@torch.no_grad()
def generate_sequence(model, seed, steps=10):  # verbatim from the seed notebook
    model.eval()
    scale = max(1.0, max(abs(v) for v in seed))
    hist = [v/scale for v in seed]
    in_len = len(hist)

    x = torch.tensor([[ [v] for v in hist ]], dtype=torch.float32).to(device)
    _, h = model.rnn(x)

    last = hist[-1]
    out_vals = seed[:]

    for _ in range(steps):
        inp = torch.tensor([[[last]]], dtype=torch.float32).to(device)
        y, h = model(inp, h)
        pred = y[0,0,0].item()
        denorm = pred * scale
        out_vals.append(denorm)
        last = pred

    return out_vals


def make_inputs(H):
    g = torch.Generator().manual_seed(10_000 + H)
    x = torch.rand(N_INPUTS, generator=g, dtype=torch.float32) * 3.0 - 1.5
    for i, v in LARGE:
        x[i] = v
    return x


def is_f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0] == v


def flat(v):
    """The numbers of a nested list, depth first."""
    if isinstance(v, list):
        for e in v:
            yield from flat(e)
    else:
        yield v


def build(H):
    torch.manual_seed(H)
    model = VanillaRNN(1, H, 1)
    model.eval()
    sd = model.state_dict()
    names = ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias"]
    assert list(sd.keys()) == names, list(sd.keys())

    x = make_inputs(H)
    with torch.no_grad():
        y, hT = model(x.view(1, N_INPUTS, 1))
    gen = generate_sequence(model, list(GEN_SEED), GEN_STEPS)[len(GEN_SEED):]
    scale = max(1.0, max(abs(v) for v in GEN_SEED))
    normalized = [v / scale for v in gen]  # v = pred * scale exactly, so this recovers pred exactly
    assert all(n * scale == v for n, v in zip(normalized, gen))
    assert all(is_f32(n) for n in normalized)

    doc = {
        "format": "recur-torch-parity/1",
        "hidden": H,
        "input": 1,
        "output": 1,
        "torch": torch.__version__,
        "init": f"torch.manual_seed({H}); VanillaRNN(1, {H}, 1) (PyTorch default init)",
        "tensors": {k: sd[k].tolist() for k in names},
        "inputs": x.tolist(),
        "outputs": y.view(-1).tolist(),
        "finalHidden": hT.view(-1).tolist(),
        "generate": {
            "seed": list(GEN_SEED),
            "scale": float(scale),
            "normalizedSeed": torch.tensor([v / scale for v in GEN_SEED], dtype=torch.float32).tolist(),
            "steps": GEN_STEPS,
            "values": gen,
            "normalizedValues": normalized,
        },
    }
    return doc


def check_roundtrip(path, doc):
    back = json.load(open(path))
    for key in ("inputs", "outputs", "finalHidden"):
        assert back[key] == doc[key] and all(is_f32(v) for v in back[key]), key
    for k, t in doc["tensors"].items():
        assert back["tensors"][k] == t and all(is_f32(v) for v in flat(t)), k
    assert back["generate"] == doc["generate"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Fixtures", "torch-parity")))
    args = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    for H in HIDDEN_SIZES:
        doc = build(H)
        path = os.path.join(args.out, f"rnn-h{H}.json")
        with open(path, "w") as f:
            json.dump(doc, f, separators=(",", ":"))
            f.write("\n")
        check_roundtrip(path, doc)
        size = os.path.getsize(path)
        assert size < 200_000, (path, size)
        print(f"{path}: {size} bytes, outputs[0..2]={doc['outputs'][:3]}, generate[0..2]={doc['generate']['values'][:3]}")


if __name__ == "__main__":
    sys.exit(main())
