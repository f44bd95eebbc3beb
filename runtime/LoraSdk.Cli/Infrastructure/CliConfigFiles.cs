using System;
using System.IO;
using System.Text;
using LoraSdk.Core;

namespace LoraSdk.Cli.Infrastructure;

/// <summary>
/// The model <c>config.json</c> files a command takes (<c>--base-config</c> / <c>--unet-config</c>,
/// <c>--text-encoder-config</c>, …): every failure — missing, a folder, unreadable, not JSON, a config of another
/// model class, a field out of range — is one line naming the option and the file (exit 1), never a bare
/// "UNet config.json: …" that leaves the user guessing which file was meant.
/// </summary>
internal static class CliConfigFiles
{
    private const string UnetClass = "UNet2DConditionModel";
    private const string FluxTransformerClass = "FluxTransformer2DModel";

    /// <summary>
    /// Layout options from a denoiser config: a <c>FluxTransformer2DModel</c> config (by its <c>_class_name</c>) sets the
    /// transformer layout; a <c>UNet2DConditionModel</c> config, or one without <c>_class_name</c>, the UNet layout.
    /// Any other class (a text encoder, a VAE, a <c>model_index.json</c>) is refused by name.
    /// </summary>
    public static LoraFileModelOptions ReadBaseConfig(string path, string option, string layoutName)
    {
        string text = ReadText(path, option, "a UNet or Flux transformer config.json");
        var (className, field) = ClassName(text, path, option);
        if (className is not null && className != UnetClass && className != FluxTransformerClass)
            throw new CliFailure($"{option} {path}: is a config for {className} (its {field}); expected a {UnetClass} or {FluxTransformerClass} config.json " +
                                 "(the pipeline's unet/ or transformer/ config)");
        return Named(path, option, () => LoraFileModelOptions.ForBaseConfigJson(text, layoutName));
    }

    /// <summary>A CLIP text encoder layout from a transformers <c>config.json</c>.</summary>
    public static TextEncoderLayout ReadTextEncoderConfig(string path, string option)
    {
        string text = ReadText(path, option, "a CLIP text encoder config.json");
        ClassName(text, path, option);
        return Named(path, option, () => TextEncoderLayout.FromConfigJson(text));
    }

    private static string ReadText(string path, string option, string expected)
    {
        CliPaths.RequireFile(path, option, expected);
        try
        {
            return File.ReadAllText(path, Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new CliFailure($"{option} {path}: cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// The model class a config names — diffusers' <c>_class_name</c>, else the first of transformers' <c>architectures</c>
    /// — and the field it came from, or nulls; text that is not a JSON object is refused here.
    /// </summary>
    private static (string? ClassName, string? Field) ClassName(string text, string path, string option)
    {
        JsonValue root;
        try
        {
            root = JsonValue.Parse(text);
        }
        catch (JsonParseException e)
        {
            throw new CliFailure($"{option} {path}: not valid JSON: {e.Message}");
        }
        if (root.Kind != JsonValueKind.Object) throw new CliFailure($"{option} {path}: not a config (the JSON is not an object)");
        if (root["_class_name"] is { Kind: JsonValueKind.String } c) return (c.AsString(), "_class_name");
        if (root["architectures"] is { Kind: JsonValueKind.Array } a && a.Items.Count > 0 && a.Items[0].Kind == JsonValueKind.String)
            return (a.Items[0].AsString(), "architectures");
        return (null, null);
    }

    private static T Named<T>(string path, string option, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (LoraSdkFormatException e)
        {
            throw new CliFailure($"{option} {path}: {e.Message}");
        }
    }
}
