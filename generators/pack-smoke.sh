#!/usr/bin/env bash
# Packs LoraSdk.Typed and LoraSdk.Generators into a local folder feed, checks the package layout, then builds and runs a
# fresh project (outside the repository, no ProjectReference) that consumes them by PackageReference only.
# Usage: generators/pack-smoke.sh [work-folder]   (default: a new temp folder). Exit code 0 = every check passed.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$(mktemp -d -t lorasdk-pack-XXXXXX)}"
feed="$work/feed"
mkdir -p "$feed"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 MSBUILDDISABLENODEREUSE=1
common=(-nologo -nodeReuse:false -p:UseSharedCompilation=false -c Release)

echo "== pack into $feed"
dotnet pack "$repo/runtime/LoraSdk.Core/LoraSdk.Core.csproj" "${common[@]}" -o "$feed" >"$work/pack-core.log" 2>&1 || { cat "$work/pack-core.log"; exit 1; }
dotnet pack "$repo/runtime/LoraSdk.Typed/LoraSdk.Typed.csproj" "${common[@]}" -o "$feed" >"$work/pack-typed.log" 2>&1 || { cat "$work/pack-typed.log"; exit 1; }
dotnet pack "$repo/generators/LoraSdk.Generators/LoraSdk.Generators.csproj" "${common[@]}" -o "$feed" >"$work/pack-generators.log" 2>&1 || { cat "$work/pack-generators.log"; exit 1; }

echo "== package layout"
pkg="$(ls "$feed"/LoraSdk.Generators.*.nupkg)"
listing="$(unzip -Z1 "$pkg")"
for entry in analyzers/dotnet/cs/LoraSdk.Generators.dll analyzers/dotnet/cs/LoraSdk.Core.dll \
             build/LoraSdk.Generators.props build/LoraSdk.Generators.targets \
             tasks/netstandard2.0/LoraSdk.Build.dll tasks/netstandard2.0/LoraSdk.Core.dll \
             schema/adapters.manifest.schema.json; do
  grep -qx "$entry" <<<"$listing" || { echo "missing in package: $entry"; echo "$listing"; exit 1; }
  echo "ok $entry"
done
if grep -q '^lib/' <<<"$listing"; then echo "unexpected lib/ folder in the analyzer package"; exit 1; fi
nuspec="$(unzip -p "$pkg" LoraSdk.Generators.nuspec)"
grep -q 'id="LoraSdk.Typed"' <<<"$nuspec" || { echo "LoraSdk.Typed is not a dependency:"; echo "$nuspec"; exit 1; }
if grep -qE 'id="(LoraSdk.Core|Microsoft.CodeAnalysis|Microsoft.Build)' <<<"$nuspec"; then echo "private dependency leaked:"; echo "$nuspec"; exit 1; fi
echo "ok dependencies"

echo "== fresh consumer"
app="$work/app"
mkdir -p "$app"
version="$(basename "$pkg" .nupkg | sed 's/^LoraSdk.Generators.//')"
cat >"$app/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
  </packageSources>
</configuration>
XML
cat >"$app/App.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
    <RestorePackagesPath>$work/packages</RestorePackagesPath>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="LoraSdk.Generators" Version="$version" />
  </ItemGroup>
</Project>
XML
cat >"$app/adapters.manifest" <<JSON
{
  "namespace": "App.Loras",
  "baseModel": { "name": "TinySdxl", "architecture": "sdxl",
                 "unetConfig": "$repo/tests/fixtures/tiny-sdxl/unet/config.json",
                 "textEncoderConfig": "$repo/tests/fixtures/tiny-sdxl/text_encoder/config.json",
                 "textEncoder2Config": "$repo/tests/fixtures/tiny-sdxl/text_encoder_2/config.json" },
  "adapters": [
    { "name": "Style", "file": "$repo/tests/fixtures/loras/lora_b.safetensors", "triggerWords": ["style"] },
    { "name": "Detail", "file": "$repo/tests/fixtures/loras/lora_c.safetensors", "triggerWords": ["detail"] }
  ]
}
JSON
cat >"$app/Program.cs" <<'CS'
using System;
using System.IO;
using App.Loras;

foreach (var a in Adapters.All)
    Console.WriteLine($"{a.Name} rank={a.Rank} alpha={a.Alpha} modules={a.Components[0].ModuleCount} copied={File.Exists(Path.Combine(AppContext.BaseDirectory, a.RuntimePath))}");
CS
dotnet build "$app/App.csproj" "${common[@]}" >"$work/build-app.log" 2>&1 || { cat "$work/build-app.log"; exit 1; }
out="$(dotnet "$app/bin/Release/net10.0/App.dll")"
echo "$out"
grep -qx "Style rank=8 alpha=4 modules=108 copied=True" <<<"$out" || { echo "unexpected output"; exit 1; }
grep -qx "Detail rank=2 alpha=2 modules=48 copied=True" <<<"$out" || { echo "unexpected output"; exit 1; }
echo "PACK SMOKE OK"
