#!/usr/bin/env python3
"""Independent reference figures for the yearly sunspot series (classic split).

Usage: python3 sunspot_reference.py Fixtures/data/sunspots.csv

Classic split (Weigend, Huberman & Rumelhart 1990):
  train 1700-1920, test periods 1921-1955 and 1956-1979.

ARV (average relative variance) = MSE over a period / variance of all
1700-1979 values (population variance, divide by N).

One-step-ahead predictions always use the true past values (lags may reach
back into earlier periods, including the training years).

AR(p), p = 1..12, ordinary least squares with an intercept, fitted on the
training years only. Two fitting samples are reported:
  own    : equations for t = 1700+p .. 1920 (every equation whose lags all
           lie inside the training years; n = 221 - p);
  common : equations for t = 1712 .. 1920 for every p (n = 209), so that
           AIC = n*ln(RSS/n) + 2(p+1) is comparable across p.
The AIC-chosen p is taken from the common-sample fits.

Dependencies: Python standard library + numpy.
"""

import csv
import math
import sys

import numpy as np

TRAIN = (1700, 1920)
TESTS = [(1921, 1955), (1956, 1979)]
VAR_RANGE = (1700, 1979)
MAX_P = 12


def load(path):
    years, values = [], []
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if [h.strip() for h in header] != ["YEAR", "SUNACTIVITY"]:
            raise SystemExit("unexpected header: %r" % (header,))
        for row in reader:
            if not row:
                continue
            years.append(int(float(row[0])))
            values.append(float(row[1]))
    for a, b in zip(years, years[1:]):
        if b != a + 1:
            raise SystemExit("years not consecutive: %d -> %d" % (a, b))
    return years[0], np.array(values, dtype=np.float64)


def pop_var(x):
    x = np.asarray(x, dtype=np.float64)
    return float(np.mean((x - x.mean()) ** 2))


class Series:
    def __init__(self, first_year, values):
        self.first = first_year
        self.x = values

    def idx(self, year):
        i = year - self.first
        if i < 0 or i >= len(self.x):
            raise IndexError("year %d outside data" % year)
        return i

    def at(self, year):
        return self.x[self.idx(year)]

    def span(self, lo, hi):
        return self.x[self.idx(lo): self.idx(hi) + 1]


def design(s, p, t_lo, t_hi):
    """Rows [1, x_{t-1}, ..., x_{t-p}] and targets x_t for t in [t_lo, t_hi]."""
    X, y = [], []
    for t in range(t_lo, t_hi + 1):
        X.append([1.0] + [s.at(t - k) for k in range(1, p + 1)])
        y.append(s.at(t))
    return np.array(X), np.array(y)


def fit_ar(s, p, t_lo, t_hi):
    X, y = design(s, p, t_lo, t_hi)
    beta, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    if rank != p + 1:
        raise SystemExit("rank deficient design for p=%d" % p)
    resid = y - X @ beta
    rss = float(resid @ resid)
    n = len(y)
    aic = n * math.log(rss / n) + 2 * (p + 1)
    return beta, rss, n, aic


def predict_ar(s, beta, lo, hi):
    p = len(beta) - 1
    X, y = design(s, p, lo, hi)
    return X @ beta, y


def predict_persistence(s, lo, hi):
    pred = np.array([s.at(t - 1) for t in range(lo, hi + 1)])
    return pred, s.span(lo, hi)


def errs(pred, y, var_all):
    e = pred - y
    mse = float(np.mean(e ** 2))
    return {
        "mse": mse,
        "arv": mse / var_all,
        "rmse": math.sqrt(mse),
        "mae": float(np.mean(np.abs(e))),
    }


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: sunspot_reference.py <sunspots.csv>")
    first, values = load(sys.argv[1])
    s = Series(first, values)
    last = first + len(values) - 1
    print("data: %s  years %d-%d  rows %d" % (sys.argv[1], first, last, len(values)))
    print("split: train %d-%d; test %s" % (TRAIN[0], TRAIN[1],
          ", ".join("%d-%d" % t for t in TESTS)))
    print()

    var_all = pop_var(s.span(*VAR_RANGE))
    all_vals = s.span(*VAR_RANGE)
    print("== variances (population, divide by N) ==")
    print("  %d-%d  N=%3d  mean=%10.6f  var=%12.6f" % (
        VAR_RANGE[0], VAR_RANGE[1], len(all_vals), all_vals.mean(), var_all))
    tr = s.span(*TRAIN)
    print("  %d-%d  N=%3d  mean=%10.6f  var=%12.6f   (train, for info)" % (
        TRAIN[0], TRAIN[1], len(tr), tr.mean(), pop_var(tr)))
    for lo, hi in TESTS:
        v = s.span(lo, hi)
        print("  %d-%d  N=%3d  mean=%10.6f  var=%12.6f   (var/var_all=%.6f)" % (
            lo, hi, len(v), v.mean(), pop_var(v), pop_var(v) / var_all))
    print()

    periods = [("train", TRAIN[0] + 1, TRAIN[1])] + [
        ("%d-%d" % t, t[0], t[1]) for t in TESTS]

    print("== persistence (x_hat_t = x_{t-1}) ==")
    print("  note: the train row starts at %d (needs x_{t-1})" % (TRAIN[0] + 1))
    pers = {}
    for name, lo, hi in periods:
        pred, y = predict_persistence(s, lo, hi)
        r = errs(pred, y, var_all)
        pers[name] = r
        print("  %-10s n=%3d  ARV=%.6f  MSE=%11.4f  RMSE=%9.4f  MAE=%9.4f" % (
            name, len(y), r["arv"], r["mse"], r["rmse"], r["mae"]))
    print()

    results = {}
    for variant in ("own", "common"):
        if variant == "own":
            title = "AR(p) OLS + intercept, own sample t=1700+p..1920 (n=221-p)"
        else:
            title = "AR(p) OLS + intercept, common sample t=%d..1920 (n=%d)" % (
                TRAIN[0] + MAX_P, TRAIN[1] - TRAIN[0] - MAX_P + 1)
        print("== %s ==" % title)
        print("  %2s %4s %14s %12s %12s %12s %12s" % (
            "p", "n", "RSS", "AIC", "ARV train", "ARV 21-55", "ARV 56-79"))
        results[variant] = {}
        for p in range(1, MAX_P + 1):
            t_lo = TRAIN[0] + (p if variant == "own" else MAX_P)
            beta, rss, n, aic = fit_ar(s, p, t_lo, TRAIN[1])
            row = {"beta": beta, "rss": rss, "n": n, "aic": aic,
                   "train_lo": t_lo}
            pt, yt = predict_ar(s, beta, t_lo, TRAIN[1])
            row["train"] = errs(pt, yt, var_all)
            for lo, hi in TESTS:
                pr, y = predict_ar(s, beta, lo, hi)
                row["%d-%d" % (lo, hi)] = errs(pr, y, var_all)
            results[variant][p] = row
            print("  %2d %4d %14.4f %12.4f %12.6f %12.6f %12.6f" % (
                p, n, rss, aic, row["train"]["arv"],
                row["1921-1955"]["arv"], row["1956-1979"]["arv"]))
        if variant == "own":
            print("  (AIC in this table uses a different n per p; not comparable across p)")
        print()

    common = results["common"]
    p_best = min(common, key=lambda p: common[p]["aic"])
    own_best = min(results["own"], key=lambda p: results["own"][p]["aic"])
    print("== AIC choice ==")
    print("  common-sample AIC minimised at p=%d (AIC=%.4f)" % (
        p_best, common[p_best]["aic"]))
    print("  (for info: own-sample AIC, not comparable, minimised at p=%d)" % own_best)
    print()

    for variant in ("common", "own"):
        row = results[variant][p_best]
        b = row["beta"]
        print("== AR(%d) [%s-sample fit, train eqs %d-%d] coefficients ==" % (
            p_best, variant, row["train_lo"], TRAIN[1]))
        print("  intercept = %.6f" % b[0])
        for k in range(1, p_best + 1):
            print("  phi_%-2d     = %+.6f" % (k, b[k]))
        print()

    print("== RMSE / MAE per period ==")
    print("  %-34s %-10s %4s %10s %10s %10s" % (
        "model", "period", "n", "ARV", "RMSE", "MAE"))
    for lo, hi in TESTS:
        name = "%d-%d" % (lo, hi)
        n = hi - lo + 1
        r = pers[name]
        print("  %-34s %-10s %4d %10.6f %10.4f %10.4f" % (
            "persistence", name, n, r["arv"], r["rmse"], r["mae"]))
        for variant in ("common", "own"):
            r = results[variant][p_best][name]
            print("  %-34s %-10s %4d %10.6f %10.4f %10.4f" % (
                "AR(%d) %s-sample fit" % (p_best, variant), name, n,
                r["arv"], r["rmse"], r["mae"]))


if __name__ == "__main__":
    main()
