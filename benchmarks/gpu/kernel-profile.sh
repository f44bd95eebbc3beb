#!/usr/bin/env bash
# Per-kernel GPU time of one configuration, LoraSdk vs diffusers + PEFT: one eager step under Nsight Compute.
# Run on the device after device-run.sh has unpacked the bench and the python sources (or standalone: it unpacks them).
# usage: benchmarks/gpu/kernel-profile.sh [--flux] [--adapters N] [--materialized]   (OURS_MS / THEIRS_MS: step ms, to scale shares)
# SDXL (default): writes $OUT/kernels-lorasdk.csv, $OUT/kernels-diffusers.csv, $OUT/kernels-<N>-<mode>.md.
# --flux: the FLUX.1-dev-sized transformer step of flux-bench (bf16, 1024², 512 text tokens; LoraSdk
#   `flux-profile-step`, diffusers_flux_bench.py --profile-step N); writes $OUT/kernels-flux-lorasdk.csv,
#   $OUT/kernels-flux-diffusers.csv and $OUT/kernels-flux.md. One Flux step is ~3900 kernels: each ncu run is cut at
#   FLUX_NCU_TIMEOUT seconds (default 100, so both fit in ~200 s) and profiles at most FLUX_LAUNCH_COUNT kernels
#   (default 6000: above one step's count, a guard only).
set -uo pipefail
OUT="${OUT:-/tmp/lorasdk-device-out}"
mkdir -p "$OUT"
adapters=0; mode=unfused; flux=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --flux) flux=1; shift ;;
    --adapters) adapters="$2"; shift 2 ;;
    --materialized) mode=materialized; shift ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
done
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
app=/tmp/lorasdk-gpu/gpu
if [[ ! -x "$app/LoraSdk.Benchmarks.Gpu" && -f .device/gpu.tar.xz ]]; then
  mkdir -p /tmp/lorasdk-gpu && tar -xJf .device/gpu.tar.xz -C /tmp/lorasdk-gpu && chmod +x "$app/LoraSdk.Benchmarks.Gpu"
fi
pysrc=/tmp/lorasdk-pysrc
if [[ ! -d "$pysrc/src/diffusers" ]]; then
  mkdir -p "$pysrc"
  for name in diffusers peft; do [[ -f ".device/src/$name.tar.xz" ]] && tar -xJf ".device/src/$name.tar.xz" -C "$pysrc"; done
fi
torchlib="$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')"
export LD_LIBRARY_PATH="$torchlib:$app:${LD_LIBRARY_PATH:-}" PYTHONPATH="$pysrc/src:${PYTHONPATH:-}" DOTNET_gcServer=0
# Nsight Compute, one metric (kernel duration), clocks and caches left alone, only between the benches' profiler
# start/stop: one eager step after three warm-up steps (LoraSdk `profile-step`, diffusers_bench.py --profile-step).
ncu="$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -n 1)"
[[ -z "$ncu" ]] && { echo "SKIP	kernels	ncu not found"; exit 0; }
ncu_timeout=240; ncu_extra=()
run() {
  local who="$1" t0 rc; shift
  t0=$(date +%s)
  # SIGINT first (ncu may still print what it measured), SIGKILL 10 s later.
  timeout -s INT -k 10 "$ncu_timeout" "$ncu" --profile-from-start off --metrics gpu__time_duration.sum --clock-control none \
    --cache-control none ${ncu_extra[@]+"${ncu_extra[@]}"} --csv "$@" > "/tmp/k-$who.out" 2> "/tmp/k-$who.err"
  rc=$?
  echo "$who: exit $rc, $(grep -c gpu__time_duration "/tmp/k-$who.out") kernels measured in $(( $(date +%s) - t0 )) s"
  grep -v '^"' "/tmp/k-$who.out" | grep -v '^==PROF==' | tail -n 2
  tail -n 2 "/tmp/k-$who.err"
  grep -E '^"' "/tmp/k-$who.out" > "$OUT/kernels-$who.csv"
}
materialized=""; [[ "$mode" == materialized ]] && materialized="--materialized"
if [[ $flux -eq 1 ]]; then
  ncu_timeout="${FLUX_NCU_TIMEOUT:-100}"; ncu_extra=(--launch-count "${FLUX_LAUNCH_COUNT:-6000}")
  run flux-lorasdk "$app/LoraSdk.Benchmarks.Gpu" flux-profile-step --adapters "$adapters" $materialized
  if [[ -z "$materialized" ]]; then
    run flux-diffusers python3 benchmarks/gpu/diffusers_flux_bench.py --profile-step "$adapters"
  else
    echo "flux-diffusers: materialized is fused weights, i.e. the base step"
    run flux-diffusers python3 benchmarks/gpu/diffusers_flux_bench.py --profile-step 0
  fi
  python3 benchmarks/gpu/kernel_compare.py "$OUT/kernels-flux-lorasdk.csv" "$OUT/kernels-flux-diffusers.csv" \
    ${OURS_MS:+--ours-ms $OURS_MS} ${THEIRS_MS:+--theirs-ms $THEIRS_MS} | tee "$OUT/kernels-flux.md"
  exit 0
fi
run lorasdk "$app/LoraSdk.Benchmarks.Gpu" profile-step --adapters "$adapters" $materialized
if [[ -z "$materialized" ]]; then
  run diffusers python3 benchmarks/gpu/diffusers_bench.py --profile-step "$adapters"
else
  echo "diffusers: materialized is fused weights, i.e. the base step"; run diffusers python3 benchmarks/gpu/diffusers_bench.py --profile-step 0
fi
python3 benchmarks/gpu/kernel_compare.py "$OUT/kernels-lorasdk.csv" "$OUT/kernels-diffusers.csv" ${OURS_MS:+--ours-ms $OURS_MS} ${THEIRS_MS:+--theirs-ms $THEIRS_MS} | tee "$OUT/kernels-$adapters-$mode.md"
