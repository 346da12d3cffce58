// Prints reference outputs of llama.cpp's CPU backend (the golden build: de3ff81, GCC 12, -march=native on an
// AVX-512 AMD EPYC) for the unit tests in this folder. Build against a llama.cpp build tree:
//   g++ -O2 -march=native -std=c++17 ggml_vectors.cpp -I<llama.cpp>/ggml/include -L<build>/bin \
//       -lggml -lggml-base -lggml-cpu -Wl,-rpath,<build>/bin -o ggml_vectors && ./ggml_vectors
#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"
#include <immintrin.h>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

static uint32_t g_state;
static void seed(uint32_t s) { g_state = s; }
// Same generator as NumericsVectors.Next in the C# tests: values k/4096 with |k| <= 10000, exact in f32.
static float rnd() { g_state = g_state * 1664525u + 1013904223u; return (float)((int)((g_state >> 8) % 20001u) - 10000) / 4096.0f; }
static uint32_t bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static void print(const char * name, const float * v, int n) {
    printf("%s:", name);
    for (int i = 0; i < n; i++) printf(" 0x%08x", bits(v[i]));
    printf("\n");
}

static ggml_backend_t g_cpu;
static ggml_backend_buffer_type_t g_repack;

// W [m rows, k] of type t (quantized from rnd() values with seed), X [n rows, k] f32; prints Y [n][m].
static void matmul(ggml_type t, int k, int m, int n, uint32_t s, bool repack) {
    seed(s);
    std::vector<float> wf((size_t)m * k), xf((size_t)n * k);
    for (auto & v : wf) v = rnd();
    for (auto & v : xf) v = rnd();
    std::vector<uint8_t> wq(ggml_row_size(t, k) * m);
    if (t == GGML_TYPE_F32) memcpy(wq.data(), wf.data(), wq.size());
    else ggml_quantize_chunk(t, wf.data(), wq.data(), 0, m, k, nullptr);

    ggml_init_params ip = { 16 * ggml_tensor_overhead() + ggml_graph_overhead(), nullptr, true };
    ggml_context * cw = ggml_init(ip);
    ggml_context * ca = ggml_init(ip);
    ggml_tensor * w = ggml_new_tensor_2d(cw, t, k, m);
    ggml_tensor * x = ggml_new_tensor_2d(ca, GGML_TYPE_F32, k, n);
    ggml_tensor * y = ggml_mul_mat(ca, w, x);
    ggml_backend_buffer_t bw = ggml_backend_alloc_ctx_tensors_from_buft(cw, repack ? g_repack : ggml_backend_cpu_buffer_type());
    ggml_backend_buffer_t ba = ggml_backend_alloc_ctx_tensors(ca, g_cpu);
    ggml_backend_tensor_set(w, wq.data(), 0, wq.size());
    ggml_backend_tensor_set(x, xf.data(), 0, xf.size() * 4);
    ggml_cgraph * gf = ggml_new_graph(ca);
    ggml_build_forward_expand(gf, y);
    ggml_backend_graph_compute(g_cpu, gf);
    std::vector<float> out((size_t)n * m);
    ggml_backend_tensor_get(y, out.data(), 0, out.size() * 4);
    char name[64];
    snprintf(name, sizeof name, "matmul %s k%d m%d n%d seed%u", ggml_type_name(t), k, m, n, s);
    print(name, out.data(), (int)out.size());
    ggml_backend_buffer_free(bw); ggml_backend_buffer_free(ba); ggml_free(cw); ggml_free(ca);
}

// ggml_vec_dot_f32 through the CPU type traits.
static void vecdot_f32(int n, uint32_t s) {
    seed(s);
    std::vector<float> a(n), b(n);
    for (auto & v : a) v = rnd();
    for (auto & v : b) v = rnd();
    float r;
    ggml_get_type_traits_cpu(GGML_TYPE_F32)->vec_dot(n, &r, 0, a.data(), 0, b.data(), 0, 1);
    char name[64]; snprintf(name, sizeof name, "vecdot_f32 n%d seed%u", n, s);
    print(name, &r, 1);
}

// ggml_vec_dot_f16 / ggml_vec_dot_bf16 through the CPU type traits, on rows converted from rnd() values.
static void vecdot_half(ggml_type t, int n, uint32_t s) {
    seed(s);
    std::vector<float> a(n), b(n);
    for (auto & v : a) v = rnd();
    for (auto & v : b) v = rnd();
    std::vector<uint16_t> ha(n), hb(n);
    ggml_get_type_traits_cpu(t)->from_float(a.data(), ha.data(), n);
    ggml_get_type_traits_cpu(t)->from_float(b.data(), hb.data(), n);
    float r;
    ggml_get_type_traits_cpu(t)->vec_dot(n, &r, 0, ha.data(), 0, hb.data(), 0, 1);
    char name[64]; snprintf(name, sizeof name, "vecdot_%s n%d seed%u", ggml_type_name(t), n, s);
    print(name, &r, 1);
}

// ggml_v_expf and ggml_v_silu copied verbatim from ggml-cpu/vec.h (AVX512F + AVX512DQ branch).
inline static __m512 ggml_v_expf(__m512 x) {
  const __m512 r = _mm512_set1_ps(0x1.8p23f);
  const __m512 z = _mm512_fmadd_ps(x, _mm512_set1_ps(0x1.715476p+0f), r);
  const __m512 n = _mm512_sub_ps(z, r);
  const __m512 b =
      _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.7f7d1cp-20f),
                       _mm512_fnmadd_ps(n, _mm512_set1_ps(0x1.62e4p-1f), x));
  const __mmask16 d =
      _mm512_cmp_ps_mask(_mm512_abs_ps(n), _mm512_set1_ps(192), _CMP_GT_OQ);
  const __m512 u = _mm512_mul_ps(b, b);
  const __m512 j = _mm512_fmadd_ps(
      _mm512_fmadd_ps(_mm512_fmadd_ps(_mm512_set1_ps(0x1.0e4020p-7f), b,
                                      _mm512_set1_ps(0x1.573e2ep-5f)),
                      u,
                      _mm512_fmadd_ps(_mm512_set1_ps(0x1.555e66p-3f), b,
                                      _mm512_set1_ps(0x1.fffdb6p-2f))),
      u,
      _mm512_fmadd_ps(_mm512_set1_ps(0x1.ffffecp-1f), b, _mm512_set1_ps(1.0F)));
  const __m512 res = _mm512_scalef_ps(j, n);
  if (_mm512_kortestz(d, d))
    return res;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 alt = _mm512_mask_blend_ps(
      _mm512_cmp_ps_mask(n, zero, _CMP_LE_OQ), _mm512_set1_ps(INFINITY), zero);
  return _mm512_mask_blend_ps(d, res, alt);
}
inline static __m512 ggml_v_silu(__m512 x) {
    const __m512 one = _mm512_set1_ps(1);
    const __m512 zero = _mm512_setzero_ps();
    const __m512 neg_x = _mm512_sub_ps(zero, x);
    const __m512 exp_neg_x = ggml_v_expf(neg_x);
    const __m512 one_plus_exp_neg_x = _mm512_add_ps(one, exp_neg_x);
    return _mm512_div_ps(x, one_plus_exp_neg_x);
}

static void expf_vectors() {
    const float in[16] = { -103.5f, -87.3f, -20.25f, -5.5f, -1.0f, -0.3f, -1e-3f, 0.0f, 1e-3f, 0.7f, 1.0f, 2.5f, 10.0f, 44.4f, 88.3f, 100.0f };
    float e[16], s[16], g[16];
    _mm512_storeu_ps(e, ggml_v_expf(_mm512_loadu_ps(in)));
    _mm512_storeu_ps(s, ggml_v_silu(_mm512_loadu_ps(in)));
    for (int i = 0; i < 16; i++) g[i] = expf(in[i]);
    print("expf input", in, 16); print("ggml_v_expf", e, 16); print("glibc expf", g, 16); print("ggml_v_silu", s, 16);
    // a dense scan: how many of 2^16 inputs in [-16, 16) differ from glibc expf
    int diff = 0; float first[16]; int nf = 0;
    for (int i = 0; i < 65536; i += 16) {
        float x[16], y[16];
        for (int l = 0; l < 16; l++) x[l] = (float)(i + l - 32768) / 2048.0f;
        _mm512_storeu_ps(y, ggml_v_expf(_mm512_loadu_ps(x)));
        for (int l = 0; l < 16; l++) if (bits(y[l]) != bits(expf(x[l]))) { diff++; if (nf < 16) first[nf++] = x[l]; }
    }
    printf("expf scan: %d of 65536 differ from glibc\n", diff);
    print("expf differing inputs", first, nf);
}

static void dpbf16_vector() {
    seed(77);
    uint16_t a[32], b[32]; float acc[16], out[16];
    for (int i = 0; i < 32; i++) { float fa = rnd(), fb = rnd(); a[i] = ggml_fp32_to_bf16(fa).bits; b[i] = ggml_fp32_to_bf16(fb).bits; }
    for (int j = 0; j < 16; j++) acc[j] = rnd() * 64.0f;
    __m512 r = _mm512_dpbf16_ps(_mm512_loadu_ps(acc), (__m512bh)_mm512_loadu_si512(a), (__m512bh)_mm512_loadu_si512(b));
    _mm512_storeu_ps(out, r);
    print("dpbf16 acc", acc, 16); print("dpbf16 out", out, 16);
}

static ggml_tensor * run_unary(ggml_context * ctx, ggml_tensor * t, std::vector<float> & out) {
    ggml_backend_buffer_t buf = ggml_backend_alloc_ctx_tensors(ctx, g_cpu);
    (void)buf;
    return t;
}

// soft_max_ext (scale, no mask) of one row of n, swiglu_split of one row of n, rope_ext NORM/NEOX.
static void ops_vectors() {
    const int n = 37;
    ggml_init_params ip = { 64 * ggml_tensor_overhead() + ggml_graph_overhead(), nullptr, true };
    ggml_context * ctx = ggml_init(ip);
    ggml_tensor * x = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, n);
    ggml_tensor * g = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, n);
    ggml_tensor * sm = ggml_soft_max_ext(ctx, x, nullptr, 0.125f, 0.0f);
    ggml_tensor * sw = ggml_swiglu_split(ctx, x, g);
    const int hd = 8, T = 3;
    ggml_tensor * q = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, hd, 1, T);
    ggml_tensor * pos = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, T);
    ggml_tensor * rn = ggml_rope_ext(ctx, q, pos, nullptr, hd, 0, 2048, 10000.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
    ggml_tensor * rx = ggml_rope_ext(ctx, q, pos, nullptr, hd, 2, 2048, 10000.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
    ggml_backend_buffer_t buf = ggml_backend_alloc_ctx_tensors(ctx, g_cpu);
    seed(4242);
    std::vector<float> xv(n), gv(n), qv(hd * T);
    for (auto & v : xv) v = rnd() * 8.0f;
    for (auto & v : gv) v = rnd();
    for (auto & v : qv) v = rnd();
    int32_t pv[T] = { 0, 7, 1000 };
    ggml_backend_tensor_set(x, xv.data(), 0, n * 4);
    ggml_backend_tensor_set(g, gv.data(), 0, n * 4);
    ggml_backend_tensor_set(q, qv.data(), 0, hd * T * 4);
    ggml_backend_tensor_set(pos, pv, 0, sizeof pv);
    ggml_cgraph * gf = ggml_new_graph(ctx);
    ggml_build_forward_expand(gf, sm); ggml_build_forward_expand(gf, sw);
    ggml_build_forward_expand(gf, rn); ggml_build_forward_expand(gf, rx);
    ggml_backend_graph_compute(g_cpu, gf);
    std::vector<float> o(n), r(hd * T);
    ggml_backend_tensor_get(sm, o.data(), 0, n * 4); print("soft_max_ext scale 0.125 n37 seed4242x8", o.data(), n);
    ggml_backend_tensor_get(sw, o.data(), 0, n * 4); print("swiglu_split n37 seed4242", o.data(), n);
    ggml_backend_tensor_get(rn, r.data(), 0, hd * T * 4); print("rope norm hd8 pos0,7,1000 base1e4", r.data(), hd * T);
    ggml_backend_tensor_get(rx, r.data(), 0, hd * T * 4); print("rope neox hd8 pos0,7,1000 base1e4", r.data(), hd * T);
    ggml_backend_buffer_free(buf); ggml_free(ctx);
}

int main() {
    ggml_backend_load_all();
    g_cpu = ggml_backend_cpu_init();
    ggml_backend_cpu_set_n_threads(g_cpu, 2);
    ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
    auto get_extra = (ggml_backend_dev_get_extra_bufts_t) ggml_backend_reg_get_proc_address(ggml_backend_dev_backend_reg(dev), "ggml_backend_dev_get_extra_bufts");
    for (ggml_backend_buffer_type_t * p = get_extra(dev); p && *p; p++)
        if (strcmp(ggml_backend_buft_name(*p), "CPU_REPACK") == 0) g_repack = *p;
    if (!g_repack) { fprintf(stderr, "no CPU_REPACK buffer type\n"); return 1; }

    const ggml_type plain[] = { GGML_TYPE_F32, GGML_TYPE_F16, GGML_TYPE_BF16, GGML_TYPE_Q8_0, GGML_TYPE_Q4_1, GGML_TYPE_Q5_0,
                                GGML_TYPE_Q5_1, GGML_TYPE_Q3_K, GGML_TYPE_Q5_K, GGML_TYPE_Q6_K, GGML_TYPE_Q4_0, GGML_TYPE_Q4_K, GGML_TYPE_Q2_K };
    for (ggml_type t : plain) {
        bool rp = t == GGML_TYPE_Q4_0 || t == GGML_TYPE_Q4_K || t == GGML_TYPE_Q2_K;
        // 8 weight rows: unrepacked rows use vec_dot (n = 1) or tinyBLAS (n = 5); repacked gemv (n = 1) or gemm + gemv (n = 5)
        matmul(t, 256, 8, 1, 100 + t, rp);
        matmul(t, 256, 8, 5, 100 + t, rp);
        if (rp) matmul(t, 256, 8, 1, 100 + t, false); // the same matrix unrepacked: x86 vec_dot
    }
    vecdot_f32(108, 5); vecdot_f32(44, 6); vecdot_f32(7, 7); vecdot_f32(64, 8);
    vecdot_half(GGML_TYPE_F16, 100, 9); vecdot_half(GGML_TYPE_BF16, 100, 10);
    expf_vectors();
    dpbf16_vector();
    ops_vectors();
    return 0;
}
