namespace LoraSdk.Core;

/// <summary>Malformed JSON text; carries the 1-based line and column and the 0-based character offset.</summary>
internal sealed class JsonParseException : LoraSdkFormatException
{
    /// <summary>Creates the exception.</summary>
    public JsonParseException(string reason, int line, int column, int offset)
        : base($"invalid JSON at line {line}, column {column}: {reason}")
    {
        Reason = reason;
        Line = line;
        Column = column;
        Offset = offset;
    }

    /// <summary>What is wrong, without the position.</summary>
    public string Reason { get; }

    /// <summary>1-based line of the offending character.</summary>
    public int Line { get; }

    /// <summary>1-based column of the offending character.</summary>
    public int Column { get; }

    /// <summary>0-based character offset of the offending character.</summary>
    public int Offset { get; }
}
