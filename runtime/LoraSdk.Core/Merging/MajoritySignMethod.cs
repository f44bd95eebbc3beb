using System;

namespace LoraSdk.Core;

/// <summary>PEFT's <c>majority_sign_method</c> for the TIES sign election.</summary>
public enum MajoritySignMethod
{
    /// <summary><c>total</c>: the sign of the sum of the pruned task tensors.</summary>
    Total,

    /// <summary><c>frequency</c>: the sign that occurs most often (ties go to +).</summary>
    Frequency,
}

/// <summary>PEFT names of <see cref="MajoritySignMethod"/>.</summary>
public static class MajoritySignMethods
{
    /// <summary>PEFT's string (<c>total</c> or <c>frequency</c>).</summary>
    public static string PeftName(MajoritySignMethod method) => method switch
    {
        MajoritySignMethod.Total => "total",
        MajoritySignMethod.Frequency => "frequency",
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "Unknown majority sign method."),
    };

    /// <summary>Parses PEFT's string (exact, case-sensitive); false when it names no method.</summary>
    public static bool TryParse(string? name, out MajoritySignMethod method)
    {
        switch (name)
        {
            case "total":
                method = MajoritySignMethod.Total;
                return true;
            case "frequency":
                method = MajoritySignMethod.Frequency;
                return true;
            default:
                method = default;
                return false;
        }
    }
}
