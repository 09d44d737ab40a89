using System.Runtime.InteropServices;
using System.Text.Json;
using NativeModels.IO;

namespace NativeModels.Tests.Transformer;

/// <summary>How to build a tiny random Llama / Qwen3 checkpoint.</summary>
public sealed record TinyTransformerSpec
{
    public string ModelType { get; init; } = "llama";
    public int Hidden { get; init; } = 32;
    public int Intermediate { get; init; } = 48;
    public int Layers { get; init; } = 2;
    public int Heads { get; init; } = 4;
    public int KvHeads { get; init; } = 2;
    /// <summary>null: not written (Hidden / Heads for llama).</summary>
    public int? HeadDim { get; init; }
    public int Vocab { get; init; } = 64;
    public float Theta { get; init; } = 10000f;
    public float Epsilon { get; init; } = 1e-6f;
    public int MaxPositions { get; init; } = 256;
    /// <summary>null, "linear" or "llama3".</summary>
    public string? RopeScaling { get; init; }
    public double RopeFactor { get; init; } = 4.0;
    /// <summary>transformers 5.x style rope_parameters instead of rope_theta + rope_scaling.</summary>
    public bool RopeParameters { get; init; }
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public bool Tied { get; init; }
    /// <summary>Qwen3 sliding window (use_sliding_window true) on layers &gt;= MaxWindowLayers.</summary>
    public int? SlidingWindow { get; init; }
    public int MaxWindowLayers { get; init; } = 1;
    public SafetensorsDType StoredAs { get; init; } = SafetensorsDType.F32;
    public int Seed { get; init; } = 4321;

    public bool Qwen3 => ModelType == "qwen3";
    public int Dh => HeadDim ?? Hidden / Heads;
}

/// <summary>
/// A tiny random Llama or Qwen3 checkpoint in a temporary folder (config.json + model.safetensors, HF naming), with
/// its weights kept as floats (rounded to the stored dtype) for the reference. Deleted on Dispose.
/// </summary>
public sealed class TinyTransformer : IDisposable
{
    private TinyTransformer(TinyTransformerSpec spec, string directory, Dictionary<string, (long[] Shape, float[] Data)> weights)
    {
        Spec = spec;
        Directory = directory;
        Weights = weights;
    }

    public TinyTransformerSpec Spec { get; }

    public string Directory { get; }

    public Dictionary<string, (long[] Shape, float[] Data)> Weights { get; }

    public float[] W(string name) => Weights[name].Data;

    public static TinyTransformer Create(TinyTransformerSpec? spec = null, Action<Dictionary<string, object?>>? editConfig = null,
        Action<Dictionary<string, (long[] Shape, float[] Data)>>? editWeights = null)
    {
        spec ??= new TinyTransformerSpec();
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
        string directory = Path.Combine(Path.GetTempPath(), "nm-transformer-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var config = ConfigJson(spec);
        editConfig?.Invoke(config);
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config, JsonOptions));
        var entries = weights.OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => (Name: e.Key, DType: spec.StoredAs, Shape: e.Value.Shape, Data: (ReadOnlyMemory<byte>)Encode(e.Value.Data, spec.StoredAs)))
            .ToList();
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), entries);
        return new TinyTransformer(spec, directory, weights);
    }

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

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    public static Dictionary<string, object?> ConfigJson(TinyTransformerSpec s)
    {
        var config = new Dictionary<string, object?>
        {
            ["architectures"] = new[] { s.Qwen3 ? "Qwen3ForCausalLM" : "LlamaForCausalLM" },
            ["model_type"] = s.ModelType,
            ["vocab_size"] = s.Vocab,
            ["hidden_size"] = s.Hidden,
            ["intermediate_size"] = s.Intermediate,
            ["num_hidden_layers"] = s.Layers,
            ["num_attention_heads"] = s.Heads,
            ["num_key_value_heads"] = s.KvHeads,
            ["hidden_act"] = "silu",
            ["max_position_embeddings"] = s.MaxPositions,
            ["rms_norm_eps"] = s.Epsilon,
            ["attention_bias"] = s.AttentionBias,
            ["tie_word_embeddings"] = s.Tied,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["torch_dtype"] = s.StoredAs == SafetensorsDType.BF16 ? "bfloat16" : "float32",
        };
        if (!s.Qwen3)
        {
            config["mlp_bias"] = s.MlpBias;
        }
        if (s.HeadDim is int d)
        {
            config["head_dim"] = d;
        }
        Dictionary<string, object?>? scaling = s.RopeScaling switch
        {
            null => null,
            "linear" => new() { ["rope_type"] = "linear", ["factor"] = s.RopeFactor },
            "llama3" => new()
            {
                ["rope_type"] = "llama3",
                ["factor"] = s.RopeFactor,
                ["low_freq_factor"] = 1.0,
                ["high_freq_factor"] = 4.0,
                ["original_max_position_embeddings"] = 64,
            },
            _ => new() { ["rope_type"] = s.RopeScaling },
        };
        if (s.RopeParameters)
        {
            var parameters = scaling ?? new Dictionary<string, object?> { ["rope_type"] = "default" };
            parameters["rope_theta"] = s.Theta;
            config["rope_parameters"] = parameters;
        }
        else
        {
            config["rope_theta"] = s.Theta;
            config["rope_scaling"] = scaling;
        }
        if (s.Qwen3)
        {
            config["use_sliding_window"] = s.SlidingWindow is not null;
            config["sliding_window"] = s.SlidingWindow;
            config["max_window_layers"] = s.MaxWindowLayers;
        }
        return config;
    }

    private static Dictionary<string, (long[] Shape, float[] Data)> RandomWeights(TinyTransformerSpec s)
    {
        var random = new Random(s.Seed);
        float Uniform(double scale) => (float)((random.NextDouble() * 2 - 1) * scale);
        float[] Fill(int count, double scale, double offset = 0) =>
            Enumerable.Range(0, count).Select(_ => (float)(offset + Uniform(scale))).ToArray();

        var w = new Dictionary<string, (long[] Shape, float[] Data)>();
        int h = s.Hidden, i = s.Intermediate, v = s.Vocab, q = s.Heads * s.Dh, kv = s.KvHeads * s.Dh;
        w["model.embed_tokens.weight"] = ([v, h], Fill(v * h, 1.0));
        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"model.layers.{l}.";
            w[p + "input_layernorm.weight"] = ([h], Fill(h, 0.2, 1.0));
            w[p + "self_attn.q_proj.weight"] = ([q, h], Fill(q * h, 1.5 / Math.Sqrt(h)));
            w[p + "self_attn.k_proj.weight"] = ([kv, h], Fill(kv * h, 1.5 / Math.Sqrt(h)));
            w[p + "self_attn.v_proj.weight"] = ([kv, h], Fill(kv * h, 1.0 / Math.Sqrt(h)));
            w[p + "self_attn.o_proj.weight"] = ([h, q], Fill(h * q, 1.0 / Math.Sqrt(q)));
            if (s.AttentionBias)
            {
                w[p + "self_attn.q_proj.bias"] = ([q], Fill(q, 0.2));
                w[p + "self_attn.k_proj.bias"] = ([kv], Fill(kv, 0.2));
                w[p + "self_attn.v_proj.bias"] = ([kv], Fill(kv, 0.2));
                w[p + "self_attn.o_proj.bias"] = ([h], Fill(h, 0.2));
            }
            if (s.Qwen3)
            {
                w[p + "self_attn.q_norm.weight"] = ([s.Dh], Fill(s.Dh, 0.3, 1.0));
                w[p + "self_attn.k_norm.weight"] = ([s.Dh], Fill(s.Dh, 0.3, 1.0));
            }
            w[p + "post_attention_layernorm.weight"] = ([h], Fill(h, 0.2, 1.0));
            w[p + "mlp.gate_proj.weight"] = ([i, h], Fill(i * h, 1.0 / Math.Sqrt(h)));
            w[p + "mlp.up_proj.weight"] = ([i, h], Fill(i * h, 1.0 / Math.Sqrt(h)));
            w[p + "mlp.down_proj.weight"] = ([h, i], Fill(h * i, 1.0 / Math.Sqrt(i)));
            if (s.MlpBias)
            {
                w[p + "mlp.gate_proj.bias"] = ([i], Fill(i, 0.1));
                w[p + "mlp.up_proj.bias"] = ([i], Fill(i, 0.1));
                w[p + "mlp.down_proj.bias"] = ([h], Fill(h, 0.1));
            }
        }
        w["model.norm.weight"] = ([h], Fill(h, 0.2, 1.0));
        if (!s.Tied)
        {
            w["lm_head.weight"] = ([v, h], Fill(v * h, 1.0 / Math.Sqrt(h)));
        }
        return w;
    }

    private static byte[] Encode(float[] data, SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.F32 => MemoryMarshal.AsBytes(data.AsSpan()).ToArray(),
        SafetensorsDType.F16 => MemoryMarshal.AsBytes(Array.ConvertAll(data, v => (Half)v).AsSpan()).ToArray(),
        SafetensorsDType.BF16 => MemoryMarshal.AsBytes(Array.ConvertAll(data, v => ((BFloat16)v).Bits).AsSpan()).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}
