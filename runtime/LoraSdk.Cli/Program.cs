namespace LoraSdk.Cli;

/// <summary>Entry point of the <c>lorasdk</c> tool.</summary>
public static class Program
{
    /// <summary>Runs a command; returns the process exit code.</summary>
    public static int Main(string[] args)
    {
        System.Console.Error.WriteLine("usage: lorasdk <inspect|tokenize|generate> ...");
        return args.Length == 0 ? 2 : 2;
    }
}
