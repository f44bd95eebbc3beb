namespace LoraSdk.Typed;

/// <summary>PEFT's <c>majority_sign_method</c> for TIES-style merges.</summary>
public enum MajoritySignMethod
{
    /// <summary><c>total</c>: the sign of the summed values.</summary>
    Total,
    /// <summary><c>frequency</c>: the most frequent sign.</summary>
    Frequency,
}
