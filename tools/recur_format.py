#!/usr/bin/env python3
r"""An independent implementation of the Recur model file format, versions 1 to 6
(Sources/RecurRuntime/Documentation.docc/ModelFormat.md; version 5 as Sources/RecurRuntime/Format/ModelReader.swift and
TensorTable.swift define it, summarised below), written from the specification in Python's standard library only
(numpy only for `forward`). Version 4 is the mixture-of-experts readout (header fields 160 experts E, 164 expert
order m; window-differences, input and output 1): fc has E rows, one logit per expert, and tensor 11 `experts.weight`
[E][m] follows it.

Version 5 is a *chain* (identity encoding only): header fields 168 chain length C, 172 input skip, 176 sample rate
(f32, Hz, 0 = not recorded), 180 metadata length M (reserved bytes from 184). Right after the 256-byte header come C
chain entries of 16 bytes (u32 type: 0 dense or the cell kind 1/2/3; u32 inputs; u32 outputs; u32 activation of a
dense layer, 0 none 1 tanh 2 sigmoid 3 relu 4 elu 5 softmax, or flags of a recurrent one, 1 = learned initial
state), then M bytes of UTF-8 `key=value\n` lines, zero padding, and the tensor directory at
roundUp(256 + 16 C + M, 32). The chain is: dense layers, the header's L recurrent layers, the readout fc (the first
dense entry after the stack), dense layers. Tensors in chain order: dense{j}.weight [out][in] (id 128 + 2j) and
dense{j}.bias [out] (id 129 + 2j), j the chain position; per recurrent layer k its four tensors, then with learned
states KIND.h0_l{k} [H] (id 12 + 16k) and, LSTM, KIND.c0_l{k} [H] (id 13 + 16k); fc.weight, fc.bias; dense layers.
Each step: dense layers y = act(W x + b), the stack (from the learned or zero states), fc and its activation, the
output layers, then the step's first `skip` inputs added to the first outputs.

It exists to show that the document is precise enough to implement elsewhere; tools/make-fixtures uses it to build the
deliberately broken model files in Fixtures/broken/, and `random` writes random models of any kind for benchmarks.

    python3 tools/recur_format.py dump MODEL.recur        # header fields, chain and tensor shapes as JSON
    python3 tools/recur_format.py random H OUT.recur [--seed S] [--encoding 0|1|2|3|4] [--context K]
                                  [--cell rnn|gru|lstm] [--layers L] [--inputs I] [--outputs O]
                                  [--experts E [--order M]]      # a mixture (version 4; encoding 2, M defaults to K)
                                  [--chain SPEC] [--skip K] [--learned-state] [--sample-rate HZ]
                                  [--meta KEY=VALUE]...          # any of these: a chain (version 5, encoding 0)
    python3 tools/recur_format.py forward MODEL.recur < STEPS     # float64 numpy forward pass, like `recur stream`

A chain SPEC lists the layers from input to output, separated by commas:
    dense:[IN:]OUT[:ACT]   a dense layer (IN, if given, must be the width flowing into it; ACT defaults to none)
    rnn | gru | lstm       the recurrent stack: --layers L layers of hidden size H (sets the cell kind)
    fc[:OUT][:ACT]         the readout, right after the stack (OUT defaults to --outputs)
e.g. `--inputs 3 --chain dense:6:relu,lstm,fc:5:elu,dense:4:softmax`. Without --chain, the v5 options make the
plain chain `CELL,fc`. --outputs, if given, must equal the last layer's outputs.

`forward` reads steps the way `recur stream` does (one input: numbers separated by spaces, tabs, commas or newlines;
I inputs: one step of I numbers per line; a blank line resets the state) and prints each step's O readouts (`%.9g`):
the raw readout, which is `recur stream`'s output for identity models and `recur stream --raw`'s for the others.
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
# Version 5: a chain.
CHAIN_ENTRY_SIZE = 16
DENSE = 0  # chain entry type of a dense layer (recurrent entries carry the cell kind)
LEARNED_STATE = 1  # chain entry flag of a recurrent layer with learned initial states
ACTIVATIONS = ["none", "tanh", "sigmoid", "relu", "elu", "softmax"]  # chain entry codes of the dense activations
MAX_LAYERS, MAX_INPUT, MAX_HIDDEN, MAX_OUTPUT, MAX_CONTEXT = 8, 256, 1024, 256, 4096
MAX_CHAIN = 16
MAX_METADATA = 4096
METADATA_KEY_BYTES = set(b"abcdefghijklmnopqrstuvwxyz0123456789_.-")


def round_up(value, multiple):
    return (value + multiple - 1) // multiple * multiple


def directory_start(chain_length, metadata_length):
    """Where a version-5 file's tensor directory starts: after the chain table and the metadata, rounded up to 32."""
    return round_up(HEADER_SIZE + CHAIN_ENTRY_SIZE * chain_length + metadata_length, 32)


def plain_chain(kind, layers, inputs, hidden, outputs, learned=False):
    """The chain of a model without dense layers: the stack, then fc (no activation). Entries are
    (type, inputs, outputs, activation code or flags), as in the file."""
    flags = LEARNED_STATE if learned else 0
    return [(kind, inputs if k == 0 else hidden, hidden, flags) for k in range(layers)] + [(DENSE, hidden, outputs, 0)]


def chain_table(kind, hidden, chain):
    """A version-5 tensor table (id, state_dict name, rows, cols) from a chain (entries as in `plain_chain`), in chain
    order: dense{j} before the stack, each recurrent layer's four tensors then h0 (and c0, LSTM) if learned, fc (the
    first dense entry after the stack), dense{j} after it."""
    g = GATES[kind] * hidden
    name = KIND_NAMES[kind]
    rows = []
    k = 0
    readout = False
    for j, (kind_code, n_in, n_out, code) in enumerate(chain):
        if kind_code != DENSE:
            for role, (r, c) in enumerate([(g, n_in), (g, hidden), (g, 1), (g, 1)]):
                rows.append((role + 1 + 16 * k, f"{name}.{ROLES[role]}_l{k}", r, c))
            if code == LEARNED_STATE:
                rows.append((12 + 16 * k, f"{name}.h0_l{k}", hidden, 1))
                if kind == KINDS["lstm"]:
                    rows.append((13 + 16 * k, f"{name}.c0_l{k}", hidden, 1))
            k += 1
        elif k > 0 and not readout:
            rows += [(5, "fc.weight", n_out, n_in), (6, "fc.bias", n_out, 1)]
            readout = True
        else:
            rows += [(128 + 2 * j, f"dense{j}.weight", n_out, n_in), (129 + 2 * j, f"dense{j}.bias", n_out, 1)]
    return rows


def check_chain(kind, layers, inputs, hidden, outputs, chain):
    """Raises ValueError unless `chain` is a valid version-5 chain for the header's sizes: dense layers, exactly the
    `layers` recurrent layers of `kind` (outputs H, the same flags 0 or 1 on all), a dense readout, dense layers; every
    entry reads the width the one before it writes, the last writes `outputs`; dense outputs 1...1024, activation codes
    0...5; at most 16 entries. Returns (input layers, readout, output layers, learned), dense layers as
    (in, out, act)."""
    if not layers + 1 <= len(chain) <= MAX_CHAIN:
        raise ValueError("chain length %d is out of range %d...%d" % (len(chain), layers + 1, MAX_CHAIN))
    width = inputs
    seen = 0
    before, after = [], []
    flags = None
    for i, (kind_code, n_in, n_out, code) in enumerate(chain):
        if n_in != width:
            raise ValueError("chain entry %d reads %d values, but %d flow into it" % (i, n_in, width))
        if kind_code == DENSE:
            if not 1 <= n_out <= MAX_HIDDEN:
                raise ValueError("chain entry %d: dense output size %d is out of range 1...%d" % (i, n_out, MAX_HIDDEN))
            if not 0 <= code < len(ACTIVATIONS):
                raise ValueError("chain entry %d: unknown activation %d" % (i, code))
            if 0 < seen < layers:
                raise ValueError("chain entry %d: a dense layer inside the recurrent stack" % i)
            (before if seen == 0 else after).append((n_in, n_out, code))
        else:
            if kind_code != kind:
                raise ValueError("chain entry %d: layer type %d is neither dense nor the cell kind %d"
                                 % (i, kind_code, kind))
            if after or seen == layers:
                raise ValueError("chain entry %d: more recurrent layers than the header's %d, or a second stack"
                                 % (i, layers))
            if n_out != hidden:
                raise ValueError("chain entry %d: recurrent output size %d is not the hidden size %d"
                                 % (i, n_out, hidden))
            if code not in (0, LEARNED_STATE) or (flags is not None and code != flags):
                raise ValueError("chain entry %d: flags %d (0, or 1 on every recurrent layer)" % (i, code))
            if seen == 0 and n_in > MAX_HIDDEN:
                raise ValueError("chain entry %d: input size %d exceeds %d" % (i, n_in, MAX_HIDDEN))
            flags = code
            seen += 1
        width = n_out
    if seen != layers or not after:
        raise ValueError("the chain needs the header's %d recurrent layers followed by a dense readout" % layers)
    if width != outputs:
        raise ValueError("the chain outputs %d values, but the header's output size is %d" % (width, outputs))
    return before, after[0], after[1:], flags == LEARNED_STATE


def metadata_bytes(metadata):
    """The version-5 metadata block of (key, value) pairs, checked: keys 1 to 64 of a-z 0-9 _ . -, values UTF-8
    without control characters (U+0000...U+001F, U+007F...U+009F), at most 4096 bytes in all."""
    out = b""
    for key, value in metadata:
        k, v = key.encode("utf-8"), value.encode("utf-8")
        if not 1 <= len(k) <= 64 or not set(k) <= METADATA_KEY_BYTES:
            raise ValueError("metadata key %r must be 1 to 64 of a-z 0-9 _ . -" % key)
        if any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in value):
            raise ValueError("metadata value %r has control characters" % value)
        out += k + b"=" + v + b"\n"
    if len(out) > MAX_METADATA:
        raise ValueError("metadata is %d bytes; at most %d" % (len(out), MAX_METADATA))
    return out


def parse_metadata(block):
    """The (key, value) pairs of a version-5 metadata block; ValueError unless it is valid (see metadata_bytes)."""
    if block and block[-1:] != b"\n":
        raise ValueError("metadata does not end with a newline")
    pairs = []
    for line in block.split(b"\n")[:-1]:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("metadata line %r is not UTF-8" % line)
        if "=" not in text:
            raise ValueError("metadata line %r is not `key=value`" % text)
        key, value = text.split("=", 1)
        metadata_bytes([(key, value)])  # checks the key and the value
        pairs.append((key, value))
    return pairs


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


def write(hidden, tensors, context=5, encoding=None, family="", seed=0, stats=None, kind=1, layers=1, inputs=1,
          outputs=1, experts=0, order=0, epochs=0, batch=0, sequences=0, lr=float("nan"), final_loss=float("nan"),
          windows=0, seeds=0, chain=None, skip=0, sample_rate=0.0, metadata=()):
    """tensors: flat float lists in table order. Returns the file bytes (canonical layout), version 1 when it can
    describe the model (one vanilla layer, I = O = 1, encoding 1 or 2), 3 for the standardised encodings (3, 4:
    the four normalisation vectors come last in `tensors`), 4 for a mixture (experts > 0: encoding 2, I = O = 1,
    1 <= order <= context; experts.weight comes last in `tensors`), else version 2. The provenance fields (epochs ...
    seeds) default to the values of a file without training history.

    Version 5 (a chain) when `chain` is given (entries (type, inputs, outputs, activation or flags), see plain_chain;
    `layers` is then the number of recurrent entries) or any of skip, sample_rate, metadata is (then the chain is
    plain_chain's): encoding 0, tensors in chain_table order, `metadata` a sequence of (key, value) pairs. The encoding
    defaults to 1 before version 5 and to 0 in it."""
    if chain is not None or skip or sample_rate or metadata:
        return write_chain(hidden, tensors, context=context, encoding=encoding or 0, family=family, seed=seed,
                           stats=stats, kind=kind, layers=layers, inputs=inputs, outputs=outputs, epochs=epochs,
                           batch=batch, sequences=sequences, lr=lr, final_loss=final_loss, windows=windows, seeds=seeds,
                           chain=chain, skip=skip, sample_rate=sample_rate, metadata=metadata, experts=experts)
    encoding = 1 if encoding is None else encoding
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
    offsets, length = tensor_offsets(HEADER_SIZE, rows)
    out = bytearray(length)
    pack_header(out, version, length, kind, inputs, hidden, outputs, context, encoding, len(rows), layers, family, seed,
                stats, epochs, batch, sequences, lr, final_loss, windows, seeds)
    if version >= 4:
        struct.pack_into("<II", out, 160, experts, order)
    return pack_tensors(out, HEADER_SIZE, rows, tensors, offsets)


def write_chain(hidden, tensors, context, encoding, family, seed, stats, kind, layers, inputs, outputs, epochs, batch,
                sequences, lr, final_loss, windows, seeds, chain, skip, sample_rate, metadata, experts=0):
    """Version 5 (see write)."""
    if chain is None:
        chain = plain_chain(kind, layers, inputs, hidden, outputs)
    chain = [tuple(int(v) for v in entry) for entry in chain]
    layers = sum(1 for entry in chain if entry[0] != DENSE)
    if encoding != 0 or experts:
        raise ValueError("a chain (format version 5) needs encoding 0 (identity) and no experts")
    check_chain(kind, layers, inputs, hidden, outputs, chain)
    if not 0 <= skip <= min(inputs, outputs):
        raise ValueError("input skip %d exceeds min(input size %d, output size %d)" % (skip, inputs, outputs))
    sample_rate = struct.unpack("<f", struct.pack("<f", sample_rate))[0]
    if not (sample_rate >= 0 and sample_rate != float("inf")):
        raise ValueError("sample rate %r is not a finite value >= 0" % sample_rate)
    block = metadata_bytes(metadata)
    rows = chain_table(kind, hidden, chain)
    start = directory_start(len(chain), len(block))
    offsets, length = tensor_offsets(start, rows)
    out = bytearray(length)
    pack_header(out, 5, length, kind, inputs, hidden, outputs, context, encoding, len(rows), layers, family, seed, stats,
                epochs, batch, sequences, lr, final_loss, windows, seeds)
    struct.pack_into("<IIfI", out, 168, len(chain), skip, sample_rate, len(block))
    for i, entry in enumerate(chain):
        struct.pack_into("<IIII", out, HEADER_SIZE + CHAIN_ENTRY_SIZE * i, *entry)
    at = HEADER_SIZE + CHAIN_ENTRY_SIZE * len(chain)
    out[at : at + len(block)] = block
    if len(tensors) != len(rows):
        raise ValueError("expected %d tensors, got %d" % (len(rows), len(tensors)))
    return pack_tensors(out, start, rows, tensors, offsets)


def tensor_offsets(start, rows):
    """Where each tensor of `rows` starts after a directory at `start` (aligned to ALIGN), and the file's length (the
    tensor data, then the 4-byte checksum)."""
    cursor = start + len(rows) * ENTRY_SIZE
    offsets = []
    for _, _, r, c in rows:
        cursor = round_up(cursor, ALIGN)
        offsets.append(cursor)
        cursor += r * c * 4
    return offsets, cursor + 4


def pack_header(out, version, length, kind, inputs, hidden, outputs, context, encoding, tensor_count, layers, family,
                seed, stats, epochs, batch, sequences, lr, final_loss, windows, seeds):
    """The header fields of every version (ModelFormat.md, "Header"): layers from version 2 on; a mixture's and a
    chain's own fields are the caller's."""
    out[0:8] = MAGIC
    struct.pack_into("<IIQ", out, 8, version, HEADER_SIZE, length)
    struct.pack_into("<IIIIIIII", out, 24, kind, inputs, hidden, outputs, context, encoding, tensor_count, 0)
    struct.pack_into("<QIIIff", out, 56, seed, epochs, batch, sequences, lr, final_loss)
    struct.pack_into("<II", out, 84, windows, seeds)
    stats = stats if stats is not None else [float("nan")] * 8
    struct.pack_into("<8f", out, 92, *stats)
    if version >= 2:
        struct.pack_into("<I", out, 124, layers)
    name = family.encode("ascii")[:31]
    out[128 : 128 + len(name)] = name


def pack_tensors(out, start, rows, tensors, offsets):
    """The tensor directory at `start`, each tensor's float32 values at its offset and the checksum, into `out`;
    returns the file's bytes."""
    for i, ((tid, _, r, c), values) in enumerate(zip(rows, tensors)):
        assert len(values) == r * c
        struct.pack_into("<IIIIQQ", out, start + i * ENTRY_SIZE, tid, 1, r, c, offsets[i], r * c * 4)
        struct.pack_into("<%df" % len(values), out, offsets[i], *values)
    struct.pack_into("<I", out, len(out) - 4, zlib.crc32(bytes(out[: len(out) - 4])))
    return bytes(out)


def fix_checksum(data):
    """Recomputes the trailing CRC-32 so a deliberately damaged field is reached past the checksum check."""
    data = bytearray(data)
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
    return bytes(data)


def read(data):
    """Minimal reader: checks magic, version, length, checksum, the version-4 mixture fields (zero before version 4)
    and the tensor table; returns fields and tensors (experts = order = 0 for a plain Linear readout). Version 5: also
    the chain (check_chain), the input skip, the sample rate, the metadata and its zero padding, and the encoding (0);
    adds the keys chain, input_skip, learned_initial_state, sample_rate and metadata ((key, value) pairs in order)."""
    if data[:8] != MAGIC:
        raise ValueError("bad magic")
    if len(data) < HEADER_SIZE:
        raise ValueError("file ends inside the header")
    version, header_size, length = struct.unpack_from("<IIQ", data, 8)
    if version not in (1, 2, 3, 4, 5, 6) or header_size != HEADER_SIZE or length != len(data):
        raise ValueError("bad version, header size or length")
    if zlib.crc32(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise ValueError("checksum mismatch")
    kind, inp, hidden, outp, context, encoding, count, flags = struct.unpack_from("<8I", data, 24)
    layers = struct.unpack_from("<I", data, 124)[0] if version >= 2 else 1
    if (version in (3, 6)) != (encoding in STANDARDIZED):
        raise ValueError("encodings 3 and 4 need format version 3 or 6, and those versions need them")
    experts, order = struct.unpack_from("<II", data, 160)
    if version < 4 and (experts, order) != (0, 0):
        raise ValueError("reserved header bytes 160..<168 are not zero before format version 4")
    if version > 4 and (experts, order) != (0, 0):
        raise ValueError("header bytes 160..<168 (the mixture's) are not zero in format version 5")
    if version == 4:
        if encoding != MIXTURE_ENCODING or (inp, outp) != (1, 1):
            raise ValueError("format version 4 (a mixture of experts) needs encoding 2 and input and output size 1")
        if not 1 <= experts <= MAX_EXPERTS:
            raise ValueError("expert count %d is out of range 1...%d" % (experts, MAX_EXPERTS))
        if not 1 <= order <= context:
            raise ValueError("expert order %d is out of range 1...%d (the context length)" % (order, context))
    reserved = 196 if version >= 6 else 184 if version >= 5 else 168
    if any(data[reserved:HEADER_SIZE]):
        raise ValueError("reserved header bytes %d..<256 are not zero" % reserved)
    if flags != 0:
        raise ValueError("unknown flags 0x%x" % flags)
    start = HEADER_SIZE
    if version >= 5:
        if version == 5 and encoding != 0:
            raise ValueError("format version 5 (a chain) needs encoding 0 (identity), not %d" % encoding)
        if not 1 <= layers <= MAX_LAYERS:
            raise ValueError("layer count %d is out of range 1...%d" % (layers, MAX_LAYERS))
        if not (1 <= inp <= MAX_INPUT and 1 <= hidden <= MAX_HIDDEN and 1 <= outp <= MAX_OUTPUT):
            raise ValueError("input, hidden or output size out of range")
        if not 1 <= context <= MAX_CONTEXT:
            raise ValueError("context length %d is out of range 1...%d" % (context, MAX_CONTEXT))
        chain_length, skip, sample_rate, metadata_length = struct.unpack_from("<IIfI", data, 168)
        if not layers + 1 <= chain_length <= MAX_CHAIN:
            raise ValueError("chain length %d is out of range %d...%d" % (chain_length, layers + 1, MAX_CHAIN))
        if metadata_length > MAX_METADATA:
            raise ValueError("metadata length %d exceeds %d bytes" % (metadata_length, MAX_METADATA))
        start = directory_start(chain_length, metadata_length)
        if start > len(data):
            raise ValueError("file ends inside the chain table or the metadata")
        chain = [struct.unpack_from("<IIII", data, HEADER_SIZE + CHAIN_ENTRY_SIZE * i) for i in range(chain_length)]
        before, readout, after, learned = check_chain(kind, layers, inp, hidden, outp, chain)
        if version == 6 and (before or after or learned or skip or chain[-1][3] != 0):
            raise ValueError("a forecasting model (format version 6) is a plain recurrent stack and readout")
        if skip > min(inp, outp):
            raise ValueError("input skip %d exceeds min(input size %d, output size %d)" % (skip, inp, outp))
        if not (sample_rate >= 0 and sample_rate != float("inf")):
            raise ValueError("sample rate %r is not a finite value >= 0" % sample_rate)
        metadata_start = HEADER_SIZE + CHAIN_ENTRY_SIZE * chain_length
        metadata = parse_metadata(data[metadata_start : metadata_start + metadata_length])
        if any(data[metadata_start + metadata_length : start]):
            raise ValueError("padding after the metadata is not zero")
    seed, epochs, batch, seqs, lr, loss = struct.unpack_from("<QIIIff", data, 56)
    windows, seeds = struct.unpack_from("<II", data, 84)
    stats = struct.unpack_from("<8f", data, 92)
    family = data[128:160].split(b"\0")[0].decode("ascii")
    linear_order, horizons, quantiles = struct.unpack_from("<III", data, 184) if version >= 6 else (0, 0, 0)
    if version >= 6:
        if linear_order > 256 or horizons > 1024 or (quantiles != 0 if horizons == 0 else not 2 <= quantiles <= 255):
            raise ValueError("linear order %d, interval horizons %d or quantiles %d out of range"
                             % (linear_order, horizons, quantiles))
        if linear_order == 0 and horizons == 0:
            raise ValueError("format version 6 holds a linear term or forecast intervals; this file has neither")
    if version == 6:
        listed = table(kind, layers, inp, hidden, outp, encoding)
        if linear_order:
            listed += [(14, "linear.weight", outp, linear_order * inp), (15, "linear.bias", outp, 1)]
        if horizons:
            listed += [(160, "interval.probabilities", quantiles, 1), (161, "interval.quantiles", horizons, outp * quantiles)]
    elif version == 5:
        listed = chain_table(kind, hidden, chain)
    else:
        listed = table(kind, layers, inp, hidden, outp, encoding, experts, order)
    rows = {tid: (name, r, c) for tid, name, r, c in listed}
    if count != len(rows):
        raise ValueError("tensor count does not match the architecture")
    tensors = {}
    for i in range(count):
        tid, dtype, r, c, off, nbytes = struct.unpack_from("<IIIIQQ", data, start + i * ENTRY_SIZE)
        if tid not in rows or rows[tid][0] in tensors:
            raise ValueError(f"unknown or repeated tensor id {tid}")
        name, er, ec = rows[tid]
        if (r, c) != (er, ec) or dtype != 1 or nbytes != r * c * 4:
            raise ValueError(f"tensor {name}: bad directory entry")
        if off % ALIGN != 0 or off < start + count * ENTRY_SIZE or off + nbytes > len(data) - 4:
            raise ValueError(f"tensor {name}: offset {off} is not 64-byte aligned inside the data area")
        tensors[name] = {"shape": [r, c], "values": list(struct.unpack_from("<%df" % (nbytes // 4), data, off))}
    if version >= 5:
        tensors = {name: tensors[name] for _, name, _, _ in listed}  # chain order, whatever the directory's order
        for name, t in tensors.items():
            if any(v != v or v in (float("inf"), float("-inf")) for v in t["values"]):
                raise ValueError(f"tensor {name} has a value that is not finite")
    if horizons:
        probabilities = tensors["interval.probabilities"]["values"]
        if not all(0 < p < 1 for p in probabilities) or any(a >= b for a, b in zip(probabilities, probabilities[1:])):
            raise ValueError("interval probabilities must rise strictly inside (0, 1)")
        q = tensors["interval.quantiles"]["values"]
        for row in range(horizons * outp):
            r = q[row * quantiles:(row + 1) * quantiles]
            if any(a > b for a, b in zip(r, r[1:])):
                raise ValueError("interval quantiles fall within row %d" % row)
    info = dict(version=version, cell=KIND_NAMES[kind], layers=layers, input=inp, hidden=hidden, output=outp,
                context=context, encoding=encoding, seed=seed, epochs=epochs, batch=batch, sequences=seqs, lr=lr,
                final_loss=loss, family=family, windows=windows, seeds=seeds, stats=stats, experts=experts, order=order)
    if version >= 5:
        entries = []
        for kind_code, n_in, n_out, code in chain:
            if kind_code == DENSE:
                entries.append(dict(type="dense", inputs=n_in, outputs=n_out, activation=ACTIVATIONS[code]))
            else:
                entries.append(dict(type=KIND_NAMES[kind_code], inputs=n_in, outputs=n_out, flags=code))
        info.update(chain=entries, input_skip=skip, learned_initial_state=learned, sample_rate=sample_rate,
                    metadata=metadata)
    if version >= 6:
        info.update(linear_order=linear_order, interval_horizons=horizons, interval_quantiles=quantiles)
    info["tensors"] = tensors
    return info


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


def parse_chain(spec, kind, layers, inputs, hidden, outputs, learned=False):
    """A --chain SPEC (see the module docstring) as file entries. `kind` is None unless --cell was given (then the
    stack's cell must be it); `inputs` is None unless --inputs was given (then a first `dense:IN:OUT` must read it;
    without it, such a layer sets it, else 1); `outputs` is None unless --outputs was given. Returns
    (entries, kind, inputs, outputs)."""
    entries = []
    width = inputs
    stack = False
    for token in spec.split(","):
        parts = token.strip().split(":")
        head, rest = parts[0], parts[1:]
        activation = 0
        if rest and not rest[-1].isdigit():
            if rest[-1] not in ACTIVATIONS:
                raise ValueError("unknown activation %r in %r (one of %s)" % (rest[-1], token, ", ".join(ACTIVATIONS)))
            activation = ACTIVATIONS.index(rest[-1])
            rest = rest[:-1]
        sizes = [int(v) for v in rest]
        if head in KINDS:
            if stack or rest or activation:
                raise ValueError("%r: the chain has one recurrent stack, written as just rnn, gru or lstm" % token)
            if kind is not None and KINDS[head] != kind:
                raise ValueError("--cell and the chain's %s disagree" % head)
            kind = KINDS[head]
            if width is None:
                width = inputs = 1
            for k in range(layers):
                entries.append((kind, width if k == 0 else hidden, hidden, LEARNED_STATE if learned else 0))
            width = hidden
            stack = True
            continue
        if head == "fc":
            if not entries or entries[-1][0] == DENSE:
                raise ValueError("fc (the readout) must come right after the recurrent stack")
            if len(sizes) > 1:
                raise ValueError("%r: fc[:OUT][:ACT]" % token)
            if not sizes and outputs is None:
                raise ValueError("%r: fc needs its size, or --outputs" % token)
            entries.append((DENSE, width, sizes[0] if sizes else outputs, activation))
            width = entries[-1][2]
            continue
        if head != "dense" or len(sizes) not in (1, 2):
            raise ValueError("%r is not dense:[IN:]OUT[:ACT], rnn, gru, lstm or fc[:OUT][:ACT]" % token)
        if stack and (len(entries) == 0 or entries[-1][0] != DENSE):
            raise ValueError("%r: the stack must be followed by fc (the readout)" % token)
        if width is None:
            width = sizes[0] if len(sizes) == 2 else 1
            inputs = width
        if len(sizes) == 2 and sizes[0] != width:
            raise ValueError("%r reads %d values, but %d flow into it" % (token, sizes[0], width))
        entries.append((DENSE, width, sizes[-1], activation))
        width = sizes[-1]
    if not stack:
        raise ValueError("the chain needs a recurrent stack (rnn, gru or lstm)")
    if entries[-1][0] != DENSE:
        raise ValueError("the chain needs fc (the readout) after the recurrent stack")
    if outputs is not None and outputs != width:
        raise ValueError("--outputs %d, but the chain's last layer writes %d values" % (outputs, width))
    return entries, kind, inputs, width


def random_chain_model(hidden, chain, seed=0, context=5, kind=1, inputs=1, outputs=1, skip=0, sample_rate=0.0,
                       metadata=()):
    """A version-5 model with uniform random weights: PyTorch's default bounds (1/sqrt(H) for the recurrent layers
    and fc, 1/sqrt(in) for a dense layer), learned initial states uniform in [-0.5, 0.5]."""
    rng = random.Random(seed)
    rows = chain_table(kind, hidden, chain)
    tensors = []
    for tid, _, r, c in rows:
        if tid >= 128:  # dense{j}: the bound of nn.Linear(in, out), in = the weight's columns
            bound = 1 / chain[(tid - 128) // 2][1] ** 0.5
        elif tid % 16 in (12, 13):
            bound = 0.5
        else:
            bound = 1 / hidden ** 0.5
        tensors.append([rng.uniform(-bound, bound) for _ in range(r * c)])
    tensors = [list(struct.unpack("<%df" % len(t), struct.pack("<%df" % len(t), *t))) for t in tensors]
    return write(hidden, tensors, context=context, encoding=0, family="random", seed=seed, kind=kind, inputs=inputs,
                 outputs=outputs, chain=chain, skip=skip, sample_rate=sample_rate, metadata=metadata)


def forward_model(info):
    """A float64 forward pass of a model read by `read` (raw readouts: no encoding is applied). Returns
    (reset, step): reset() returns the state to its start (learned or zero), step(x) takes the I inputs of one time
    step and returns the O readouts as a numpy array."""
    import numpy as np

    if info["experts"]:
        raise ValueError("forward does not run a mixture-of-experts readout")
    t = {name: np.array(v["values"], dtype=np.float64).reshape(v["shape"]) for name, v in info["tensors"].items()}
    kind, layers, hidden, cell = KINDS[info["cell"]], info["layers"], info["hidden"], info["cell"]
    chain = info.get("chain") or [dict(type=cell)] * layers + [dict(type="dense", activation="none")]
    skip = info.get("input_skip", 0)
    before, after = [], []  # (W, b, activation) of the dense layers before the stack, and of fc and those after it
    seen = 0
    for j, entry in enumerate(chain):
        if entry["type"] != "dense":
            seen += 1
            continue
        prefix = "fc" if seen > 0 and not after else f"dense{j}"
        (before if seen == 0 else after).append(
            (t[prefix + ".weight"], t[prefix + ".bias"][:, 0], entry["activation"]))

    def sigmoid(v):
        return 1 / (1 + np.exp(-v))

    def act(name, v):
        if name == "tanh":
            return np.tanh(v)
        if name == "sigmoid":
            return sigmoid(v)
        if name == "relu":
            return np.maximum(v, 0)
        if name == "elu":
            return np.where(v > 0, v, np.expm1(np.minimum(v, 0)))
        if name == "softmax":
            e = np.exp(v - v.max())
            return e / e.sum()
        return v

    state = {}

    def reset():
        for k in range(layers):
            h0 = t.get(f"{cell}.h0_l{k}")
            c0 = t.get(f"{cell}.c0_l{k}")
            state[k] = (np.zeros(hidden) if h0 is None else h0[:, 0].copy(),
                        np.zeros(hidden) if c0 is None else c0[:, 0].copy())

    def step(x):
        x = np.asarray(x, dtype=np.float64)
        v = x
        for w, b, a in before:
            v = act(a, w @ v + b)
        for k in range(layers):
            h, c = state[k]
            gi = t[f"{cell}.weight_ih_l{k}"] @ v + t[f"{cell}.bias_ih_l{k}"][:, 0]
            gh = t[f"{cell}.weight_hh_l{k}"] @ h + t[f"{cell}.bias_hh_l{k}"][:, 0]
            H = hidden
            if kind == 1:
                h = np.tanh(gi + gh)
            elif kind == 2:  # gates r, z, n
                r = sigmoid(gi[:H] + gh[:H])
                z = sigmoid(gi[H : 2 * H] + gh[H : 2 * H])
                n = np.tanh(gi[2 * H :] + r * gh[2 * H :])
                h = (1 - z) * n + z * h
            else:  # gates i, f, g, o
                g = gi + gh
                i, f, o = sigmoid(g[:H]), sigmoid(g[H : 2 * H]), sigmoid(g[3 * H :])
                c = f * c + i * np.tanh(g[2 * H : 3 * H])
                h = o * np.tanh(c)
            state[k] = (h, c)
            v = h
        for w, b, a in after:
            v = act(a, w @ v + b)
        v = v.copy()
        v[:skip] += x[:skip]
        return v

    reset()
    return reset, step


def forward(info, lines):
    """`recur stream`'s reading of `lines` (see the module docstring) through forward_model; yields output lines."""
    import re

    reset, step = forward_model(info)
    for line in lines:
        tokens = [v for v in re.split(r"[ \t,]+", line.strip()) if v]
        if not tokens:
            reset()
            continue
        values = [float(v) for v in tokens]
        steps = [[v] for v in values] if info["input"] == 1 else [values]
        for x in steps:
            if len(x) != info["input"]:
                raise ValueError("a step needs %d values, found %d: %r" % (info["input"], len(x), line))
            yield " ".join("%.9g" % v for v in step(x))


def parse_random_options(args):
    """The options of `random`: {name: value} for the valued ones, True for flags, a list for --meta."""
    valued = {"--seed", "--encoding", "--context", "--cell", "--layers", "--inputs", "--outputs", "--experts",
              "--order", "--chain", "--skip", "--sample-rate"}
    opt = {"--meta": []}
    i = 0
    while i < len(args):
        name = args[i]
        if name == "--learned-state":
            opt[name] = True
            i += 1
        elif name == "--meta" and i + 1 < len(args):
            key, equals, value = args[i + 1].partition("=")
            if not equals:
                raise ValueError("--meta needs KEY=VALUE, not %r" % args[i + 1])
            opt[name].append((key, value))
            i += 2
        elif name in valued and i + 1 < len(args):
            opt[name] = args[i + 1]
            i += 2
        else:
            raise ValueError("unknown option or missing value: %s" % name)
    return opt


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "dump":
        info = read(open(sys.argv[2], "rb").read())
        for t in info["tensors"].values():
            t["values"] = t["values"][:4] + (["..."] if len(t["values"]) > 4 else [])
        print(json.dumps(info, indent=1, default=str))
    elif len(sys.argv) >= 4 and sys.argv[1] == "random":
        try:
            opt = parse_random_options(sys.argv[4:])
            hidden, seed, context = int(sys.argv[2]), int(opt.get("--seed", 0)), int(opt.get("--context", 5))
            layers = int(opt.get("--layers", 1))
            chained = any(name in opt for name in ("--chain", "--skip", "--learned-state", "--sample-rate")) \
                or opt["--meta"]
            if chained:
                if int(opt.get("--encoding", 0)) != 0 or "--experts" in opt or "--order" in opt:
                    raise ValueError("a chain (format version 5) has encoding 0 and no experts")
                kind = KINDS[opt["--cell"]] if "--cell" in opt else None
                inputs = int(opt["--inputs"]) if "--inputs" in opt else None
                outputs = int(opt["--outputs"]) if "--outputs" in opt else None
                learned = "--learned-state" in opt
                if "--chain" in opt:
                    chain, kind, inputs, outputs = parse_chain(opt["--chain"], kind, layers, inputs, hidden, outputs,
                                                               learned)
                else:
                    kind, inputs, outputs = kind or KINDS["rnn"], inputs or 1, outputs or 1
                    chain = plain_chain(kind, layers, inputs, hidden, outputs, learned)
                data = random_chain_model(hidden, chain, seed, context, kind, inputs, outputs,
                                          int(opt.get("--skip", 0)), float(opt.get("--sample-rate", 0)), opt["--meta"])
            else:
                kind = KINDS[opt.get("--cell", "rnn")]
                inputs, outputs = int(opt.get("--inputs", 1)), int(opt.get("--outputs", 1))
                experts = int(opt.get("--experts", 0))
                default_encoding = MIXTURE_ENCODING if experts > 0 else 1 if (inputs, outputs) == (1, 1) else 0
                order = int(opt.get("--order", context if experts > 0 else 0))
                data = random_model(hidden, seed, int(opt.get("--encoding", default_encoding)), context, kind, layers,
                                    inputs, outputs, experts, order)
        except (ValueError, KeyError) as error:
            sys.exit("recur_format.py random: %s" % error)
        open(sys.argv[3], "wb").write(data)
    elif len(sys.argv) == 3 and sys.argv[1] == "forward":
        info = read(open(sys.argv[2], "rb").read())
        for line in forward(info, sys.stdin):
            print(line)
    else:
        print(__doc__)
        sys.exit(2)
