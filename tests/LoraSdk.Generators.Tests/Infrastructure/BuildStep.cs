using System.Collections.Generic;
using System.IO;
using System.Linq;
using LoraSdk.Build;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
using Microsoft.CodeAnalysis;

namespace LoraSdk.Generators.Tests.Infrastructure;

/// <summary>Runs the real InspectLoraAdapters task in-process, and feeds its sidecars to the generator.</summary>
internal static class BuildStep
{
    public static (InspectLoraAdapters Task, FakeBuildEngine Engine) Inspect(string manifestPath, string outputDirectory)
    {
        var engine = new FakeBuildEngine();
        var task = new InspectLoraAdapters
        {
            BuildEngine = engine,
            Manifests = new ITaskItem[] { new TaskItem(manifestPath) },
            OutputDirectory = outputDirectory,
        };
        Assert.True(task.Execute(), string.Join("\n", engine.Errors.Select(e => e.Message)));
        return (task, engine);
    }

    /// <summary>The manifest and the task's sidecars as the AdditionalFiles the targets pass to the compiler.</summary>
    public static List<AdditionalText> AdditionalFiles(string manifestPath, InspectLoraAdapters task)
    {
        var texts = new List<AdditionalText> { new InMemoryAdditionalText(Path.GetFullPath(manifestPath), File.ReadAllText(manifestPath)) };
        texts.AddRange(task.Sidecars.Select(s => new InMemoryAdditionalText(s.ItemSpec, File.ReadAllText(s.ItemSpec))));
        return texts;
    }
}
