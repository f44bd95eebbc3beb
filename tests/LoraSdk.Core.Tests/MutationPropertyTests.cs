using System;
using System.Collections.Generic;
using System.IO;
using CsCheck;

namespace LoraSdk.Core.Tests;

/// <summary>
/// Property: reading any mutation of a valid LoRA file (byte flips, truncation, length-prefix edits, inserted /
/// deleted / JSON-significant bytes) either succeeds or raises <see cref="LoraSdkFormatException"/> — never any other
/// exception. 10 000+ generated cases.
/// </summary>
public sealed class MutationPropertyTests
{
    private const string JsonChars = "{}[],:\"0123456789-+.eE \\tnulfasr";

    private static readonly Lazy<byte[][]> Seeds = new Lazy<byte[][]>(() =>
    {
        const string q = "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q";
        const string conv = "lora_unet_down_blocks_0_resnets_0_conv1";
        const string peft = "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k";
        return new[]
        {
            new SyntheticFile()
                .Linear(q + ".lora_down.weight", q + ".lora_up.weight", 2, 640, 640)
                .Tensor(q + ".alpha", SafetensorsDType.BF16, Array.Empty<long>(), new byte[] { 0x00, 0x41 })
                .Tensor(conv + ".lora_down.weight", 2, 320, 1, 1).Tensor(conv + ".lora_mid.weight", 2, 2, 3, 3).Tensor(conv + ".lora_up.weight", 320, 2, 1, 1)
                .Tensor(conv + ".alpha", SafetensorsDType.I64, Array.Empty<long>(), BitConverter.GetBytes(2L))
                .Meta("ss_tag_frequency", "{\"1_x\": {\"cat\": 3, \"dog\": 2}}")
                .Meta("ss_base_model_version", "sdxl_base_v1-0")
                .Build(),
            new SyntheticFile()
                .Linear(peft + ".lora_A.weight", peft + ".lora_B.weight", 2, 2048, 640)
                .Tensor(peft + ".lora_magnitude_vector", 640)
                .Linear("text_encoder_2.text_model.encoder.layers.0.mlp.fc1.lora_A.weight", "text_encoder_2.text_model.encoder.layers.0.mlp.fc1.lora_B.weight", 2, 1280, 5120)
                .Meta("lora_adapter_metadata", "{\"unet.r\": 2, \"unet.lora_alpha\": 4, \"unet.alpha_pattern\": {\"attn2.to_k\": 1.5}, \"unet.rank_pattern\": {\"to_k\": 2}, \"text_encoder_2.r\": 2, \"text_encoder_2.use_rslora\": true}")
                .Meta("modelspec.trigger_phrase", "a, b")
                .Build(),
            new SyntheticFile()
                .Tensor("lora_unet_down_blocks_1_attentions_0_proj_in.hada_w1_a", 640, 2)
                .Tensor("lora_unet_down_blocks_1_attentions_0_proj_in.hada_w1_b", 2, 640)
                .Tensor("lora_unet_down_blocks_1_attentions_0_proj_in.hada_w2_a", 640, 2)
                .Tensor("lora_unet_down_blocks_1_attentions_0_proj_in.hada_w2_b", 2, 640)
                .Tensor("lora_unet_down_blocks_1_attentions_0_proj_out.lokr_w1", 2, 4)
                .Tensor("lora_unet_down_blocks_1_attentions_0_proj_out.lokr_w2", 320, 160)
                .Tensor("lora_unet_down_blocks_1_attentions_0_proj_out.alpha", Array.Empty<long>())
                .Tensor("lora_unet_down_blocks_1_attentions_0_norm.oft_blocks", 2, 4)
                .Tensor("lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight", 2, 768)
                .Tensor("unknown.key", 3)
                .Build(),
            File.ReadAllBytes(TestPaths.Lora("lora_c")),
        };
    });

    private static Gen<byte[]> Mutations() =>
        Gen.Select(Gen.Int[0, Seeds.Value.Length - 1], Gen.Int[0, 5], Gen.Int[1, 8], Gen.Int, Gen.ULong, Gen.Int[0, JsonChars.Length - 1])
            .Select(t => Mutate(Seeds.Value[t.Item1], t.Item2, t.Item3, t.Item4, t.Item5, JsonChars[t.Item6]));

    private static byte[] Mutate(byte[] seed, int kind, int count, int seedInt, ulong big, char jsonChar)
    {
        var rng = new Random(seedInt);
        long headerEnd = Math.Min(seed.Length, 8 + (long)BitConverter.ToUInt64(seed, 0));
        int InHeader() => rng.Next(0, (int)headerEnd);
        var bytes = (byte[])seed.Clone();
        switch (kind)
        {
            case 0: // byte flips, mostly inside the header
                for (int i = 0; i < count; i++)
                {
                    int at = rng.Next(10) < 8 ? InHeader() : rng.Next(bytes.Length);
                    bytes[at] ^= (byte)(1 << rng.Next(8));
                }
                return bytes;
            case 1: // truncation
                return bytes.AsSpan(0, rng.Next(0, bytes.Length)).ToArray();
            case 2: // header-length edits: small deltas, random 32-bit, random 64-bit
                ulong n = BitConverter.ToUInt64(bytes, 0);
                ulong edited = count <= 4 ? n + (ulong)(rng.Next(-64, 65)) : count <= 6 ? (ulong)(uint)rng.Next() : big;
                BitConverter.GetBytes(edited).CopyTo(bytes, 0);
                return bytes;
            case 3: // delete a range inside the header (offsets then point elsewhere)
            {
                int at = Math.Max(8, InHeader());
                int len = Math.Min(count * rng.Next(1, 16), bytes.Length - at);
                var result = new byte[bytes.Length - len];
                Array.Copy(bytes, 0, result, 0, at);
                Array.Copy(bytes, at + len, result, at, bytes.Length - at - len);
                return result;
            }
            case 4: // insert random bytes inside the header
            {
                int at = Math.Max(8, InHeader());
                var extra = new byte[count];
                rng.NextBytes(extra);
                var result = new byte[bytes.Length + count];
                Array.Copy(bytes, 0, result, 0, at);
                Array.Copy(extra, 0, result, at, count);
                Array.Copy(bytes, at, result, at + count, bytes.Length - at);
                return result;
            }
            default: // JSON-significant characters written into the header
                for (int i = 0; i < count; i++) bytes[Math.Max(8, InHeader())] = (byte)jsonChar;
                return bytes;
        }
    }

    [Fact]
    public void SeedsAreValidLoraFiles()
    {
        foreach (var seed in Seeds.Value)
        {
            var model = SyntheticFile.ReadBytes(seed);
            Assert.True(model.ModuleCount > 0 || model.Unsupported.Count > 0);
        }
    }

    [Fact]
    public void MutatedFilesOnlyEverRaiseFormatExceptions()
    {
        int ok = 0, rejected = 0;
        var kinds = new HashSet<SafetensorsErrorKind>();
        Mutations().Sample(bytes =>
        {
            try
            {
                var model = SyntheticFile.ReadBytes(bytes);
                _ = LoraInspectJson.Write(model);
                ok++;
            }
            catch (SafetensorsFormatException e)
            {
                kinds.Add(e.Kind);
                rejected++;
            }
            catch (LoraSdkFormatException)
            {
                rejected++;
            }
        }, iter: 12_000, threads: 1);
        Assert.Equal(12_000, ok + rejected);
        Assert.True(ok > 100 && rejected > 5_000, $"ok {ok}, rejected {rejected}: the mutations should exercise both paths");
        Assert.True(kinds.Count >= 8, "error kinds seen: " + string.Join(", ", kinds));
    }
}
