using LoraSdk.Cli.Infrastructure;

namespace LoraSdk.Cli;

/// <summary>Entry point of the <c>lorasdk</c> tool (see <see cref="LorasdkCli"/> and docs/cli.md).</summary>
public static class Program
{
    /// <summary>Runs a command; returns the process exit code (<see cref="ExitCodes"/>).</summary>
    public static int Main(string[] args) => LorasdkCli.Run(args, CliEnvironment.FromConsole());
}
