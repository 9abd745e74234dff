#include "kernels.hpp"
#include "openblas/blas.hpp"

namespace attn::kernels {

// Y = X W as one cblas_sgemm on Shape::threads threads; x, y [B * n_q][d_model],
// w [d_model][d_model].
void projection_openblas_best(const Shape& sh, const float* x, const float* w, float* y) {
    const int m = int(sh.batch * sh.n_q), n = int(sh.d_model());
    openblas_set_num_threads(sh.threads);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, n, 1.0f, x, n, w, n, 0.0f, y, n);
}

}  // namespace attn::kernels
