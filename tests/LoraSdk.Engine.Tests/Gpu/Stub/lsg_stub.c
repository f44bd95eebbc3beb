/*
 * A stand-in for native/'s liblorasdk_cuda_graph with the same exports, compiled by NativeLibraryCheckTests with
 * -D switches to play a library that does not fit: another C ABI version, a missing export, another libtorch release,
 * a different reading of tensor handles, a failing call. It never captures anything (every graph call fails).
 */
#include <stdint.h>
#include <string.h>

#define API __attribute__((visibility("default")))

#ifndef STUB_ABI
#define STUB_ABI 2
#endif
#ifndef STUB_BUILD
#define STUB_BUILD "2.11.0"
#endif
#ifndef STUB_RUNTIME
#define STUB_RUNTIME "2.11.0+cu130"
#endif
#ifndef STUB_NUMEL
#define STUB_NUMEL 30
#endif

typedef struct {
    int32_t device_type, device_index;
    int64_t numel, dim;
    uint64_t data_ptr;
    int32_t scalar_type, is_contiguous;
} info_t;

API int32_t lsg_abi_version(void) { return STUB_ABI; }
API const char* lsg_last_error(void) { return "stub: no GPU here"; }
API const char* lsg_build_torch_version(void) { return STUB_BUILD; }
API int32_t lsg_runtime_torch_version(char* buffer, int32_t capacity) {
#ifdef STUB_RUNTIME_FAILS
    (void)buffer; (void)capacity;
    return 1;
#else
    strncpy(buffer, STUB_RUNTIME, (size_t)capacity - 1);
    buffer[capacity - 1] = 0;
    return 0;
#endif
}
API int32_t lsg_build_cuda_version(void) { return 12080; }
API int32_t lsg_can_count_nodes(void) { return 1; }
API int32_t lsg_cuda_device_count(int32_t* count) { *count = 0; return 0; }
API int32_t lsg_synchronize(int32_t d) { (void)d; return 1; }
API int32_t lsg_is_current_stream_capturing(int32_t d, int32_t* c) { (void)d; *c = 0; return 0; }
API int32_t lsg_tensor_describe(const void* t, info_t* info) {
    (void)t;
    memset(info, 0, sizeof *info);
    info->device_index = -1;
    info->numel = STUB_NUMEL;
    info->dim = 3;
    return 0;
}
API int32_t lsg_memory_stats(int32_t d, int64_t* a, int64_t* pa, int64_t* r, int64_t* pr) { (void)d; (void)a; (void)pa; (void)r; (void)pr; return 1; }
API int32_t lsg_reset_peak_memory(int32_t d) { (void)d; return 1; }
API int32_t lsg_pool_handle(uint64_t* f, uint64_t* s) { (void)f; (void)s; return 1; }
API int32_t lsg_graph_create(int32_t d, void** g) { (void)d; *g = 0; return 1; }
API int32_t lsg_graph_warmup_begin(void* g) { (void)g; return 1; }
API int32_t lsg_graph_warmup_end(void* g) { (void)g; return 1; }
API int32_t lsg_graph_capture_begin(void* g, uint64_t f, uint64_t s, int32_t m) { (void)g; (void)f; (void)s; (void)m; return 1; }
API int32_t lsg_graph_capture_end(void* g, int64_t* n, int64_t* k) { (void)g; (void)n; (void)k; return 1; }
API int32_t lsg_graph_capture_abort(void* g) { (void)g; return 1; }
#ifndef STUB_OMIT_REPLAY
API int32_t lsg_graph_replay(void* g) { (void)g; return 1; }
#endif
API int32_t lsg_graph_reset(void* g) { (void)g; return 1; }
API int32_t lsg_graph_pool(void* g, uint64_t* f, uint64_t* s) { (void)g; (void)f; (void)s; return 1; }
API int32_t lsg_graph_destroy(void* g) { (void)g; return 0; }
API int32_t lsg_rms_norm(const void* x, const void* w, double eps, void** r) { (void)x; (void)w; (void)eps; (void)r; return 1; }
