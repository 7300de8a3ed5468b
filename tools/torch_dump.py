#!/usr/bin/env python3
"""Dump the seed model's PyTorch state_dict to the JSON that `recur-train import-torch` reads.

The seed notebook's model is `VanillaRNN`: `self.rnn = nn.RNN(1, H, nonlinearity='tanh', batch_first=True)` and
`self.fc = nn.Linear(H, 1)`. Its state_dict keys are rnn.weight_ih_l0 [H, 1], rnn.weight_hh_l0 [H, H],
rnn.bias_ih_l0 [H], rnn.bias_hh_l0 [H], fc.weight [1, H] and fc.bias [1]. The JSON holds exactly those keys, each
a nested list in PyTorch's shape (`tensor.tolist()`).

Exactness: `tolist()` turns each float32 element into the Python float (double) with the same value, and `json`
writes a float with `repr`, the shortest decimal that reads back as that double. Reading the decimal back and
rounding to float32 gives the original float32 bit pattern. Non-finite weights are refused (allow_nan=False).

From Python, e.g. at the end of the seed notebook:

    import sys; sys.path.insert(0, "tools")
    from torch_dump import dump_state
    dump_state(odd_model, "odd_state.json")
    # then: recur-train import-torch odd_state.json -o odd.recur --window 5

From the command line, with a checkpoint written by `torch.save(model.state_dict(), "odd_state.pt")`:

    python3 tools/torch_dump.py odd_state.pt odd_state.json

Requires PyTorch (only this script; the Swift package never needs it).
"""

import argparse
import json
import math
import os
import sys
import tempfile

KEYS = [
    "rnn.weight_ih_l0",
    "rnn.weight_hh_l0",
    "rnn.bias_ih_l0",
    "rnn.bias_hh_l0",
    "fc.weight",
    "fc.bias",
]


def state_object(model_or_state_dict):
    """The JSON object (a dict of nested lists) for a module or a state_dict."""
    import torch

    state = model_or_state_dict.state_dict() if hasattr(model_or_state_dict, "state_dict") else model_or_state_dict
    missing = [k for k in KEYS if k not in state]
    if missing:
        raise KeyError(f"state_dict lacks {', '.join(missing)}; expected the seed model's keys {KEYS}")
    extra = [k for k in state if k not in KEYS]
    if extra:
        raise KeyError(f"state_dict has keys the seed model does not ({', '.join(extra)}); only one RNN layer is supported")
    out = {}
    for key in KEYS:
        tensor = state[key].detach().to(device="cpu", dtype=torch.float32)
        values = tensor.tolist()
        if not all(math.isfinite(v) for v in tensor.flatten().tolist()):
            raise ValueError(f"{key} holds a non-finite value")
        out[key] = values
    return out


def dump_state(model_or_state_dict, path):
    """Writes the JSON to `path` atomically (temporary file in the same directory, then rename)."""
    obj = state_object(model_or_state_dict)
    directory = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(prefix=".torch_dump-", suffix=".json", dir=directory)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)  # mkstemp creates 0600; give the file the usual permissions
        with os.fdopen(fd, "w") as f:
            json.dump(obj, f, allow_nan=False)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Dump a seed-model state_dict checkpoint (torch.save) to recur-train's import JSON.",
        epilog="Example: python3 tools/torch_dump.py odd_state.pt odd_state.json && "
        "recur-train import-torch odd_state.json -o odd.recur",
    )
    parser.add_argument("checkpoint", help="file written by torch.save(model.state_dict(), PATH)")
    parser.add_argument("output", help="JSON file to write")
    args = parser.parse_args(argv)
    import torch

    state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    try:
        dump_state(state, args.output)
    except (KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
