// The CBLAS interface plus the OpenBLAS extensions the openblas variants use. A plain CBLAS header
// may lack the extensions, so they are declared here as well (same signatures, C linkage).
#pragma once

#include <cblas.h>

extern "C" {
void openblas_set_num_threads(int num_threads);
char* openblas_get_config(void);
char* openblas_get_corename(void);
}
