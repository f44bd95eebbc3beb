#!/usr/bin/env bash
# Per-kernel GPU time of one configuration, LoraSdk vs diffusers + PEFT, eager steps under Nsight Systems.
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
nsys="$(command -v nsys || ls /usr/local/cuda*/bin/nsys /opt/nvidia/nsight-systems*/*/bin/nsys /opt/nvidia/*/bin/nsys /opt/nvidia/nsight-compute/*/host/target-linux-x64/nsys 2>/dev/null | head -n 1)"
[[ -z "$nsys" ]] && nsys="$(find / -xdev -maxdepth 7 -type f -name nsys -perm -u+x 2>/dev/null | head -n 1)"
echo "nsys: ${nsys:-none}"
[[ -z "$nsys" ]] && { echo "SKIP	kernels	nsys not found"; exit 0; }
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
# --cuda-graph-trace=node: kernels replayed by a graph are traced one by one too (both benches run eager and graph steps).
run() {
  local who="$1"; shift
  "$nsys" profile --trace=cuda --cuda-graph-trace=node --sample=none --cpuctxsw=none --force-overwrite=true -o "/tmp/k-$who" "$@" > "/tmp/k-$who.log" 2>&1
  tail -n 3 "/tmp/k-$who.log"
  "$nsys" stats --report cuda_gpu_kern_sum --format csv --force-export=true --output "/tmp/k-$who" "/tmp/k-$who.nsys-rep" > /dev/null 2>&1
  cp "/tmp/k-${who}_cuda_gpu_kern_sum.csv" "$OUT/kernels-$who.csv" 2>/dev/null || echo "no kernel summary for $who"
}
run lorasdk "$app/LoraSdk.Benchmarks.Gpu" graph-bench --only "$only" --iterations "$iters" --rounds 1
run diffusers python3 benchmarks/gpu/diffusers_bench.py --only "$only" --iterations "$iters" --rounds 1
python3 benchmarks/gpu/kernel_compare.py "$OUT/kernels-lorasdk.csv" "$OUT/kernels-diffusers.csv" ${OURS_MS:+--ours-ms $OURS_MS} ${THEIRS_MS:+--theirs-ms $THEIRS_MS} | tee "$OUT/kernels.md"
