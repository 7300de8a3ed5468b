#!/usr/bin/env python3
"""Writes Fixtures/broken/*.recur: deliberately damaged copies of Fixtures/models/odd.recur and (the chain-* files) of
a small format-version-5 chain written here by recur_format.py, and Fixtures/broken/expected.tsv: for each file, the
exact error `recur inspect --model FILE` must print after "error: model file 'FILE': ".

The expected messages are written here by hand from the format specification (ModelFormat.md; for version 5, the
reader's source, Sources/RecurRuntime/Format/ModelReader.swift) and the reader's documented wording, not captured from
the reader; the checksum values in one of them are computed with zlib.
Damage behind the checksum (sizes, offsets, NaN) gets a recomputed checksum so the reader reaches that check.

    python3 tools/make_broken_fixtures.py       (run by tools/make-fixtures)
"""
import os
import struct
import zlib

from recur_format import DENSE, KINDS, fix_checksum, write

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
base = open(os.path.join(ROOT, "Fixtures/models/odd.recur"), "rb").read()
L = len(base)
assert L == 1736, "odd.recur is expected to be the H=16 vanilla model (1736 bytes)"


def put(data, offset, fmt, value, checksum=True):
    data = bytearray(data)
    struct.pack_into(fmt, data, offset, value)
    return fix_checksum(bytes(data)) if checksum else bytes(data)


# A small version-5 chain, written deterministically (no random numbers): input 2, dense 2->3 tanh, two GRU layers of
# hidden 4 with learned initial states, the readout fc 4->3 elu, dense 3->3; input skip 1, sample rate 48 kHz, two
# metadata lines. Weights are multiples of 1/32, exact in float32.
GRU = KINDS["gru"]
chain = [(DENSE, 2, 3, 1), (GRU, 3, 4, 1), (GRU, 4, 4, 1), (DENSE, 4, 3, 4), (DENSE, 3, 3, 0)]
shapes = [(3, 2), (3, 1)] + [(12, 3), (12, 4), (12, 1), (12, 1), (4, 1)] + [(12, 4), (12, 4), (12, 1), (12, 1), (4, 1)]
shapes += [(3, 4), (3, 1), (3, 3), (3, 1)]
tensors = [[((7 * t + 13 * e) % 17 - 8) / 32 for e in range(r * c)] for t, (r, c) in enumerate(shapes)]
chain_base = write(4, tensors, context=1, encoding=0, family="broken-fixture", kind=GRU, inputs=2, outputs=3,
                   chain=chain, skip=1, sample_rate=48000.0,
                   metadata=[("name", "broken-base"), ("source", "tools/make_broken_fixtures.py")])
# The layout the messages below count on: chain table at 256 (5 entries of 16 bytes), metadata at 336 (17 + 37 bytes,
# the second line at 353), zero padding 390..<416, the directory at 416.
assert len(chain_base) == 2448 and chain_base[336:390].count(b"\n") == 2 and chain_base[353:359] == b"source"
assert struct.unpack_from("<IIfI", chain_base, 168) == (5, 1, 48000.0, 54)

flipped = bytearray(base)
flipped[600] ^= 0x01  # a weight_hh bit, checksum left alone
stored = struct.unpack_from("<I", base, L - 4)[0]
computed = zlib.crc32(bytes(flipped[: L - 4]))

cases = {
    "empty": (b"", "byte 0: file ends inside the magic (0 bytes)"),
    "truncated-header": (base[:100], "byte 100: file ends inside the header (100 of 256 bytes)"),
    "truncated-tensors": (base[:1000], "byte 1000: file is truncated: header declares 1736 bytes, found 1000"),
    "wrong-magic": (b"GGUF" + base[4:], 'byte 0: not a Recur model file (bad magic; expected "RECURNN\\x1A")'),
    "future-version": (put(base, 8, "<I", 7), "byte 8: format version 7 is not supported (this reader reads 1 to 6)"),
    "experts-in-v1": (put(base, 160, "<I", 1), "byte 160: reserved header bytes are not zero"),
    "mixture-needs-window-differences": (
        put(put(put(base, 8, "<I", 4), 124, "<I", 1), 160, "<Q", 1 | 1 << 32),
        "byte 44: format version 4 (a mixture of experts) needs encoding window-differences, not sequence-max-scale",
    ),
    "standardize-in-v1": (
        put(base, 44, "<I", 3),
        "byte 44: encoding 3 is not supported by format version 1 (1 = sequence-max-scale, 2 = window-differences)",
    ),
    "lstm-cell": (put(base, 24, "<I", 3), "byte 24: cell kind 3 is not supported by format version 1 (1 = vanilla tanh)"),
    "oversized-hidden": (put(base, 32, "<I", 1 << 20), "byte 32: hidden size 1048576 is out of range 1...1024"),
    "overflow-bait": (
        put(base, 256 + 32 + 16, "<Q", 2**64 - 64),
        "byte 304: tensor rnn.weight_hh_l0 (1024 bytes at offset 18446744073709551552) lies outside the data area "
        "448..<1732",
    ),
    "length-bait": (
        put(base, 256 + 32 + 24, "<Q", 2**64 - 1),
        "byte 312: tensor rnn.weight_hh_l0 byte length 18446744073709551615 is not 1024",
    ),
    "nan-weight": (put(base, 512, "<I", 0x7FC00000), "byte 512: tensor rnn.weight_hh_l0 element 0 is not finite"),
    "bad-checksum": (
        bytes(flipped),
        "byte 1732: checksum mismatch: stored 0x%08x, computed 0x%08x" % (stored, computed),
    ),
    "trailing-bytes": (base + b"\0" * 16, "byte 1736: 16 unexpected bytes after the declared end"),
    # Version 5, damage to the chain above.
    "chain-length-out-of-range": (
        put(chain_base, 168, "<I", 17),
        "byte 168: chain length 17 is out of range 3...16 for 2 recurrent layers and a readout",
    ),
    "chain-dense-inside-stack": (
        put(chain_base, 256 + 2 * 16, "<Q", 4 << 32 | DENSE),  # type 0 (dense), inputs 4; outputs 4, flags 1 stay
        "byte 288: chain entry 2: a dense layer inside the recurrent stack (1 of 2 layers so far)",
    ),
    "chain-unknown-activation": (
        put(chain_base, 256 + 12, "<I", 6),
        "byte 268: chain entry 0: activation 6 is not one of 0 = none, 1 = tanh, 2 = sigmoid, 3 = relu, 4 = elu, "
        "5 = softmax",
    ),
    "chain-learned-state-differs": (
        put(chain_base, 256 + 2 * 16 + 12, "<I", 0),
        "byte 300: chain entry 2: flags 0 (0, or 1 = learned initial state, the same for every recurrent layer)",
    ),
    "chain-skip-too-large": (
        put(chain_base, 172, "<I", 3),
        "byte 172: input skip 3 exceeds min(input size 2, output size 3)",
    ),
    "chain-metadata-without-equals": (
        put(chain_base, 353 + 6, "<B", ord(":")),
        "byte 353: metadata line is not UTF-8 `key=value`",
    ),
    "chain-metadata-padding": (put(chain_base, 400, "<B", 1), "byte 400: padding byte after the metadata is not zero"),
    "chain-reserved-184": (put(chain_base, 184, "<B", 1), "byte 184: reserved header bytes are not zero"),
    "chain-not-identity": (
        put(chain_base, 44, "<I", 1),
        "byte 44: encoding 1 is not supported by format version 5 (0 = identity)",
    ),
}

out_dir = os.path.join(ROOT, "Fixtures/broken")
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "expected.tsv"), "w") as table:
    for name, (data, message) in sorted(cases.items()):
        open(os.path.join(out_dir, name + ".recur"), "wb").write(data)
        table.write("%s.recur\t%s\n" % (name, message))
print("wrote %d broken model files to Fixtures/broken" % len(cases))
