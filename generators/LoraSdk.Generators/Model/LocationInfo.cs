using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace LoraSdk.Generators.Model;

/// <summary>An equatable source location in a manifest (Roslyn's <see cref="Location"/> is not cache-friendly).</summary>
internal sealed record LocationInfo(string FilePath, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    /// <summary>The Roslyn location (0-based line/character positions).</summary>
    public Location ToLocation() =>
        Location.Create(FilePath, new TextSpan(Start, Length),
            new LinePositionSpan(new LinePosition(StartLine, StartColumn), new LinePosition(EndLine, EndColumn)));
}
