// Language-feature polyfills for netstandard2.0 (init accessors and records).
namespace System.Runtime.CompilerServices
{
    internal static class IsExternalInit { }
}
