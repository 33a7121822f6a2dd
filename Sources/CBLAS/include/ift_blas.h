// The CPU backend's BLAS, loaded at run time with dlopen (so the engine chooses the BLAS kernels for
// the CPU it is on before the library initializes), and the CPU's features read with cpuid.
#ifndef IFT_BLAS_H
#define IFT_BLAS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opens the first library of `paths` that loads and exports `cblas_sgemm`. Returns 0 on success;
/// otherwise writes what failed for each path into `error` and returns -1. Call once (not thread-safe).
int ift_blas_open(const char *const *paths, int count, char *error, size_t error_length);

/// The path that was opened, or NULL before a successful ift_blas_open.
const char *ift_blas_path(void);

/// OpenBLAS's kernel name (openblas_get_corename) and build string (openblas_get_config), or NULL
/// when the library does not export them (another CBLAS).
const char *ift_blas_corename(void);
const char *ift_blas_config(void);

/// Sets / reads the library's thread count (OpenBLAS or BLIS); -1 when it has no such call.
int ift_blas_set_threads(int threads);
int ift_blas_threads(void);

/// Row-major single-precision GEMM: C = alpha * op(A) op(B) + beta * C (cblas_sgemm with
/// CblasRowMajor; a transpose flag is 0 or 1).
void ift_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *c, int ldc);

/// What cpuid (and xgetbv, for the registers the OS saves) says about this CPU.
typedef struct {
    char vendor[16];  // "GenuineIntel", "AuthenticAMD", ...
    char brand[64];   // "AMD EPYC 9R45 ...", empty when the CPU does not say
    int family;       // display family (base + extended)
    int model;        // display model
    int sse42, avx, fma, avx2;  // each 1 or 0; avx/avx2/fma need the OS to save the YMM registers
    int avx512f, avx512bw, avx512dq, avx512vl, avx512cd;  // need the OS to save the ZMM registers
    int avx512bf16, avx512fp16, avx512vnni;
    int amx_tile, amx_bf16;  // need the OS to save the tile registers
} ift_cpu_info;

/// Fills `info` (all zero on a non-x86 CPU).
void ift_cpu_read(ift_cpu_info *info);

/// CPUs this process may run on (its affinity mask), or the online CPUs where that is unknown.
int ift_cpu_available(void);

#ifdef __cplusplus
}
#endif

#endif
