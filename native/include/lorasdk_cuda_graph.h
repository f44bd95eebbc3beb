/*
 * lorasdk_cuda_graph: a small C ABI over libtorch's at::cuda::CUDAGraph for TorchSharp callers.
 *
 * Every function returns 0 on success and a non-zero status on failure; the failure's message is then available
 * through lsg_last_error() on the same thread (valid until the next call on that thread). No C++ exception crosses
 * this boundary.
 *
 * Capture model: a graph owns a side stream taken from libtorch's stream pool. lsg_graph_capture_begin makes that
 * stream the *current CUDA stream of the calling thread* (c10's thread-local current stream, which TorchSharp's
 * libLibTorchSharp shares because both link the same libc10_cuda), so every libtorch op issued from this thread
 * until lsg_graph_capture_end is captured; allocations on that stream come from the graph's private memory pool.
 * Replays run on the calling thread's current stream (normally the default stream), so later ops are ordered after them.
 *
 * Tensors cross this boundary as TorchSharp's native handles (Tensor.Handle), which are `at::Tensor*`.
 */
#ifndef LORASDK_CUDA_GRAPH_H
#define LORASDK_CUDA_GRAPH_H

#include <stdint.h>

#if defined(_WIN32)
#define LSG_API __declspec(dllexport)
#else
#define LSG_API __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Version of this C ABI; the managed wrapper refuses a library whose number it does not know. */
#define LSG_ABI_VERSION 2

/* Status codes. */
#define LSG_OK 0
#define LSG_ERROR 1             /* a libtorch / CUDA call failed: see lsg_last_error() */
#define LSG_INVALID_ARGUMENT 2  /* null handle, bad device index, bad mode */
#define LSG_INVALID_STATE 3     /* call out of order (replay before capture, capture twice, end without begin) */

/* Capture modes (cudaStreamCaptureMode). */
#define LSG_CAPTURE_GLOBAL 0
#define LSG_CAPTURE_THREAD_LOCAL 1
#define LSG_CAPTURE_RELAXED 2

typedef struct lsg_tensor_info {
    int32_t device_type;   /* c10::DeviceType: 0 = CPU, 1 = CUDA, ... */
    int32_t device_index;  /* -1 for CPU */
    int64_t numel;
    int64_t dim;
    uint64_t data_ptr;     /* address of the first element */
    int32_t scalar_type;   /* c10::ScalarType */
    int32_t is_contiguous;
} lsg_tensor_info;

LSG_API int32_t lsg_abi_version(void);
LSG_API const char* lsg_last_error(void);

/* TORCH_VERSION of the headers this library was compiled against (e.g. "2.11.0"). */
LSG_API const char* lsg_build_torch_version(void);
/* TORCH_VERSION of the libtorch loaded in this process (read from at::show_config()); writes a NUL-terminated string. */
LSG_API int32_t lsg_runtime_torch_version(char* buffer, int32_t capacity);
/* CUDA_VERSION this library was compiled against (e.g. 13000), or 0. */
LSG_API int32_t lsg_build_cuda_version(void);
/* 1 when the library could count the nodes of a captured graph (libtorch >= 2.8), else 0. */
LSG_API int32_t lsg_can_count_nodes(void);

LSG_API int32_t lsg_cuda_device_count(int32_t* count);
LSG_API int32_t lsg_synchronize(int32_t device_index);
/* 1 in *capturing when the calling thread's current stream on that device is capturing. */
LSG_API int32_t lsg_is_current_stream_capturing(int32_t device_index, int32_t* capturing);

LSG_API int32_t lsg_tensor_describe(const void* tensor, lsg_tensor_info* info);

/* The caching allocator's byte counts for a device (current and peak, allocated and reserved); any pointer may be null. */
LSG_API int32_t lsg_memory_stats(int32_t device_index, int64_t* allocated, int64_t* peak_allocated, int64_t* reserved,
                                 int64_t* peak_reserved);
LSG_API int32_t lsg_reset_peak_memory(int32_t device_index);

/* A fresh memory-pool id for sharing one private pool between several graphs (at::cuda::graph_pool_handle()). */
LSG_API int32_t lsg_pool_handle(uint64_t* first, uint64_t* second);

LSG_API int32_t lsg_graph_create(int32_t device_index, void** graph);
/* Warm-up on the graph's capture stream: begin waits for the device to be idle and makes the capture stream current;
   end synchronizes and restores the previous stream. */
LSG_API int32_t lsg_graph_warmup_begin(void* graph);
LSG_API int32_t lsg_graph_warmup_end(void* graph);
/* pool (0, 0): a new private pool; otherwise an id from lsg_pool_handle or lsg_graph_pool. */
LSG_API int32_t lsg_graph_capture_begin(void* graph, uint64_t pool_first, uint64_t pool_second, int32_t mode);
/* Ends the capture and instantiates the graph; node/kernel counts are -1 when unknown (either pointer may be null). */
LSG_API int32_t lsg_graph_capture_end(void* graph, int64_t* node_count, int64_t* kernel_count);
/* Ends a capture that must not be kept (the caller's code failed, or the capture was invalidated): releases what
   the capture held and restores the previous stream. Always leaves the graph re-capturable. */
LSG_API int32_t lsg_graph_capture_abort(void* graph);
LSG_API int32_t lsg_graph_replay(void* graph);
/* Drops the captured graph (and its hold on the pool); the object can capture again. */
LSG_API int32_t lsg_graph_reset(void* graph);
LSG_API int32_t lsg_graph_pool(void* graph, uint64_t* first, uint64_t* second);
/* Frees the graph. Safe from any thread: while any capture is under way in the process the destruction is deferred
   until the last one ends. */
LSG_API int32_t lsg_graph_destroy(void* graph);

/* Kernels TorchSharp does not bind (ABI 2). libtorch's rms_norm over the last dimension of `input` (an at::Tensor*
   handle), with an optional `weight` handle (null: none): on CUDA one fused kernel that accumulates in float32 and
   rounds once, as torch.nn.functional.rms_norm does for diffusers. `*result` receives a new at::Tensor* handle that
   the caller owns (TorchSharp: Tensor.UnsafeCreateTensor). */
LSG_API int32_t lsg_rms_norm(const void* input, const void* weight, double eps, void** result);

#ifdef __cplusplus
}
#endif

#endif /* LORASDK_CUDA_GRAPH_H */
