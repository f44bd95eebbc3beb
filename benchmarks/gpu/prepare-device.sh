#!/usr/bin/env bash
# Run HERE (the development machine) before the device call: fills the git-ignored .device/ folder that the call
# carries (`carry: [".device"]`), compressed because the tracked tree (~43 MiB) plus the carried files must stay under
# the device's 64 MiB:
#   .device/gpu.tar.xz           LoraSdk.Benchmarks.Gpu published self-contained, without libtorch natives (~8 MiB)
#   .device/src/diffusers.tar.xz src/diffusers of a diffusers snapshot (from the search tool's fetch, ~1.7 MiB xz)
#   .device/src/peft.tar.xz      src/peft of a PEFT snapshot (~0.6 MiB)
# usage: benchmarks/gpu/prepare-device.sh [--diffusers <git dir>] [--peft <git dir>]
# The git dirs default to the fetch mirrors /work/.mirror/huggingface+diffusers/repo and .../huggingface+peft/repo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
diffusers_git="/work/.mirror/huggingface+diffusers/repo"
peft_git="/work/.mirror/huggingface+peft/repo"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --diffusers) diffusers_git="$2"; shift 2 ;;
    --peft) peft_git="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
cd "$root"
rm -rf .device/gpu .device/gpu.tar.xz
mkdir -p .device/src
publish="$(mktemp -d)"
trap 'rm -rf "$publish"' EXIT
dotnet publish benchmarks/LoraSdk.Benchmarks.Gpu -c Release -p:LoraSdkGpuPublish=true -o "$publish/gpu"
# Debug symbols, XML docs and the runtime's debugger/tracing/alternative-GC libraries are not needed to run.
tar -C "$publish" -cf - --exclude='*.pdb' --exclude='*.xml' --exclude='libmscordaccore.so' --exclude='libmscordbi.so' \
    --exclude='libcoreclrtraceptprovider.so' --exclude='libclrgc.so' --exclude='libclrgcexp.so' gpu | xz -9 -T0 > .device/gpu.tar.xz
for pair in "diffusers:$diffusers_git:src/diffusers" "peft:$peft_git:src/peft"; do
  IFS=: read -r name dir path <<<"$pair"
  if [[ -d "$dir" ]]; then
    git --git-dir="$dir" archive --format=tar HEAD "$path" | xz -9 -T0 > ".device/src/$name.tar.xz"
    git --git-dir="$dir" log -1 --format="$name %H %cd" > ".device/src/$name.version"
  else
    echo "prepare-device.sh: no $name snapshot at $dir: the device run will use the device's own $name, if any" >&2
    rm -f ".device/src/$name.tar.xz" ".device/src/$name.version"
  fi
done
du -sh .device/gpu.tar.xz .device/src/*
echo "carried size: $(du -sm .device | cut -f1) MiB (the whole carried tree must stay under 64 MiB)"
