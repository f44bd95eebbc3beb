using System.Runtime.CompilerServices;

// The engine tests check internal state (forward caches, fold state) that has no public surface.
[assembly: InternalsVisibleTo("LoraSdk.Engine.Tests")]
