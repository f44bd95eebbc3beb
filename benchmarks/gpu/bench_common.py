"""What the two diffusers + PEFT benches share (diffusers_bench.py: the SDXL UNet; diffusers_flux_bench.py: the Flux
transformer): timing a callable, random PEFT adapters, a torch.cuda.graph capture and the profiled step.

The functions take torch (and PEFT's LoraConfig) as arguments: the scripts import those late, after checking that
they are there, so that a missing package is a reported SKIP line rather than an import error of this module.
"""
import time


def timed(torch, fn, n):
    """Wall-clock ms of n calls of fn, each synchronized before and after."""
    times = []
    for _ in range(n):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    return times


def add_random_adapters(torch, lora_config, model, count, rank, targets, adapter_dtype, dtype):
    """Adds adapters a<i> up to count (rank, alpha = rank, N(0, 0.01) factors seeded 100 + i, as LoraSdk's benches draw
    theirs) and activates a0..a<count-1>. adapter_dtype "model" casts the factors to the model's dtype; "peft" keeps
    PEFT's default (autocast_adapter_dtype)."""
    existing = list(model.peft_config.keys()) if getattr(model, "peft_config", None) else []
    for i in range(len(existing), count):
        torch.manual_seed(100 + i)
        model.add_adapter(lora_config(r=rank, lora_alpha=rank, target_modules=targets, init_lora_weights=False),
                          adapter_name=f"a{i}")
        with torch.no_grad():
            for name, p in model.named_parameters():
                if f".a{i}." in name and "lora_" in name:
                    if adapter_dtype == "model":
                        p.data = p.data.to(dtype)
                    p.normal_(0, 0.01)
    model.set_adapters([f"a{i}" for i in range(count)])
    return next(p.dtype for n, p in model.named_parameters() if "lora_A" in n)


def capture(torch, step):
    """torch.cuda.graph's recipe: three warm-up steps on a side stream, then the capture (which synchronizes and empties
    the cache first). Returns (graph, static output). Call under torch.no_grad()."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        static_out = step()
    return graph, static_out


def profile_one_step(torch, step):
    """Three eager warm-up steps, then one step between the CUDA profiler's start and stop (ncu --profile-from-start off)."""
    with torch.no_grad():
        for _ in range(3):
            step()
        torch.cuda.synchronize()
        torch.cuda.profiler.start()
        step()
        torch.cuda.synchronize()
        torch.cuda.profiler.stop()
