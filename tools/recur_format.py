#!/usr/bin/env python3
"""An independent implementation of the Recur model file format, versions 1, 2 and 3
(Sources/RecurRuntime/Documentation.docc/ModelFormat.md), written from the specification in Python's standard library
only.

It exists to show that the document is precise enough to implement elsewhere; tools/make-fixtures uses it to build the
deliberately broken model files in Fixtures/broken/, and `random` writes random models of any kind for benchmarks.

    python3 tools/recur_format.py dump MODEL.recur        # header fields and tensor shapes as JSON
    python3 tools/recur_format.py random H OUT.recur [--seed S] [--encoding 0|1|2|3|4] [--context K]
                                  [--cell rnn|gru|lstm] [--layers L] [--inputs I] [--outputs O]
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
KINDS = {"rnn": 1, "gru": 2, "lstm": 3}
GATES = {1: 1, 2: 3, 3: 4}
KIND_NAMES = {v: k for k, v in KINDS.items()}
ROLES = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]
STANDARDIZED = (3, 4)  # encodings whose normalisation vectors follow the readout (format version 3)
NORM = ["norm.input_shift", "norm.input_scale", "norm.output_shift", "norm.output_scale"]


def table(kind, layers, inputs, hidden, outputs, encoding=1):
    """The tensor table: (id, state_dict name, rows, cols) in file order (ModelFormat.md, "Tensors")."""
    g = GATES[kind] * hidden
    name = KIND_NAMES[kind]
    rows = []
    for k in range(layers):
        cols_ih = inputs if k == 0 else hidden
        for role, (r, c) in zip(range(4), [(g, cols_ih), (g, hidden), (g, 1), (g, 1)]):
            rows.append((role + 1 + 16 * k, f"{name}.{ROLES[role]}_l{k}", r, c))
    rows.append((5, "fc.weight", outputs, hidden))
    rows.append((6, "fc.bias", outputs, 1))
    if encoding in STANDARDIZED:
        for i, (name, n) in enumerate(zip(NORM, [inputs, inputs, outputs, outputs])):
            rows.append((7 + i, name, n, 1))
    return rows


def write(hidden, tensors, context=5, encoding=1, family="", seed=0, stats=None, kind=1, layers=1, inputs=1,
          outputs=1):
    """tensors: flat float lists in table order. Returns the file bytes (canonical layout), version 1 when it can
    describe the model (one vanilla layer, I = O = 1, encoding 1 or 2), 3 for the standardised encodings (3, 4:
    the four normalisation vectors come last in `tensors`), else version 2."""
    version = 1 if (kind, layers, inputs, outputs) == (1, 1, 1, 1) and encoding in (1, 2) else 2
    if encoding in STANDARDIZED:
        version = 3
    rows = table(kind, layers, inputs, hidden, outputs, encoding)
    cursor = HEADER_SIZE + len(rows) * ENTRY_SIZE
    offsets = []
    for _, _, r, c in rows:
        cursor = (cursor + ALIGN - 1) // ALIGN * ALIGN
        offsets.append(cursor)
        cursor += r * c * 4
    length = cursor + 4
    out = bytearray(length)
    out[0:8] = MAGIC
    struct.pack_into("<IIQ", out, 8, version, HEADER_SIZE, length)
    struct.pack_into("<IIIIIIII", out, 24, kind, inputs, hidden, outputs, context, encoding, len(rows), 0)
    struct.pack_into("<QIIIff", out, 56, seed, 0, 0, 0, float("nan"), float("nan"))
    struct.pack_into("<II", out, 84, 0, 0)
    stats = stats if stats is not None else [float("nan")] * 8
    struct.pack_into("<8f", out, 92, *stats)
    if version >= 2:
        struct.pack_into("<I", out, 124, layers)
    name = family.encode("ascii")[:31]
    out[128 : 128 + len(name)] = name
    for i, ((tid, _, r, c), values) in enumerate(zip(rows, tensors)):
        assert len(values) == r * c
        struct.pack_into("<IIIIQQ", out, HEADER_SIZE + i * ENTRY_SIZE, tid, 1, r, c, offsets[i], r * c * 4)
        struct.pack_into("<%df" % len(values), out, offsets[i], *values)
    struct.pack_into("<I", out, length - 4, zlib.crc32(bytes(out[: length - 4])))
    return bytes(out)


def fix_checksum(data):
    """Recomputes the trailing CRC-32 so a deliberately damaged field is reached past the checksum check."""
    data = bytearray(data)
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
    return bytes(data)


def read(data):
    """Minimal reader: checks magic, version, length, checksum and the tensor table; returns fields and tensors."""
    if data[:8] != MAGIC:
        raise ValueError("bad magic")
    version, header_size, length = struct.unpack_from("<IIQ", data, 8)
    if version not in (1, 2, 3) or header_size != HEADER_SIZE or length != len(data):
        raise ValueError("bad version, header size or length")
    if zlib.crc32(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise ValueError("checksum mismatch")
    kind, inp, hidden, outp, context, encoding, count, flags = struct.unpack_from("<8I", data, 24)
    layers = struct.unpack_from("<I", data, 124)[0] if version >= 2 else 1
    if (version == 3) != (encoding in STANDARDIZED):
        raise ValueError("encodings 3 and 4 need format version 3, and version 3 needs them")
    seed, epochs, batch, seqs, lr, loss = struct.unpack_from("<QIIIff", data, 56)
    windows, seeds = struct.unpack_from("<II", data, 84)
    stats = struct.unpack_from("<8f", data, 92)
    family = data[128:160].split(b"\0")[0].decode("ascii")
    rows = {tid: (name, r, c) for tid, name, r, c in table(kind, layers, inp, hidden, outp, encoding)}
    if count != len(rows):
        raise ValueError("tensor count does not match the architecture")
    tensors = {}
    for i in range(count):
        tid, dtype, r, c, off, nbytes = struct.unpack_from("<IIIIQQ", data, HEADER_SIZE + i * ENTRY_SIZE)
        name, er, ec = rows[tid]
        if (r, c) != (er, ec) or dtype != 1 or nbytes != r * c * 4:
            raise ValueError(f"tensor {name}: bad directory entry")
        tensors[name] = {"shape": [r, c], "values": list(struct.unpack_from("<%df" % (nbytes // 4), data, off))}
    return dict(version=version, cell=KIND_NAMES[kind], layers=layers, input=inp, hidden=hidden, output=outp,
                context=context, encoding=encoding, seed=seed, epochs=epochs, batch=batch, sequences=seqs, lr=lr,
                final_loss=loss, family=family, windows=windows, seeds=seeds, stats=stats, tensors=tensors)


def random_model(hidden, seed=0, encoding=1, context=5, kind=1, layers=1, inputs=1, outputs=1):
    rng = random.Random(seed)
    bound = 1 / hidden ** 0.5
    rows = table(kind, layers, inputs, hidden, outputs, encoding)
    tensors = [[rng.uniform(-bound, bound) for _ in range(r * c)] for _, _, r, c in rows]
    for i, (tid, _, r, c) in enumerate(rows):
        if tid in (8, 10):  # normalisation scales must be positive
            tensors[i] = [rng.uniform(0.5, 2.0) for _ in range(r * c)]
    tensors = [list(struct.unpack("<%df" % len(t), struct.pack("<%df" % len(t), *t))) for t in tensors]
    return write(hidden, tensors, context=context, encoding=encoding, family="random", seed=seed, kind=kind,
                 layers=layers, inputs=inputs, outputs=outputs)


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "dump":
        info = read(open(sys.argv[2], "rb").read())
        for t in info["tensors"].values():
            t["values"] = t["values"][:4] + (["..."] if len(t["values"]) > 4 else [])
        print(json.dumps(info, indent=1, default=str))
    elif len(sys.argv) >= 4 and sys.argv[1] == "random":
        args = sys.argv[4:]
        opt = {args[i]: args[i + 1] for i in range(0, len(args), 2)}
        kind = KINDS[opt.get("--cell", "rnn")]
        inputs, outputs = int(opt.get("--inputs", 1)), int(opt.get("--outputs", 1))
        default_encoding = 1 if (inputs, outputs) == (1, 1) else 0
        data = random_model(int(sys.argv[2]), int(opt.get("--seed", 0)), int(opt.get("--encoding", default_encoding)),
                            int(opt.get("--context", 5)), kind, int(opt.get("--layers", 1)), inputs, outputs)
        open(sys.argv[3], "wb").write(data)
    else:
        print(__doc__)
        sys.exit(2)
