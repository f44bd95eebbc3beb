#!/usr/bin/env bash
# Builds liblorasdk_cuda_graph.so on a CUDA machine against the libtorch of the local PyTorch (its include/ and lib/),
# or against a libtorch folder given with --libtorch (e.g. the libtorch archive matching TorchSharp-cuda's natives).
#
#   native/build.sh [--libtorch DIR] [--out DIR] [--python PY]
#
# Prints the library's path on its last line. The C++11 ABI flag must equal libtorch's: for PyTorch it is
# torch._C._GLIBCXX_USE_CXX11_ABI (passed to CMake and checked against libtorch's own cmake config). When CMake cannot
# configure libtorch's package (a CUDA toolkit it does not find, say) the script falls back to one g++ command with
# torch.utils.cpp_extension's include and library paths, and says so.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
libtorch=""
out="$here/build"
py="${PYTHON:-python3}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --libtorch) libtorch="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --python) py="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"

abi=""
if [[ -z "$libtorch" ]]; then
  prefix="$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')"
  abi="$("$py" -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')"
  echo "build.sh: PyTorch $("$py" -c 'import torch; print(torch.__version__)'), cmake prefix $prefix, _GLIBCXX_USE_CXX11_ABI=$abi"
else
  prefix="$libtorch"
  echo "build.sh: libtorch at $libtorch"
fi

lib="$out/liblorasdk_cuda_graph.so"
rm -f "$lib"
cmake_ok=0
if command -v cmake >/dev/null 2>&1; then
  gen=()
  command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
  abi_arg=()
  [[ -n "$abi" ]] && abi_arg=(-DLSG_CXX11_ABI="$abi")
  if cmake -S "$here" -B "$out/cmake" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" \
       "${abi_arg[@]}" -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$out" && cmake --build "$out/cmake" -j "$(nproc)"; then
    cmake_ok=1
  else
    echo "build.sh: CMake could not configure or build against libtorch; falling back to a direct g++ build" >&2
  fi
fi

if [[ $cmake_ok -eq 0 ]]; then
  if [[ -n "$libtorch" ]]; then
    cuda_home="${CUDA_HOME:-$(dirname "$(dirname "$(command -v nvcc)")")}"
    incs=("$libtorch/include" "$libtorch/include/torch/csrc/api/include" "$cuda_home/include")
    libdirs=("$libtorch/lib" "$cuda_home/lib64")
    [[ -z "$abi" ]] && abi=1
  else
    paths_py='import sys, torch.utils.cpp_extension as ext
f = getattr(ext, sys.argv[1])
try:
    print("\n".join(f(device_type="cuda")))
except TypeError:
    print("\n".join(f(cuda=True)))'
    mapfile -t incs < <("$py" -c "$paths_py" include_paths)
    mapfile -t libdirs < <("$py" -c "$paths_py" library_paths)
    [[ -n "$abi" ]] || abi=1
  fi
  args=(-std=c++17 -O2 -fPIC -shared -fvisibility=hidden -D_GLIBCXX_USE_CXX11_ABI="$abi" -I"$here/include")
  for d in "${incs[@]}"; do args+=(-I"$d"); done
  for d in "${libdirs[@]}"; do args+=(-L"$d" -Wl,-rpath,"$d"); done
  echo "build.sh: g++ ${args[*]} ..."
  g++ "${args[@]}" "$here/src/lorasdk_cuda_graph.cpp" -o "$lib" -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda -lcudart
fi

test -f "$lib" || { echo "build.sh: no $lib was produced" >&2; exit 1; }
# The exported C ABI (a missing symbol here means the wrapper cannot bind it).
if command -v nm >/dev/null 2>&1; then
  echo "build.sh: exports: $(nm -D --defined-only "$lib" | awk '/ T lsg_/ {print $3}' | sort | tr '\n' ' ')"
fi
echo "$lib"
