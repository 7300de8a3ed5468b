#!/usr/bin/env python3
"""PyTorch beside `recur-train fit` on the sunspot command of docs/training.md: the same cell, size, window, batch, epochs and
learning rate, the same data preparation, timed the same way (whole run, per-epoch validation included).

    python3 tools/pytorch/fit_sunspots_torch.py Fixtures/data/sunspots.csv [--epochs 82] [--threads 1]

What it reproduces of `recur-train fit FILE --inputs SUNACTIVITY` on rows 1700-1920 (docs/training.md):
  - the last 20 % of the 221 training years (44 steps, 1877-1920) held out for validation, the rest (177) trained on;
  - standardize-differences: u_t = v_t - v_{t-1} (u_0 = 0), standardised with the training part's mean and sample sd;
  - every window of 16 consecutive steps from a zero state, loss (MSE) on every step, minibatches of 32 shuffled each
    epoch, Adam lr 0.003, nn.GRU(1, 32) + nn.Linear(32, 1) with PyTorch's default initialisation;
  - after every epoch, one-step predictions of the 44 validation steps, each from the last 16 steps (as the runtime
    does), scored as ARV.
It does not reproduce Recur's random draws (GSL), so its losses differ; it measures time. Not used by any test.
"""
import argparse
import csv
import time

import torch

parser = argparse.ArgumentParser()
parser.add_argument("data")
parser.add_argument("--epochs", type=int, default=82)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)

values = []
with open(args.data) as fh:
    rows = csv.reader(fh)
    next(rows)
    for row in rows:
        if row and 1700 <= int(row[0]) <= 1920:
            values.append(float(row[1]))
assert len(values) == 221
held = round(len(values) * 0.2)
train = values[: len(values) - held]
W, H, BATCH, LR = 16, 32, 32, 0.003

u = [0.0] + [b - a for a, b in zip(values, values[1:])]
train_u = [b - a for a, b in zip(train, train[1:])]
mean = sum(train_u) / len(train_u)
sd = (sum((x - mean) ** 2 for x in train_u) / (len(train_u) - 1)) ** 0.5
x_all = torch.tensor([(x - mean) / sd for x in u], dtype=torch.float32)

n_train = len(train)
starts = list(range(0, n_train - 1 - W + 1))
inputs = torch.stack([x_all[s : s + W] for s in starts]).unsqueeze(-1)
targets = torch.stack([x_all[s + 1 : s + W + 1] for s in starts]).unsqueeze(-1)


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(1, H, batch_first=True)
        self.fc = torch.nn.Linear(H, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out)


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=LR)
loss_fn = torch.nn.MSELoss()

# Validation: predict step t+1 for t = n_train-1 ... len-2 from the last min(t+1, W) steps.
val_windows = torch.stack([x_all[t - W + 1 : t + 1] for t in range(n_train - 1, len(values) - 1)]).unsqueeze(-1)
val_truth = torch.tensor(values[n_train:])
val_last = torch.tensor(values[n_train - 1 : -1])
val_var = float(((val_truth - val_truth.mean()) ** 2).mean())

start = time.perf_counter()
train_time = 0.0
best = float("inf")
for epoch in range(1, args.epochs + 1):
    t0 = time.perf_counter()
    order = torch.randperm(len(starts))
    total = 0.0
    for b in range(0, len(starts), BATCH):
        idx = order[b : b + BATCH]
        opt.zero_grad()
        loss = loss_fn(model(inputs[idx]), targets[idx])
        loss.backward()
        opt.step()
        total += float(loss.detach()) * len(idx)
    train_time += time.perf_counter() - t0
    with torch.no_grad():
        y = model(val_windows)[:, -1, 0]
        pred = val_last + mean + sd * y
        arv = float(((pred - val_truth) ** 2).mean()) / val_var
    best = min(best, arv)
elapsed = time.perf_counter() - start
print(
    "PyTorch %s, %d thread(s): %d epochs of %d windows (batch %d), GRU(1, %d) + Linear, window %d: "
    "%.3f s in all (%.3f s training, the rest per-epoch validation); best validation ARV %.4f"
    % (torch.__version__, args.threads, args.epochs, len(starts), BATCH, H, W, elapsed, train_time, best)
)
