using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Threading;
using System.Threading.Tasks;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// The pattern every <c>lorasdk</c> command follows: one sealed subclass per command in <c>Commands/</c>, found by
/// <see cref="LorasdkCli"/> through reflection (adding a command is adding one file). A command declares its
/// arguments and options in <see cref="Declare"/> — shared ones come from <see cref="CliOptions"/> — and does its
/// work in <see cref="Execute"/>, returning <see cref="ExitCodes.Ok"/>. It reports problems by throwing:
/// <see cref="UsageException"/> (exit 2), <see cref="CliFailure"/> (its code), or whatever the SDK throws, which
/// <see cref="CliErrors"/> turns into one line and an exit code. It never writes error text itself.
/// </summary>
internal abstract class CliCommand
{
    /// <summary>The verb (<c>generate</c>).</summary>
    public abstract string Name { get; }

    /// <summary>One or two sentences for help.</summary>
    public abstract string Description { get; }

    /// <summary>Lines printed after the options in <c>--help</c> (notes, examples); exit codes are added for every command.</summary>
    public virtual IReadOnlyList<string> HelpNotes => Array.Empty<string>();

    /// <summary>Builds the System.CommandLine command; its action runs <see cref="Execute"/> in <paramref name="environment"/>.</summary>
    public Command Build(CliEnvironment environment)
    {
        var command = new Command(Name, Description);
        Declare(command);
        // On a pool thread: System.CommandLine installs its Ctrl+C / SIGTERM handler once the action's task has started,
        // and a long synchronous action would otherwise finish (or be killed) before that.
        command.SetAction((parse, cancellation) => Task.Run(() => Run(parse, environment, cancellation), CancellationToken.None));
        return command;
    }

    /// <summary>Adds the command's arguments and options.</summary>
    protected abstract void Declare(Command command);

    /// <summary>Does the work; returns the exit code (normally <see cref="ExitCodes.Ok"/>).</summary>
    protected abstract int Execute(CliContext context);

    private int Run(ParseResult parse, CliEnvironment environment, CancellationToken cancellation)
    {
        var context = new CliContext(Name, parse, environment, cancellation);
        try
        {
            return Execute(context);
        }
        catch (Exception e)
        {
            context.Progress.Finish();
            var (code, message) = CliErrors.Describe(e);
            environment.Error.WriteLine($"lorasdk {Name}: {CliProgress.OneLine(message, 2000)}");
            if (code == ExitCodes.Usage) environment.Error.WriteLine(LorasdkCli.UsageLine(parse.CommandResult.Command));
            if (environment.Debug) environment.Error.WriteLine(e.ToString());
            return code;
        }
    }
}
