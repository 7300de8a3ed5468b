#!/usr/bin/env python3
"""Writes Fixtures/audio: small WAV files in every encoding `recur process` reads, and deliberately broken ones.

Python standard library only; deterministic (re-running rewrites the same bytes). Every file is built here byte by
byte with `struct`, from the RIFF/WAVE layout (Microsoft's WAVEFORMATEX / WAVEFORMATEXTENSIBLE, EBU Tech 3306 for
RF64), not by an audio library, so the files test Recur's reading rather than agree with another reader.

Good files: 200 frames of a two-channel signal (channel 0 a rising sweep, channel 1 a falling one), quantized to
each encoding. NAME.samples.txt holds what each sample means as a float, one frame per line, channels separated by a
space: k / 2^(bits-1) for signed PCM, (u - 128) / 128 for 8-bit unsigned, the value itself for float (printed with
repr: exact). Broken files: broken.tsv lists each with the byte offset and a phrase its error must name.
"""
import math
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Fixtures", "audio")
FRAMES = 200
GUID_SUFFIX = bytes([0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71])


def signal():
    """[frames][2] floats in (-0.9, 0.9)."""
    rows = []
    for t in range(FRAMES):
        a = 0.8 * math.sin(2 * math.pi * (0.002 * t + 0.0004 * t * t)) * (0.2 + 0.8 * t / FRAMES)
        b = 0.7 * math.sin(2 * math.pi * (0.09 * t - 0.0002 * t * t) + 0.3)
        rows.append((a, b))
    return rows


def chunk(cid, body):
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def fmt_body(tag, channels, rate, bits, extensible=False, sub_tag=None):
    block = channels * bits // 8
    base = struct.pack("<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * block, block, bits)
    if not extensible:
        return base + (struct.pack("<H", 0) if tag == 3 else b"")
    mask = 0x3 if channels == 2 else 0x4
    return base + struct.pack("<HHI", 22, bits, mask) + struct.pack("<H", sub_tag or tag) + GUID_SUFFIX


def riff(chunks, form=b"WAVE"):
    body = form + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def encode(rows, kind, bits, channels):
    """(data bytes, decoded rows) for signed PCM, unsigned 8-bit or float."""
    data = bytearray()
    decoded = []
    for row in rows:
        out = []
        for v in row[:channels]:
            if kind == "float":
                if bits == 32:
                    v = struct.unpack("<f", struct.pack("<f", v))[0]
                    data += struct.pack("<f", v)
                else:
                    data += struct.pack("<d", v)
                out.append(v)
            elif bits == 8:
                u = max(0, min(255, round(v * 128) + 128))
                data.append(u)
                out.append((u - 128) / 128)
            else:
                scale = 1 << (bits - 1)
                k = max(-scale, min(scale - 1, round(v * scale)))
                data += k.to_bytes(bits // 8, "little", signed=True)
                out.append(k / scale)
        decoded.append(out)
    return bytes(data), decoded


def write(name, blob):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(blob)


def write_samples(name, decoded):
    with open(os.path.join(OUT, name), "w") as f:
        for row in decoded:
            f.write(" ".join(repr(float(v)) for v in row) + "\n")


def good_files(rows):
    cases = [
        ("pcm8-mono", "pcm", 8, 1, False),
        ("pcm16-stereo", "pcm", 16, 2, False),
        ("pcm16-mono", "pcm", 16, 1, False),
        ("pcm24-stereo", "pcm", 24, 2, False),
        ("pcm32-mono", "pcm", 32, 1, False),
        ("float32-stereo", "float", 32, 2, False),
        ("float64-mono", "float", 64, 1, False),
        ("extensible-pcm24-stereo", "pcm", 24, 2, True),
        ("extensible-float32-mono", "float", 32, 1, True),
    ]
    for name, kind, bits, channels, ext in cases:
        data, decoded = encode(rows, kind, bits, channels)
        tag = 3 if kind == "float" else 1
        # A LIST chunk before the data, as DAWs write, so the walk has something to skip.
        info = chunk(b"LIST", b"INFO" + chunk(b"ISFT", b"make_wav_fixtures\0"))
        write(name + ".wav", riff([chunk(b"fmt ", fmt_body(tag, channels, 48000, bits, ext)), info, chunk(b"data", data)]))
        write_samples(name + ".samples.txt", decoded)
    # RF64: the sizes in a ds64 chunk, 0xFFFFFFFF in the RIFF and data headers.
    data, decoded = encode(rows, "float", 32, 2)
    fmt = chunk(b"fmt ", fmt_body(3, 2, 48000, 32))
    body_len = 4 + (8 + 28) + len(fmt) + 8 + len(data)
    ds64 = b"ds64" + struct.pack("<I", 28) + struct.pack("<QQQI", body_len, len(data), FRAMES, 0)
    blob = b"RF64" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + ds64 + fmt + b"data" + struct.pack("<I", 0xFFFFFFFF) + data
    write("rf64-float32-stereo.wav", blob)
    write_samples("rf64-float32-stereo.samples.txt", decoded)


def broken_files(rows):
    data16, _ = encode(rows, "pcm", 16, 2)
    fmt16 = chunk(b"fmt ", fmt_body(1, 2, 48000, 16))
    good = riff([fmt16, chunk(b"data", data16)])
    data_at = 12 + len(fmt16)  # the data chunk's header
    cases = []

    def case(name, blob, offset, phrase):
        write(name + ".wav", blob)
        cases.append((name + ".wav", offset, phrase))

    case("truncated", good[: len(good) - 101], 4, "promises")
    lying_riff = bytearray(good)
    struct.pack_into("<I", lying_riff, 4, len(good) + 1000)
    case("lying-riff-size", bytes(lying_riff), 4, "promises")
    lying_data = bytearray(good)
    struct.pack_into("<I", lying_data, data_at + 4, len(data16) + 1000)
    case("lying-data-size", bytes(lying_data), data_at + 4, "promises")
    lying_list = riff([fmt16, b"LIST" + struct.pack("<I", 1 << 20) + b"INFO", chunk(b"data", data16)])
    case("lying-list-size", lying_list, 12 + len(fmt16) + 4, "promises")
    mulaw = riff([chunk(b"fmt ", struct.pack("<HHIIHH", 7, 1, 8000, 8000, 1, 8)), chunk(b"data", bytes(100))])
    case("mulaw", mulaw, 20, "µ-law")
    adpcm = riff([chunk(b"fmt ", struct.pack("<HHIIHHH", 2, 1, 44100, 22311, 512, 4, 0)), chunk(b"data", bytes(512))])
    case("adpcm", adpcm, 20, "MS ADPCM")
    zero = riff([chunk(b"fmt ", struct.pack("<HHIIHH", 1, 0, 48000, 0, 0, 16)), chunk(b"data", b"")])
    case("zero-channels", zero, 22, "0 channels")
    absurd = riff([chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 4_000_000_000, 0, 2, 16)), chunk(b"data", bytes(20))])
    case("absurd-rate", absurd, 24, "sample rate of 4000000000 Hz")
    no_rate = riff([chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 0, 0, 2, 16)), chunk(b"data", bytes(20))])
    case("zero-rate", no_rate, 24, "sample rate of 0 Hz")
    case("data-before-fmt", riff([chunk(b"data", data16), fmt16]), 12, "before any fmt")
    case("no-data", riff([fmt16]), 12 + len(fmt16), "no data chunk")
    case("no-fmt", riff([chunk(b"LIST", b"INFO")]), 24, "no fmt chunk")
    align = riff([chunk(b"fmt ", struct.pack("<HHIIHH", 1, 2, 48000, 192000, 2, 16)), chunk(b"data", data16)])
    case("block-align", align, 32, "block align")
    partial = riff([fmt16, chunk(b"data", data16[:-2])])
    case("partial-frame", partial, data_at + 4, "not a whole number")
    bad_guid = bytearray(fmt_body(1, 2, 48000, 24, extensible=True))
    bad_guid[30] ^= 0xFF
    case("extensible-unknown-guid", riff([chunk(b"fmt ", bytes(bad_guid)), chunk(b"data", bytes(12))]), 44, "GUID")
    case("pcm12", riff([chunk(b"fmt ", struct.pack("<HHIIHH", 1, 1, 48000, 96000, 2, 12)), chunk(b"data", bytes(20))]),
         34, "12-bit PCM")
    case("riff-avi", riff([chunk(b"avih", bytes(56))], form=b"AVI "), 8, "not WAVE")
    case("header-only", b"RIFF\x10\0\0\0WAV", 11, "12-byte RIFF header")
    binary_id = bytearray(good)
    binary_id[12:16] = b"\x00\x01\xfe\xff"
    case("binary-chunk-id", bytes(binary_id), 12, "not text")
    with open(os.path.join(OUT, "broken.tsv"), "w") as f:
        f.write("# file\tbyte offset\tphrase the error names (tools/audio/make_wav_fixtures.py)\n")
        for name, offset, phrase in cases:
            f.write(f"{name}\t{offset}\t{phrase}\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = signal()
    good_files(rows)
    broken_files(rows)


if __name__ == "__main__":
    main()
