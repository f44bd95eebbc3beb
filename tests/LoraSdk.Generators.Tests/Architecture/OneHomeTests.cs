using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using LoraSdk.Generators.Tests.Infrastructure;

namespace LoraSdk.Generators.Tests.Architecture;

/// <summary>
/// Issue 11's rule, checked over the product's sources (runtime/ and generators/, not tests or benchmarks): every type
/// is declared once (no second <c>MajoritySignMethod</c> in another namespace), and every domain-vocabulary literal is
/// spelled in code in exactly one file, its home, which everything else refers to through a constant or a parser.
/// Comments and XML docs are ignored: prose may name PEFT's strings.
/// </summary>
public sealed class OneHomeTests
{
    private static readonly string[] ProductFolders = { "runtime", "generators" };

    /// <summary>
    /// The vocabulary and the one file that owns each spelling. A few words are left out on purpose: "linear" (also a
    /// beta schedule and a layer kind), PEFT config field names (read in LoraAdapterConfig, judged in PeftConfigPolicy:
    /// two roles), and LyCORIS tensor suffixes (the formats core's parser names them in its messages).
    /// </summary>
    public static readonly TheoryData<string, string> Vocabulary = new()
    {
        // PEFT combination types (add_weighted_adapter) and their rank rules.
        { "svd", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        { "cat", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        { "ties", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        { "ties_svd", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        { "dare_linear", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        { "dare_ties", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        { "dare_linear_svd", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        { "dare_ties_svd", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        { "magnitude_prune", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        { "magnitude_prune_svd", "runtime/LoraSdk.Core/Merging/CombinationTypes.cs" },
        // PEFT's majority_sign_method.
        { "total", "runtime/LoraSdk.Core/Merging/MajoritySignMethod.cs" },
        { "frequency", "runtime/LoraSdk.Core/Merging/MajoritySignMethod.cs" },
        // Adapter variants beside plain LoRA.
        { "loha", "runtime/LoraSdk.Core/Lora/LoraVariants.cs" },
        { "lokr", "runtime/LoraSdk.Core/Lora/LoraVariants.cs" },
        { "dora", "runtime/LoraSdk.Core/Lora/LoraVariants.cs" },
        // diffusers' pipeline components that take LoRA.
        { "unet", "runtime/LoraSdk.Core/Lora/LoraComponents.cs" },
        { "transformer", "runtime/LoraSdk.Core/Lora/LoraComponents.cs" },
        { "text_encoder", "runtime/LoraSdk.Core/Lora/LoraComponents.cs" },
        { "text_encoder_2", "runtime/LoraSdk.Core/Lora/LoraComponents.cs" },
        // The adapter-metadata key of diffusers' LoRA files, PEFT's folder layout, saved tensor names.
        { "lora_adapter_metadata", "runtime/LoraSdk.Core/Adapters/LoraAdapterConfig.cs" },
        { "adapter_config.json", "runtime/LoraSdk.Core/Lora/LoraFileModel.cs" },
        { "adapter_model.safetensors", "runtime/LoraSdk.Core/Lora/LoraFileModel.cs" },
        { "lora_magnitude_vector", "runtime/LoraSdk.Core/Lora/SavedTensorNames.cs" },
        // diffusers' pipeline index.
        { "model_index.json", "runtime/LoraSdk.Diffusion/Configuration/ModelIndex.cs" },
    };

    /// <summary>Files that may spell a vocabulary word for another meaning, with the reason.</summary>
    private static readonly Dictionary<(string Word, string File), string> OtherMeanings = new()
    {
        [("dora", "runtime/LoraSdk.Core/Lora/LoraInspectJson.cs")] = "a field name of inspect's JSON output",
    };

    [Theory]
    [MemberData(nameof(Vocabulary))]
    public void EachVocabularyWordIsSpelledInItsHomeOnly(string word, string home)
    {
        Assert.True(File.Exists(RepoPaths.Combine(home)), $"the home of \"{word}\", {home}, does not exist");
        var spelledIn = SourceFiles().Where(f => CodeOf(f.Text).Contains("\"" + word + "\"", StringComparison.Ordinal)).Select(f => f.Path)
            .Where(p => !OtherMeanings.ContainsKey((word, p))).ToList();
        Assert.True(spelledIn.SequenceEqual(new[] { home }),
            $"\"{word}\" must be spelled only in {home}; it is spelled in: {(spelledIn.Count == 0 ? "no file" : string.Join(", ", spelledIn))}");
    }

    [Fact]
    public void EveryTypeIsDeclaredOnce()
    {
        // Top-level declarations (file-scoped namespaces: column 0); partial types may span files of one project.
        var declaration = new Regex(@"^(?:\[[^\]]*\]\s*)*(?:(?:public|internal|sealed|static|abstract|readonly|partial|unsafe|file|ref)\s+)*" +
                                    @"(?:class|struct|enum|interface|record(?:\s+struct|\s+class)?)\s+([A-Za-z_][A-Za-z0-9_]*)(<[^>]*>)?", RegexOptions.Multiline);
        var declared = new Dictionary<string, List<(string Path, string Project, bool Partial)>>(StringComparer.Ordinal);
        foreach (var (path, text) in SourceFiles())
        {
            foreach (Match m in declaration.Matches(CodeOf(text)))
            {
                int arity = m.Groups[2].Success ? m.Groups[2].Value.Count(c => c == ',') + 1 : 0;
                string name = arity == 0 ? m.Groups[1].Value : $"{m.Groups[1].Value}`{arity}";
                if (!declared.TryGetValue(name, out var list)) declared[name] = list = new();
                list.Add((path, path.Split('/')[1], Regex.IsMatch(m.Value, @"\bpartial\b")));
            }
        }
        Assert.True(declared.Count > 300, $"the scan found only {declared.Count} types: the pattern no longer matches the sources");
        var twice = declared.Where(d => d.Value.Count > 1 && !(d.Value.All(x => x.Partial) && d.Value.Select(x => x.Project).Distinct().Count() == 1))
            .Select(d => $"{d.Key}: {string.Join(", ", d.Value.Select(x => x.Path))}").ToList();
        Assert.True(twice.Count == 0, "types declared more than once:\n" + string.Join("\n", twice));
    }

    [Fact]
    public void TheScanSeesADuplicateWhenThereIsOne()
    {
        // The literal check relies on CodeOf keeping string literals and dropping comments.
        const string sample = "/// <summary>\"unet\" in prose</summary>\n// \"unet\" again\nvar c = \"unet\"; /* \"unet\" */";
        Assert.Single(Regex.Matches(CodeOf(sample), "\"unet\""));
    }

    private static IEnumerable<(string Path, string Text)> SourceFiles()
    {
        foreach (var folder in ProductFolders)
        {
            foreach (var file in Directory.EnumerateFiles(RepoPaths.Combine(folder), "*.cs", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(RepoPaths.Root, file).Replace('\\', '/');
                if (relative.Contains("/obj/", StringComparison.Ordinal) || relative.Contains("/bin/", StringComparison.Ordinal)) continue;
                yield return (relative, File.ReadAllText(file));
            }
        }
    }

    /// <summary>The text without comments (line, XML doc and block comments); string literals are kept.</summary>
    private static string CodeOf(string text)
    {
        var sb = new System.Text.StringBuilder(text.Length);
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '/' && i + 1 < text.Length && text[i + 1] == '/')
            {
                while (i < text.Length && text[i] != '\n') i++;
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                int end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                i = end < 0 ? text.Length : end + 2;
            }
            else if (c == '"')
            {
                // A string literal (regular, verbatim or interpolated): copy it whole so "//" inside it is not a comment.
                bool verbatim = i > 0 && (text[i - 1] == '@' || (i > 1 && text[i - 2] == '@'));
                sb.Append(c);
                i++;
                while (i < text.Length)
                {
                    char d = text[i];
                    sb.Append(d);
                    i++;
                    if (!verbatim && d == '\\' && i < text.Length) { sb.Append(text[i]); i++; continue; }
                    if (d == '"')
                    {
                        if (verbatim && i < text.Length && text[i] == '"') { sb.Append('"'); i++; continue; }
                        break;
                    }
                    if (d == '\n' && !verbatim) break;
                }
            }
            else if (c == '\'' && i + 2 < text.Length)
            {
                // A char literal ('"', '\'', '\\'): copy it so its quote does not open a string.
                int end = text[i + 1] == '\\' ? text.IndexOf('\'', i + 3) : i + 2;
                if (end > 0 && end - i <= 8) { sb.Append(text, i, end - i + 1); i = end + 1; }
                else { sb.Append(c); i++; }
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.ToString();
    }
}
