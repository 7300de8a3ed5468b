// RTNeural vanilla-cell latency, for side-by-side timing with Recur. Measurement only: nothing here is part of Recur,
// and it links nothing of it. Built and run by tools/peer-bench/run against the read-only RTNeural headers in
// ../shared/peers/rtneural/src (xsimd backend, compile-time API).
//
// RTNeural has no vanilla RNN layer (its issue #147), so the cell is emulated with its xsimd layers, as in the peer's
// bench_vanilla.cpp, here for H = 8, 12, 16, 20, 24, 32, 40, 64, 128, 256:
//   h' = tanh(DenseT(IN -> H)([h, x, 0...]))   y = DenseT(H -> 1)(h')   (input 1, output 1, y fed back as next x)
// IN is the smallest whole number of SIMD vectors holding H + 1 lanes (H + 8 with 8-lane AVX2 when H is a multiple
// of 8, as bench_vanilla.cpp; 16, 32, 48, ... with 16-lane AVX-512): RTNeural's xsimd DenseT reads
// weights[v_in_size * v_size - 1], past its weight array unless in_size is a multiple of the vector width.
// The padding columns carry zero weights; the padding lanes of h stay tanh(0) = 0.
// Timing as bench_vanilla.cpp: 2000 warm-up steps, then RUNS runs of STEPS steps (STEPS/4 at H = 128, STEPS/16 at
// H = 256), each from a reset state; the median ns per step is printed.
// Usage: vanilla [steps=200000] [runs=9]
// Before timing, 300 steps are checked against a scalar reference of the cell (exit 1 if they differ by 1e-4 or more).
// Output: "xsimd vanilla H=<H> IN=<IN> median_ns=<ns> min_ns=<ns> max_ns=<ns> chain_end=<y> steps=<n> runs=<r>
// ref_err=<max |y - reference|>".
#include <RTNeural/RTNeural.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

#if !RTNEURAL_USE_XSIMD
#error "build with -DRTNEURAL_USE_XSIMD=1"
#endif

template <int H>
struct Vanilla
{
    using V = xsimd::simd_type<float>;
    static constexpr int VS = (int)V::size;
    static constexpr int IN = (H / VS + 1) * VS; // smallest multiple of VS that is > H
    static constexpr int NH = (H + VS - 1) / VS; // vectors holding h (act.outs, d1.outs)
    static constexpr int NI = IN / VS; // vectors holding [h, x, 0...]
    static constexpr int XV = H / VS; // vector holding x, at lane H % VS
    static_assert(IN % VS == 0 && IN > H, "padding");
    static_assert(RTNEURAL_DEFAULT_ALIGNMENT >= alignof(V), "RTNEURAL_DEFAULT_ALIGNMENT below the SIMD width");

    RTNeural::DenseT<float, IN, H> d1;
    RTNeural::TanhActivationT<float, H> act;
    RTNeural::DenseT<float, H, 1> d2;
    alignas(RTNEURAL_DEFAULT_ALIGNMENT) V ins[NI];
    V xunit; // 1 at lane H % VS, 0 elsewhere
    std::vector<std::vector<float>> w1, w2; // kept for the scalar reference (check), not used by step
    std::vector<float> b1;
    float b2;

    Vanilla()
    {
        // Same generator and scale as bench_vanilla.cpp: uniform in +-1/sqrt(H); columns 0..H-1 act on h, column H on x.
        unsigned s = 12345u + H;
        auto rnd = [&] { s = s * 1664525u + 1013904223u; return ((s >> 8) * (1.0f / 16777216.0f) * 2.0f - 1.0f) / std::sqrt((float)H); };
        w1.assign(H, std::vector<float>(IN, 0.0f));
        for(auto& row : w1)
            for(int k = 0; k <= H; ++k)
                row[k] = rnd();
        b1.resize(H);
        for(auto& b : b1)
            b = rnd();
        d1.setWeights(w1);
        d1.setBias(b1.data());
        w2.assign(1, std::vector<float>(H));
        for(auto& v : w2[0])
            v = rnd();
        b2 = rnd();
        d2.setWeights(w2);
        d2.setBias(&b2);
        alignas(RTNEURAL_DEFAULT_ALIGNMENT) float unit[VS] = {};
        unit[H % VS] = 1.0f;
        xunit = xsimd::load_aligned(unit);
        reset();
    }

    void reset()
    {
        for(auto& v : ins)
            v = V(0.0f);
        for(auto& v : act.outs) // h = 0 also where it enters ins[XV] (H not a multiple of VS)
            v = V(0.0f);
    }

    inline float step(float x) noexcept
    {
        // ins = [h (H lanes, zero-padded to NH vectors), x at lane H, 0 ...]; h is the previous tanh output.
        if constexpr(XV < NH)
            ins[XV] = xsimd::fma(V(x), xunit, act.outs[XV]); // x shares its vector with the last lanes of h
        else
            ins[XV] = V(x) * xunit;
        d1.forward(ins);
        act.forward(d1.outs);
        for(int k = 0; k < NH; ++k)
            ins[k] = act.outs[k];
        d2.forward(act.outs);
        return d2.outs[0].get(0);
    }
};

// Scalar reference of the same cell (double accumulation), 300 steps of a fixed input: the emulation must agree, else
// the layout above is wrong and the timing would be of something else.
template <int H>
static double check(Vanilla<H>& m)
{
    std::vector<double> h(H, 0.0), hn(H);
    m.reset();
    double worst = 0.0;
    for(int t = 0; t < 300; ++t)
    {
        const float x = 0.5f * std::sin(0.05f * (float)t);
        for(int i = 0; i < H; ++i)
        {
            double a = m.b1[i] + m.w1[i][H] * (double)x;
            for(int k = 0; k < H; ++k)
                a += m.w1[i][k] * h[k];
            hn[i] = std::tanh(a);
        }
        h = hn;
        double y = m.b2;
        for(int k = 0; k < H; ++k)
            y += m.w2[0][k] * h[k];
        worst = std::max(worst, std::fabs(y - (double)m.step(x)));
    }
    m.reset();
    return worst;
}

static double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <int H>
static void run(int steps, int runs)
{
    auto m = std::make_unique<Vanilla<H>>(); // C++17 aligned new
    steps = std::max(steps, 1000);
    const double err = check(*m);
    if(!(err < 1e-4))
    {
        std::fprintf(stderr, "vanilla H=%d: emulation differs from the scalar reference by %g\n", H, err);
        std::exit(1);
    }
    float x = 0.1f;
    for(int i = 0; i < 2000; ++i)
        x = m->step(x);
    std::vector<double> ns;
    for(int r = 0; r < runs; ++r)
    {
        m->reset();
        x = 0.1f;
        auto t0 = std::chrono::steady_clock::now();
        for(int i = 0; i < steps; ++i)
            x = m->step(x); // feedback chain => latency-bound
        auto t1 = std::chrono::steady_clock::now();
        ns.push_back(std::chrono::duration<double, std::nano>(t1 - t0).count() / steps);
    }
    std::printf("xsimd vanilla H=%d IN=%d median_ns=%.2f min_ns=%.2f max_ns=%.2f chain_end=%+.6f steps=%d runs=%d ref_err=%.1e\n", H,
        Vanilla<H>::IN, median(ns), *std::min_element(ns.begin(), ns.end()), *std::max_element(ns.begin(), ns.end()),
        (double)x, steps, runs, err);
    std::fflush(stdout);
}

int main(int argc, char** argv)
{
    const int steps = argc > 1 ? std::atoi(argv[1]) : 200000;
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 9;
    run<8>(steps, runs);
    run<12>(steps, runs);
    run<16>(steps, runs);
    run<20>(steps, runs);
    run<24>(steps, runs);
    run<32>(steps, runs);
    run<40>(steps, runs);
    run<64>(steps, runs);
    run<128>(steps / 4, runs);
    run<256>(steps / 16, runs);
    return 0;
}
