using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("LoraSdk.Diffusion.Tests")]
