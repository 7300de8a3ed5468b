#!/usr/bin/env python3
"""Counts the guest instructions QEMU executed between the firmware's markers, from its execution log.

QEMU runs the image with `-singlestep -d exec,nochain -D LOG`: one translation block per guest instruction and one
`Trace` line per block executed, so the lines between a call of `fw_mark_begin` and the next `fw_mark_end`
(tools/Firmware/startup.c) are the instructions of the measured loop (the marker calls themselves excluded).
Emulated counts: every instruction counts 1, whatever its cycles on a real Cortex-M4 (no pipeline, no wait states,
no cache effects). The firmware prints `@@icount KIND steps=N` before each measured loop.

LOG may be a named pipe (tools/firmware uses one: a full log of a large model is gigabytes).
Usage: icount.py LOG CONSOLE BEGIN_HEX END_HEX   -> one line per measured loop: KIND N INSTRUCTIONS
"""
import re
import sys


PC_FIELD = re.compile(rb"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")


def executed_pcs(log):
    """The guest address of every instruction QEMU's execution log records, in order (also tools/Firmware/profile.py)."""
    with open(log, "rb") as f:
        for line in f:
            m = PC_FIELD.match(line)
            if m:
                yield int(m.group(1), 16)


def main():
    log, console, begin, end = sys.argv[1], sys.argv[2], int(sys.argv[3], 16), int(sys.argv[4], 16)
    counts, counting, n = [], False, 0
    for pc in executed_pcs(log):
        if pc == begin:
            counting, n = True, -1  # the marker's own `bx lr` is not part of the loop
        elif pc == end and counting:
            counts.append(n)
            counting = False
        if counting:
            n += 1
    # Read after the log: the log may be a pipe that QEMU is still writing, and its end means QEMU has exited.
    with open(console, errors="replace") as f:
        loops = re.findall(r"^@@icount (\w+) steps=(\d+)$", f.read(), re.M)
    if len(counts) != len(loops):
        sys.exit(f"icount.py: {len(loops)} measured loops announced, {len(counts)} found in {log}")
    for (kind, steps), count in zip(loops, counts):
        print(kind, steps, count)


if __name__ == "__main__":
    main()
