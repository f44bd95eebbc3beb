using System.Collections.Generic;
using static TorchSharp.torch;

namespace LoraSdk.Diffusion.Pipelines;

/// <summary>
/// diffusers' <c>callback_on_step_end(pipeline, step, timestep, callback_kwargs)</c>: called after every scheduler
/// step with the tensors named in <see cref="StableDiffusionXLCallOptions.CallbackOnStepEndTensorInputs"/>
/// (<c>latents</c>, <c>prompt_embeds</c>, <c>add_text_embeds</c>, <c>add_time_ids</c>). It may change pipeline state
/// (for example adapter weights through the LoRA engine: the Diffusers "scale scheduling" example) and may return
/// replacement tensors under the same names; returning null or the given dictionary keeps everything. The given
/// tensors belong to the pipeline and live until the callback returns; returned tensors are copied, so the callback
/// keeps ownership of any tensor it creates. The callback runs inside the pipeline's per-step dispose scope: a tensor
/// it creates and wants to keep after the step (e.g. a recorded copy of the latents) must be detached with
/// <c>DetachFromDisposeScope()</c>.
/// </summary>
/// <param name="pipeline">The pipeline being run.</param>
/// <param name="step">The step index (0-based).</param>
/// <param name="timestep">The step's timestep.</param>
/// <param name="tensors">The requested tensors.</param>
public delegate IDictionary<string, Tensor>? StepEndCallback(StableDiffusionXLPipeline pipeline, int step, float timestep,
    IDictionary<string, Tensor> tensors);
