#!/usr/bin/env python3
"""An independent implementation of the Recur model file format, versions 1 to 4
(Sources/RecurRuntime/Documentation.docc/ModelFormat.md), written from the specification in Python's standard library
only. Version 4 is the mixture-of-experts readout (header fields 160 experts E, 164 expert order m; window-differences,
input and output 1): fc has E rows, one logit per expert, and tensor 11 `experts.weight` [E][m] follows it.

It exists to show that the document is precise enough to implement elsewhere; tools/make-fixtures uses it to build the
deliberately broken model files in Fixtures/broken/, and `random` writes random models of any kind for benchmarks.

    python3 tools/recur_format.py dump MODEL.recur        # header fields and tensor shapes as JSON
    python3 tools/recur_format.py random H OUT.recur [--seed S] [--encoding 0|1|2|3|4] [--context K]
                                  [--cell rnn|gru|lstm] [--layers L] [--inputs I] [--outputs O]
                                  [--experts E [--order M]]      # a mixture (version 4; encoding 2, M defaults to K)
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
MIXTURE_ENCODING = 2  # the mixture readout (format version 4) reads window-differences inputs only
MAX_EXPERTS = 256


def table(kind, layers, inputs, hidden, outputs, encoding=1, experts=0, order=0):
    """The tensor table: (id, state_dict name, rows, cols) in file order (ModelFormat.md, "Tensors"). With experts
    E > 0 (version 4) fc has E rows, one logit per expert, and experts.weight [E][order] (id 11) comes last."""
    g = GATES[kind] * hidden
    name = KIND_NAMES[kind]
    rows = []
    for k in range(layers):
        cols_ih = inputs if k == 0 else hidden
        for role, (r, c) in zip(range(4), [(g, cols_ih), (g, hidden), (g, 1), (g, 1)]):
            rows.append((role + 1 + 16 * k, f"{name}.{ROLES[role]}_l{k}", r, c))
    readout = experts if experts > 0 else outputs
    rows.append((5, "fc.weight", readout, hidden))
    rows.append((6, "fc.bias", readout, 1))
    if experts > 0:
        rows.append((11, "experts.weight", experts, order))
    if encoding in STANDARDIZED:
        for i, (name, n) in enumerate(zip(NORM, [inputs, inputs, outputs, outputs])):
            rows.append((7 + i, name, n, 1))
    return rows


def write(hidden, tensors, context=5, encoding=1, family="", seed=0, stats=None, kind=1, layers=1, inputs=1,
          outputs=1, experts=0, order=0, epochs=0, batch=0, sequences=0, lr=float("nan"), final_loss=float("nan"),
          windows=0, seeds=0):
    """tensors: flat float lists in table order. Returns the file bytes (canonical layout), version 1 when it can
    describe the model (one vanilla layer, I = O = 1, encoding 1 or 2), 3 for the standardised encodings (3, 4:
    the four normalisation vectors come last in `tensors`), 4 for a mixture (experts > 0: encoding 2, I = O = 1,
    1 <= order <= context; experts.weight comes last in `tensors`), else version 2. The provenance fields (epochs ...
    seeds) default to the values of a file without training history."""
    version = 1 if (kind, layers, inputs, outputs) == (1, 1, 1, 1) and encoding in (1, 2) else 2
    if encoding in STANDARDIZED:
        version = 3
    if experts > 0:
        if encoding != MIXTURE_ENCODING or (inputs, outputs) != (1, 1) or experts > MAX_EXPERTS:
            raise ValueError("a mixture of experts needs encoding 2, input and output 1, and at most 256 experts")
        if not 1 <= order <= context:
            raise ValueError("expert order %d is out of range 1...%d (the context length)" % (order, context))
        version = 4
    elif order != 0:
        raise ValueError("an expert order needs experts")
    rows = table(kind, layers, inputs, hidden, outputs, encoding, experts, order)
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
    struct.pack_into("<QIIIff", out, 56, seed, epochs, batch, sequences, lr, final_loss)
    struct.pack_into("<II", out, 84, windows, seeds)
    stats = stats if stats is not None else [float("nan")] * 8
    struct.pack_into("<8f", out, 92, *stats)
    if version >= 2:
        struct.pack_into("<I", out, 124, layers)
    if version >= 4:
        struct.pack_into("<II", out, 160, experts, order)
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
    """Minimal reader: checks magic, version, length, checksum, the version-4 mixture fields (zero before version 4)
    and the tensor table; returns fields and tensors (experts = order = 0 for a plain Linear readout)."""
    if data[:8] != MAGIC:
        raise ValueError("bad magic")
    version, header_size, length = struct.unpack_from("<IIQ", data, 8)
    if version not in (1, 2, 3, 4) or header_size != HEADER_SIZE or length != len(data):
        raise ValueError("bad version, header size or length")
    if zlib.crc32(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise ValueError("checksum mismatch")
    kind, inp, hidden, outp, context, encoding, count, flags = struct.unpack_from("<8I", data, 24)
    layers = struct.unpack_from("<I", data, 124)[0] if version >= 2 else 1
    if (version == 3) != (encoding in STANDARDIZED):
        raise ValueError("encodings 3 and 4 need format version 3, and version 3 needs them")
    experts, order = struct.unpack_from("<II", data, 160)
    if version < 4 and (experts, order) != (0, 0):
        raise ValueError("reserved header bytes 160..<168 are not zero before format version 4")
    if version == 4:
        if encoding != MIXTURE_ENCODING or (inp, outp) != (1, 1):
            raise ValueError("format version 4 (a mixture of experts) needs encoding 2 and input and output size 1")
        if not 1 <= experts <= MAX_EXPERTS:
            raise ValueError("expert count %d is out of range 1...%d" % (experts, MAX_EXPERTS))
        if not 1 <= order <= context:
            raise ValueError("expert order %d is out of range 1...%d (the context length)" % (order, context))
    if any(data[168:HEADER_SIZE]):
        raise ValueError("reserved header bytes 168..<256 are not zero")
    seed, epochs, batch, seqs, lr, loss = struct.unpack_from("<QIIIff", data, 56)
    windows, seeds = struct.unpack_from("<II", data, 84)
    stats = struct.unpack_from("<8f", data, 92)
    family = data[128:160].split(b"\0")[0].decode("ascii")
    rows = {tid: (name, r, c) for tid, name, r, c in table(kind, layers, inp, hidden, outp, encoding, experts, order)}
    if count != len(rows):
        raise ValueError("tensor count does not match the architecture")
    tensors = {}
    for i in range(count):
        tid, dtype, r, c, off, nbytes = struct.unpack_from("<IIIIQQ", data, HEADER_SIZE + i * ENTRY_SIZE)
        if tid not in rows or rows[tid][0] in tensors:
            raise ValueError(f"unknown or repeated tensor id {tid}")
        name, er, ec = rows[tid]
        if (r, c) != (er, ec) or dtype != 1 or nbytes != r * c * 4:
            raise ValueError(f"tensor {name}: bad directory entry")
        tensors[name] = {"shape": [r, c], "values": list(struct.unpack_from("<%df" % (nbytes // 4), data, off))}
    return dict(version=version, cell=KIND_NAMES[kind], layers=layers, input=inp, hidden=hidden, output=outp,
                context=context, encoding=encoding, seed=seed, epochs=epochs, batch=batch, sequences=seqs, lr=lr,
                final_loss=loss, family=family, windows=windows, seeds=seeds, stats=stats, experts=experts, order=order,
                tensors=tensors)


def random_model(hidden, seed=0, encoding=1, context=5, kind=1, layers=1, inputs=1, outputs=1, experts=0, order=0):
    """A model with uniform random weights (PyTorch's default bound); experts > 0 makes it a mixture (version 4),
    whose expert coefficients are uniform in [-1, 1]."""
    rng = random.Random(seed)
    bound = 1 / hidden ** 0.5
    rows = table(kind, layers, inputs, hidden, outputs, encoding, experts, order)
    tensors = [[rng.uniform(-bound, bound) for _ in range(r * c)] for _, _, r, c in rows]
    for i, (tid, _, r, c) in enumerate(rows):
        if tid in (8, 10):  # normalisation scales must be positive
            tensors[i] = [rng.uniform(0.5, 2.0) for _ in range(r * c)]
        elif tid == 11:
            tensors[i] = [rng.uniform(-1.0, 1.0) for _ in range(r * c)]
    tensors = [list(struct.unpack("<%df" % len(t), struct.pack("<%df" % len(t), *t))) for t in tensors]
    return write(hidden, tensors, context=context, encoding=encoding, family="random", seed=seed, kind=kind,
                 layers=layers, inputs=inputs, outputs=outputs, experts=experts, order=order)


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
        experts, context = int(opt.get("--experts", 0)), int(opt.get("--context", 5))
        default_encoding = MIXTURE_ENCODING if experts > 0 else 1 if (inputs, outputs) == (1, 1) else 0
        order = int(opt.get("--order", context if experts > 0 else 0))
        data = random_model(int(sys.argv[2]), int(opt.get("--seed", 0)), int(opt.get("--encoding", default_encoding)),
                            context, kind, int(opt.get("--layers", 1)), inputs, outputs, experts, order)
        open(sys.argv[3], "wb").write(data)
    else:
        print(__doc__)
        sys.exit(2)
