#!/usr/bin/env python3
"""Multiply-adds of one stream step of a model file, for tools/firmware's "per multiply-add" column.

Every element of a recurrent layer's weight matrices (W_ih, W_hh) once per cell step, times the cell steps one
prediction runs (the windowed encodings, window-differences and the standardised ones, run the whole window from a
zero state: `context` steps; the others one); every other weight tensor (dense layers, the readout, a mixture's
experts) once. Biases and activations are not counted. Reads the file with tools/recur_format.py (the independent
Python reader). Usage: macs.py MODEL.recur  -> one integer
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import recur_format  # noqa: E402

WINDOWED = (2, 3, 4)  # window-differences, standardize, standardize-differences


def main():
    with open(sys.argv[1], "rb") as f:
        info = recur_format.read(f.read())
    steps = info["context"] if info["encoding"] in WINDOWED else 1
    total = 0
    for name, tensor in info["tensors"].items():
        if ".weight" not in name:
            continue
        count = 1
        for n in tensor["shape"]:
            count *= n
        recurrent = ".weight_ih_l" in name or ".weight_hh_l" in name
        total += count * (steps if recurrent else 1)
    print(total)


if __name__ == "__main__":
    main()
