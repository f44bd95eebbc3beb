using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Xml.Linq;
using CsCheck;
using LoraSdk.Core;
using LoraSdk.Generators.Emission;
using LoraSdk.Generators.Tests.Infrastructure;
using LoraSdk.Typed;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace LoraSdk.Generators.Tests;

/// <summary>
/// No text from a manifest or a header sidecar (trigger words, file names and paths, key format, declared architecture,
/// module paths) can leave its string literal or XML-doc comment in the generated code: the generated code compiles
/// without a diagnostic (XML docs diagnosed), its XML documentation is well-formed, and every literal's value at run
/// time equals the input. Fixed hostile strings, then random strings (CsCheck).
/// </summary>
public class EscapingTests
{
    private static readonly CSharpParseOptions DocumentedParseOptions =
        GeneratorHarness.ParseOptions.WithDocumentationMode(DocumentationMode.Diagnose);

    /// <summary>Every Unicode line terminator, comment and XML terminators, quotes, escapes, controls, lone surrogates.</summary>
    public static readonly string[] Hostile =
    {
        "line\nfeed", "carriage\rreturn", "crlf\r\nx", "nel\u0085x", "line separator\u2028x", "paragraph separator\u2029x",
        "*/ closes a comment", "/* opens one", "--> ends an XML comment", "<!-- starts one", "]]> ends CDATA",
        "quote\" in the middle", "\"", "back\\slash", "\\", "\\u0041 looks like an escape", "\\\" both", "{0} {1} format",
        "tab\tx", "nul\0x", "bell\u0007", "escape\u001b[31m", "delete\u007f", "c1 controls\u0080\u009f",
        "<tag attr=\"x\">&amp;</tag>", "&#x0; & &lt;", "'apostrophe'", "$\"{interpolation}\"",
        "lone high \uD800", "\uDC00 lone low", "reversed pair \uDC00\uD800", "emoji \uD83D\uDE00 pair", "\uD800",
        "bidi override \u202E evil", "zero\u200Bwidth", "byte order mark \uFEFF", "non-characters \uFFFE\uFFFF",
        "#error injected", "\n#error injected after a newline", "\u2028#error injected after a line separator",
        "\" + System.Environment.Exit(1) + \"", "\n}\nclass Injected { }\n", "/// <summary>nested doc</summary>",
        "ikea <style> & \"co\"", "Über ünïcödé 日本 style", "", " ", new string('x', 100_000),
    };

    [Fact]
    public void HostileStringsStayInsideTheirLiteralsAndDocComments()
    {
        var words = Hostile.Where(h => h.Length > 0).ToArray();
        var input = new AdapterTexts(
            File: "loras/we\"ird\\name\u2028*/-->\uD800.safetensors",
            FileName: "we\"ird\\name\u2028*/-->\uD800.safetensors",
            Format: "kohya\n#error format",
            Declared: "sdxl\u2029*/ <x> \"declared\"",
            FileTriggerWords: words.Take(words.Length / 2).ToArray(),
            ManifestTriggerWords: words.Skip(words.Length / 2).ToArray(),
            Modules: new[] { "down_blocks.1.attn1.to_q", "mid\u2028block.*/.to_k", "up\"blocks\\0.\uDC00.to_v", "text\nwith.newline" });
        RoundTrip(input);
    }

    [Fact]
    public void RandomStringsStayInsideTheirLiteralsAndDocComments()
    {
        // Characters: printable ASCII, the hostile ones, and any UTF-16 code unit (lone surrogates included).
        var nasty = Gen.Char["\n\r\u0085\u2028\u2029\"\\/*<>&'-!{}$#\0\t\u001b\u007f\uD800\uDFFF\uFEFF\u202E\uFFFF"];
        var chars = Gen.Frequency((4, (IGen<char>)Gen.Char[' ', '~']), (3, nasty), (2, Gen.Char['\0', '\uffff']));
        var text = Gen.String[chars, 0, 40];
        var nonEmpty = Gen.String[chars, 1, 40];
        var gen = Gen.Select(nonEmpty, nonEmpty, text, text, text.Array[0, 6], text.Array[0, 6], nonEmpty.Array[1, 4],
            (file, fileName, format, declared, fileWords, manifestWords, modules) => new AdapterTexts(
                file, fileName, format, declared, fileWords, manifestWords, modules.Distinct(StringComparer.Ordinal).ToArray()));
        gen.Sample(RoundTrip, iter: 25, threads: 1, print: t => t.ToString());
    }

    [Fact]
    public void OneEscapingFunctionPerContext()
    {
        // The literal helper escapes everything that is not printable as itself; the doc helper keeps text on its line.
        Assert.Equal("\"a\\u2028b\\u2029c\\u0085d\\r\\n\\\"\\\\\\0\\ud800\"", CodeWriter.Str("a\u2028b\u2029c\u0085d\r\n\"\\\0\uD800"));
        Assert.Equal("\"emoji \uD83D\uDE00 \u00dc\"", CodeWriter.Str("emoji \uD83D\uDE00 \u00dc"));
        Assert.Equal("a\\u2028b &lt;c&gt; &amp; \\n \\ud800", CodeWriter.Xml("a\u2028b <c> & \n \uD800"));
        // Doc text longer than the limit is shortened (the literal keeps every character).
        string doc = CodeWriter.Xml(new string('y', 10_000));
        Assert.True(doc.Length < 400, doc.Length.ToString());
        Assert.EndsWith("… (10000 characters)", doc);
    }

    /// <summary>The texts one adapter's generated code carries, from its manifest entry and its sidecar.</summary>
    public sealed record AdapterTexts(string File, string FileName, string Format, string Declared, string[] FileTriggerWords,
        string[] ManifestTriggerWords, string[] Modules)
    {
        public override string ToString() =>
            string.Join(", ", new[] { File, FileName, Format, Declared }.Concat(FileTriggerWords).Concat(ManifestTriggerWords).Concat(Modules)
                .Select(s => CodeWriter.Str(s.Length > 200 ? s.Substring(0, 200) : s)));
    }

    private static void RoundTrip(AdapterTexts t)
    {
        string manifest = "{\n  \"namespace\": \"Demo\",\n  \"baseModel\": \"sdxl\",\n  \"adapters\": [\n" +
                          $"    {{ \"name\": \"A\", \"file\": {JsonWriter.Quote(t.File)}, \"triggerWords\": [{string.Join(", ", t.ManifestTriggerWords.Select(JsonWriter.Quote))}] }}\n" +
                          "  ]\n}\n";
        var sidecar = SidecarJson.For(GeneratorHarness.ManifestPath, t.File).WithFileName(t.FileName).Format(t.Format).Declared(t.Declared)
            .TriggerWords(t.FileTriggerWords).Unet(t.Modules, 4, 4);
        var outcome = GeneratorHarness.Run(GeneratorHarness.Inputs(manifest, new[] { sidecar }), DocumentedParseOptions);
        // The generator reports (a declared architecture other than sdxl is LSDK006, long trigger words LSDK015), never crashes.
        Assert.All(outcome.GeneratorDiagnostics, d => Assert.StartsWith("LSDK", d.Id));
        var source = outcome.Sources.Single(s => s.HintName == "Demo.Adapters.A.g.cs").SourceText.ToString();
        Assert.True(outcome.Compilation.GetDiagnostics().IsEmpty,
            string.Join("\n", outcome.Compilation.GetDiagnostics().Take(10)) + "\n" + Excerpt(source));

        // Line structure: no line terminator other than '\n', no lone surrogate; every comment line is a doc line.
        foreach (char c in source)
            Assert.False(c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029', $"U+{(int)c:X4} in the generated text");
        Assert.False(HasLoneSurrogate(source), "a lone surrogate in the generated text");

        using var peStream = new MemoryStream();
        using var xmlStream = new MemoryStream();
        var emit = outcome.Compilation.Emit(peStream, xmlDocumentationStream: xmlStream);
        Assert.True(emit.Success, string.Join("\n", emit.Diagnostics));
        // The XML documentation is well-formed (XDocument rejects invalid characters and markup).
        var xml = XDocument.Parse(System.Text.Encoding.UTF8.GetString(xmlStream.ToArray()));
        Assert.Contains(xml.Descendants("member"), m => (string?)m.Attribute("name") == "P:Demo.Adapters.AAdapter.TriggerWords");

        var assembly = System.Reflection.Assembly.Load(peStream.ToArray());
        var adapter = (LoraAdapter)assembly.GetType("Demo.Adapters")!.GetProperty("A")!.GetValue(null)!;
        var expectedWords = new List<string>(t.FileTriggerWords);
        foreach (var w in t.ManifestTriggerWords)
            if (!expectedWords.Contains(w)) expectedWords.Add(w);
        Assert.Equal(expectedWords, adapter.TriggerWords);
        Assert.Equal(t.File, adapter.FilePath);
        Assert.Equal(t.FileName, adapter.FileName);
        Assert.Equal(t.Format, adapter.Format);
        Assert.Equal(t.Declared, adapter.DeclaredArchitecture);
        var unet = Assert.Single(adapter.Components);
        Assert.Equal(t.Modules.OrderBy(m => m, StringComparer.Ordinal), unet.TargetModules);
    }

    private static bool HasLoneSurrogate(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) { i++; continue; }
            if (char.IsSurrogate(s[i])) return true;
        }
        return false;
    }

    private static string Excerpt(string source) => source.Length > 6000 ? source.Substring(0, 6000) + "…" : source;
}
