using System.Collections;
using System.Threading;
using Microsoft.Build.Framework;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace LoraSdk.Benchmarks.Generator;

/// <summary>An AdditionalFiles item in memory (the compiler hands the generator text it already read).</summary>
internal sealed class TextFile : AdditionalText
{
    private readonly SourceText _text;

    public TextFile(string path, string text)
    {
        Path = path;
        _text = SourceText.From(text);
    }

    public override string Path { get; }

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

/// <summary>A silent MSBuild engine for running the task in-process.</summary>
internal sealed class QuietEngine : IBuildEngine
{
    public int Errors { get; private set; }
    public bool ContinueOnError => false;
    public int LineNumberOfTaskNode => 0;
    public int ColumnNumberOfTaskNode => 0;
    public string ProjectFileOfTaskNode => "bench.csproj";
    public bool BuildProjectFile(string projectFileName, string[] targetNames, IDictionary globalProperties, IDictionary targetOutputs) => false;
    public void LogCustomEvent(CustomBuildEventArgs e) { }
    public void LogErrorEvent(BuildErrorEventArgs e) => Errors++;
    public void LogMessageEvent(BuildMessageEventArgs e) { }
    public void LogWarningEvent(BuildWarningEventArgs e) { }
}
