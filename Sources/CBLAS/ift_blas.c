#define _GNU_SOURCE
#include "ift_blas.h"

#include <sched.h>
#include <unistd.h>

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

// CBLAS's constants (the same in every CBLAS: OpenBLAS, BLIS, reference, MKL).
enum { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);
typedef char *(*string_fn)(void);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef void (*blis_set_threads_fn)(long);
typedef long (*blis_get_threads_fn)(void);

static void *library;
static const char *opened_path;
static sgemm_fn sgemm;
static string_fn corename, config;
static set_threads_fn set_threads;
static get_threads_fn get_threads;
static blis_set_threads_fn blis_set_threads;
static blis_get_threads_fn blis_get_threads;

int ift_blas_open(const char *const *paths, int count, char *error, size_t error_length) {
    if (library) return 0;
    size_t used = 0;
    if (error_length) error[0] = 0;
    for (int i = 0; i < count; i++) {
        void *h = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
        const char *why = NULL;
        if (!h) {
            why = dlerror();
        } else if (!dlsym(h, "cblas_sgemm")) {
            why = "no cblas_sgemm in it";
            dlclose(h);
            h = NULL;
        }
        if (!h) {
            if (used < error_length) {
                int n = snprintf(error + used, error_length - used, "%s%s: %s", used ? "; " : "", paths[i],
                                 why ? why : "cannot be opened");
                if (n > 0) used += (size_t)n;
            }
            continue;
        }
        library = h;
        opened_path = paths[i];
        sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
        corename = (string_fn)dlsym(h, "openblas_get_corename");
        config = (string_fn)dlsym(h, "openblas_get_config");
        set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
        get_threads = (get_threads_fn)dlsym(h, "openblas_get_num_threads");
        blis_set_threads = (blis_set_threads_fn)dlsym(h, "bli_thread_set_num_threads");
        blis_get_threads = (blis_get_threads_fn)dlsym(h, "bli_thread_get_num_threads");
        return 0;
    }
    return -1;
}

const char *ift_blas_path(void) { return opened_path; }
const char *ift_blas_corename(void) { return corename ? corename() : NULL; }
const char *ift_blas_config(void) { return config ? config() : NULL; }

int ift_blas_set_threads(int threads) {
    if (set_threads) {
        set_threads(threads);
        return 0;
    }
    if (blis_set_threads) {
        blis_set_threads(threads);
        return 0;
    }
    return -1;
}

int ift_blas_threads(void) {
    if (get_threads) return get_threads();
    if (blis_get_threads) return (int)blis_get_threads();
    return -1;
}

void ift_sgemm(int transpose_a, int transpose_b, int m, int n, int k, float alpha, const float *a, int lda,
               const float *b, int ldb, float beta, float *c, int ldc) {
    sgemm(kRowMajor, transpose_a ? kTrans : kNoTrans, transpose_b ? kTrans : kNoTrans, m, n, k, alpha, a, lda, b,
          ldb, beta, c, ldc);
}

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long read_xcr0(void) {
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

void ift_cpu_read(ift_cpu_info *info) {
    memset(info, 0, sizeof *info);
    unsigned int a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned int max_leaf = a;
    memcpy(info->vendor, &b, 4);
    memcpy(info->vendor + 4, &d, 4);
    memcpy(info->vendor + 8, &c, 4);
    __get_cpuid(1, &a, &b, &c, &d);
    int base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    info->family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
    info->model = (base_family == 0x6 || base_family == 0xf) ? base_model + (((a >> 16) & 0xf) << 4) : base_model;
    int osxsave = (c >> 27) & 1;
    unsigned long long xcr0 = osxsave ? read_xcr0() : 0;
    int ymm = (xcr0 & 0x6) == 0x6;            // SSE and AVX state
    int zmm = ymm && (xcr0 & 0xe0) == 0xe0;   // opmask, ZMM0-15 high halves, ZMM16-31
    int tiles = (xcr0 & 0x60000) == 0x60000;  // XTILECFG and XTILEDATA
    info->sse42 = (c >> 20) & 1;
    info->avx = ymm && ((c >> 28) & 1);
    info->fma = ymm && ((c >> 12) & 1);
    if (max_leaf >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        info->avx2 = ymm && ((b >> 5) & 1);
        info->avx512f = zmm && ((b >> 16) & 1);
        info->avx512dq = zmm && ((b >> 17) & 1);
        info->avx512cd = zmm && ((b >> 28) & 1);
        info->avx512bw = zmm && ((b >> 30) & 1);
        info->avx512vl = zmm && ((b >> 31) & 1);
        info->avx512vnni = zmm && ((c >> 11) & 1);
        info->avx512fp16 = zmm && ((d >> 23) & 1);
        info->amx_bf16 = tiles && ((d >> 22) & 1);
        info->amx_tile = tiles && ((d >> 24) & 1);
        unsigned int subleaves = a;
        if (subleaves >= 1) {
            __cpuid_count(7, 1, a, b, c, d);
            info->avx512bf16 = zmm && ((a >> 5) & 1);
        }
    }
    __get_cpuid(0x80000000, &a, &b, &c, &d);
    if (a >= 0x80000004) {
        unsigned int words[12];
        for (unsigned int i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &words[4 * i], &words[4 * i + 1], &words[4 * i + 2], &words[4 * i + 3]);
        memcpy(info->brand, words, 48);
        info->brand[48] = 0;
        // Trim the padding spaces some CPUs put around the name.
        char *s = info->brand;
        while (*s == ' ') s++;
        memmove(info->brand, s, strlen(s) + 1);
        size_t n = strlen(info->brand);
        while (n > 0 && info->brand[n - 1] == ' ') info->brand[--n] = 0;
    }
}
#else
void ift_cpu_read(ift_cpu_info *info) { memset(info, 0, sizeof *info); }
#endif

int ift_cpu_available(void) {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}
