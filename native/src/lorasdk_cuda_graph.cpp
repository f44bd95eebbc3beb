// lorasdk_cuda_graph: CUDA graph capture and replay for TorchSharp callers, over libtorch's at::cuda::CUDAGraph.
// See ../include/lorasdk_cuda_graph.h for the contract and docs/gpu-graphs.md for how it is built and used.

#include "lorasdk_cuda_graph.h"

#include <ATen/Tensor.h>
#include <ATen/Version.h>
#include <ATen/ops/rms_norm.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/Exception.h>
#include <cuda_runtime_api.h>
#include <torch/version.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

// at::cuda::CUDAGraph(bool keep_graph), raw_cuda_graph() and instantiate() (used to count the captured nodes before
// instantiating) exist from PyTorch 2.8 on; older builds skip the count.
#if (TORCH_VERSION_MAJOR > 2) || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 8)
#define LSG_HAS_KEEP_GRAPH 1
#else
#define LSG_HAS_KEEP_GRAPH 0
#endif

#define LSG_STR2(x) #x
#define LSG_STR(x) LSG_STR2(x)
#ifdef TORCH_VERSION
#define LSG_TORCH_VERSION TORCH_VERSION
#else
#define LSG_TORCH_VERSION LSG_STR(TORCH_VERSION_MAJOR) "." LSG_STR(TORCH_VERSION_MINOR) "." LSG_STR(TORCH_VERSION_PATCH)
#endif

namespace {

using PoolId = decltype(at::cuda::graph_pool_handle());

enum class State { Idle, WarmingUp, Capturing, Captured };

const char* state_name(State s) {
    switch (s) {
        case State::Idle: return "idle";
        case State::WarmingUp: return "warming up";
        case State::Capturing: return "capturing";
        case State::Captured: return "captured";
    }
    return "?";
}

struct Graph {
    Graph(c10::DeviceIndex d, c10::cuda::CUDAStream s) : device(d), stream(s) {}
    c10::DeviceIndex device;
    c10::cuda::CUDAStream stream;                      // the side stream warm-ups and captures run on
    std::optional<c10::cuda::CUDAStream> previous;     // the thread's current stream before warm-up / capture
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    PoolId pool{0, 0};
    State state = State::Idle;
};

thread_local std::string t_last_error;

// Captures under way in the process, and graphs whose destruction waits for them to end (a destroy from another
// thread, e.g. a .NET finalizer, must not free graph memory or call CUDA APIs that global-mode capture forbids).
std::mutex g_mutex;
int g_active_captures = 0;
std::vector<Graph*> g_deferred;

int32_t fail(int32_t status, std::string message) {
    t_last_error = std::move(message);
    return status;
}

template <class F>
int32_t guarded(F&& body) noexcept {
    try {
        return body();
    } catch (const c10::Error& e) {
        return fail(LSG_ERROR, e.what_without_backtrace());
    } catch (const std::exception& e) {
        return fail(LSG_ERROR, e.what());
    } catch (...) {
        return fail(LSG_ERROR, "unknown C++ exception");
    }
}

Graph* as_graph(void* p) { return static_cast<Graph*>(p); }

void check_cuda(cudaError_t status, const char* what) {
    if (status != cudaSuccess) {
        throw std::runtime_error(std::string(what) + " failed: " + cudaGetErrorString(status));
    }
}

std::unique_ptr<at::cuda::CUDAGraph> new_cuda_graph() {
#if LSG_HAS_KEEP_GRAPH
    return std::make_unique<at::cuda::CUDAGraph>(/*keep_graph=*/true);
#else
    return std::make_unique<at::cuda::CUDAGraph>();
#endif
}

void destroy_now(Graph* g) noexcept {
    try {
        if (g->graph) {
            c10::cuda::CUDAGuard guard(g->device);
            g->graph.reset();
        }
    } catch (...) {
        // ~CUDAGraph only warns; nothing else can fail here that a caller could act on.
    }
    delete g;
}

void drain_deferred_locked(std::vector<Graph*>& out) {
    if (g_active_captures == 0) out.swap(g_deferred);
}

// Restores the thread's stream and leaves capture mode bookkeeping; then frees graphs whose destruction waited.
void finish_capture(Graph* g, State next) {
    if (g->previous) c10::cuda::setCurrentCUDAStream(*g->previous);
    g->previous.reset();
    g->state = next;
    std::vector<Graph*> ready;
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        if (g_active_captures > 0) --g_active_captures;
        drain_deferred_locked(ready);
    }
    for (Graph* d : ready) destroy_now(d);
}

// After CUDAGraph::capture_end threw (the capture was invalidated by an illegal call, or its end failed): make sure
// the stream left capture mode and the caching allocator no longer routes to, nor holds, the pool. The CUDAGraph
// object itself is left alive on purpose: after a failed capture_end its destructor's clean-up differs between libtorch
// versions (older ones release nothing, newer ones end and release the pool themselves), so destroying it could release
// the pool twice. Leaking its few hundred bytes is the safe choice.
void clean_up_failed_end(Graph* g) noexcept {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(g->stream.stream(), &status) == cudaSuccess && status != cudaStreamCaptureStatusNone) {
        cudaGraph_t partial = nullptr;
        if (cudaStreamEndCapture(g->stream.stream(), &partial) == cudaSuccess && partial != nullptr) {
            cudaGraphDestroy(partial);
        }
    }
    try {
        c10::cuda::CUDACachingAllocator::endAllocateToPool(g->device, g->pool);
    } catch (...) {
        // already ended by capture_end
    }
    try {
        c10::cuda::CUDACachingAllocator::releasePool(g->device, g->pool);
    } catch (...) {
    }
    (void)g->graph.release();
    (void)cudaGetLastError();  // an invalidated capture leaves a (non-sticky) error behind; the next launch check would see it
}

std::string parse_torch_version(const std::string& config) {
    const std::string key = "TORCH_VERSION=";
    auto pos = config.find(key);
    if (pos == std::string::npos) return std::string();
    pos += key.size();
    auto end = config.find_first_of(", \n\r\t", pos);
    return config.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

}  // namespace

extern "C" {

LSG_API int32_t lsg_abi_version(void) { return LSG_ABI_VERSION; }

LSG_API const char* lsg_last_error(void) { return t_last_error.c_str(); }

LSG_API const char* lsg_build_torch_version(void) { return LSG_TORCH_VERSION; }

LSG_API int32_t lsg_build_cuda_version(void) {
#ifdef CUDART_VERSION
    return CUDART_VERSION;
#else
    return 0;
#endif
}

LSG_API int32_t lsg_can_count_nodes(void) { return LSG_HAS_KEEP_GRAPH; }

LSG_API int32_t lsg_runtime_torch_version(char* buffer, int32_t capacity) {
    return guarded([&]() -> int32_t {
        if (buffer == nullptr || capacity <= 0) return fail(LSG_INVALID_ARGUMENT, "buffer is null or empty");
        std::string version = parse_torch_version(at::show_config());
        if (version.empty()) return fail(LSG_ERROR, "at::show_config() of the loaded libtorch names no TORCH_VERSION");
        if (static_cast<int32_t>(version.size()) >= capacity) return fail(LSG_INVALID_ARGUMENT, "buffer too small");
        std::memcpy(buffer, version.c_str(), version.size() + 1);
        return LSG_OK;
    });
}

LSG_API int32_t lsg_cuda_device_count(int32_t* count) {
    return guarded([&]() -> int32_t {
        if (count == nullptr) return fail(LSG_INVALID_ARGUMENT, "count is null");
        *count = static_cast<int32_t>(c10::cuda::device_count());
        return LSG_OK;
    });
}

LSG_API int32_t lsg_synchronize(int32_t device_index) {
    return guarded([&]() -> int32_t {
        if (device_index < 0 || device_index >= c10::cuda::device_count())
            return fail(LSG_INVALID_ARGUMENT, "CUDA device index " + std::to_string(device_index) + " is out of range");
        c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device_index));
        c10::cuda::device_synchronize();
        return LSG_OK;
    });
}

LSG_API int32_t lsg_is_current_stream_capturing(int32_t device_index, int32_t* capturing) {
    return guarded([&]() -> int32_t {
        if (capturing == nullptr) return fail(LSG_INVALID_ARGUMENT, "capturing is null");
        if (device_index < 0 || device_index >= c10::cuda::device_count())
            return fail(LSG_INVALID_ARGUMENT, "CUDA device index " + std::to_string(device_index) + " is out of range");
        auto stream = c10::cuda::getCurrentCUDAStream(static_cast<c10::DeviceIndex>(device_index));
        cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
        check_cuda(cudaStreamIsCapturing(stream.stream(), &status), "cudaStreamIsCapturing");
        *capturing = status == cudaStreamCaptureStatusNone ? 0 : 1;
        return LSG_OK;
    });
}

LSG_API int32_t lsg_tensor_describe(const void* tensor, lsg_tensor_info* info) {
    return guarded([&]() -> int32_t {
        if (tensor == nullptr || info == nullptr) return fail(LSG_INVALID_ARGUMENT, "tensor handle or info is null");
        const auto& t = *static_cast<const at::Tensor*>(tensor);
        if (!t.defined()) return fail(LSG_INVALID_ARGUMENT, "the tensor is undefined");
        info->device_type = static_cast<int32_t>(t.device().type());
        info->device_index = static_cast<int32_t>(t.device().index());
        info->numel = t.numel();
        info->dim = t.dim();
        info->data_ptr = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(t.data_ptr()));
        info->scalar_type = static_cast<int32_t>(t.scalar_type());
        info->is_contiguous = t.is_contiguous() ? 1 : 0;
        return LSG_OK;
    });
}

LSG_API int32_t lsg_memory_stats(int32_t device_index, int64_t* allocated, int64_t* peak_allocated, int64_t* reserved,
                                 int64_t* peak_reserved) {
    return guarded([&]() -> int32_t {
        if (device_index < 0 || device_index >= c10::cuda::device_count())
            return fail(LSG_INVALID_ARGUMENT, "CUDA device index " + std::to_string(device_index) + " is out of range");
        auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device_index));
        // index 0 is StatType::AGGREGATE
        if (allocated) *allocated = stats.allocated_bytes[0].current;
        if (peak_allocated) *peak_allocated = stats.allocated_bytes[0].peak;
        if (reserved) *reserved = stats.reserved_bytes[0].current;
        if (peak_reserved) *peak_reserved = stats.reserved_bytes[0].peak;
        return LSG_OK;
    });
}

LSG_API int32_t lsg_reset_peak_memory(int32_t device_index) {
    return guarded([&]() -> int32_t {
        if (device_index < 0 || device_index >= c10::cuda::device_count())
            return fail(LSG_INVALID_ARGUMENT, "CUDA device index " + std::to_string(device_index) + " is out of range");
        c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(device_index));
        return LSG_OK;
    });
}

LSG_API int32_t lsg_pool_handle(uint64_t* first, uint64_t* second) {
    return guarded([&]() -> int32_t {
        if (first == nullptr || second == nullptr) return fail(LSG_INVALID_ARGUMENT, "pool out-pointer is null");
        PoolId id = at::cuda::graph_pool_handle();
        *first = static_cast<uint64_t>(id.first);
        *second = static_cast<uint64_t>(id.second);
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_create(int32_t device_index, void** graph) {
    return guarded([&]() -> int32_t {
        if (graph == nullptr) return fail(LSG_INVALID_ARGUMENT, "graph out-pointer is null");
        *graph = nullptr;
        int count = c10::cuda::device_count();
        if (device_index < 0 || device_index >= count)
            return fail(LSG_INVALID_ARGUMENT, "CUDA device index " + std::to_string(device_index) + " is out of range (" +
                                                  std::to_string(count) + " device(s))");
        auto device = static_cast<c10::DeviceIndex>(device_index);
        c10::cuda::CUDAGuard guard(device);
        auto stream = c10::cuda::getStreamFromPool(false, device);
        *graph = new Graph(device, stream);
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_warmup_begin(void* graph) {
    return guarded([&]() -> int32_t {
        Graph* g = as_graph(graph);
        if (g == nullptr) return fail(LSG_INVALID_ARGUMENT, "graph is null");
        if (g->state != State::Idle)
            return fail(LSG_INVALID_STATE, std::string("warm-up needs an idle graph; it is ") + state_name(g->state));
        c10::cuda::CUDAGuard guard(g->device);
        c10::cuda::device_synchronize();
        g->previous = c10::cuda::getCurrentCUDAStream(g->device);
        c10::cuda::setCurrentCUDAStream(g->stream);
        g->state = State::WarmingUp;
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_warmup_end(void* graph) {
    return guarded([&]() -> int32_t {
        Graph* g = as_graph(graph);
        if (g == nullptr) return fail(LSG_INVALID_ARGUMENT, "graph is null");
        if (g->state != State::WarmingUp)
            return fail(LSG_INVALID_STATE, std::string("no warm-up is under way; the graph is ") + state_name(g->state));
        c10::cuda::CUDAGuard guard(g->device);
        if (g->previous) c10::cuda::setCurrentCUDAStream(*g->previous);
        g->previous.reset();
        g->state = State::Idle;
        // The warm-up's work ran on the side stream: wait for it, so that its caches and allocations are settled
        // before the capture (and the caller's next ops on the default stream) begin.
        c10::cuda::device_synchronize();
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_capture_begin(void* graph, uint64_t pool_first, uint64_t pool_second, int32_t mode) {
    return guarded([&]() -> int32_t {
        Graph* g = as_graph(graph);
        if (g == nullptr) return fail(LSG_INVALID_ARGUMENT, "graph is null");
        if (mode < LSG_CAPTURE_GLOBAL || mode > LSG_CAPTURE_RELAXED)
            return fail(LSG_INVALID_ARGUMENT, "capture mode " + std::to_string(mode) + " is not 0, 1 or 2");
        if (pool_first != 0 && pool_second != 0)
            return fail(LSG_INVALID_ARGUMENT, "a pool id has exactly one non-zero half");
        if (g->state != State::Idle)
            return fail(LSG_INVALID_STATE, std::string("capture needs an idle graph; it is ") + state_name(g->state) +
                                               (g->state == State::Captured ? " (reset it to capture again)" : ""));
        c10::cuda::CUDAGuard guard(g->device);
        cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
        check_cuda(cudaStreamIsCapturing(c10::cuda::getCurrentCUDAStream(g->device).stream(), &status),
                   "cudaStreamIsCapturing");
        if (status != cudaStreamCaptureStatusNone)
            return fail(LSG_INVALID_STATE, "the calling thread's current stream is already capturing (capture inside capture)");

        // What torch.cuda.graph does on entry: let prior work finish and hand cached blocks back, so the capture's
        // private pool can take what it needs.
        c10::cuda::device_synchronize();
        c10::cuda::CUDACachingAllocator::emptyCache();

        PoolId pool = (pool_first != 0 || pool_second != 0)
                          ? PoolId(static_cast<decltype(PoolId().first)>(pool_first),
                                   static_cast<decltype(PoolId().second)>(pool_second))
                          : at::cuda::graph_pool_handle();
        auto cuda_graph = new_cuda_graph();
        g->previous = c10::cuda::getCurrentCUDAStream(g->device);
        c10::cuda::setCurrentCUDAStream(g->stream);
        try {
            cuda_graph->capture_begin(pool, static_cast<cudaStreamCaptureMode>(mode));
        } catch (...) {
            c10::cuda::setCurrentCUDAStream(*g->previous);
            g->previous.reset();
            throw;
        }
        g->graph = std::move(cuda_graph);
        g->pool = pool;
        g->state = State::Capturing;
        std::lock_guard<std::mutex> lock(g_mutex);
        ++g_active_captures;
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_capture_end(void* graph, int64_t* node_count, int64_t* kernel_count) {
    return guarded([&]() -> int32_t {
        Graph* g = as_graph(graph);
        if (g == nullptr) return fail(LSG_INVALID_ARGUMENT, "graph is null");
        if (g->state != State::Capturing)
            return fail(LSG_INVALID_STATE, std::string("no capture is under way; the graph is ") + state_name(g->state));
        if (node_count) *node_count = -1;
        if (kernel_count) *kernel_count = -1;
        c10::cuda::CUDAGuard guard(g->device);
        try {
            g->graph->capture_end();
        } catch (...) {
            clean_up_failed_end(g);
            finish_capture(g, State::Idle);
            throw;
        }
        finish_capture(g, State::Captured);
        try {
#if LSG_HAS_KEEP_GRAPH
            cudaGraph_t raw = g->graph->raw_cuda_graph();
            size_t count = 0;
            check_cuda(cudaGraphGetNodes(raw, nullptr, &count), "cudaGraphGetNodes");
            std::vector<cudaGraphNode_t> nodes(count);
            if (count > 0) check_cuda(cudaGraphGetNodes(raw, nodes.data(), &count), "cudaGraphGetNodes");
            int64_t kernels = 0;
            for (size_t i = 0; i < count; ++i) {
                cudaGraphNodeType type;
                check_cuda(cudaGraphNodeGetType(nodes[i], &type), "cudaGraphNodeGetType");
                if (type == cudaGraphNodeTypeKernel) ++kernels;
            }
            if (node_count) *node_count = static_cast<int64_t>(count);
            if (kernel_count) *kernel_count = kernels;
            g->graph->instantiate();
#endif
        } catch (...) {
            // The capture ended normally, so the CUDAGraph's own reset releases its pool.
            g->graph.reset();
            g->state = State::Idle;
            throw;
        }
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_capture_abort(void* graph) {
    return guarded([&]() -> int32_t {
        Graph* g = as_graph(graph);
        if (g == nullptr) return fail(LSG_INVALID_ARGUMENT, "graph is null");
        if (g->state != State::Capturing)
            return fail(LSG_INVALID_STATE, std::string("no capture is under way; the graph is ") + state_name(g->state));
        c10::cuda::CUDAGuard guard(g->device);
        bool ended = false;
        try {
            g->graph->capture_end();
            ended = true;
        } catch (...) {
        }
        if (ended) {
            g->graph.reset();  // a normally ended capture: the CUDAGraph releases its pool itself
        } else {
            clean_up_failed_end(g);
        }
        finish_capture(g, State::Idle);
        (void)cudaGetLastError();
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_replay(void* graph) {
    return guarded([&]() -> int32_t {
        Graph* g = as_graph(graph);
        if (g == nullptr) return fail(LSG_INVALID_ARGUMENT, "graph is null");
        if (g->state != State::Captured)
            return fail(LSG_INVALID_STATE, std::string("replay needs a captured graph; it is ") + state_name(g->state));
        c10::cuda::CUDAGuard guard(g->device);
        g->graph->replay();
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_reset(void* graph) {
    return guarded([&]() -> int32_t {
        Graph* g = as_graph(graph);
        if (g == nullptr) return fail(LSG_INVALID_ARGUMENT, "graph is null");
        if (g->state == State::WarmingUp || g->state == State::Capturing)
            return fail(LSG_INVALID_STATE, std::string("cannot reset a graph that is ") + state_name(g->state));
        c10::cuda::CUDAGuard guard(g->device);
        g->graph.reset();
        g->pool = PoolId(0, 0);
        g->state = State::Idle;
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_pool(void* graph, uint64_t* first, uint64_t* second) {
    return guarded([&]() -> int32_t {
        Graph* g = as_graph(graph);
        if (g == nullptr || first == nullptr || second == nullptr) return fail(LSG_INVALID_ARGUMENT, "null argument");
        if (g->state != State::Captured)
            return fail(LSG_INVALID_STATE, std::string("the pool is known once captured; the graph is ") + state_name(g->state));
        *first = static_cast<uint64_t>(g->pool.first);
        *second = static_cast<uint64_t>(g->pool.second);
        return LSG_OK;
    });
}

LSG_API int32_t lsg_graph_destroy(void* graph) {
    return guarded([&]() -> int32_t {
        Graph* g = as_graph(graph);
        if (g == nullptr) return LSG_OK;
        if (g->state == State::WarmingUp || g->state == State::Capturing)
            return fail(LSG_INVALID_STATE, std::string("cannot destroy a graph that is ") + state_name(g->state));
        {
            std::lock_guard<std::mutex> lock(g_mutex);
            if (g_active_captures > 0) {
                g_deferred.push_back(g);
                return LSG_OK;
            }
        }
        destroy_now(g);
        return LSG_OK;
    });
}

LSG_API int32_t lsg_rms_norm(const void* input, const void* weight, double eps, void** result) {
    return guarded([&]() -> int32_t {
        if (input == nullptr || result == nullptr) return fail(LSG_INVALID_ARGUMENT, "input handle or result is null");
        const auto& x = *static_cast<const at::Tensor*>(input);
        if (!x.defined() || x.dim() < 1) return fail(LSG_INVALID_ARGUMENT, "the input is undefined or has no dimension");
        std::optional<at::Tensor> w;
        if (weight != nullptr) {
            const auto& given = *static_cast<const at::Tensor*>(weight);
            if (!given.defined() || given.dim() != 1 || given.size(0) != x.size(-1))
                return fail(LSG_INVALID_ARGUMENT, "the weight must be a defined 1-D tensor of the input's last dimension");
            w = given;
        }
        at::Tensor out = at::rms_norm(x, {x.size(-1)}, w, eps);
        *result = new at::Tensor(std::move(out));
        return LSG_OK;
    });
}

}  // extern "C"
