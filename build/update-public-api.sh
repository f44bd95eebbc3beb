#!/usr/bin/env bash
# Rewrites PublicAPI.Unshipped.txt of every library package from what the compiler sees (RS0016 / RS0017 of
# Microsoft.CodeAnalysis.PublicApiAnalyzers): run it after changing public API on purpose, then review the diff —
# it is the API change a reviewer signs off. Release: move the Unshipped lines into PublicAPI.Shipped.txt.
# usage: build/update-public-api.sh [project.csproj ...]   (default: every project with a PublicAPI.Unshipped.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t projects < <(if [[ $# -gt 0 ]]; then printf '%s\n' "$@"; else
  for f in $(git ls-files '*PublicAPI.Unshipped.txt'); do ls "$(dirname "$f")"/*.csproj; done; fi)
for project in "${projects[@]}"; do
  dir="$(dirname "$project")"
  unshipped="$dir/PublicAPI.Unshipped.txt"
  # Start from the shipped API only, so removed symbols disappear and every current one is reported once.
  printf '#nullable enable\n' > "$unshipped"
  log="$(mktemp)"
  dotnet build "$project" --no-incremental -v q -p:TreatWarningsAsErrors=false -p:WarningsAsErrors= > "$log" 2>&1 || true
  python3 - "$log" "$unshipped" "$dir/PublicAPI.Shipped.txt" "$(realpath "$project")" <<'PY'
import re, sys
log, unshipped, shipped, project = sys.argv[1:5]
added, removed = set(), set()
for line in open(log, encoding="utf-8", errors="replace"):
    # Only this project's diagnostics (a build also compiles the projects it references).
    if not line.rstrip().endswith("[" + project + "]"):
        continue
    m = re.search(r"warning RS0016: Symbol '(.*)' is not part of the declared public API", line)
    if m:
        added.add(m.group(1))
    m = re.search(r"warning RS0017: Symbol '(.*)' is part of the declared public API, but is either not public or could not be found", line)
    if m:
        removed.add(m.group(1))
lines = ["#nullable enable"] + sorted(added, key=lambda s: s.replace("~", "")) + sorted("*REMOVED*" + s for s in removed)
open(unshipped, "w", encoding="utf-8", newline="\n").write("\n".join(lines) + "\n")
print(f"{unshipped}: {len(added)} added, {len(removed)} removed (shipped: {sum(1 for l in open(shipped) if l.strip() and not l.startswith('#'))})")
PY
  if grep -qE ' error ' "$log" && ! grep -qE 'error (RS0016|RS0017)' "$log"; then
    echo "$project: the build has other errors:" >&2; grep -E ' error ' "$log" | sort -u | head -n 20 >&2; rm -f "$log"; exit 1
  fi
  rm -f "$log"
done
