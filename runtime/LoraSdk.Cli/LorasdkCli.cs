using System;
using System.Collections.Generic;
using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Linq;
using System.Reflection;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using LoraSdk.Cli.Infrastructure;

namespace LoraSdk.Cli;

/// <summary>
/// The <c>lorasdk</c> command tree on System.CommandLine: every <see cref="CliCommand"/> subclass of this assembly
/// becomes a subcommand (sorted by name). Parse errors and usage errors print one line <c>lorasdk &lt;command&gt;:
/// &lt;reason&gt;</c> and a usage line, exit code 2; <c>--help</c> on any command explains every option with its
/// default, then the command's notes and the exit codes. Response files (<c>@file</c>) are off, so a prompt may start
/// with <c>@</c>.
/// </summary>
internal static class LorasdkCli
{
    /// <summary>The command name users type.</summary>
    public const string ToolName = "lorasdk";

    private static readonly Lazy<IReadOnlyList<CliCommand>> CommandsLazy = new(Discover);

    /// <summary>Every command, sorted by name.</summary>
    public static IReadOnlyList<CliCommand> Commands => CommandsLazy.Value;

    /// <summary>Runs <paramref name="args"/> (without the tool name) in <paramref name="environment"/>; returns the exit code.</summary>
    public static int Run(IReadOnlyList<string> args, CliEnvironment environment) =>
        RunAsync(args, environment).GetAwaiter().GetResult();

    /// <summary>Runs <paramref name="args"/> (without the tool name) in <paramref name="environment"/>; returns the exit code.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(environment);
        var root = BuildRoot(environment);
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction or null)
        {
            var command = parse.CommandResult.Command;
            string name = command == root ? ToolName : $"{ToolName} {command.Name}";
            environment.Error.WriteLine($"{name}: {CliProgress.OneLine(MostSpecific(parse.Errors).Message, 2000)}");
            environment.Error.WriteLine(UsageLine(command));
            return ExitCodes.Usage;
        }
        var invocation = new InvocationConfiguration
        {
            Output = environment.Output,
            Error = environment.Error,
            EnableDefaultExceptionHandler = false,
            ProcessTerminationTimeout = environment.HandleProcessTermination ? TimeSpan.FromSeconds(5) : null,
        };
        return await parse.InvokeAsync(invocation, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Builds the command tree whose actions run in <paramref name="environment"/>.</summary>
    public static Command BuildRoot(CliEnvironment environment)
    {
        var root = new Command(ToolName,
            "LoRA adapters for diffusion models in .NET: inspect LoRA files, tokenize prompts, generate images (diffusers semantics).");
        var notes = new Dictionary<Command, IReadOnlyList<string>>
        {
            [root] = new[] { $"Run '{ToolName} <command> --help' for the options of a command. Documentation: docs/cli.md." },
        };
        var help = new HelpOption();
        help.Action = new HelpWithNotesAction((HelpAction)help.Action!, notes);
        root.Options.Add(help);
        root.Options.Add(new VersionOption());
        foreach (var definition in Commands)
        {
            var command = definition.Build(environment);
            notes[command] = definition.HelpNotes;
            root.Subcommands.Add(command);
        }
        return root;
    }

    /// <summary>
    /// <c>usage: lorasdk generate --model &lt;folder&gt; --prompt &lt;text&gt; --out &lt;file.png&gt; [options]</c>: the
    /// arguments and required options of <paramref name="command"/>, then where to find the rest.
    /// </summary>
    public static string UsageLine(Command command)
    {
        var sb = new StringBuilder("usage: ").Append(ToolName);
        bool isRoot = command.Name == ToolName && command.Parents.FirstOrDefault() is null;
        if (isRoot)
            return sb.Append(" <command> [options]  (").Append(ToolName).Append(" --help lists the commands)").ToString();
        sb.Append(' ').Append(command.Name);
        foreach (var argument in command.Arguments) sb.Append(" <").Append(argument.HelpName ?? argument.Name).Append('>');
        foreach (var option in command.Options.Where(o => o.Required))
            sb.Append(' ').Append(option.Name).Append(" <").Append(option.HelpName ?? "value").Append('>');
        if (command.Options.Any(o => !o.Required)) sb.Append(" [options]");
        return sb.Append("  (").Append(ToolName).Append(' ').Append(command.Name).Append(" --help explains every option)").ToString();
    }

    // System.CommandLine lists "required" errors before errors about values that were given, and "no command" before
    // "unrecognized 'x'": show what the user typed wrong first.
    private static System.CommandLine.Parsing.ParseError MostSpecific(IReadOnlyList<System.CommandLine.Parsing.ParseError> errors) =>
        errors.OrderBy(e => e.Message.StartsWith("Unrecognized", StringComparison.Ordinal) ? 0
                : e.Message.Contains("is required", StringComparison.Ordinal) || e.Message.Contains("was not provided", StringComparison.Ordinal) ? 2
                : 1)
            .First();

    private static IReadOnlyList<CliCommand> Discover() =>
        typeof(LorasdkCli).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(CliCommand).IsAssignableFrom(t) && t.GetConstructor(Type.EmptyTypes) is not null)
            .Select(t => (CliCommand)Activator.CreateInstance(t)!)
            .OrderBy(c => c.Name, StringComparer.Ordinal)
            .ToList();

    /// <summary>The default help, then the command's notes and the exit codes.</summary>
    private sealed class HelpWithNotesAction : SynchronousCommandLineAction
    {
        private readonly HelpAction _inner;
        private readonly IReadOnlyDictionary<Command, IReadOnlyList<string>> _notes;

        public HelpWithNotesAction(HelpAction inner, IReadOnlyDictionary<Command, IReadOnlyList<string>> notes)
        {
            _inner = inner;
            _notes = notes;
        }

        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int code = _inner.Invoke(parseResult);
            var output = parseResult.InvocationConfiguration.Output;
            if (_notes.TryGetValue(parseResult.CommandResult.Command, out var lines) && lines.Count > 0)
            {
                output.WriteLine("Notes:");
                foreach (var line in lines) output.WriteLine("  " + line);
                output.WriteLine();
            }
            output.WriteLine(ExitCodes.HelpText);
            return code;
        }
    }
}
