#!/usr/bin/env python3
"""Dump a PyTorch recurrent model's state_dict to the JSON that `recur-train import-torch` reads.

Any model made of recurrent modules (nn.RNN, nn.GRU or nn.LSTM, any attribute names, any num_layers) followed by an
nn.Linear readout, e.g. the seed notebook's `VanillaRNN` (`self.rnn = nn.RNN(1, H, nonlinearity='tanh',
batch_first=True)`, `self.fc = nn.Linear(H, 1)`) or a stacked GRU (`self.gru = nn.GRU(3, 32, num_layers=2,
batch_first=True)`, `self.fc = nn.Linear(32, 2)`). The JSON object holds every state_dict entry that is a floating
tensor, under its state_dict key (`rnn.weight_ih_l0`, `gru.bias_hh_l1`, `fc.weight`, ...), in state_dict order,
each a nested list in PyTorch's shape (`tensor.tolist()`). Entries that are not floating tensors (integer buffers
such as `num_batches_tracked`, `_extra_state`) are left out, with a note on stderr.

This script does not check the architecture: `recur-train import-torch` does, strictly (it uses every key or
reports an error, and checks every shape), so a model it cannot represent fails there with a precise message.

Exactness: each tensor is converted to float32 (a no-op for the usual float32 model; float64, float16 and bfloat16
tensors are rounded to or widened to float32), then `tolist()` turns each float32 element into the Python float
(double) with the same value, and `json` writes a float with `repr`, the shortest decimal that reads back as that
double. Reading the decimal back and rounding to float32 gives the float32 bit pattern exactly. Non-finite values
(after the float32 conversion) are refused (allow_nan=False). The file is written atomically (temporary file in
the same directory, then rename).

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
import os
import sys
import tempfile


def state_object(model_or_state_dict):
    """The JSON object (a dict of nested lists) for a module or a state_dict: every floating tensor, float32."""
    import torch

    state = model_or_state_dict.state_dict() if hasattr(model_or_state_dict, "state_dict") else model_or_state_dict
    if not hasattr(state, "items"):
        raise KeyError(f"expected a module or a state_dict (a mapping of names to tensors), got {type(state).__name__}")
    out = {}
    skipped = []
    for key, value in state.items():
        if not (isinstance(value, torch.Tensor) and value.is_floating_point()):
            skipped.append(key)
            continue
        tensor = value.detach().to(device="cpu", dtype=torch.float32)
        if not bool(torch.isfinite(tensor).all()):
            raise ValueError(f"{key} holds a non-finite value")
        out[key] = tensor.tolist()
    if not out:
        raise KeyError("state_dict holds no floating tensors")
    if skipped:
        print(f"note: left out non-floating state_dict entries: {', '.join(skipped)}", file=sys.stderr)
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
        description="Dump a recurrent model's state_dict checkpoint (torch.save) to recur-train's import JSON.",
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
        message = error.args[0] if error.args else error  # KeyError's str() would add quotes
        print(f"error: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
