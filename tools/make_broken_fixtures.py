#!/usr/bin/env python3
"""Writes Fixtures/broken/*.recur: deliberately damaged copies of Fixtures/models/odd.recur, and
Fixtures/broken/expected.tsv: for each file, the exact error `recur inspect --model FILE` must print after
"error: model file 'FILE': ".

The expected messages are written here by hand from the format specification (ModelFormat.md) and the reader's
documented wording, not captured from the reader; the checksum values in one of them are computed with zlib.
Damage behind the checksum (sizes, offsets, NaN) gets a recomputed checksum so the reader reaches that check.

    python3 tools/make_broken_fixtures.py       (run by tools/make-fixtures)
"""
import os
import struct
import zlib

from recur_format import fix_checksum

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
base = open(os.path.join(ROOT, "Fixtures/models/odd.recur"), "rb").read()
L = len(base)
assert L == 1736, "odd.recur is expected to be the H=16 vanilla model (1736 bytes)"


def put(data, offset, fmt, value, checksum=True):
    data = bytearray(data)
    struct.pack_into(fmt, data, offset, value)
    return fix_checksum(bytes(data)) if checksum else bytes(data)


flipped = bytearray(base)
flipped[600] ^= 0x01  # a weight_hh bit, checksum left alone
stored = struct.unpack_from("<I", base, L - 4)[0]
computed = zlib.crc32(bytes(flipped[: L - 4]))

cases = {
    "empty": (b"", "byte 0: file ends inside the magic (0 bytes)"),
    "truncated-header": (base[:100], "byte 100: file ends inside the header (100 of 256 bytes)"),
    "truncated-tensors": (base[:1000], "byte 1000: file is truncated: header declares 1736 bytes, found 1000"),
    "wrong-magic": (b"GGUF" + base[4:], 'byte 0: not a Recur model file (bad magic; expected "RECURNN\\x1A")'),
    "future-version": (put(base, 8, "<I", 5), "byte 8: format version 5 is not supported (this reader reads 1 to 4)"),
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
}

out_dir = os.path.join(ROOT, "Fixtures/broken")
os.makedirs(out_dir, exist_ok=True)
with open(os.path.join(out_dir, "expected.tsv"), "w") as table:
    for name, (data, message) in sorted(cases.items()):
        open(os.path.join(out_dir, name + ".recur"), "wb").write(data)
        table.write("%s.recur\t%s\n" % (name, message))
print("wrote %d broken model files to Fixtures/broken" % len(cases))
