using System;
using LoraSdk.Cli.Commands;

namespace LoraSdk.Cli;

/// <summary>Entry point of the <c>lorasdk</c> tool: dispatches to one command class per verb.</summary>
public static class Program
{
    private const string Usage = "usage: lorasdk <inspect|tokenize|generate> ...  (lorasdk <command> --help for details)";

    /// <summary>Runs a command; returns the process exit code.</summary>
    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        string[] rest = new string[args.Length - 1];
        Array.Copy(args, 1, rest, 0, rest.Length);
        switch (args[0])
        {
            case "inspect":
                return InspectCommand.Run(rest);
            case "tokenize":
                return TokenizeCommand.Run(rest);
            case "generate":
                return GenerateCommand.Run(rest);
            case "-h":
            case "--help":
                Console.Out.WriteLine(Usage);
                return 0;
            default:
                Console.Error.WriteLine($"lorasdk: unknown command '{args[0]}'");
                Console.Error.WriteLine(Usage);
                return 2;
        }
    }
}
