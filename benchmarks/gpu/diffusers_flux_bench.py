#!/usr/bin/env python3
"""diffusers + PEFT on the Flux workload of issue 13, next to `LoraSdk.Benchmarks.Gpu flux-bench`.

A FLUX.1-dev-sized FluxTransformer2DModel (19 double-stream + 38 single-stream blocks, 24 heads x 128 = 3072 wide,
in_channels 64, joint_attention_dim 4096, pooled 768, guidance_embeds, axes_dims_rope 16/56/56) with random weights,
created directly on the GPU in the bench dtype (bf16 by default) and initialised parameter by parameter there.
Batch 1, a 1024x1024 image (4096 packed image tokens), 512 text tokens; one transformer forward per step.
Adapters: rank-16 LoRA (PEFT, through diffusers' add_adapter) on exactly the projections FluxWorkload.cs adapts:
  transformer_blocks.N.attn.{to_q,to_k,to_v,to_out.0,add_q_proj,add_k_proj,add_v_proj,to_add_out}
  single_transformer_blocks.N.attn.{to_q,to_k,to_v}                       (19*8 + 38*3 = 266 layers)
Rows: base, 1 adapter unfused, 4 adapters unfused (eager), 4 adapters materialized (fuse_lora of the four);
base and 1 adapter also as a CUDA graph (torch.cuda.CUDAGraph capture of the transformer call with static inputs,
warmed up on a side stream as PyTorch's documentation does). A graph capture that fails is reported, not fatal.

Prints tab-separated lines in the format of the C# bench, for benchmarks/gpu/summarize.py:
  FLUX       diffusers  <row>  eager|graph  <median ms>  <min ms>  <n>  <MiB: eager peak allocated | graph reserved>
  FLUXSKIP   diffusers  <row>  eager|graph|all  <reason>
  FLUXCHECK  diffusers  <row>  graph==eager bitwise or not
Exits 0 with a FLUXSKIP line when torch with CUDA, diffusers or PEFT cannot be imported.

--profile-step N: no timing; N adapters (0: base), three eager warm-up steps, then one eager step between
torch.cuda.profiler.start()/stop() (for ncu --profile-from-start off: benchmarks/gpu/kernel-profile.sh --flux), next to
`LoraSdk.Benchmarks.Gpu flux-profile-step --adapters N`.
"""

import argparse
import statistics
import sys
import time

import bench_common

FLUX1_DEV = dict(patch_size=1, in_channels=64, out_channels=None, num_layers=19, num_single_layers=38,
                 attention_head_dim=128, num_attention_heads=24, joint_attention_dim=4096, pooled_projection_dim=768,
                 guidance_embeds=True, axes_dims_rope=(16, 56, 56))
# The same structure at toy size (FluxWorkload.Tiny in C#), for a quick check of the script on the device.
TINY = dict(patch_size=1, in_channels=64, out_channels=None, num_layers=2, num_single_layers=2, attention_head_dim=32,
            num_attention_heads=2, joint_attention_dim=96, pooled_projection_dim=48, guidance_embeds=True,
            axes_dims_rope=(8, 12, 12))
DOUBLE_BLOCK_TARGETS = ["to_q", "to_k", "to_v", "to_out.0", "add_q_proj", "add_k_proj", "add_v_proj", "to_add_out"]
SINGLE_BLOCK_TARGETS = ["to_q", "to_k", "to_v"]
ROWS = ["base", "1 adapter unfused", "4 adapters unfused", "4 adapters materialized"]
GRAPH_ROWS = {"base", "1 adapter unfused"}


def is_target(name):
    """FluxWorkload.IsTarget: an attention projection of a double- or single-stream block, by diffusers module path."""
    parts = name.split(".")
    if len(parts) < 4 or parts[2] != "attn":
        return False
    leaf = ".".join(parts[3:])
    if parts[0] == "transformer_blocks":
        return leaf in DOUBLE_BLOCK_TARGETS
    if parts[0] == "single_transformer_blocks":
        return leaf in SINGLE_BLOCK_TARGETS
    return False


def first_line(e):
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".replace("\t", " ")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--dtype", default="bf16", choices=["fp16", "bf16", "fp32"])
    ap.add_argument("--height", type=int, default=1024)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--text-tokens", type=int, default=512)
    ap.add_argument("--only", default=None, help="comma-separated row names")
    ap.add_argument("--no-graph", action="store_true")
    ap.add_argument("--tiny", action="store_true", help="2+2 blocks, 2 heads x 32 (a quick check of the script)")
    ap.add_argument("--adapter-dtype", default="peft", choices=["peft", "model"],
                    help="peft: PEFT's default (autocast_adapter_dtype upcasts fp16/bf16 adapter weights to fp32), "
                         "model: cast the adapter weights to the model's dtype, as LoraSdk keeps them")
    ap.add_argument("--profile-step", type=int, default=None, metavar="ADAPTERS",
                    help="only profile: ADAPTERS adapters, 3 warm-up steps, then one step between "
                         "torch.cuda.profiler.start()/stop() (for ncu --profile-from-start off)")
    args = ap.parse_args()
    if args.profile_step is not None and args.profile_step < 0:
        ap.error("--profile-step needs 0 or more adapters")
    if args.height % 16 or args.width % 16:
        ap.error("--height and --width must be multiples of 16")

    try:
        import torch
    except ImportError as e:
        print(f"FLUXSKIP\tdiffusers\tall\tall\ttorch cannot be imported: {e}")
        return 0
    if not torch.cuda.is_available():
        print("FLUXSKIP\tdiffusers\tall\tall\tCUDA is not available to torch")
        return 0
    try:
        import diffusers
        import peft
        from diffusers import FluxTransformer2DModel
        from peft import LoraConfig
    except Exception as e:  # noqa: BLE001 - any import failure means: no diffusers run here
        print(f"FLUXSKIP\tdiffusers\tall\tall\tdiffusers/PEFT cannot be imported: {first_line(e)}")
        return 0
    print(f"diffusers {diffusers.__version__} ({diffusers.__file__}), peft {peft.__version__}, torch {torch.__version__}, "
          f"{torch.cuda.get_device_name()}")

    dtype = {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    cfg = TINY if args.tiny else FLUX1_DEV

    # Parameters created on the GPU in the bench dtype (no float32 or host copy of ~11.9 B parameters).
    t0 = time.perf_counter()
    previous = torch.get_default_dtype()
    try:
        torch.set_default_dtype(dtype)
        with torch.device(dev):
            model = FluxTransformer2DModel(**cfg)
    except Exception as e:  # noqa: BLE001 - a torch that refuses a bf16 default dtype: float32 on the GPU, then cast
        print(f"bf16 default dtype refused ({first_line(e)}): building in float32 on the GPU, then casting")
        torch.set_default_dtype(previous)
        with torch.device(dev):
            model = FluxTransformer2DModel(**cfg)
    finally:
        torch.set_default_dtype(previous)
    model = model.to(dtype).eval().requires_grad_(False)
    torch.manual_seed(1234)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() >= 2:
                p.normal_(0, 0.02)
            elif "norm" in name:
                p.fill_(1.0)
            else:
                p.zero_()
    torch.cuda.synchronize()
    n_params = sum(p.numel() for p in model.parameters())
    targets = [n for n, m in model.named_modules() if is_target(n) and isinstance(m, torch.nn.Linear)]

    h2, w2 = args.height // 16, args.width // 16
    tokens, text = h2 * w2, args.text_tokens
    torch.manual_seed(7)
    hidden = torch.randn(1, tokens, cfg["in_channels"], dtype=dtype, device=dev)
    context = torch.randn(1, text, cfg["joint_attention_dim"], dtype=dtype, device=dev)
    pooled = torch.randn(1, cfg["pooled_projection_dim"], dtype=dtype, device=dev)
    # As FluxPipeline passes them: t/1000 in the latents' dtype, guidance float32, ids in the prompt's dtype.
    timestep = torch.full((1,), 0.5, dtype=dtype, device=dev)
    guidance = torch.full((1,), 3.5, dtype=torch.float32, device=dev)
    img_ids = torch.zeros(h2, w2, 3)
    img_ids[..., 1] += torch.arange(h2)[:, None]
    img_ids[..., 2] += torch.arange(w2)[None, :]
    img_ids = img_ids.reshape(tokens, 3).to(dev, dtype)
    txt_ids = torch.zeros(text, 3, dtype=dtype, device=dev)
    # (Not printed by --profile-step: summarize.py reads these header lines from device-run.log.)
    if args.profile_step is None:
        print(f"Flux transformer step (diffusers), {'TINY 2+2 blocks' if args.tiny else 'FLUX.1-dev-sized 19+38 blocks'}, "
              f"{n_params:,} parameters, {dtype}, batch 1, {args.height}x{args.width} ({tokens} image tokens), {text} text tokens, "
              f"{len(targets)} adapted layers, rank {args.rank}; {args.rounds} rounds of {args.iterations} steps per mode; "
              f"built and initialised on the GPU in {time.perf_counter() - t0:.1f} s")

    def step():
        return model(hidden_states=hidden, encoder_hidden_states=context, pooled_projections=pooled, timestep=timestep,
                     img_ids=img_ids, txt_ids=txt_ids, guidance=guidance, return_dict=False)[0]

    def timed(fn, n):
        return bench_common.timed(torch, fn, n)

    def add_adapters(count):
        lora_dtype = bench_common.add_random_adapters(torch, LoraConfig, model, count, args.rank, targets, args.adapter_dtype, dtype)
        wrapped = sum(1 for n, _ in model.named_modules() if n.endswith(".lora_A.a0"))
        print(f"{count} adapter(s) active; {wrapped} layers carry LoRA (targets: {len(targets)}); adapter weights are "
              f"{lora_dtype} (--adapter-dtype {args.adapter_dtype})")

    mib = 1024.0 * 1024.0

    def bench(row):
        with torch.no_grad():
            for _ in range(3):
                step()
            torch.cuda.synchronize()
            eager = []
            for _ in range(args.rounds):
                eager += timed(step, args.iterations)
            torch.cuda.reset_peak_memory_stats()
            timed(step, 2)
            peak = torch.cuda.max_memory_allocated()
        print(f"FLUX\tdiffusers\t{row}\teager\t{statistics.median(eager):.2f}\t{min(eager):.2f}\t{len(eager)}\t{peak / mib:.0f}",
              flush=True)
        if row not in GRAPH_ROWS or args.no_graph:
            return
        graph = static_out = None
        try:
            with torch.no_grad():
                graph, static_out = bench_common.capture(torch, step)
                reserved = torch.cuda.memory_reserved()
                replay = []
                for _ in range(args.rounds):
                    replay += timed(graph.replay, args.iterations)
                graph.replay()
                eager_out = step()
                torch.cuda.synchronize()
                same = bool(((static_out == eager_out) | (static_out.isnan() & eager_out.isnan())).all())
                finite = bool(eager_out.isfinite().all())
            print(f"FLUX\tdiffusers\t{row}\tgraph\t{statistics.median(replay):.2f}\t{min(replay):.2f}\t{len(replay)}\t{reserved / mib:.0f}")
            print(f"FLUXCHECK\tdiffusers\t{row}\t{'bitwise' if same else 'DIFFERS'}\tgraph replay vs eager step; output finite: {finite}",
                  flush=True)
        except Exception as e:  # noqa: BLE001 - an unsupported capture is a reported row, not the end of the run
            print(f"FLUXSKIP\tdiffusers\t{row}\tgraph\t{first_line(e)}", flush=True)
        finally:
            del graph, static_out
            torch.cuda.synchronize()
            torch.cuda.empty_cache()

    if args.profile_step is not None:
        if args.profile_step > 0:
            add_adapters(args.profile_step)
            model.enable_adapters()
        bench_common.profile_one_step(torch, step)
        print(f"profile-step: {args.profile_step} adapter(s), {dtype}, {args.height}x{args.width} ({tokens} image tokens), "
              f"{text} text tokens")
        return 0

    only = set(args.only.split(",")) if args.only else None
    for row in ROWS:
        if only is not None and row not in only:
            continue
        try:
            if row == "base":
                if getattr(model, "peft_config", None):
                    model.disable_adapters()
            elif row == "1 adapter unfused":
                add_adapters(1)
                model.enable_adapters()
            elif row == "4 adapters unfused":
                add_adapters(4)
                model.enable_adapters()
            else:
                add_adapters(4)
                model.enable_adapters()
                model.fuse_lora(adapter_names=[f"a{i}" for i in range(4)])
            bench(row)
            if row == "4 adapters materialized":
                model.unfuse_lora()
        except Exception as e:  # noqa: BLE001 - out of memory, an API this diffusers lacks: report, go on
            print(f"FLUXSKIP\tdiffusers\t{row}\teager\t{first_line(e)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
