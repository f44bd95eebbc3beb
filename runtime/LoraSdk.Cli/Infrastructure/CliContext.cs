using System.CommandLine;
using System.IO;
using System.Threading;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>One run of one command: the parsed command line, the output streams, progress and cancellation.</summary>
internal sealed class CliContext
{
    /// <summary>Creates the context.</summary>
    public CliContext(string commandName, ParseResult parse, CliEnvironment environment, CancellationToken cancellation)
    {
        CommandName = commandName;
        Parse = parse;
        Environment = environment;
        Cancellation = cancellation;
        Progress = new CliProgress(environment, commandName, enabled: false);
    }

    /// <summary>The command's name (<c>generate</c>).</summary>
    public string CommandName { get; }

    /// <summary>The parsed command line.</summary>
    public ParseResult Parse { get; }

    /// <summary>Streams and machine facts.</summary>
    public CliEnvironment Environment { get; }

    /// <summary>Results go here.</summary>
    public TextWriter Output => Environment.Output;

    /// <summary>Set when the user interrupts (Ctrl+C); long operations pass it on.</summary>
    public CancellationToken Cancellation { get; }

    /// <summary>Progress and warnings on stderr (silent until <see cref="EnableProgress"/>; warnings always print).</summary>
    public CliProgress Progress { get; private set; }

    /// <summary>The value of <paramref name="option"/> (its default when not given).</summary>
    public T Get<T>(Option<T> option) => Parse.GetValue(option)!;

    /// <summary>The value of <paramref name="argument"/>.</summary>
    public T Get<T>(Argument<T> argument) => Parse.GetValue(argument)!;

    /// <summary>Turns progress reporting on (commands with long operations call this unless <c>--quiet</c>).</summary>
    public void EnableProgress(bool enabled) => Progress = new CliProgress(Environment, CommandName, enabled);
}
