// RTNeural latency at the shapes guitar-amp models ship, for side-by-side timing with Recur (tools/bench-amp).
// Measurement only: nothing here is part of Recur, and it links nothing of it. Built by tools/bench-amp against the
// read-only RTNeural headers in ../shared/peers/rtneural/src (xsimd backend, compile-time API ModelT).
//
// Shapes (one stream; the output is fed back as the next first input, a latency chain; a second input, where there
// is one, is a constant knob value):
//   lstm-H        ModelT<float, 1, 1, LSTMLayerT<float, 1, H>, DenseT<float, H, 1>>   H = 12, 16, 32, 40, 64
//   gru-H         ModelT<float, 1, 1, GRULayerT<float, 1, H>, DenseT<float, H, 1>>    H = 32, 64
//   lstm-20-i2    ModelT<float, 2, 1, LSTMLayerT<float, 2, 20>, DenseT<float, 20, 1>> (audio + one knob)
//   keras-8       RTNeural's own test model: DenseT(1→8) + tanh, GRULayerT(8→8), DenseT(8→8) + sigmoid, DenseT(8→1)
// GuitarML and AIDA-X add the input to the output (the skip) outside RTNeural's model: one add, not timed here; Recur's
// models include it.
// Weights: uniform in ±1/sqrt(H) from a fixed generator. Timing: 2000 warm-up steps, then RUNS runs of STEPS steps
// each from a reset state; the median ns per step is printed as
//   "rtneural-amp <shape> <median_ns> chain_end=<y>"
// Usage: amp [steps=200000] [runs=9]
#include <RTNeural/RTNeural.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#if !RTNEURAL_USE_XSIMD
#error "build with -DRTNEURAL_USE_XSIMD=1"
#endif

static int g_steps = 200000;
static int g_runs = 9;

struct Uniform
{
    uint64_t state;
    float scale;
    float next()
    {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        return ((float)(state >> 40) / (float)(1 << 24) * 2.0f - 1.0f) * scale;
    }
    std::vector<std::vector<float>> matrix(int rows, int cols)
    {
        std::vector<std::vector<float>> m((size_t)rows, std::vector<float>((size_t)cols));
        for(auto& row : m)
            for(auto& v : row)
                v = next();
        return m;
    }
    std::vector<float> vector(int n) { return matrix(1, n)[0]; }
};

// Keras layouts: kernel [in][G·H], recurrent [H][G·H]; LSTM bias [4H]; GRU bias [2][3H]; dense weights [out][in].
template <int In, int H, typename Layer>
static void loadLSTM(Layer& layer, Uniform& u)
{
    layer.setWVals(u.matrix(In, 4 * H));
    layer.setUVals(u.matrix(H, 4 * H));
    layer.setBVals(u.vector(4 * H));
}

template <int In, int H, typename Layer>
static void loadGRU(Layer& layer, Uniform& u)
{
    layer.setWVals(u.matrix(In, 3 * H));
    layer.setUVals(u.matrix(H, 3 * H));
    layer.setBVals(u.matrix(2, 3 * H));
}

template <int In, int Out, typename Layer>
static void loadDense(Layer& layer, Uniform& u)
{
    layer.setWeights(u.matrix(Out, In));
    auto b = u.vector(Out);
    layer.setBias(b.data());
}

template <typename Model, int In>
static void timeModel(const char* shape, Model& model)
{
    alignas(64) float x[In > 1 ? In : 1] = {};
    for(int i = 1; i < In; ++i)
        x[i] = 0.5f; // a knob
    model.reset();
    x[0] = 0.1f;
    for(int i = 0; i < 2000; ++i)
        x[0] = model.forward(x);
    std::vector<double> ns;
    for(int run = 0; run < g_runs; ++run)
    {
        model.reset();
        x[0] = 0.1f;
        auto t0 = std::chrono::steady_clock::now();
        for(int i = 0; i < g_steps; ++i)
            x[0] = model.forward(x); // feedback chain: latency-bound
        auto t1 = std::chrono::steady_clock::now();
        ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / (double)g_steps);
    }
    std::sort(ns.begin(), ns.end());
    std::printf("rtneural-amp %s %.2f chain_end=%+.6f\n", shape, ns[ns.size() / 2], (double)x[0]);
    std::fflush(stdout);
}

template <int In, int H>
static void lstm(const char* shape)
{
    using Model = RTNeural::ModelT<float, In, 1, RTNeural::LSTMLayerT<float, In, H>, RTNeural::DenseT<float, H, 1>>;
    auto model = std::make_unique<Model>();
    Uniform u { 0x1234ull + (uint64_t)H, 1.0f / std::sqrt((float)H) };
    loadLSTM<In, H>(model->template get<0>(), u);
    loadDense<H, 1>(model->template get<1>(), u);
    timeModel<Model, In>(shape, *model);
}

template <int H>
static void gru(const char* shape)
{
    using Model = RTNeural::ModelT<float, 1, 1, RTNeural::GRULayerT<float, 1, H>, RTNeural::DenseT<float, H, 1>>;
    auto model = std::make_unique<Model>();
    Uniform u { 0x4321ull + (uint64_t)H, 1.0f / std::sqrt((float)H) };
    loadGRU<1, H>(model->template get<0>(), u);
    loadDense<H, 1>(model->template get<1>(), u);
    timeModel<Model, 1>(shape, *model);
}

static void keras8()
{
    using Model = RTNeural::ModelT<float, 1, 1, RTNeural::DenseT<float, 1, 8>, RTNeural::TanhActivationT<float, 8>,
        RTNeural::GRULayerT<float, 8, 8>, RTNeural::DenseT<float, 8, 8>, RTNeural::SigmoidActivationT<float, 8>,
        RTNeural::DenseT<float, 8, 1>>;
    auto model = std::make_unique<Model>();
    Uniform u { 0x8888ull, 1.0f / std::sqrt(8.0f) };
    loadDense<1, 8>(model->template get<0>(), u);
    loadGRU<8, 8>(model->template get<2>(), u);
    loadDense<8, 8>(model->template get<3>(), u);
    loadDense<8, 1>(model->template get<5>(), u);
    timeModel<Model, 1>("keras-8", *model);
}

int main(int argc, char** argv)
{
    if(argc > 1)
        g_steps = std::atoi(argv[1]);
    if(argc > 2)
        g_runs = std::atoi(argv[2]);
    lstm<1, 12>("lstm-12");
    lstm<1, 16>("lstm-16");
    lstm<2, 20>("lstm-20-i2");
    lstm<1, 32>("lstm-32");
    lstm<1, 40>("lstm-40");
    lstm<1, 64>("lstm-64");
    gru<32>("gru-32");
    gru<64>("gru-64");
    keras8();
    return 0;
}
