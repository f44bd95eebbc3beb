#!/usr/bin/env bash
# ONE device call for issue 10: builds native/, checks CUDA-graph parity (base, LoRA pinned for graphs, LoRA under
# graphs: hotswap / weights / runtime scale / schedule replayed without recapture, the pipeline's UseCudaGraphs), runs
# the LoraSdk and diffusers+PEFT benchmarks interleaved (LoraSdk adds 2 adapters and graph + hotswap, with the
# hotswap's time against a device memcpy), and writes one report into $OUT (table.md plus the logs).
# After the first SDXL round it runs the Flux side-by-side (issue 13): a FLUX.1-dev-sized transformer with random bf16
# weights, 0/1/4 rank-16 adapters, materialized, and graph-captured base / 1 adapter — LoraSdk flux-bench, then
# benchmarks/gpu/diffusers_flux_bench.py (diffusers + PEFT) — each needing ~24 GiB of GPU memory for the weights.
#
# Before the call, here:  benchmarks/gpu/prepare-device.sh      (fills the git-ignored .device/ folder)
# The call:               run(command="git rev-parse --abbrev-ref HEAD; pwd; bash benchmarks/gpu/device-run.sh",
#                             carry=[".device"])
# Options: --quick (fewer steps, one round), --rounds N (process rounds of each bench, default 2),
#          --budget S (seconds after which no further bench starts, default 420: the call's limit is 600),
#          --skip-python, --skip-check, --skip-bench,
#          --skip-flux (no Flux section), --flux-only (native build + the Flux section only: no graph-check, no SDXL),
#          --flux-iterations N (steps per round and mode, default 10; 5 with --quick),
#          --flux-budget S (seconds the Flux section may use in all, default 240: a process is cut at what is left)
#          --flux-profile (default off): right after the Flux benches, benchmarks/gpu/kernel-profile.sh --flux — one
#            eager base step of each side under Nsight Compute (~200 s: each ncu run is cut at min(100 s, half of what
#            is left of a 580 s call)); not started once --budget is used. Files: kernels-flux-lorasdk.csv,
#            kernels-flux-diffusers.csv, kernels-flux.md (shares scaled by the base eager medians of flux-bench.log).
#            e.g. bash benchmarks/gpu/device-run.sh --flux-only --flux-profile
# If the call is cut off anyway, device-run.log still comes back: `python3 benchmarks/gpu/summarize.py device-run.log`.
# Files back in $OUT: device-run.log (everything), native-build.log, graph-check.log, bench.log, flux-bench.log, table.md
# (and with --flux-profile the kernels-flux-* files).
set -uo pipefail
OUT="${OUT:-/tmp/lorasdk-device-out}"
mkdir -p "$OUT"
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
exec > >(tee -a "$OUT/device-run.log") 2>&1

quick=0; rounds=2; budget=420; skip_python=0; skip_check=0; skip_bench=0
skip_flux=0; flux_only=0; flux_iters=""; flux_budget=240; flux_profile=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) quick=1; rounds=1; shift ;;
    --rounds) rounds="$2"; shift 2 ;;
    --budget) budget="$2"; shift 2 ;;
    --skip-python) skip_python=1; shift ;;
    --skip-check) skip_check=1; shift ;;
    --skip-bench) skip_bench=1; shift ;;
    --skip-flux) skip_flux=1; shift ;;
    --flux-only) flux_only=1; shift ;;
    --flux-iterations) flux_iters="$2"; shift 2 ;;
    --flux-budget) flux_budget="$2"; shift 2 ;;
    --flux-profile) flux_profile=1; shift ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
done
iters=10; inner_rounds=3
[[ $quick -eq 1 ]] && { iters=5; inner_rounds=2; }
flux_rounds=2
[[ $quick -eq 1 ]] && flux_rounds=1
[[ -z "$flux_iters" ]] && { flux_iters=10; [[ $quick -eq 1 ]] && flux_iters=5; }
if [[ $flux_only -eq 1 ]]; then
  [[ $skip_flux -eq 1 ]] && { echo "--flux-only and --skip-flux exclude each other"; exit 2; }
  skip_check=1; skip_bench=1
fi
start=$(date +%s)
stamp() { echo "== [$(( $(date +%s) - start )) s] $*"; }
within_budget() {
  if (( $(date +%s) - start > budget )); then echo "SKIP	budget	$1 not started: ${budget}s of the call used"; return 1; fi
}

# The Flux side-by-side (issue 13): LoraSdk flux-bench, then diffusers + PEFT, inside --flux-budget seconds.
flux_done=0
flux_section() {
  [[ $skip_flux -eq 1 || $flux_done -eq 1 ]] && return 0
  flux_done=1
  within_budget "Flux section" || return 0
  local flux_start left
  flux_start=$(date +%s)
  flux_left() { echo $(( flux_budget - ($(date +%s) - flux_start) )); }
  if [[ -n "$bench" ]]; then
    left=$(flux_left)
    if (( left >= 30 )); then
      stamp "Flux: LoraSdk flux-bench (FLUX.1-dev-sized transformer, bf16; ${left}s left of --flux-budget)"
      timeout "$left" "$bench" flux-bench --iterations "$flux_iters" --rounds "$flux_rounds" 2>&1 | tee -a "$OUT/flux-bench.log"
      [[ ${PIPESTATUS[0]} -eq 124 ]] && echo "FLUXSKIP	lorasdk	all	all	cut off by --flux-budget ${flux_budget}s"
    else
      echo "FLUXSKIP	lorasdk	all	all	not started: ${flux_budget}s of --flux-budget used"
    fi
  fi
  if [[ $skip_python -eq 0 ]]; then
    left=$(flux_left)
    if (( left >= 30 )); then
      stamp "Flux: diffusers + PEFT (${left}s left of --flux-budget)"
      PYTHONUNBUFFERED=1 timeout "$left" python3 benchmarks/gpu/diffusers_flux_bench.py --iterations "$flux_iters" --rounds "$flux_rounds" 2>&1 \
        | tee -a "$OUT/flux-bench.log"
      [[ ${PIPESTATUS[0]} -eq 124 ]] && echo "FLUXSKIP	diffusers	all	all	cut off by --flux-budget ${flux_budget}s"
    else
      echo "FLUXSKIP	diffusers	all	all	not started: ${flux_budget}s of --flux-budget used"
    fi
  fi
  [[ $flux_profile -eq 1 ]] && flux_kernel_profile
}

# --flux-profile: per-kernel GPU time of one eager Flux base step, LoraSdk vs diffusers (Nsight Compute).
flux_kernel_profile() {
  within_budget "Flux kernel profile" || return 0
  local left per_run ours theirs
  left=$(( 580 - ($(date +%s) - start) ))
  per_run=$(( (left - 20) / 2 )); (( per_run > 100 )) && per_run=100
  if (( per_run < 40 )); then echo "SKIP	kernels-flux	not started: ${left}s of the call left"; return 0; fi
  ours=$(awk -F'\t' '$1=="FLUX" && $2=="lorasdk" && $3=="base" && $4=="eager" {print $5}' "$OUT/flux-bench.log" 2>/dev/null | tail -n 1)
  theirs=$(awk -F'\t' '$1=="FLUX" && $2=="diffusers" && $3=="base" && $4=="eager" {print $5}' "$OUT/flux-bench.log" 2>/dev/null | tail -n 1)
  stamp "Flux kernel profile: ncu over one eager base step per side (${per_run}s per side at most)"
  OUT="$OUT" FLUX_NCU_TIMEOUT="$per_run" OURS_MS="$ours" THEIRS_MS="$theirs" bash benchmarks/gpu/kernel-profile.sh --flux
}

stamp "environment"
git rev-parse --abbrev-ref HEAD 2>/dev/null || true
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader || true
python3 - <<'PY' || echo "SKIP	python	python3 with torch is not usable"
import torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cxx11 abi {torch._C._GLIBCXX_USE_CXX11_ABI}, "
      f"gpu {torch.cuda.get_device_name() if torch.cuda.is_available() else 'none'}")
PY
which nvcc cmake ninja g++ 2>/dev/null || true

stamp "native build"
lib=""
if bash native/build.sh --out /tmp/lsg-build > "$OUT/native-build.log" 2>&1; then
  lib="$(tail -n 1 "$OUT/native-build.log")"
  tail -n 5 "$OUT/native-build.log"
else
  echo "NATIVE BUILD FAILED; tail of the log:"
  tail -n 40 "$OUT/native-build.log"
fi

torchlib="$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))' 2>/dev/null || true)"
app="/tmp/lorasdk-gpu/gpu"
rm -rf /tmp/lorasdk-gpu; mkdir -p /tmp/lorasdk-gpu
if [[ -f .device/gpu.tar.xz ]]; then
  tar -xJf .device/gpu.tar.xz -C /tmp/lorasdk-gpu 2>/dev/null \
    || python3 -c 'import sys,tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' .device/gpu.tar.xz /tmp/lorasdk-gpu
fi
bench=""
if [[ -f "$app/LoraSdk.Benchmarks.Gpu" ]]; then
  chmod +x "$app/LoraSdk.Benchmarks.Gpu"
  bench="$app/LoraSdk.Benchmarks.Gpu"
else
  echo "SKIP	lorasdk	.device/gpu.tar.xz is missing: run benchmarks/gpu/prepare-device.sh before the call and carry .device"
fi
export LD_LIBRARY_PATH="$torchlib:$app:${LD_LIBRARY_PATH:-}"
[[ -n "$lib" ]] && export LORASDK_CUDA_GRAPH_LIBRARY="$lib"
export DOTNET_gcServer=0

stamp "python packages"
pysrc=/tmp/lorasdk-pysrc
rm -rf "$pysrc"; mkdir -p "$pysrc"
for name in diffusers peft; do
  if [[ -f ".device/src/$name.tar.xz" ]]; then
    tar -xJf ".device/src/$name.tar.xz" -C "$pysrc"
    cat ".device/src/$name.version" 2>/dev/null || true
  fi
done
export PYTHONPATH="$pysrc/src:${PYTHONPATH:-}"
python3 -c 'import diffusers, peft; print("diffusers", diffusers.__version__, "peft", peft.__version__)' 2>&1 | tail -n 1
python3 -c 'import transformers; print("transformers", transformers.__version__)' 2>/dev/null || echo "transformers: absent (diffusers' UNet does not need it)"

if [[ -n "$bench" && -n "$lib" && $skip_check -eq 0 ]]; then
  stamp "graph-check (graph output vs eager output, bitwise; LoRA under graphs)"
  timeout 240 "$bench" graph-check --repo "$(pwd)" 2>&1 | tee "$OUT/graph-check.log"
fi

if [[ $skip_bench -eq 0 ]]; then
  for r in $(seq 1 "$rounds"); do
    if [[ -n "$bench" && -n "$lib" ]] && within_budget "LoraSdk bench round $r"; then
      stamp "LoraSdk graph-bench, round $r"
      timeout 200 "$bench" graph-bench --iterations "$iters" --rounds "$inner_rounds" 2>&1 | tee -a "$OUT/bench.log"
    fi
    if [[ $skip_python -eq 0 ]] && within_budget "diffusers bench round $r"; then
      stamp "diffusers + PEFT bench, round $r"
      PYTHONUNBUFFERED=1 timeout 200 python3 benchmarks/gpu/diffusers_bench.py --iterations "$iters" --rounds "$inner_rounds" 2>&1 | tee -a "$OUT/bench.log"
    fi
    [[ $r -eq 1 ]] && flux_section
  done
fi
flux_section

stamp "report"
python3 benchmarks/gpu/summarize.py "$OUT/device-run.log" > "$OUT/table.md"
cat "$OUT/table.md"
stamp "done"
