#!/usr/bin/env python3
"""Summarise the JSON files written by `seed_notebook.py --json` as markdown tables.

Usage:
  for s in 0 1 2 3 4; do
    /tmp/torchenv/bin/python tools/pytorch/seed_notebook.py --seed $s --warm --json /tmp/seedruns/seed$s.json
  done
  /tmp/torchenv/bin/python tools/pytorch/summarize_seed_runs.py /tmp/seedruns/seed*.json
"""
import json
import statistics
import sys


def fmt(v, nd=4):
    return f"{v:.{nd}f}"


def truth_odd(start, steps=20):
    last = start + 2 * 4
    return [last + 2 * k for k in range(1, steps + 1)]


def truth_fib(seed, steps=20):
    s = list(seed)
    for _ in range(steps):
        s.append(s[-1] + s[-2])
    return s[len(seed):]


def main(paths):
    runs = sorted((json.load(open(p)) for p in paths), key=lambda r: r["seed"])
    seeds = [r["seed"] for r in runs]

    print(f"## Seed notebook runs (torch {runs[0]['torch']}, {runs[0]['threads']} thread, seeds {seeds})\n")
    print("| seed | odd windows | odd final loss | fib windows | fib final loss | odd train s cold | odd train s warm | fib train s cold | fib train s warm | warm repeat bit-identical |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|:---:|")
    for r in runs:
        o, f = r["odd"], r["fib"]
        print(f"| {r['seed']} | {o['windows']} | {o['losses'][-1]:.6f} | {f['windows']} | {f['losses'][-1]:.6f} | "
              f"{o['train_seconds_cold']:.3f} | {o.get('train_seconds_warm', float('nan')):.3f} | "
              f"{f['train_seconds_cold']:.3f} | {f.get('train_seconds_warm', float('nan')):.3f} | "
              f"{o.get('repeat_bit_identical')}/{f.get('repeat_bit_identical')} |")
    med = lambda xs: statistics.median(xs)
    print(f"| **median** | | {med([r['odd']['losses'][-1] for r in runs]):.6f} | | {med([r['fib']['losses'][-1] for r in runs]):.6f} | "
          f"{med([r['odd']['train_seconds_cold'] for r in runs]):.3f} | {med([r['odd'].get('train_seconds_warm', float('nan')) for r in runs]):.3f} | "
          f"{med([r['fib']['train_seconds_cold'] for r in runs]):.3f} | {med([r['fib'].get('train_seconds_warm', float('nan')) for r in runs]):.3f} | |")

    print("\n### Per-epoch losses\n")
    for fam in ("odd", "fib"):
        print(f"{fam}:")
        for r in runs:
            print(f"  seed {r['seed']}: " + " ".join(f"{l:.6f}" for l in r[fam]["losses"]))

    print("\n### Notebook generations (8 steps)\n")
    print("| seed | odd from [1,3,5,7,9] | fib from [1,1,2,3,5,8] |")
    print("|---:|---|---|")
    for r in runs:
        o = ", ".join(fmt(v, 3) for v in r["odd"]["generation_8"][5:])
        f = ", ".join(fmt(v, 3) for v in r["fib"]["generation_8"][6:])
        print(f"| {r['seed']} | {o} | {f} |")

    print("\n### 20-step generations, headline seeds (full precision in the JSON)\n")
    for r in runs:
        print(f"seed {r['seed']} odd  [1,3,5,7,9]:   " + ", ".join(fmt(v, 3) for v in r["odd"]["generation_20"]["1"]))
        print(f"seed {r['seed']} fib  [1,1,2,3,5,8]: " + ", ".join(fmt(v, 3) for v in r["fib"]["generation_20"]["1,1,2,3,5,8"]))

    print("\n### Free-running generation error, |pred - truth|, median over the seeds (20 steps)\n")
    print("| model | seed | truth step1 / 8 / 20 | median pred step1 / 8 / 20 | median abs err step 1 | step 8 | step 20 | median rel err step 20 |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    cases = []
    for start in ("1", "21", "101", "999"):
        seed = [int(start) + 2 * i for i in range(5)]
        cases.append(("odd", start, seed, truth_odd(int(start))))
    for key in ("1,1,2,3,5,8", "2,3,5,8,13,21", "5,8,13,21,34"):
        seed = [int(x) for x in key.split(",")]
        cases.append(("fib", key, seed, truth_fib(seed)))
    for fam, key, seed, truth in cases:
        gens = [r[fam]["generation_20"][key] for r in runs]
        errs = {k: med([abs(g[k - 1] - truth[k - 1]) for g in gens]) for k in (1, 8, 20)}
        preds = {k: med([g[k - 1] for g in gens]) for k in (1, 8, 20)}
        rel20 = med([abs(g[19] - truth[19]) / abs(truth[19]) for g in gens])
        print(f"| {fam} | [{','.join(map(str, seed))}] | {truth[0]} / {truth[7]} / {truth[19]} | "
              f"{preds[1]:.3f} / {preds[8]:.3f} / {preds[20]:.3f} | {errs[1]:.3f} | {errs[8]:.3f} | {errs[20]:.3f} | {rel20:.4f} |")

    print("\n### Cross-family (model on the other family's seed), median prediction step 1 / 8 / 20\n")
    g = [r["odd"]["generation_20_on_fib_seed"] for r in runs]
    print(f"odd model on [1,1,2,3,5,8]: {med([x[0] for x in g]):.3f} / {med([x[7] for x in g]):.3f} / {med([x[19] for x in g]):.3f}")
    g = [r["fib"]["generation_20_on_odd_seed"] for r in runs]
    print(f"fib model on [1,3,5,7,9]:   {med([x[0] for x in g]):.3f} / {med([x[7] for x in g]):.3f} / {med([x[19] for x in g]):.3f}")


if __name__ == "__main__":
    main(sys.argv[1:])
