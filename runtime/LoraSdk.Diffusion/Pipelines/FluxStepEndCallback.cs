using System.Collections.Generic;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// FluxPipeline's <c>callback_on_step_end(pipeline, step, timestep, callback_kwargs)</c>, called after every scheduler
/// step with the tensors named in <see cref="FluxCallOptions.CallbackOnStepEndTensorInputs"/> (<c>latents</c>,
/// <c>prompt_embeds</c>). It may change pipeline state (for example adapter weights through the LoRA engine) and may
/// return replacement tensors under the same names; null or the given dictionary keeps everything. Ownership rules
/// are those of <see cref="StepEndCallback"/>: given tensors live until the callback returns, returned tensors are
/// copied, and a tensor the callback wants to keep past the step must be detached from the step's dispose scope.
/// </summary>
/// <param name="pipeline">The pipeline being run.</param>
/// <param name="step">The step index (0-based).</param>
/// <param name="timestep">The step's timestep (0…1000).</param>
/// <param name="tensors">The requested tensors.</param>
public delegate IDictionary<string, Tensor>? FluxStepEndCallback(FluxPipeline pipeline, int step, float timestep,
    IDictionary<string, Tensor> tensors);
