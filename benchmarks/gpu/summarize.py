#!/usr/bin/env python3
"""Turns the RESULT / PROFILE / CHECK / SKIP lines of device-run.sh's log into one markdown report (stdlib only).

Times: each bench process reports, per configuration and mode, the median and minimum of its steps; processes run
in interleaved rounds (LoraSdk, diffusers, LoraSdk, diffusers, ...). The table shows the median of the per-process
medians and the minimum of the minima, with the per-process medians in brackets. Memory: eager = peak allocated over
two steps; graph = reserved right after the capture (weights + static tensors + the graph's pool).
Flux (issue 13): FLUX / FLUXSKIP / FLUXCHECK lines of `flux-bench` and diffusers_flux_bench.py, the same statistics, in
their own section with LoraSdk / diffusers ratios; a graph row that could not be captured reads "unsupported".
"""

import statistics
import sys
from collections import OrderedDict, defaultdict

CONFIGS = ["base", "1 adapter unfused", "2 adapters unfused", "4 adapters unfused", "1 adapter materialized",
           "1 adapter graph+hotswap"]
COLUMNS = [("lorasdk", "eager"), ("lorasdk", "graph"), ("diffusers", "eager"), ("diffusers", "graph")]
FLUX_ROWS = ["base", "1 adapter unfused", "4 adapters unfused", "4 adapters materialized"]


def parse(lines):
    results = defaultdict(list)  # (who, config, mode) -> [(median, min, n, mib)]
    profiles = defaultdict(list)  # (who, config) -> [dict]
    checks, skips, hotswaps = [], [], []
    for line in lines:
        parts = line.rstrip("\n").split("\t")
        if parts[0] == "RESULT" and len(parts) >= 8:
            _, who, config, mode, med, mn, n, mib = parts[:8]
            results[(who, config, mode)].append((float(med), float(mn), int(n), float(mib)))
        elif parts[0] == "PROFILE" and len(parts) >= 4:
            fields = OrderedDict()
            for f in parts[3:]:
                key, _, value = f.replace("~", "=").partition("=")
                fields[key] = value
            profiles[(parts[1], parts[2])].append(fields)
        elif parts[0] == "HOTSWAP" and len(parts) >= 4:
            fields = OrderedDict()
            for f in parts[3:]:
                key, _, value = f.partition("=")
                fields[key] = value
            hotswaps.append((parts[1], parts[2], fields))
        elif parts[0] == "CHECK":
            checks.append(parts[1:])
        elif parts[0] == "SKIP":
            skips.append(parts[1:])
    return results, profiles, checks, skips, hotswaps


def parse_flux(lines):
    results = defaultdict(list)  # (who, row, mode) -> [(median, min, n, mib)]
    skips = defaultdict(list)  # (who, row, mode) -> [reason]
    checks, headers = [], []
    for line in lines:
        text = line.rstrip("\n")
        parts = text.split("\t")
        if parts[0] == "FLUX" and len(parts) >= 8:
            _, who, row, mode, med, mn, n, mib = parts[:8]
            results[(who, row, mode)].append((float(med), float(mn), int(n), float(mib)))
        elif parts[0] == "FLUXSKIP" and len(parts) >= 5:
            skips[(parts[1], parts[2], parts[3])].append("\t".join(parts[4:]))
        elif parts[0] == "FLUXCHECK":
            checks.append(parts[1:])
        elif text.startswith("Flux transformer step (") and text not in headers:
            headers.append(text)
    return results, skips, checks, headers


def flux_section(lines):
    results, skips, checks, headers = parse_flux(lines)
    if not results and not skips:
        return []
    rows = [r for r in FLUX_ROWS if any(k[1] == r for k in list(results) + list(skips))] + sorted(
        {k[1] for k in list(results) + list(skips)} - set(FLUX_ROWS) - {"all"})

    def text_and_median(who, row, mode):
        runs = results.get((who, row, mode), [])
        if runs:
            return cell(runs)
        if (who, row, mode) in skips:
            return "unsupported", None
        return "—", None

    out = ["", "## Flux transformer step (issue 13): median / min ms [per-process medians]", ""]
    out += [f"- {h}" for h in headers]
    out += ["", "| row | LoraSdk eager | diffusers eager | LoraSdk / diffusers eager | LoraSdk graph | diffusers graph | "
            "LoraSdk / diffusers graph | LoraSdk eager / LoraSdk eager base | LoraSdk graph / LoraSdk graph base |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    base_eager = text_and_median("lorasdk", "base", "eager")[1]
    base_graph = text_and_median("lorasdk", "base", "graph")[1]
    for row in rows:
        le, lem = text_and_median("lorasdk", row, "eager")
        de, dem = text_and_median("diffusers", row, "eager")
        lg, lgm = text_and_median("lorasdk", row, "graph")
        dg, dgm = text_and_median("diffusers", row, "graph")
        out.append(f"| {row} | {le} | {de} | {ratio(lem, dem)} | {lg} | {dg} | {ratio(lgm, dgm)} | {ratio(lem, base_eager)} | "
                   f"{ratio(lgm, base_graph)} |")
    out += ["", "### Flux memory (MiB): eager = peak allocated over two steps; graph = reserved after capture (-1: not measured)", "",
            "| row | LoraSdk eager | diffusers eager | LoraSdk graph | diffusers graph |", "| --- | --- | --- | --- | --- |"]
    for row in rows:
        cells = []
        for who, mode in [("lorasdk", "eager"), ("diffusers", "eager"), ("lorasdk", "graph"), ("diffusers", "graph")]:
            runs = results.get((who, row, mode), [])
            cells.append(f"{max(r[3] for r in runs):.0f}" if runs else ("unsupported" if (who, row, mode) in skips else "—"))
        out.append(f"| {row} | " + " | ".join(cells) + " |")
    if checks:
        out += ["", "### Flux checks", ""]
        out += [f"- {' — '.join(c)}" for c in checks]
    if skips:
        out += ["", "### Flux: unsupported or skipped", ""]
        for (who, row, mode), reasons in skips.items():
            for reason in dict.fromkeys(reasons):
                out.append(f"- {who} — {row} — {mode}: {reason}")
    return out


def cell(runs):
    if not runs:
        return "—", None
    medians = [r[0] for r in runs]
    med = statistics.median(medians)
    mn = min(r[1] for r in runs)
    spread = ", ".join(f"{m:.1f}" for m in medians)
    return f"{med:.1f} / {mn:.1f} [{spread}]", med


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b not in (None, 0) else "—"


def main(paths):
    lines = []
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as f:
            lines += f.readlines()
    results, profiles, checks, skips, hotswaps = parse(lines)
    configs = [c for c in CONFIGS if any(k[1] == c for k in results)] + sorted(
        {k[1] for k in results} - set(CONFIGS))

    out = ["## UNet step: median / min ms [per-process medians]", "",
           "| config | LoraSdk eager | LoraSdk graph | diffusers eager | diffusers graph | "
           "LoraSdk graph / diffusers graph | LoraSdk eager / diffusers eager | LoraSdk graph / LoraSdk graph base |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    base_graph = cell(results.get(("lorasdk", "base", "graph"), []))[1]
    for c in configs:
        texts, meds = [], []
        for who, mode in COLUMNS:
            t, m = cell(results.get((who, c, mode), []))
            texts.append(t)
            meds.append(m)
        out.append(f"| {c} | " + " | ".join(texts) + f" | {ratio(meds[1], meds[3])} | {ratio(meds[0], meds[2])} | "
                   f"{ratio(meds[1], base_graph)} |")

    out += ["", "## Memory (MiB): eager = peak allocated over two steps; graph = reserved after capture", "",
            "| config | LoraSdk eager | LoraSdk graph | diffusers eager | diffusers graph |", "| --- | --- | --- | --- | --- |"]
    for c in configs:
        row = []
        for who, mode in COLUMNS:
            runs = results.get((who, c, mode), [])
            row.append(f"{max(r[3] for r in runs):.0f}" if runs else "—")
        out.append(f"| {c} | " + " | ".join(row) + " |")

    if profiles:
        out += ["", "## Eager-step profile (medians; kernels per step from the captured graph / torch.profiler)", "",
                "| who | config | kernels | enqueue ms | step ms | graph ms | host µs per kernel | GPU idle ms ≈ | eager pinned ms | graph == eager |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for (who, c), runs in sorted(profiles.items(), key=lambda kv: (kv[0][0], CONFIGS.index(kv[0][1]) if kv[0][1] in CONFIGS else 99)):
            r = runs[-1]

            def med(key):
                vals = []
                for x in runs:
                    try:
                        vals.append(float(x.get(key, "nan")))
                    except ValueError:
                        pass
                return f"{statistics.median(vals):.2f}" if vals else "—"

            out.append(f"| {who} | {c} | {r.get('kernels', '—')} | {med('enqueue_ms')} | {med('step_ms')} | {med('graph_ms')} | "
                       f"{med('host_us_per_kernel')} | {med('gpu_idle_ms')} | {med('eager_pinned_ms')} | {r.get('graph_equals_eager', '—')} |")

    if hotswaps:
        out += ["", "## Hotswap under a graph (medians; memcpy = one device copy of the adapter's bytes, per tensor = one copy per factor)", "",
                "| who | config | hotswap ms | memcpy ms | per-tensor copy ms | hotswap / memcpy | hotswap / per-tensor | adapter MiB | tensors | "
                "from file ms | recaptures | reallocations | allocated Δ bytes | first replay == eager | staged apply ms | "
                "staged apply / memcpy | stage ms | staged first replay == eager | flat MiB | flat memcpy ms | staged apply / flat memcpy |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        keys = ["hotswap_ms", "memcpy_ms", "per_tensor_copy_ms", "hotswap_over_memcpy", "hotswap_over_per_tensor_copy", "adapter_mib",
                "tensors", "file_hotswap_ms", "recaptures", "reallocations", "allocated_delta_bytes", "first_replay_equals_eager",
                "staged_apply_ms", "staged_apply_over_memcpy", "stage_ms", "staged_first_replay_equals_eager",
                "flat_mib", "flat_memcpy_ms", "staged_apply_over_flat_memcpy"]
        for who, c, fields in hotswaps:
            out.append(f"| {who} | {c} | " + " | ".join(fields.get(k, "—") for k in keys) + " |")
    if checks:
        out += ["", "## Checks", ""]
        out += [f"- {' — '.join(c)}" for c in checks]
    if skips:
        out += ["", "## Skipped", ""]
        out += [f"- {' — '.join(s)}" for s in skips]
    out += flux_section(lines)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
