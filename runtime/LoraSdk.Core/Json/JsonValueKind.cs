namespace LoraSdk.Core;

/// <summary>The kind of a <see cref="JsonValue"/>.</summary>
internal enum JsonValueKind
{
    /// <summary>A JSON object.</summary>
    Object,
    /// <summary>A JSON array.</summary>
    Array,
    /// <summary>A JSON string.</summary>
    String,
    /// <summary>A JSON number.</summary>
    Number,
    /// <summary>The literal <c>true</c>.</summary>
    True,
    /// <summary>The literal <c>false</c>.</summary>
    False,
    /// <summary>The literal <c>null</c>.</summary>
    Null,
}
