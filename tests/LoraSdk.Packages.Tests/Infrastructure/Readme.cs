using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

namespace LoraSdk.Packages.Tests.Infrastructure;

/// <summary>
/// The fenced code blocks of the README with the section they are in and the HTML comment just above them, which is
/// how the README tells this test about a block: <c>&lt;!-- readme-test context: … --&gt;</c> declares the free
/// variables of a snippet, <c>&lt;!-- readme-test excerpt: path --&gt;</c> says the snippet is lines of a compiled file.
/// </summary>
internal static class Readme
{
    public sealed record Block(string Language, string Code, string Section, string? Directive, int Line);

    public static IReadOnlyList<Block> Blocks(string path)
    {
        var lines = File.ReadAllLines(path);
        var blocks = new List<Block>();
        string section = "";
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].StartsWith("## ", StringComparison.Ordinal)) section = lines[i][3..].Trim();
            if (!lines[i].StartsWith("```", StringComparison.Ordinal) || lines[i].Length == 3) continue;
            string language = lines[i][3..].Trim();
            string? directive = i > 0 && lines[i - 1].StartsWith("<!-- readme-test ", StringComparison.Ordinal)
                ? lines[i - 1]["<!-- readme-test ".Length..].Replace("-->", "").Trim() : null;
            int start = i + 1;
            var code = new StringBuilder();
            for (i = start; i < lines.Length && lines[i] != "```"; i++) code.AppendLine(lines[i]);
            blocks.Add(new Block(language, code.ToString(), section, directive, start));
        }
        return blocks;
    }

    /// <summary>The command lines of a bash block: <c>\</c> continuations joined, trailing <c># comments</c> removed.</summary>
    public static IReadOnlyList<string> Commands(Block block)
    {
        var commands = new List<string>();
        var current = new StringBuilder();
        foreach (var raw in block.Code.Split('\n'))
        {
            string line = raw.TrimEnd();
            if (line.EndsWith('\\'))
            {
                current.Append(line[..^1].Trim()).Append(' ');
                continue;
            }
            current.Append(line.Trim());
            string command = StripComment(current.ToString()).Trim();
            if (command.Length > 0) commands.Add(command);
            current.Clear();
        }
        return commands;
    }

    /// <summary>Splits a command line like a POSIX shell for the simple quoting the README uses ("…" and plain words).</summary>
    public static IReadOnlyList<string> Words(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool quoted = false, any = false;
        foreach (char c in command)
        {
            if (c == '"') { quoted = !quoted; any = true; continue; }
            if (char.IsWhiteSpace(c) && !quoted)
            {
                if (any) words.Add(word.ToString());
                word.Clear();
                any = false;
                continue;
            }
            word.Append(c);
            any = true;
        }
        if (quoted) throw new FormatException("unbalanced quote in: " + command);
        if (any) words.Add(word.ToString());
        return words;
    }

    /// <summary>A C# snippet as a compilable file: its using directives on top, its statements in <c>public static void Run()</c>.</summary>
    public static string ToCompilationUnit(Block block, string className)
    {
        var usings = new List<string>();
        var body = new List<string>();
        foreach (var line in block.Code.Split('\n'))
        {
            string t = line.Trim();
            if (t.StartsWith("using ", StringComparison.Ordinal) && !t.StartsWith("using var ", StringComparison.Ordinal) && !t.Contains('(')) usings.Add(t);
            else body.Add(line.TrimEnd());
        }
        string context = block.Directive is { } d && d.StartsWith("context:", StringComparison.Ordinal) ? d["context:".Length..].Trim() : "";
        var sb = new StringBuilder();
        foreach (var u in usings) sb.AppendLine(u);
        sb.AppendLine($"// README.md line {block.Line}");
        sb.AppendLine($"internal static class {className}");
        sb.AppendLine("{");
        sb.AppendLine("    public static void Run()");
        sb.AppendLine("    {");
        if (context.Length > 0) sb.AppendLine("        " + context);
        foreach (var b in body) sb.AppendLine("        " + b);
        sb.AppendLine("    }");
        sb.AppendLine("}");
        return sb.ToString();
    }

    private static string StripComment(string line)
    {
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '"') quoted = !quoted;
            if (line[i] == '#' && !quoted && (i == 0 || char.IsWhiteSpace(line[i - 1]))) return line[..i];
        }
        return line;
    }
}
