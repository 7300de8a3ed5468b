#!/usr/bin/env python3
"""Compares the firmware's console output with golden directories, the rule of `recur golden check`.

Usage: compare.py CONSOLE.txt GOLDEN_DIR [TOLERANCE]
The console holds `@@case NAME` ... `@@end allocations=K` blocks (tools/Firmware/main.c: each value the hex of its
float32 bits, e.g. 0x3f800000); each block must equal GOLDEN_DIR/NAME.out value by value: |actual - expected| <= tolerance * max(|expected|, 1) (default: the
manifest's tolerance), the same line count and values per line, and K = 0. Prints one summary line per case and
exits 0 only when every case of the manifest matched.
"""
import struct
import sys


def value(token):
    """A console value (0x + 8 hex digits: float32 bits) or a golden one (decimal text)."""
    if token.startswith("0x"):
        return struct.unpack("<f", struct.pack("<I", int(token, 16)))[0]
    return float(token)


def blocks(console):
    out, name, lines = {}, None, []
    for line in console.split("\n"):
        if line.startswith("@@case "):
            name, lines = line[7:].strip(), []
        elif line.startswith("@@end") and name is not None:
            allocations = int(line.split("allocations=")[1].split()[0])
            out[name] = (lines, allocations)
            name = None
        elif name is not None:
            lines.append(line)
    return out


def manifest(directory):
    cases, tolerance = [], 1e-5
    with open(f"{directory}/golden.txt") as f:
        for line in f:
            fields = line.split()
            if fields and fields[0] == "case":
                cases.append(fields[1])
            elif fields and fields[0] == "tolerance":
                tolerance = float(fields[1])
    return cases, tolerance


def compare(actual, expected, tolerance):
    """(values compared, values moved, largest relative deviation, first problems)."""
    problems, compared, moved, largest = [], 0, 0, 0.0
    if len(actual) != len(expected):
        problems.append(f"line count: expected {len(expected)}, actual {len(actual)}")
    for number, (a, e) in enumerate(zip(actual, expected), 1):
        av, ev = a.split(), e.split()
        if len(av) != len(ev):
            moved += 1
            problems.append(f"line {number}: expected {len(ev)} values, actual {len(av)}")
            continue
        for k, (x, y) in enumerate(zip(ev, av), 1):
            compared += 1
            e, a = value(x), value(y)  # goldens hold finite numbers only
            deviation = abs(e - a) / max(abs(e), 1.0)  # NaN when the device printed one: within no tolerance
            largest = max(largest, deviation) if deviation == deviation else largest
            if not deviation <= tolerance:
                moved += 1
                problems.append(f"line {number}, value {k}: expected {x}, actual {value(y)!r} ({y})")
    return compared, moved, largest, problems


def main():
    console_path, directory = sys.argv[1], sys.argv[2]
    with open(console_path, errors="replace") as f:
        found = blocks(f.read())
    cases, tolerance = manifest(directory)
    if len(sys.argv) > 3:
        tolerance = float(sys.argv[3])
    ok = True
    for name in cases:
        if name not in found:
            print(f"  {directory}/{name}: MISSING from the firmware output")
            ok = False
            continue
        lines, allocations = found[name]
        with open(f"{directory}/{name}.out") as f:
            expected = f.read().split("\n")
        if expected and expected[-1] == "":
            expected.pop()
        compared, moved, largest, problems = compare(lines, expected, tolerance)
        good = not problems and allocations == 0
        ok = ok and good
        print(
            f"  {name}: {'ok' if good else 'DIFFERS'}: {compared} values, {moved} outside {tolerance:g} relative"
            f" (largest deviation {largest:.2g}), {allocations} allocations in the step loops"
        )
        for p in problems[:5]:
            print(f"    {p}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
