using System;
using System.Diagnostics;
using System.IO;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// Progress and warnings on stderr. On a terminal one status line is redrawn in place (<c>\r</c> + erase to end of
/// line) and cleared before any other line is printed; when stderr is redirected every update is one complete line,
/// written in one call, so lines from libtorch (which writes to the same descriptor) fall between ours and never inside
/// them. <c>--quiet</c> turns progress off but keeps warnings.
/// </summary>
internal sealed class CliProgress
{
    private readonly TextWriter _error;
    private readonly bool _terminal;
    private readonly bool _enabled;
    private readonly int _width;
    private readonly string _prefix;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private bool _statusShown;
    private string? _lastWarning;

    /// <summary>Creates the reporter for command <paramref name="command"/>.</summary>
    public CliProgress(CliEnvironment environment, string command, bool enabled)
    {
        _error = environment.Error;
        _terminal = environment.ErrorIsTerminal;
        _width = Math.Max(20, environment.TerminalWidth - 1);
        _enabled = enabled;
        _prefix = "lorasdk " + command + ": ";
    }

    /// <summary>A stage begins (<c>loading model …</c>).</summary>
    public void Stage(string text)
    {
        if (!_enabled) return;
        Status(text);
    }

    /// <summary>A step of <paramref name="total"/> finished.</summary>
    public void Step(string label, int step, int total, string? detail = null)
    {
        if (!_enabled) return;
        int total1 = Math.Max(1, total);
        string counter = $"{label} {step}/{total1}" + (detail is null ? "" : " " + detail);
        if (_terminal)
        {
            const int bar = 24;
            int filled = Math.Clamp(step * bar / total1, 0, bar);
            Status($"[{new string('#', filled)}{new string('.', bar - filled)}] {counter}");
        }
        else
        {
            Status(counter);
        }
    }

    /// <summary>A warning: always printed (also with <c>--quiet</c>), as its own line; identical repeats are dropped.</summary>
    public void Warning(string text)
    {
        if (text == _lastWarning) return;
        _lastWarning = text;
        Line("warning: " + OneLine(text, 400));
    }

    /// <summary>Clears the status line (terminal) before the command prints its result or an error.</summary>
    public void Finish()
    {
        if (_statusShown && _terminal)
        {
            _error.Write("\r\u001b[K");
            _error.Flush();
        }
        _statusShown = false;
    }

    /// <summary>Seconds since the command started, for stage messages.</summary>
    public double ElapsedSeconds => _clock.Elapsed.TotalSeconds;

    private void Status(string text)
    {
        if (_terminal)
        {
            string shown = OneLine(_prefix + text, _width);
            _error.Write("\r" + shown + "\u001b[K");
            _error.Flush();
            _statusShown = true;
        }
        else
        {
            _error.WriteLine(_prefix + OneLine(text, 1000));
            _error.Flush();
        }
    }

    private void Line(string text)
    {
        Finish();
        _error.WriteLine(_prefix + text);
        _error.Flush();
    }

    /// <summary>Collapses line breaks and shortens to <paramref name="max"/> characters (with an ellipsis).</summary>
    public static string OneLine(string text, int max)
    {
        string s = text.ReplaceLineEndings(" ").Replace('\t', ' ');
        return s.Length <= max ? s : s.Substring(0, Math.Max(0, max - 1)) + "…";
    }
}
