#include "kernels.hpp"
#include "onednn/onednn.hpp"

namespace attn::kernels {

namespace {

// One matmul Y [rows][cols] = X [rows][d_model] W [d_model][cols].
struct ProjectionPlan {
    dnnl::memory::desc x_md, w_md, y_md;
    dnnl::matmul product;
};

// Y [B * n_q][cols] = X [B * n_q][d_model] W [d_model][cols] as one oneDNN matmul on
// Shape::threads OpenMP threads (the primitive made on the first call with these sizes), x and w
// stored as T, y fp32.
template <class T>
void project_columns(const Shape& sh, std::int64_t cols, const T* x, const T* w, float* y) {
    const onednn::ThreadScope threads(sh.threads);
    static onednn::PlanCache<ProjectionPlan> cache;
    const std::int64_t rows = sh.batch * sh.n_q, dm = sh.d_model();
    const std::string key = std::to_string(rows) + "x" + std::to_string(dm) + "x" +
                            std::to_string(cols) + "/t:" + std::to_string(sh.threads);
    ProjectionPlan& p = cache.get(key, [&] {
        ProjectionPlan plan;
        plan.x_md = onednn::desc_of<T>({rows, dm}, {dm, 1});
        plan.w_md = onednn::desc_of<T>({dm, cols}, {cols, 1});
        plan.y_md = onednn::f32_desc({rows, cols}, {cols, 1});
        plan.product = onednn::make_matmul(plan.x_md, plan.w_md, plan.y_md);
        return plan;
    });
    auto& strm = onednn::stream();
    p.product.execute(strm, {{DNNL_ARG_SRC, onednn::wrap(p.x_md, x)},
                             {DNNL_ARG_WEIGHTS, onednn::wrap(p.w_md, w)},
                             {DNNL_ARG_DST, onednn::wrap(p.y_md, y)}});
    strm.wait();
}

}  // namespace

// project_columns on fp32 and on bf16 storage.
void project_columns_onednn(const Shape& sh, std::int64_t cols, const float* x, const float* w,
                            float* y) {
    project_columns(sh, cols, x, w, y);
}
void project_columns_onednn(const Shape& sh, std::int64_t cols, const bf16* x, const bf16* w,
                            float* y) {
    project_columns(sh, cols, x, w, y);
}

// Y = X W, x, y [B * n_q][d_model], w [d_model][d_model], by project_columns_onednn.
void projection_onednn_best(const Shape& sh, const float* x, const float* w, float* y) {
    project_columns_onednn(sh, sh.d_model(), x, w, y);
}
void projection_onednn_best(const Shape& sh, const bf16* x, const bf16* w, float* y) {
    project_columns_onednn(sh, sh.d_model(), x, w, y);
}

}  // namespace attn::kernels
