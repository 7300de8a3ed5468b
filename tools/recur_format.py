#!/usr/bin/env python3
"""An independent implementation of the Recur model file format v1 (Sources/RecurRuntime/Documentation.docc/
ModelFormat.md), written from the specification in Python's standard library only.

It exists to show that the document is precise enough to implement elsewhere, and it is used by
tools/make-fixtures to build the deliberately broken model files in Fixtures/broken/.

    python3 tools/recur_format.py dump MODEL.recur        # header fields and tensor shapes as JSON
    python3 tools/recur_format.py random H OUT.recur [--seed S] [--encoding 1|2] [--context K]
"""
import json
import random
import struct
import sys
import zlib

MAGIC = b"RECURNN\x1a"
HEADER_SIZE = 256
ENTRY_SIZE = 32
ALIGN = 64
NAMES = ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias"]


def shapes(hidden):
    return [(hidden, 1), (hidden, hidden), (hidden, 1), (hidden, 1), (1, hidden), (1, 1)]


def write(hidden, tensors, context=5, encoding=1, family="", seed=0, stats=None):
    """tensors: list of six flat float lists in NAMES order. Returns the file bytes (canonical layout)."""
    cursor = HEADER_SIZE + 6 * ENTRY_SIZE
    offsets = []
    for rows, cols in shapes(hidden):
        cursor = (cursor + ALIGN - 1) // ALIGN * ALIGN
        offsets.append(cursor)
        cursor += rows * cols * 4
    length = cursor + 4
    out = bytearray(length)
    out[0:8] = MAGIC
    struct.pack_into("<IIQ", out, 8, 1, HEADER_SIZE, length)
    struct.pack_into("<IIIIIIII", out, 24, 1, 1, hidden, 1, context, encoding, 6, 0)
    struct.pack_into("<QIIIff", out, 56, seed, 0, 0, 0, float("nan"), float("nan"))
    struct.pack_into("<II", out, 84, 0, 0)
    stats = stats if stats is not None else [float("nan")] * 8
    struct.pack_into("<8f", out, 92, *stats)
    name = family.encode("ascii")[:31]
    out[128 : 128 + len(name)] = name
    for i, ((rows, cols), values) in enumerate(zip(shapes(hidden), tensors)):
        assert len(values) == rows * cols
        struct.pack_into("<IIIIQQ", out, HEADER_SIZE + i * ENTRY_SIZE, i + 1, 1, rows, cols, offsets[i], rows * cols * 4)
        struct.pack_into("<%df" % len(values), out, offsets[i], *values)
    struct.pack_into("<I", out, length - 4, zlib.crc32(bytes(out[: length - 4])))
    return bytes(out)


def fix_checksum(data):
    """Recomputes the trailing CRC-32 so a deliberately damaged field is reached past the checksum check."""
    data = bytearray(data)
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
    return bytes(data)


def read(data):
    """Minimal reader: checks magic, version, length and checksum; returns header fields and tensors."""
    if data[:8] != MAGIC:
        raise ValueError("bad magic")
    version, header_size, length = struct.unpack_from("<IIQ", data, 8)
    if version != 1 or header_size != HEADER_SIZE or length != len(data):
        raise ValueError("bad version, header size or length")
    if zlib.crc32(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise ValueError("checksum mismatch")
    kind, inp, hidden, outp, context, encoding, count, flags = struct.unpack_from("<8I", data, 24)
    seed, epochs, batch, seqs, lr, loss = struct.unpack_from("<QIIIff", data, 56)
    windows, seeds = struct.unpack_from("<II", data, 84)
    stats = struct.unpack_from("<8f", data, 92)
    family = data[128:160].split(b"\0")[0].decode("ascii")
    tensors = {}
    for i in range(count):
        tid, dtype, rows, cols, off, nbytes = struct.unpack_from("<IIIIQQ", data, HEADER_SIZE + i * ENTRY_SIZE)
        tensors[NAMES[tid - 1]] = {"shape": [rows, cols], "values": list(struct.unpack_from("<%df" % (nbytes // 4), data, off))}
    return dict(cell_kind=kind, input=inp, hidden=hidden, output=outp, context=context, encoding=encoding,
                seed=seed, epochs=epochs, batch=batch, sequences=seqs, lr=lr, final_loss=loss, family=family,
                windows=windows, seeds=seeds, stats=stats, tensors=tensors)


def random_model(hidden, seed=0, encoding=1, context=5):
    rng = random.Random(seed)
    bound = 1 / hidden ** 0.5
    tensors = [[rng.uniform(-bound, bound) for _ in range(r * c)] for r, c in shapes(hidden)]
    tensors = [list(struct.unpack("<%df" % len(t), struct.pack("<%df" % len(t), *t))) for t in tensors]
    return write(hidden, tensors, context=context, encoding=encoding, family="random", seed=seed)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "dump":
        info = read(open(sys.argv[2], "rb").read())
        for t in info["tensors"].values():
            t["values"] = t["values"][:4] + (["..."] if len(t["values"]) > 4 else [])
        print(json.dumps(info, indent=1, default=str))
    elif len(sys.argv) >= 4 and sys.argv[1] == "random":
        args = sys.argv[4:]
        opt = {args[i]: int(args[i + 1]) for i in range(0, len(args), 2)}
        data = random_model(int(sys.argv[2]), opt.get("--seed", 0), opt.get("--encoding", 1), opt.get("--context", 5))
        open(sys.argv[3], "wb").write(data)
    else:
        print(__doc__)
        sys.exit(2)
