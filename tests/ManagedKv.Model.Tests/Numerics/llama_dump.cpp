// Runs llama.cpp (the goldens' f32attn configuration: no flash attention, F32 KV cache, 2 threads, n_batch 2048,
// n_ubatch 512) on token ids and dumps every computed F32 tensor of the prompt's decode (and of optional greedy
// steps) plus the final logits: <outdir>/index.txt lists "step seq name op ne0 ne1 ne2 ne3", s<step>_<seq>.bin
// holds the values (ne0 fastest), logits_s<step>.bin the logits. This is how the reference backend was compared
// with llama.cpp operation by operation. Build against the golden llama.cpp (de3ff81) build tree:
//   g++ -O2 -std=c++17 llama_dump.cpp -I<llama.cpp>/include -I<llama.cpp>/ggml/include -L<build>/bin \
//       -lllama -lggml -lggml-base -Wl,-rpath,<build>/bin -o llama_dump
//   ./llama_dump model.gguf 1,403,407 outdir [greedy_steps] [dump 0/1]
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct St { std::string dir; int seq = 0; int step = 0; bool dump = true; FILE * index = nullptr; };

static bool cb(struct ggml_tensor * t, bool ask, void * ud) {
    St * st = (St *) ud;
    if (ask) return st->dump;
    if (t->type != GGML_TYPE_F32) return true;
    std::vector<float> out;
    out.reserve(ggml_nelements(t));
    std::vector<uint8_t> raw(ggml_nbytes(t));
    ggml_backend_tensor_get(t, raw.data(), 0, raw.size());
    for (int64_t i3 = 0; i3 < t->ne[3]; i3++)
    for (int64_t i2 = 0; i2 < t->ne[2]; i2++)
    for (int64_t i1 = 0; i1 < t->ne[1]; i1++)
    for (int64_t i0 = 0; i0 < t->ne[0]; i0++) {
        size_t off = i0*t->nb[0] + i1*t->nb[1] + i2*t->nb[2] + i3*t->nb[3];
        float v; memcpy(&v, raw.data() + off, 4); out.push_back(v);
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/s%d_%04d.bin", st->dir.c_str(), st->step, st->seq);
    FILE * f = fopen(path, "wb"); fwrite(out.data(), 4, out.size(), f); fclose(f);
    fprintf(st->index, "%d %d %s %s %lld %lld %lld %lld\n", st->step, st->seq, t->name, ggml_op_desc(t),
            (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)t->ne[3]);
    st->seq++;
    return true;
}

int main(int argc, char ** argv) {
    if (argc < 4) { fprintf(stderr, "usage: dump model.gguf ids(comma) outdir [greedy_steps] [dump:0/1]\n"); return 1; }
    St st; st.dir = argv[3];
    int steps = argc > 4 ? atoi(argv[4]) : 0;
    st.dump = argc > 5 ? atoi(argv[5]) != 0 : true;
    std::vector<llama_token> ids;
    for (char * p = strtok(argv[2], ","); p; p = strtok(nullptr, ",")) ids.push_back(atoi(p));
    llama_backend_init();
    auto mp = llama_model_default_params();
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    auto cp = llama_context_default_params();
    cp.n_ctx = 0; cp.n_batch = 2048; cp.n_ubatch = 512; cp.n_threads = 2; cp.n_threads_batch = 2;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED; cp.type_k = GGML_TYPE_F32; cp.type_v = GGML_TYPE_F32;
    cp.cb_eval = cb; cp.cb_eval_user_data = &st;
    llama_context * ctx = llama_init_from_model(model, cp);
    st.index = fopen((st.dir + "/index.txt").c_str(), "w");
    if (llama_decode(ctx, llama_batch_get_one(ids.data(), ids.size()))) { fprintf(stderr, "decode failed\n"); return 1; }
    int nv = llama_vocab_n_tokens(llama_model_get_vocab(model));
    auto save = [&](int step) {
        const float * lg = llama_get_logits_ith(ctx, -1);
        char path[1024]; snprintf(path, sizeof path, "%s/logits_s%d.bin", st.dir.c_str(), step);
        FILE * f = fopen(path, "wb"); fwrite(lg, 4, nv, f); fclose(f);
        int best = 0; for (int i = 1; i < nv; i++) if (lg[i] > lg[best]) best = i;
        return best;
    };
    llama_token next = save(0);
    for (int s = 1; s <= steps; s++) {
        st.step = s; st.seq = 0;
        printf("%d ", next);
        if (llama_decode(ctx, llama_batch_get_one(&next, 1))) return 1;
        next = save(s);
    }
    printf("\n");
    fclose(st.index);
    llama_free(ctx); llama_model_free(model);
    return 0;
}
