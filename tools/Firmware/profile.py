#!/usr/bin/env python3
"""Where a firmware image's measured steps spend their instructions: QEMU's execution log bucketed by function.

Runs the image's instruction-count mode in QEMU with one guest instruction per logged block (`-singlestep -d
exec,nochain`), counts the executed instructions between the first `fw_mark_begin` and the next `fw_mark_end` (the
stream loop that tools/firmware measures, 16 steps) and prints them per function (symbols from `arm-none-eabi-nm`,
demangled by `swift demangle`), most first, per step. Emulated instructions, not cycles (docs/bare-metal.md).

Usage: tools/Firmware/profile.py IMAGE.elf [--machine mps2-an386|mps2-an500] [--top N]
(images: FIRMWARE_OUT=DIR tools/firmware keeps them in DIR/m4 and DIR/m7)
"""
import argparse
import bisect
import collections
import os
import subprocess
import sys
import tempfile

from icount import executed_pcs  # the same reading of QEMU's log as the budget tables


def symbols(elf):
    table = []
    listing = subprocess.run(["arm-none-eabi-nm", "-S", "--defined-only", elf], capture_output=True, text=True,
                             check=True).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[2] in "tTwW":
            table.append((int(fields[0], 16) & ~1, fields[3]))
    table.sort()
    return table


def main():
    parser = argparse.ArgumentParser(description="Instructions per function of a firmware image's measured steps.")
    parser.add_argument("elf")
    parser.add_argument("--machine", default="mps2-an386")
    parser.add_argument("--top", type=int, default=20)
    args = parser.parse_args()
    table = symbols(args.elf)
    starts = [address for address, _ in table]
    marks = {name: address for address, name in table if name in ("fw_mark_begin", "fw_mark_end")}
    if len(marks) != 2:
        sys.exit("profile.py: the image has no fw_mark_begin/fw_mark_end (not a tools/firmware image?)")
    counts = collections.Counter()
    with tempfile.TemporaryDirectory() as scratch:
        log = os.path.join(scratch, "exec.log")
        subprocess.run(["qemu-system-arm", "-M", args.machine, "-nographic", "-monitor", "none", "-serial", "none",
                        "-kernel", args.elf, "-semihosting-config",
                        "enable=on,target=native,arg=firmware,arg=icount", "-singlestep", "-d", "exec,nochain",
                        "-D", log], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300, check=True)
        state = "before"
        for pc in executed_pcs(log):
            if state == "before" and pc == marks["fw_mark_begin"]:
                state = "in"
                continue
            if state == "in" and pc == marks["fw_mark_end"]:
                break
            if state == "in":
                i = bisect.bisect_right(starts, pc) - 1
                counts[table[i][1] if i >= 0 else "?"] += 1
    steps = 16  # ICOUNT_STEPS (tools/Firmware/main.c)
    total = sum(counts.values())
    top = counts.most_common(args.top)
    names = subprocess.run(["swift", "demangle", "--simplified"], input="\n".join(n for n, _ in top),
                           capture_output=True, text=True).stdout.splitlines()
    print(f"{total / steps:.0f} instructions per stream step ({total} over {steps} steps)")
    for (name, count), readable in zip(top, names):
        print(f"{count / steps:10.1f}  {100 * count / total:5.1f}%  {readable[:110]}")


if __name__ == "__main__":
    main()
