#!/usr/bin/env python3
"""Compares per-kernel GPU time of LoraSdk and diffusers on the same workload (Nsight Compute or Systems CSVs).

usage: kernel_compare.py lorasdk.csv diffusers.csv [--ours-ms 46.8 --theirs-ms 41.5]

The two runs need not have the same number of steps: each kernel's share of its run's total GPU time is scaled by that
run's step time (the graph step, when given) to an estimated "ms per step". Prints a Markdown table per kernel family
and the top kernels of each run.
"""
import csv
import re
import sys

FAMILIES = [
    ("attention", r"flash|fmha|attention|sdpa|efficient_attention"),
    ("gemm", r"gemm|cutlass|sm90_xmma|sm80_xmma|cublas|ampere_|hopper_|nvjet"),
    ("conv", r"conv|implicit_convolve|winograd|cudnn|fprop|dgrad|wgrad|xmma_fprop"),
    ("group norm", r"group_?norm|GroupNorm"),
    ("rms norm", r"rms_?norm|RmsNorm|RMSNorm"),
    ("layer norm", r"layer_?norm|LayerNorm"),
    ("softmax", r"softmax"),
    ("reduce", r"reduce"),
    ("copy / cat / layout", r"copy|cat|transpose|permute|contiguous|CatArray|index"),
    ("elementwise", r"elementwise|vectorized|unrolled|activation|gelu|silu"),
]


def family(name: str) -> str:
    for fam, pattern in FAMILIES:
        if re.search(pattern, name, re.IGNORECASE):
            return fam
    return "other"


UNIT_NS = {"nsecond": 1.0, "ns": 1.0, "usecond": 1e3, "us": 1e3, "msecond": 1e6, "ms": 1e6, "second": 1e9, "s": 1e9}


def read(path):
    """(name, total ns, instances) per kernel name, from an Nsight Compute --csv file (one row per kernel launch and
    metric) or an Nsight Systems cuda_gpu_kern_sum CSV."""
    totals = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            if "Kernel Name" in r:
                if r.get("Metric Name") != "gpu__time_duration.sum":
                    continue
                name = r["Kernel Name"]
                t = float(r["Metric Value"].replace(",", "")) * UNIT_NS.get(r.get("Metric Unit", "nsecond"), 1.0)
                n = 1
            else:
                name = r["Name"]
                t = float(r.get("Total Time (ns)") or 0)
                n = int(float(r.get("Instances") or 0))
            tot, cnt = totals.get(name, (0.0, 0))
            totals[name] = (tot + t, cnt + n)
    return [(name, t, n) for name, (t, n) in totals.items()]


def main() -> int:
    args = sys.argv[1:]
    ours_ms = theirs_ms = None
    if "--ours-ms" in args:
        i = args.index("--ours-ms"); ours_ms = float(args[i + 1]); del args[i:i + 2]
    if "--theirs-ms" in args:
        i = args.index("--theirs-ms"); theirs_ms = float(args[i + 1]); del args[i:i + 2]
    runs = {"LoraSdk": read(args[0]), "diffusers": read(args[1])}
    step = {"LoraSdk": ours_ms, "diffusers": theirs_ms}
    fams = {}
    for who, rows in runs.items():
        total = sum(t for _, t, _ in rows) or 1.0
        for name, t, n in rows:
            f = fams.setdefault(family(name), {})
            share, count = f.get(who, (0.0, 0))
            f[who] = (share + t / total, count + n)
    for who, rows in runs.items():
        print(f"{who}: {sum(n for _, _, n in rows)} kernel launches, {sum(t for _, t, _ in rows) / 1e6:.2f} ms of kernel time measured")
    print()
    print("## GPU time by kernel family (share of each run's kernel time" + ("; ms per step = share x the given step ms" if ours_ms and theirs_ms else "") + ")\n")
    print("| family | LoraSdk share | diffusers share | LoraSdk ms/step | diffusers ms/step |")
    print("| --- | --- | --- | --- | --- |")
    for fam in sorted(fams, key=lambda k: -max(v[0] for v in fams[k].values())):
        o = fams[fam].get("LoraSdk", (0.0, 0))[0]
        d = fams[fam].get("diffusers", (0.0, 0))[0]
        om = f"{o * ours_ms:.2f}" if ours_ms else "-"
        dm = f"{d * theirs_ms:.2f}" if theirs_ms else "-"
        print(f"| {fam} | {o:.1%} | {d:.1%} | {om} | {dm} |")
    for who, rows in runs.items():
        total = sum(t for _, t, _ in rows) or 1.0
        print(f"\n## Top kernels, {who}\n")
        print("| share | instances | avg µs | family | kernel |")
        print("| --- | --- | --- | --- | --- |")
        for name, t, n in sorted(rows, key=lambda r: -r[1])[:25]:
            short = name if len(name) <= 140 else name[:137] + "..."
            print(f"| {t / total:.1%} | {n} | {t / max(n, 1) / 1000:.1f} | {family(name)} | `{short}` |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
