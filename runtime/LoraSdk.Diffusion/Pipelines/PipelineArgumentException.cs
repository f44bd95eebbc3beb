using LoraSdk.Core;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// A pipeline call was given an invalid argument (diffusers raises <c>ValueError</c> for these). The message is
/// diffusers' own; the call ran nothing (no text encoder, no transformer step).
/// </summary>
public sealed class PipelineArgumentException : LoraSdkException
{
    /// <summary>Creates the exception for the diffusers argument <paramref name="argument"/>.</summary>
    public PipelineArgumentException(string argument, string message) : base(LoraSdkErrorCategory.InvalidArgument, message)
    {
        Argument = argument;
    }

    /// <summary>The diffusers name of the offending argument (e.g. <c>max_sequence_length</c>).</summary>
    public string Argument { get; }
}
