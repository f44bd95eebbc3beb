using System.Runtime.CompilerServices;

// The JSON reader/writer, Python-compatible formatting and the PEFT-config internals are implementation details shared
// by the SDK's own assemblies (and their tests), not public API.
[assembly: InternalsVisibleTo("LoraSdk")]
[assembly: InternalsVisibleTo("LoraSdk.Diffusion")]
[assembly: InternalsVisibleTo("LoraSdk.Cli")]
[assembly: InternalsVisibleTo("LoraSdk.Generators")]
[assembly: InternalsVisibleTo("LoraSdk.Build")]
[assembly: InternalsVisibleTo("LoraSdk.Core.Tests")]
[assembly: InternalsVisibleTo("LoraSdk.Engine.Tests")]
[assembly: InternalsVisibleTo("LoraSdk.Diffusion.Tests")]
[assembly: InternalsVisibleTo("LoraSdk.Generators.Tests")]
[assembly: InternalsVisibleTo("LoraSdk.Benchmarks.Generator")]
