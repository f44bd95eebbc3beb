#!/usr/bin/env python3
"""diffusers + PEFT on the workload of issue 10, next to LoraSdk.Benchmarks.Gpu graph-bench.

SDXL-base-sized UNet2DConditionModel with random weights, fp16, CFG batch 2, latent 128 (1024 px), rank-32 LoRA
adapters (PEFT, through diffusers' add_adapter) on the 560 attention projections (to_q, to_k, to_v, to_out.0).
Each configuration is timed eagerly and as a CUDA graph (torch.cuda.CUDAGraph capture of the UNet call with static
inputs, warmed up on a side stream as PyTorch's documentation does), in interleaved rounds.

Prints tab-separated lines in the format of the C# bench, for benchmarks/gpu/summarize.py:
  RESULT  diffusers  <config>  eager|graph  <median ms>  <min ms>  <n>  <MiB: eager peak allocated | graph reserved>
  PROFILE diffusers  <config>  kernels=<CUDA kernels in one eager step (torch.profiler)>  enqueue_ms=...  step_ms=...
  CHECK   diffusers  <config>  graph==eager bitwise or not
Exits 0 with a SKIP line when torch with CUDA, diffusers or PEFT cannot be imported.
"""

import argparse
import statistics
import sys
import time

import bench_common

SDXL_UNET = dict(
    act_fn="silu",
    addition_embed_type="text_time",
    addition_time_embed_dim=256,
    attention_head_dim=[5, 10, 20],
    block_out_channels=[320, 640, 1280],
    center_input_sample=False,
    cross_attention_dim=2048,
    down_block_types=["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    downsample_padding=1,
    flip_sin_to_cos=True,
    freq_shift=0,
    in_channels=4,
    layers_per_block=2,
    mid_block_scale_factor=1,
    norm_eps=1e-05,
    norm_num_groups=32,
    out_channels=4,
    projection_class_embeddings_input_dim=2816,
    sample_size=128,
    transformer_layers_per_block=[1, 2, 10],
    up_block_types=["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    use_linear_projection=True,
)
TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--latent", type=int, default=128)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rank", type=int, default=32)
    ap.add_argument("--dtype", default="fp16", choices=["fp16", "bf16", "fp32"])
    ap.add_argument("--only", default=None, help="comma-separated config names")
    ap.add_argument("--profile-step", type=int, default=None, metavar="ADAPTERS",
                    help="only: 3 eager warm-up steps with this many adapters, then one step between "
                         "torch.cuda.profiler.start()/stop() (for ncu --profile-from-start off)")
    ap.add_argument("--adapter-dtype", default="peft", choices=["peft", "model"],
                    help="peft: PEFT's default (autocast_adapter_dtype upcasts fp16/bf16 adapter weights to fp32), "
                         "model: cast the adapter weights to the model's dtype, as LoraSdk keeps them")
    args = ap.parse_args()

    try:
        import torch
    except ImportError as e:
        print(f"SKIP\tdiffusers\ttorch cannot be imported: {e}")
        return 0
    if not torch.cuda.is_available():
        print("SKIP\tdiffusers\tCUDA is not available to torch")
        return 0
    try:
        import diffusers
        import peft
        from diffusers import UNet2DConditionModel
        from peft import LoraConfig
    except Exception as e:  # noqa: BLE001 - any import failure means: no diffusers run here
        print(f"SKIP\tdiffusers\tdiffusers/PEFT cannot be imported: {type(e).__name__}: {e}")
        return 0
    try:
        import transformers

        tf_version = transformers.__version__
    except Exception:  # noqa: BLE001
        tf_version = "absent"
    print(f"diffusers {diffusers.__version__} ({diffusers.__file__}), peft {peft.__version__}, transformers {tf_version}, "
          f"torch {torch.__version__}, {torch.cuda.get_device_name()}")

    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.manual_seed(1234)
    with torch.device(dev):
        unet = UNet2DConditionModel(**SDXL_UNET)
    unet = unet.to(dtype).eval().requires_grad_(False)
    with torch.no_grad():
        for name, p in unet.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.02)
            elif "norm" in name:
                p.fill_(1.0)
            else:
                p.zero_()

    L = args.latent
    sample = torch.randn(2, 4, L, L, dtype=dtype, device=dev)
    timestep = torch.tensor(500.0, device=dev)
    context = torch.randn(2, 77, 2048, dtype=dtype, device=dev)
    text_embeds = torch.randn(2, 1280, dtype=dtype, device=dev)
    time_ids = torch.tensor([[1024, 1024, 0, 0, 1024, 1024]] * 2, dtype=dtype, device=dev)
    added = {"text_embeds": text_embeds, "time_ids": time_ids}
    adapted = sum(1 for n, _ in unet.named_modules() if any(n.endswith("." + t) for t in TARGETS))
    print(f"SDXL-base UNet step (diffusers), {dtype}, CFG batch 2, latent {L} ({L * 8}px), {adapted} adapted layers, "
          f"rank {args.rank}; {args.rounds} interleaved rounds of {args.iterations} steps per mode")

    def step():
        return unet(sample, timestep, encoder_hidden_states=context, added_cond_kwargs=added, return_dict=False)[0]

    def timed(fn, n):
        return bench_common.timed(torch, fn, n)

    def add_adapters(count):
        lora_dtype = bench_common.add_random_adapters(torch, LoraConfig, unet, count, args.rank, TARGETS, args.adapter_dtype, dtype)
        print(f"{count} adapter(s) loaded; adapter weights are {lora_dtype} (--adapter-dtype {args.adapter_dtype})")

    only = set(args.only.split(",")) if args.only else None

    if args.profile_step is not None:
        if args.profile_step > 0:
            add_adapters(args.profile_step)
        bench_common.profile_one_step(torch, step)
        print(f"profile-step: {args.profile_step} adapter(s), {dtype}, latent {L}")
        return 0

    def bench(name):
        if only is not None and name not in only:
            return
        with torch.no_grad():
            for _ in range(3):
                step()
            torch.cuda.synchronize()
            graph, static_out = bench_common.capture(torch, step)
            graph_reserved = torch.cuda.memory_reserved()

            eager, replay = [], []
            for _ in range(args.rounds):
                eager += timed(step, args.iterations)
                replay += timed(graph.replay, args.iterations)
            torch.cuda.reset_peak_memory_stats()
            timed(step, 2)
            eager_peak = torch.cuda.max_memory_allocated()

            enqueue, whole = [], []
            for _ in range(5):
                torch.cuda.synchronize()
                t0 = time.perf_counter()
                y = step()
                enqueue.append((time.perf_counter() - t0) * 1000)
                torch.cuda.synchronize()
                whole.append((time.perf_counter() - t0) * 1000)
                del y
            kernels = -1
            try:
                from torch.profiler import ProfilerActivity, profile

                with profile(activities=[ProfilerActivity.CUDA]) as prof:
                    step()
                    torch.cuda.synchronize()
                kernels = sum(1 for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA)
            except Exception as e:  # noqa: BLE001
                print(f"profiler unavailable: {e}")

            graph.replay()
            eager_out = step()
            torch.cuda.synchronize()
            same = torch.equal(static_out, eager_out)

        mib = 1024.0 * 1024.0
        print(f"RESULT\tdiffusers\t{name}\teager\t{statistics.median(eager):.2f}\t{min(eager):.2f}\t{len(eager)}\t{eager_peak / mib:.0f}")
        print(f"RESULT\tdiffusers\t{name}\tgraph\t{statistics.median(replay):.2f}\t{min(replay):.2f}\t{len(replay)}\t{graph_reserved / mib:.0f}")
        enq, st, gr = statistics.median(enqueue), statistics.median(whole), statistics.median(replay)
        per = enq * 1000 / kernels if kernels > 0 else float("nan")
        print(f"PROFILE\tdiffusers\t{name}\tkernels={kernels}\tnodes=-1\tenqueue_ms={enq:.2f}\tstep_ms={st:.2f}\tgraph_ms={gr:.2f}"
              f"\thost_us_per_kernel={per:.1f}\tgpu_idle_ms~{max(0.0, st - gr):.2f}\tgraph_equals_eager={same}")
        del graph, static_out, eager_out
        torch.cuda.empty_cache()

    bench("base")
    add_adapters(1)
    bench("1 adapter unfused")
    add_adapters(4)
    bench("4 adapters unfused")
    try:
        unet.set_adapters(["a0"])
        unet.fuse_lora(adapter_names=["a0"])
        bench("1 adapter materialized")
        unet.unfuse_lora()
    except Exception as e:  # noqa: BLE001
        print(f"fused configuration skipped: {type(e).__name__}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
