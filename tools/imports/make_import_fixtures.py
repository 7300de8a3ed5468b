#!/usr/bin/env python3
"""Writes Fixtures/imports/: small recurrent models in the file formats of the guitar-amp-modelling ecosystem,
each with a deterministic input sequence and the outputs a float64 reference computes for it.

    python3 tools/imports/make_import_fixtures.py      (from the repository root; numpy only)

Formats (see Fixtures/imports/README.md and the notes the importers were written from):
  * GuitarML / Automated-GuitarAmpModelling (CoreAudioML `SimpleRNN.save_model`): {"model_data", "state_dict"},
    PyTorch nn.LSTM / nn.GRU state_dict, json.dump without indentation.
  * RTNeural's Keras JSON (`python/model_utils.py` `save_model`): {"in_shape", "layers"}, Keras get_weights()
    layouts, json.dump(indent=4); the AIDA-X variant adds "in_skip", "input_batch", "output_batch", "metadata".
  * Neural Amp Modeler .nam, architecture "LSTM" (neural-amp-modeler `nam/models/recurrent.py` export).

Every model file is written the way the real exporter writes it (key order, nesting, layouts, float32 values
printed as Python floats). The expected outputs are computed by three separate float64 references below, one per
format, each reading the model file back from disk and applying that format's own equations directly (PyTorch
gate order and bias pairs; Keras kernels and GRU reset_after biases; NAM's flat weight vector) - there is no common
converted form between them.

The references are checked against RTNeural's own test vectors (RTNEURAL_DIR, a checkout of RTNeural):
Keras models through the Keras reference, RTNeural's PyTorch state_dict models through the PyTorch cells the
GuitarML reference uses. The run fails if a reference misses those vectors by more than REFERENCE_TOLERANCE.
"""
import json
import math
import os
import sys

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT = os.path.join(ROOT, "Fixtures", "imports")
# RTNeural's own test models and vectors are not copied into this repository (fetched third-party data stays out of
# it): point RTNEURAL_DIR at a checkout of jatinchowdhury18/RTNeural (its models/ and test_data/) to validate against.
RTNEURAL_DIR = os.environ.get("RTNEURAL_DIR", "")

N_STEPS = 2048
SEED = 0x5EC0
KNOB_BLOCK = 256
REFERENCE_TOLERANCE = 1.0e-5

# --------------------------------------------------------------------------------------------------------------
# small helpers


def f32(a):
    """Rounds to float32 (what torch / Keras / NAM store) and returns float64 holding those exact values."""
    return np.asarray(a, dtype=np.float32).astype(np.float64)


def as_json(a):
    """float32-valued arrays -> nested Python lists of floats, as torch .tolist() / numpy .tolist() produce."""
    return f32(a).tolist()


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def write_text(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as fp:
        fp.write(text)


def write_json(path, obj, indent=None):
    # As the exporters call json.dump: default separators, no trailing newline; indent=4 for the Keras/AIDA-X
    # writers, none for CoreAudioML and NAM.
    text = json.dumps(obj, indent=indent)
    write_text(path, text)


def read_json(path):
    with open(path, encoding="utf-8") as fp:
        return json.load(fp)


def write_inputs(path, X):
    """One step per line, the step's input values separated by one space; each value is a float32 written as the
    shortest decimal that reads back to the same double (so reading it as Float or Double is exact)."""
    lines = [" ".join(repr(float(v)) for v in row) for row in X]
    write_text(path, "\n".join(lines) + "\n")


def read_inputs(path):
    with open(path, encoding="utf-8") as fp:
        rows = [[float(v) for v in line.split(" ")] for line in fp.read().splitlines()]
    return np.array(rows, dtype=np.float64)


def write_expected(path, Y):
    lines = [" ".join("%.9e" % v for v in row) for row in Y]
    write_text(path, "\n".join(lines) + "\n")


# --------------------------------------------------------------------------------------------------------------
# inputs


def audio_signal(rng, n):
    """Sine sweep (40 Hz -> 9 kHz at 48 kHz, rising envelope) + light noise, a loud noise burst, a silent gap,
    isolated spikes of |x| in [1.2, 1.5] and a short +-1.5 square burst; clipped to +-1.5, float32."""
    t = np.arange(n, dtype=np.float64)
    fs, fa, fb = 48000.0, 40.0, 9000.0
    k = math.log(fb / fa)
    duration = n / fs
    phase = 2.0 * np.pi * fa * duration / k * (np.exp(t / n * k) - 1.0)
    x = (0.2 + 0.6 * t / n) * np.sin(phase) + 0.03 * rng.standard_normal(n)
    a, b = int(0.55 * n), int(0.62 * n)
    x[a:b] = 0.7 * rng.uniform(-1.0, 1.0, b - a)
    s0, s1 = int(0.70 * n), int(0.74 * n)
    x[s0:s1] = 0.0
    spikes = rng.choice(n, 10, replace=False)
    x[spikes] = rng.choice([-1.0, 1.0], 10) * rng.uniform(1.2, 1.5, 10)
    q = int(0.86 * n)
    x[q:q + 24] = np.where((np.arange(24) // 6) % 2 == 0, 1.5, -1.5)
    return f32(np.clip(x, -1.5, 1.5))


def knob_signal(rng, n, block=KNOB_BLOCK):
    """A knob in [0, 1] held constant for `block` steps at a time; the first two blocks are 0 and 1."""
    values = rng.uniform(0.0, 1.0, (n + block - 1) // block)
    values[0], values[1] = 0.0, 1.0
    return f32(np.repeat(values, block)[:n])


# --------------------------------------------------------------------------------------------------------------
# GuitarML / Automated-GuitarAmpModelling (CoreAudioML SimpleRNN): generator and PyTorch-semantics reference


def make_guitarml(rng, unit_type, input_size, hidden_size, num_layers, skip, output_size, bias_fl, head_scale=2.0):
    gates = {"LSTM": 4, "GRU": 3}[unit_type]
    H = hidden_size
    k = 1.0 / math.sqrt(H)
    state = {}
    # nn.LSTM / nn.GRU state_dict order: per layer weight_ih, weight_hh, bias_ih, bias_hh; then nn.Linear.
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else H
        w_ih = rng.uniform(-1.0, 1.0, (gates * H, n_in)) * (2.5 * k if layer == 0 else 1.5 * k)
        w_hh = rng.uniform(-1.0, 1.0, (gates * H, H)) * 1.5 * k
        b_ih = rng.uniform(-k, k, gates * H)
        b_hh = rng.uniform(-k, k, gates * H)
        if unit_type == "LSTM":
            b_ih[H:2 * H] += 0.75  # a forget bias, as trained models have
        state["rec.weight_ih_l%d" % layer] = as_json(w_ih)
        state["rec.weight_hh_l%d" % layer] = as_json(w_hh)
        state["rec.bias_ih_l%d" % layer] = as_json(b_ih)
        state["rec.bias_hh_l%d" % layer] = as_json(b_hh)
    state["lin.weight"] = as_json(rng.uniform(-1.0, 1.0, (output_size, H)) * head_scale * k)
    if bias_fl:
        state["lin.bias"] = as_json(rng.uniform(-0.1, 0.1, output_size))
    model_data = {"model": "SimpleRNN", "input_size": input_size, "skip": skip, "output_size": output_size,
                  "unit_type": unit_type, "num_layers": num_layers, "hidden_size": hidden_size, "bias_fl": bias_fl}
    return {"model_data": model_data, "state_dict": state}


def torch_lstm_layer(state, prefix, layer, X, H):
    """torch.nn.LSTM, one layer, zero initial state. Rows of W_ih/W_hh/b are gates i, f, g, o."""
    W_ih = np.array(state["%sweight_ih_l%d" % (prefix, layer)], dtype=np.float64)
    W_hh = np.array(state["%sweight_hh_l%d" % (prefix, layer)], dtype=np.float64)
    b_ih = np.array(state["%sbias_ih_l%d" % (prefix, layer)], dtype=np.float64)
    b_hh = np.array(state["%sbias_hh_l%d" % (prefix, layer)], dtype=np.float64)
    assert W_ih.shape == (4 * H, X.shape[1]) and W_hh.shape == (4 * H, H)
    assert b_ih.shape == (4 * H,) and b_hh.shape == (4 * H,)
    h = np.zeros(H)
    c = np.zeros(H)
    out = np.empty((X.shape[0], H))
    for t in range(X.shape[0]):
        g = W_ih @ X[t] + b_ih + W_hh @ h + b_hh
        i = sigmoid(g[0:H])
        f = sigmoid(g[H:2 * H])
        cand = np.tanh(g[2 * H:3 * H])
        o = sigmoid(g[3 * H:4 * H])
        c = f * c + i * cand
        h = o * np.tanh(c)
        out[t] = h
    return out


def torch_gru_layer(state, prefix, layer, X, H):
    """torch.nn.GRU, one layer, zero initial state. Rows are gates r, z, n;
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h."""
    W_ih = np.array(state["%sweight_ih_l%d" % (prefix, layer)], dtype=np.float64)
    W_hh = np.array(state["%sweight_hh_l%d" % (prefix, layer)], dtype=np.float64)
    b_ih = np.array(state["%sbias_ih_l%d" % (prefix, layer)], dtype=np.float64)
    b_hh = np.array(state["%sbias_hh_l%d" % (prefix, layer)], dtype=np.float64)
    assert W_ih.shape == (3 * H, X.shape[1]) and W_hh.shape == (3 * H, H)
    assert b_ih.shape == (3 * H,) and b_hh.shape == (3 * H,)
    h = np.zeros(H)
    out = np.empty((X.shape[0], H))
    for t in range(X.shape[0]):
        gi = W_ih @ X[t] + b_ih
        gh = W_hh @ h + b_hh
        r = sigmoid(gi[0:H] + gh[0:H])
        z = sigmoid(gi[H:2 * H] + gh[H:2 * H])
        n = np.tanh(gi[2 * H:3 * H] + r * gh[2 * H:3 * H])
        h = (1.0 - z) * n + z * h
        out[t] = h
    return out


def torch_rnn(state, prefix, unit_type, num_layers, X, H):
    layer_fn = {"LSTM": torch_lstm_layer, "GRU": torch_gru_layer}[unit_type]
    for layer in range(num_layers):
        X = layer_fn(state, prefix, layer, X, H)
    return X


def torch_linear(state, prefix, X):
    W = np.array(state[prefix + "weight"], dtype=np.float64)  # [out][in]
    y = X @ W.T
    if prefix + "bias" in state:
        y = y + np.array(state[prefix + "bias"], dtype=np.float64)
    return y


def reference_guitarml(model, X):
    """CoreAudioML SimpleRNN.forward: y = lin(rec(x)) (+ x[:, :, 0:skip] if skip), hidden state starts at zero."""
    md = model["model_data"]
    assert md["model"] == "SimpleRNN"
    assert X.shape[1] == md["input_size"]
    feats = torch_rnn(model["state_dict"], "rec.", md["unit_type"], md["num_layers"], X, md["hidden_size"])
    y = torch_linear(model["state_dict"], "lin.", feats)
    if md["skip"]:
        y = y + X[:, 0:md["skip"]]  # broadcasts like torch when skip == 1 or skip == output_size
    return y


# --------------------------------------------------------------------------------------------------------------
# RTNeural Keras JSON (+ AIDA-X): generator and Keras-semantics reference


def keras_dense(rng, n_in, n_out, activation, shape_prefix, use_bias=True, layer_type="dense", scale=1.0):
    kernel = rng.uniform(-1.0, 1.0, (n_in, n_out)) * scale / math.sqrt(n_in)  # Keras Dense kernel [in][out]
    weights = [as_json(kernel)]
    if use_bias:
        weights.append(as_json(rng.uniform(-0.2, 0.2, n_out)))
    return {"type": layer_type, "activation": activation, "shape": shape_prefix + [n_out], "weights": weights}


def keras_gru(rng, n_in, H, shape_prefix, activation="tanh"):
    k = 1.0 / math.sqrt(H)
    kernel = rng.uniform(-1.0, 1.0, (n_in, 3 * H)) * 2.0 / math.sqrt(n_in)  # [in][3H], blocks z, r, h
    recurrent = rng.uniform(-1.0, 1.0, (H, 3 * H)) * 1.5 * k                # [H][3H]
    bias = rng.uniform(-0.3, 0.3, (2, 3 * H))                              # reset_after=True: [input; recurrent]
    return {"type": "gru", "activation": activation, "shape": shape_prefix + [H],
            "weights": [as_json(kernel), as_json(recurrent), as_json(bias)]}


def keras_lstm(rng, n_in, H, shape_prefix, activation="tanh"):
    k = 1.0 / math.sqrt(H)
    kernel = rng.uniform(-1.0, 1.0, (n_in, 4 * H)) * 2.0 / math.sqrt(n_in)  # [in][4H], blocks i, f, c, o
    recurrent = rng.uniform(-1.0, 1.0, (H, 4 * H)) * 1.5 * k                # [H][4H]
    bias = rng.uniform(-0.3, 0.3, 4 * H)
    bias[H:2 * H] += 1.0  # unit_forget_bias
    return {"type": "lstm", "activation": activation, "shape": shape_prefix + [H],
            "weights": [as_json(kernel), as_json(recurrent), as_json(bias)]}


def keras_activation(name, x):
    if name == "":
        return x
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return sigmoid(x)
    if name == "elu":  # Keras default alpha = 1.0; RTNeural's JSON has no alpha
        return np.where(x > 0.0, x, np.expm1(np.minimum(x, 0.0)))
    if name == "softmax":  # over the layer's features (last axis)
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    raise ValueError("activation %r is not one RTNeural accepts" % name)


def keras_gru_seq(weights, X, H):
    K = np.array(weights[0], dtype=np.float64)
    U = np.array(weights[1], dtype=np.float64)
    B = np.array(weights[2], dtype=np.float64)
    if K.shape != (X.shape[1], 3 * H) or U.shape != (H, 3 * H) or B.shape != (2, 3 * H):
        raise ValueError("gru weights %s %s %s do not fit in=%d H=%d" % (K.shape, U.shape, B.shape, X.shape[1], H))
    h = np.zeros(H)
    out = np.empty((X.shape[0], H))
    for t in range(X.shape[0]):
        xk = X[t] @ K + B[0]
        hu = h @ U + B[1]
        z = sigmoid(xk[0:H] + hu[0:H])
        r = sigmoid(xk[H:2 * H] + hu[H:2 * H])
        cand = np.tanh(xk[2 * H:3 * H] + r * hu[2 * H:3 * H])  # reset_after: r multiplies (U_h h + b_rec_h)
        h = z * h + (1.0 - z) * cand
        out[t] = h
    return out


def keras_lstm_seq(weights, X, H):
    K = np.array(weights[0], dtype=np.float64)
    U = np.array(weights[1], dtype=np.float64)
    b = np.array(weights[2], dtype=np.float64)
    if K.shape != (X.shape[1], 4 * H) or U.shape != (H, 4 * H) or b.shape != (4 * H,):
        raise ValueError("lstm weights %s %s %s do not fit in=%d H=%d" % (K.shape, U.shape, b.shape, X.shape[1], H))
    # torch_lstm_layer's recurrence again on purpose: the three references share no code (module docstring).
    h = np.zeros(H)
    c = np.zeros(H)
    out = np.empty((X.shape[0], H))
    for t in range(X.shape[0]):
        g = X[t] @ K + h @ U + b
        i = sigmoid(g[0:H])
        f = sigmoid(g[H:2 * H])
        cand = np.tanh(g[2 * H:3 * H])
        o = sigmoid(g[3 * H:4 * H])
        c = f * c + i * cand
        h = o * np.tanh(c)
        out[t] = h
    return out


def reference_keras(model, X):
    """RTNeural json_parser::parseJson semantics (Keras layouts), states start at zero; then AIDA-X's in_skip."""
    n_in = model["in_shape"][-1]
    if X.shape[1] != n_in:
        raise ValueError("input has %d values per step, in_shape says %d" % (X.shape[1], n_in))
    cur = X
    for layer in model["layers"]:
        kind = layer["type"]
        width = layer["shape"][-1]
        weights = layer["weights"]
        activation = layer.get("activation", "")
        if kind in ("dense", "time-distributed-dense"):
            K = np.array(weights[0], dtype=np.float64)
            if K.shape != (cur.shape[1], width):
                raise ValueError("dense kernel %s does not fit %d -> %d" % (K.shape, cur.shape[1], width))
            cur = cur @ K
            if len(weights) >= 2:
                b = np.array(weights[1], dtype=np.float64)
                if b.shape != (width,):
                    raise ValueError("dense bias %s does not fit %d" % (b.shape, width))
                cur = cur + b
            cur = keras_activation(activation, cur)
        elif kind == "gru":
            cur = keras_gru_seq(weights, cur, width)  # the "activation" key of gru/lstm is not used
        elif kind == "lstm":
            cur = keras_lstm_seq(weights, cur, width)
        elif kind == "activation":
            if width != cur.shape[1]:
                raise ValueError("activation layer width %d after a layer of %d" % (width, cur.shape[1]))
            cur = keras_activation(activation, cur)
        else:
            raise ValueError("layer type %r is not a dense/gru/lstm/activation layer" % kind)
    skip = model.get("in_skip", 0)
    if skip:
        if skip != 1:
            raise ValueError("AIDA-X supports in_skip 0 or 1 only")
        cur = cur + X[:, 0:1]  # y[n] = model(x[n]) + x[n][0]
    return cur


# --------------------------------------------------------------------------------------------------------------
# Neural Amp Modeler .nam (architecture "LSTM"): generator and NAM-semantics reference


def make_nam_weights(rng, input_size, H, num_layers, head_scale=5.0):
    """Flat vector: per layer W [4H][in+H] row-major (columns: x then h; rows: gates i, f, g, o), b [4H]
    (= b_ih + b_hh), h0 [H], c0 [H]; then head weight [H], head bias [1]."""
    k = 1.0 / math.sqrt(H)
    parts = []
    for layer in range(num_layers):
        n_in = input_size if layer == 0 else H
        W = np.empty((4 * H, n_in + H))
        W[:, :n_in] = rng.uniform(-1.0, 1.0, (4 * H, n_in)) * (2.5 * k if layer == 0 else 1.5 * k)
        W[:, n_in:] = rng.uniform(-1.0, 1.0, (4 * H, H)) * 1.5 * k
        b = rng.uniform(-k, k, 4 * H)
        b[0:H] -= 0.5   # the trainer's _L.reset_parameters: input gate bias down, forget gate bias up
        b[H:2 * H] += 1.0
        h0 = rng.uniform(-0.5, 0.5, H)
        c0 = rng.uniform(-1.0, 1.0, H)
        parts += [W.ravel(), b, h0, c0]
    parts += [rng.uniform(-1.0, 1.0, H) * head_scale * k, rng.uniform(-0.05, 0.05, 1)]
    return as_json(np.concatenate(parts))


def reference_nam(nam, X):
    """NeuralAmpModelerCore nam::lstm::LSTM::process without prewarm: starts at the stored h0/c0."""
    assert nam["architecture"] == "LSTM"
    cfg = nam["config"]
    n_in, H, L = cfg["input_size"], cfg["hidden_size"], cfg["num_layers"]
    if X.shape[1] != n_in:
        raise ValueError("input has %d values per step, config says input_size %d" % (X.shape[1], n_in))
    w = np.array(nam["weights"], dtype=np.float64)
    pos = 0

    def take(count):
        nonlocal pos
        if pos + count > w.size:
            raise ValueError("weights end at %d, need %d more from %d" % (w.size, count, pos))
        out = w[pos:pos + count]
        pos += count
        return out

    cells = []
    for layer in range(L):
        d = n_in if layer == 0 else H
        W = take(4 * H * (d + H)).reshape(4 * H, d + H)
        b = take(4 * H)
        h0 = take(H).copy()
        c0 = take(H).copy()
        cells.append([W, b, h0, c0])
    head_w = take(H)
    head_b = take(1)[0]
    if pos != w.size:
        raise ValueError("%d weights left over" % (w.size - pos))

    y = np.empty((X.shape[0], 1))
    for t in range(X.shape[0]):
        v = X[t]
        for cell in cells:
            W, b, h, c = cell
            ifgo = W @ np.concatenate([v, h]) + b
            i = sigmoid(ifgo[0:H])
            f = sigmoid(ifgo[H:2 * H])
            g = np.tanh(ifgo[2 * H:3 * H])
            o = sigmoid(ifgo[3 * H:4 * H])
            c = f * c + i * g
            h = o * np.tanh(c)
            cell[2], cell[3] = h, c
            v = h
        y[t, 0] = head_w @ v + head_b
    return y


# --------------------------------------------------------------------------------------------------------------
# the fixtures


def build_models():
    """name -> (file name, kind, model object, input matrix, json indent)."""
    models = []

    def rng_for(index):
        return np.random.default_rng([SEED, index])

    # GuitarML ------------------------------------------------------------------------------------------------
    rng = rng_for(1)
    models.append(("guitarml-lstm8-skip.json", "guitarml",
                   make_guitarml(rng, "LSTM", 1, 8, 1, 1, 1, True),
                   audio_signal(rng, N_STEPS)[:, None], None))
    rng = rng_for(2)
    model = make_guitarml(rng, "GRU", 3, 12, 1, 1, 1, True)
    X = np.stack([audio_signal(rng, N_STEPS), knob_signal(rng, N_STEPS), knob_signal(rng, N_STEPS)], axis=1)
    models.append(("guitarml-gru12-cond.json", "guitarml", model, X, None))
    rng = rng_for(3)
    models.append(("guitarml-lstm6-2layers.json", "guitarml",
                   make_guitarml(rng, "LSTM", 1, 6, 2, 0, 1, False, head_scale=6.0),
                   audio_signal(rng, N_STEPS)[:, None], None))

    # RTNeural Keras JSON --------------------------------------------------------------------------------------
    seq = [None, None]
    rng = rng_for(4)
    model = {"in_shape": seq + [1], "layers": [
        keras_dense(rng, 1, 8, "tanh", seq, layer_type="time-distributed-dense", scale=2.0),
        keras_gru(rng, 8, 8, seq),
        keras_dense(rng, 8, 8, "sigmoid", seq, scale=4.0),
        keras_dense(rng, 8, 1, "", seq, scale=6.0),
    ]}
    models.append(("keras-dense-gru-dense.json", "keras", model, audio_signal(rng, N_STEPS)[:, None], 4))

    rng = rng_for(5)
    model = {"in_shape": seq + [2], "layers": [
        keras_dense(rng, 2, 6, "relu", seq, scale=2.0),
        keras_lstm(rng, 6, 7, seq),
        keras_dense(rng, 7, 5, "elu", seq, scale=2.5),
        keras_dense(rng, 5, 4, "softmax", seq, scale=6.0),
        keras_dense(rng, 4, 1, "", seq, scale=6.0),
    ]}
    X = np.stack([audio_signal(rng, N_STEPS), knob_signal(rng, N_STEPS)], axis=1)
    models.append(("keras-lstm-activations.json", "keras", model, X, 4))

    rng = rng_for(6)
    flat = [None]
    # Standalone activation layers around an LSTM (one right after it: no dense layer to fold it into).
    model = {"in_shape": flat + [1], "layers": [
        keras_dense(rng, 1, 6, "", flat, scale=2.0),
        {"type": "activation", "activation": "tanh", "shape": flat + [6], "weights": []},
        keras_dense(rng, 6, 6, "", flat, scale=2.0),
        {"type": "activation", "activation": "relu", "shape": flat + [6], "weights": []},
        keras_lstm(rng, 6, 6, flat),
        {"type": "activation", "activation": "tanh", "shape": flat + [6], "weights": []},
        keras_dense(rng, 6, 6, "", flat, use_bias=False, scale=2.0),
        {"type": "activation", "activation": "elu", "shape": flat + [6], "weights": []},
        keras_dense(rng, 6, 5, "", flat, scale=2.0),
        {"type": "activation", "activation": "sigmoid", "shape": flat + [5], "weights": []},
        keras_dense(rng, 5, 4, "", flat, scale=8.0),
        {"type": "activation", "activation": "softmax", "shape": flat + [4], "weights": []},
        keras_dense(rng, 4, 1, "", flat, scale=6.0),
    ]}
    models.append(("keras-dense-activation-layers.json", "keras", model, audio_signal(rng, N_STEPS)[:, None], 4))

    rng = rng_for(7)
    # AIDA-X (MaxPayne86/Automated-GuitarAmpModelling model_utils.save_model_json): in_shape, in_skip, layers,
    # input_batch, output_batch, metadata; "activation": "" on the lstm; input/output_batch filled in below.
    model = {"in_shape": seq + [1], "in_skip": 1, "layers": [
        keras_lstm(rng, 1, 12, seq, activation=""),
        keras_dense(rng, 12, 1, "", seq),
    ]}
    models.append(("keras-lstm12-skip.json", "aidax", model, audio_signal(rng, N_STEPS)[:, None], 4))

    # NAM ------------------------------------------------------------------------------------------------------
    rng = rng_for(8)
    nam = {
        "version": "0.5.4",
        "metadata": {
            "date": {"year": 2024, "month": 6, "day": 11, "hour": 12, "minute": 0, "second": 0},
            "loudness": -18.25, "gain": 0.42, "name": "Recur import fixture (2 layers)",
            "modeled_by": "make_import_fixtures.py", "gear_type": "amp", "gear_make": "None",
            "gear_model": "Random weights", "tone_type": "crunch", "input_level_dbu": 12.2,
            "output_level_dbu": 8.5,
            "training": {"settings": {"ignore_checks": False}, "validation_esr": None},
        },
        "architecture": "LSTM",
        "config": {"input_size": 1, "hidden_size": 5, "num_layers": 2},
        "weights": make_nam_weights(rng, 1, 5, 2),
        "sample_rate": 48000,
    }
    models.append(("nam-lstm-2layers.nam", "nam", nam, audio_signal(rng, N_STEPS)[:, None], None))

    rng = rng_for(9)
    nam = {
        "version": "0.7.0",
        "metadata": {
            "date": {"year": 2026, "month": 3, "day": 14, "hour": 9, "minute": 30, "second": 5},
            "loudness": -24.0, "gain": 0.1875},
        "architecture": "LSTM",
        "config": {"input_size": 1, "hidden_size": 16, "num_layers": 1},
        "weights": make_nam_weights(rng, 1, 16, 1),
        "sample_rate": 44100.0,
    }
    models.append(("nam-lstm16.nam", "nam", nam, audio_signal(rng, N_STEPS)[:, None], None))
    return models


REFERENCES = {"guitarml": reference_guitarml, "keras": reference_keras, "aidax": reference_keras,
              "nam": reference_nam}


def stem(file_name):
    return os.path.splitext(file_name)[0]


def write_fixtures():
    os.makedirs(OUT, exist_ok=True)
    for file_name, kind, model, X, indent in build_models():
        base = os.path.join(OUT, stem(file_name))
        write_inputs(base + ".input.txt", X)
        X_read = read_inputs(base + ".input.txt")
        assert np.array_equal(X_read, X), file_name
        if kind == "aidax":
            # input_batch / output_batch: the first 2048 samples of audio input and of the trained SimpleRNN's
            # output (skip included) as float32 - here the reference's output for our input.
            write_json(os.path.join(OUT, file_name), model, indent)
            y = reference_keras(read_json(os.path.join(OUT, file_name)), X_read)
            model["input_batch"] = as_json(X_read[:2048, 0])
            model["output_batch"] = as_json(y[:2048, 0])
            model["metadata"] = {"name": "recur-import-fixture-lstm12", "samplerate": "48000",
                                 "source": "synthetic", "style": "clean", "based": "random weights",
                                 "author": "make_import_fixtures.py", "dataset": "none",
                                 "license": "same as this repository", "esr": 0.0123}
        write_json(os.path.join(OUT, file_name), model, indent)
        Y = REFERENCES[kind](read_json(os.path.join(OUT, file_name)), X_read)
        assert np.all(np.isfinite(Y)), file_name
        write_expected(base + ".expected.txt", Y)
        print("%-36s %5d steps x %d in -> %d out   |y| max %.3f   %7d bytes" % (
            file_name, X.shape[0], X.shape[1], Y.shape[1], np.abs(Y).max(), os.path.getsize(os.path.join(OUT, file_name))))


# --------------------------------------------------------------------------------------------------------------
# validation of the references against RTNeural's own test vectors


def load_column(path):
    with open(path, encoding="utf-8") as fp:
        return np.array([float(line) for line in fp.read().split()], dtype=np.float64)


def validate_against_rtneural():
    if not RTNEURAL_DIR or not os.path.isdir(RTNEURAL_DIR):
        print("RTNEURAL_DIR is not set to an RTNeural checkout: references not validated against its vectors")
        return True
    ok = True

    def report(name, y, y_ref):
        nonlocal ok
        err = np.max(np.abs(y - y_ref))
        ok_here = err <= REFERENCE_TOLERANCE
        ok = ok and ok_here
        print("rtneural %-11s %4d steps  max |ref - csv| = %.3e  %s" % (name, len(y_ref), err,
                                                                       "ok" if ok_here else "FAIL"))

    models = os.path.join(RTNEURAL_DIR, "models")
    data = os.path.join(RTNEURAL_DIR, "test_data")
    # Keras models: the test feeds x_python.csv (one value per line), compares with y_python.csv. Keras ran in
    # float32, so the inputs are rounded to float32 as Keras did.
    for name in ("dense", "gru", "gru_1d", "lstm", "lstm_1d"):
        x = f32(load_column(os.path.join(data, name + "_x_python.csv")))
        y_ref = load_column(os.path.join(data, name + "_y_python.csv"))
        y = reference_keras(read_json(os.path.join(models, name + ".json")), x[:, None])[:, 0]
        report(name, y, y_ref)

    # PyTorch state_dict models (python/gru_torch.py, lstm_torch.py): rnn (1 layer) -> rnn2 (3 layers) -> dense.
    for name, unit, first, second in (("gru_torch", "GRU", "gru.", "gru2."), ("lstm_torch", "LSTM", "lstm.", "lstm2.")):
        state = read_json(os.path.join(models, name + ".json"))
        x = f32(load_column(os.path.join(data, name + "_x_python.csv")))
        y_ref = load_column(os.path.join(data, name + "_y_python.csv"))
        feats = torch_rnn(state, first, unit, 1, x[:, None], 8)
        feats = torch_rnn(state, second, unit, 3, feats, 8)
        y = torch_linear(state, "dense.", feats)[:, 0]
        report(name, y, y_ref)

    # bad_lstm.json declares an LSTM of 16 but stores weights for 20: RTNeural throws; so must the reference.
    try:
        reference_keras(read_json(os.path.join(models, "bad_lstm.json")), np.zeros((4, 1)))
        print("rtneural bad_lstm    accepted  FAIL")
        ok = False
    except ValueError as error:
        print("rtneural bad_lstm    rejected  ok (%s)" % error)
    return ok


def main():
    write_fixtures()
    if not validate_against_rtneural():
        print("the reference does not reproduce RTNeural's test vectors", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
