namespace LoraSdk.Diffusion.Saving;

/// <summary>Why saving a pipeline or model failed (see <see cref="ModelSaveException"/>).</summary>
public enum ModelSaveErrorKind
{
    /// <summary>The target is a file, or an existing folder that this save did not write (it is never replaced).</summary>
    InvalidTarget,

    /// <summary>An option is invalid (a variant with a path separator, a non-float dtype, a shard size below one byte).</summary>
    InvalidOption,

    /// <summary>A model still carries LoRA adapters: diffusers would write PEFT layer keys its loader cannot read back.</summary>
    AdaptersLoaded,

    /// <summary>The model cannot be saved in diffusers' layout (a config built in code without the file it came from).</summary>
    Unsupported,
}
