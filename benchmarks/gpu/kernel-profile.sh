#!/usr/bin/env bash
# Per-kernel GPU time of one configuration, LoraSdk vs diffusers + PEFT: one eager step under Nsight Compute.
# Run on the device after device-run.sh has unpacked the bench and the python sources (or standalone: it unpacks them).
# usage: benchmarks/gpu/kernel-profile.sh [--only base] [--iterations 5]
# Writes $OUT/kernels-lorasdk.csv, $OUT/kernels-diffusers.csv and prints kernel_compare.py's table.
set -uo pipefail
OUT="${OUT:-/tmp/lorasdk-device-out}"
only=base; iters=5
while [[ $# -gt 0 ]]; do
  case "$1" in
    --only) only="$2"; shift 2 ;;
    --iterations) iters="$2"; shift 2 ;;
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
  for name in diffusers peft; do [[ -f ".device/src/$name.tar.gz" ]] && tar -xzf ".device/src/$name.tar.gz" -C "$pysrc"; done
fi
torchlib="$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))')"
export LD_LIBRARY_PATH="$torchlib:$app:${LD_LIBRARY_PATH:-}" PYTHONPATH="$pysrc/src:${PYTHONPATH:-}" DOTNET_gcServer=0
# Nsight Compute, one metric (kernel duration), clocks and caches left alone: one eager step's kernels after two
# warm-up steps of each bench (LORASDK_KERNELS / DIFFUSERS_KERNELS: kernels per step, from device-run.sh's PROFILE lines).
ncu="$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2>/dev/null | head -n 1)"
[[ -z "$ncu" ]] && { echo "SKIP	kernels	ncu not found"; exit 0; }
run() {
  local who="$1" count="$2"; shift 2
  timeout 220 "$ncu" --metrics gpu__time_duration.sum --clock-control none --cache-control none --csv \
    --launch-skip $(( count * 2 )) --launch-count "$count" "$@" > "/tmp/k-$who.out" 2> "/tmp/k-$who.err"
  echo "$who: exit $?, $(grep -c gpu__time_duration "/tmp/k-$who.out") kernels measured"
  tail -n 2 "/tmp/k-$who.err"
  grep -E '^"' "/tmp/k-$who.out" > "$OUT/kernels-$who.csv"
}
run lorasdk "${LORASDK_KERNELS:-2254}" "$app/LoraSdk.Benchmarks.Gpu" graph-bench --only "$only" --iterations "$iters" --rounds 1
run diffusers "${DIFFUSERS_KERNELS:-2352}" python3 benchmarks/gpu/diffusers_bench.py --only "$only" --iterations "$iters" --rounds 1
python3 benchmarks/gpu/kernel_compare.py "$OUT/kernels-lorasdk.csv" "$OUT/kernels-diffusers.csv" ${OURS_MS:+--ours-ms $OURS_MS} ${THEIRS_MS:+--theirs-ms $THEIRS_MS} | tee "$OUT/kernels.md"
