using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using NativeModels.IO;

namespace NativeModels.Tests.Mamba;

/// <summary>How to build a tiny random Mamba checkpoint.</summary>
public sealed record TinyMambaSpec
{
    public int Hidden { get; init; } = 16;
    public int Intermediate { get; init; } = 32;
    public int State { get; init; } = 8;
    public int Layers { get; init; } = 2;
    public int Kernel { get; init; } = 4;
    public int Vocab { get; init; } = 50;
    /// <summary>null: write "auto" (= ceil(Hidden / 16)).</summary>
    public int? TimeStepRank { get; init; }
    public bool UseBias { get; init; }
    public bool UseConvBias { get; init; } = true;
    public bool Tied { get; init; }
    public bool ResidualInFp32 { get; init; } = true;
    public float Epsilon { get; init; } = 1e-5f;
    public SafetensorsDType StoredAs { get; init; } = SafetensorsDType.F32;
    /// <summary>backbone.embedding.weight (original state-spaces checkpoints) instead of backbone.embeddings.weight.</summary>
    public bool OriginalEmbeddingName { get; init; }
    /// <summary>Split into this many shards with model.safetensors.index.json (1 = model.safetensors).</summary>
    public int Shards { get; init; } = 1;
    public int Seed { get; init; } = 1234;

    public int Rank => TimeStepRank ?? (Hidden + 15) / 16;
}

/// <summary>
/// A tiny random Mamba checkpoint in a temporary folder (config.json + safetensors, HF naming), with its weights kept
/// as floats (rounded to the stored dtype) for the reference implementation. Deleted on Dispose.
/// </summary>
public sealed class TinyMamba : IDisposable
{
    private TinyMamba(TinyMambaSpec spec, string directory, Dictionary<string, (long[] Shape, float[] Data)> weights)
    {
        Spec = spec;
        Directory = directory;
        Weights = weights;
    }

    public TinyMambaSpec Spec { get; }

    public string Directory { get; }

    /// <summary>Every tensor as written (values already rounded to the stored dtype).</summary>
    public Dictionary<string, (long[] Shape, float[] Data)> Weights { get; }

    public static TinyMamba Create(TinyMambaSpec? spec = null, Action<Dictionary<string, object?>>? editConfig = null,
        Action<Dictionary<string, (long[] Shape, float[] Data)>>? editWeights = null)
    {
        spec ??= new TinyMambaSpec();
        var weights = RandomWeights(spec);
        editWeights?.Invoke(weights);
        if (spec.StoredAs == SafetensorsDType.BF16)
        {
            foreach (var key in weights.Keys.ToList())
            {
                var (shape, data) = weights[key];
                weights[key] = (shape, Array.ConvertAll(data, v => (float)(BFloat16)v));
            }
        }
        else if (spec.StoredAs == SafetensorsDType.F16)
        {
            foreach (var key in weights.Keys.ToList())
            {
                var (shape, data) = weights[key];
                weights[key] = (shape, Array.ConvertAll(data, v => (float)(Half)v));
            }
        }
        string directory = Path.Combine(Path.GetTempPath(), "nm-mamba-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var config = ConfigJson(spec);
        editConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config, JsonOptions));
        WriteWeights(spec, directory, weights);
        return new TinyMamba(spec, directory, weights);
    }

    /// <summary>Rewrites config.json with <paramref name="edit"/> applied to a fresh config.</summary>
    public void RewriteConfig(Action<Dictionary<string, object?>> edit)
    {
        var config = ConfigJson(Spec);
        edit(config);
        File.WriteAllText(Path.Combine(Directory, "config.json"), JsonSerializer.Serialize(config, JsonOptions));
    }

    public float[] W(string name) => Weights[name].Data;

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver() };

    public static Dictionary<string, object?> ConfigJson(TinyMambaSpec spec) => new()
    {
        ["architectures"] = new[] { "MambaForCausalLM" },
        ["model_type"] = "mamba",
        ["vocab_size"] = spec.Vocab,
        ["hidden_size"] = spec.Hidden,
        ["intermediate_size"] = spec.Intermediate,
        ["state_size"] = spec.State,
        ["num_hidden_layers"] = spec.Layers,
        ["conv_kernel"] = spec.Kernel,
        ["expand"] = spec.Intermediate / spec.Hidden,
        ["time_step_rank"] = spec.TimeStepRank is int r ? r : "auto",
        ["use_bias"] = spec.UseBias,
        ["use_conv_bias"] = spec.UseConvBias,
        ["layer_norm_epsilon"] = spec.Epsilon,
        ["residual_in_fp32"] = spec.ResidualInFp32,
        ["tie_word_embeddings"] = spec.Tied,
        ["pad_token_id"] = 0,
        ["bos_token_id"] = 0,
        ["eos_token_id"] = 0,
        ["hidden_act"] = "silu",
        ["torch_dtype"] = spec.StoredAs == SafetensorsDType.BF16 ? "bfloat16" : "float32",
    };

    private static Dictionary<string, (long[] Shape, float[] Data)> RandomWeights(TinyMambaSpec s)
    {
        var random = new Random(s.Seed);
        float Uniform(double scale) => (float)((random.NextDouble() * 2 - 1) * scale);
        float[] Fill(int count, double scale, double offset = 0) =>
            Enumerable.Range(0, count).Select(_ => (float)(offset + Uniform(scale))).ToArray();

        var w = new Dictionary<string, (long[] Shape, float[] Data)>();
        int h = s.Hidden, i = s.Intermediate, n = s.State, k = s.Kernel, r = s.Rank, v = s.Vocab;
        w[s.OriginalEmbeddingName ? "backbone.embedding.weight" : "backbone.embeddings.weight"] = ([v, h], Fill(v * h, 1.0));
        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"backbone.layers.{l}.";
            w[p + "norm.weight"] = ([h], Fill(h, 0.2, 1.0));
            w[p + "mixer.in_proj.weight"] = ([2 * i, h], Fill(2 * i * h, 1.0 / Math.Sqrt(h)));
            if (s.UseBias)
            {
                w[p + "mixer.in_proj.bias"] = ([2 * i], Fill(2 * i, 0.1));
                w[p + "mixer.out_proj.bias"] = ([h], Fill(h, 0.1));
            }
            w[p + "mixer.conv1d.weight"] = ([i, 1, k], Fill(i * k, 0.5));
            if (s.UseConvBias)
            {
                w[p + "mixer.conv1d.bias"] = ([i], Fill(i, 0.1));
            }
            w[p + "mixer.x_proj.weight"] = ([r + 2 * n, i], Fill((r + 2 * n) * i, 1.0 / Math.Sqrt(i)));
            w[p + "mixer.dt_proj.weight"] = ([i, r], Fill(i * r, 1.0 / Math.Sqrt(r)));
            // Inverse softplus of dt in [0.001, 0.1], like HF's initialisation.
            w[p + "mixer.dt_proj.bias"] = ([i], Enumerable.Range(0, i).Select(_ =>
            {
                double dt = Math.Exp(Math.Log(0.001) + random.NextDouble() * (Math.Log(0.1) - Math.Log(0.001)));
                return (float)(dt + Math.Log(1 - Math.Exp(-dt)));
            }).ToArray());
            w[p + "mixer.A_log"] = ([i, n], Enumerable.Range(0, i * n).Select(j => (float)Math.Log(1 + j % n) + Uniform(0.1)).ToArray());
            w[p + "mixer.D"] = ([i], Fill(i, 0.5, 1.0));
            w[p + "mixer.out_proj.weight"] = ([h, i], Fill(h * i, 1.0 / Math.Sqrt(i)));
        }
        w["backbone.norm_f.weight"] = ([h], Fill(h, 0.2, 1.0));
        if (!s.Tied)
        {
            w["lm_head.weight"] = ([v, h], Fill(v * h, 1.0 / Math.Sqrt(h)));
        }
        return w;
    }

    private static void WriteWeights(TinyMambaSpec spec, string directory, Dictionary<string, (long[] Shape, float[] Data)> weights)
    {
        var entries = weights.OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => (Name: e.Key, DType: spec.StoredAs, Shape: e.Value.Shape, Data: (ReadOnlyMemory<byte>)Encode(e.Value.Data, spec.StoredAs)))
            .ToList();
        if (spec.Shards <= 1)
        {
            SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), entries);
            return;
        }
        var map = new Dictionary<string, string>();
        long total = 0;
        for (int shard = 0; shard < spec.Shards; shard++)
        {
            string file = string.Create(CultureInfo.InvariantCulture, $"model-{shard + 1:D5}-of-{spec.Shards:D5}.safetensors");
            var part = entries.Where((_, index) => index % spec.Shards == shard).ToList();
            SafetensorsWriter.Write(Path.Combine(directory, file), part);
            foreach (var e in part)
            {
                map[e.Name] = file;
                total += e.Data.Length;
            }
        }
        var index = new Dictionary<string, object> { ["metadata"] = new Dictionary<string, long> { ["total_size"] = total }, ["weight_map"] = map };
        File.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), JsonSerializer.Serialize(index, JsonOptions));
    }

    private static byte[] Encode(float[] data, SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 => MemoryMarshal.AsBytes(data.AsSpan()).ToArray(),
        SafetensorsDType.F16 => MemoryMarshal.AsBytes(Array.ConvertAll(data, v => (Half)v).AsSpan()).ToArray(),
        SafetensorsDType.BF16 => MemoryMarshal.AsBytes(Array.ConvertAll(data, v => ((BFloat16)v).Bits).AsSpan()).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}
