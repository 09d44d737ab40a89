using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using NativeModels.IO;

namespace NativeModels.Bench;

/// <summary>The shape of a benchmark model. Only the fields of its architecture matter.</summary>
internal sealed record ModelShape
{
    public required string Arch { get; init; }
    public int Hidden { get; init; }
    public int Layers { get; init; }
    public int Vocab { get; init; }
    public int Intermediate { get; init; }
    public bool Tied { get; init; } = true;

    // Mamba
    public int State { get; init; }
    public int Conv { get; init; }
    public int TimeStepRank => (Hidden + 15) / 16;

    // Llama
    public int Heads { get; init; }
    public int KvHeads { get; init; }
    public int HeadDim { get; init; }
    public double RopeTheta { get; init; }

    /// <summary>Mamba-130m (state-spaces/mamba-130m-hf).</summary>
    public static ModelShape Mamba130m() => new()
    {
        Arch = "mamba", Hidden = 768, Layers = 24, State = 16, Conv = 4, Intermediate = 1536, Vocab = 50280,
    };

    /// <summary>Llama-3.2-1B-like (no llama3 rope scaling).</summary>
    public static ModelShape Llama1B() => new()
    {
        Arch = "llama", Hidden = 2048, Layers = 16, Heads = 32, KvHeads = 8, HeadDim = 64, Intermediate = 8192,
        Vocab = 128256, RopeTheta = 500000,
    };

    public string Describe() => Arch == "mamba"
        ? $"mamba: hidden {Hidden}, {Layers} layers, state {State}, conv {Conv}, intermediate {Intermediate}, vocab {Vocab}, dt rank {TimeStepRank}, tied"
        : $"llama: hidden {Hidden}, {Layers} layers, {Heads} heads, {KvHeads} KV heads, head_dim {HeadDim}, intermediate {Intermediate}, vocab {Vocab}, rope_theta {RopeTheta}, tied";

    /// <summary>K and V bytes one token adds to a KV cache held in <paramref name="elementSize"/>-byte elements.</summary>
    public long KvBytesPerToken(int elementSize) => 2L * Layers * KvHeads * HeadDim * elementSize;
}

/// <summary>
/// Writes a model folder with random weights (config.json, one safetensors shard per layer plus one for the
/// embeddings, and model.safetensors.index.json), so at most one shard's bytes are in memory at a time. Values come
/// from a SplitMix64 stream seeded by (seed, tensor name): the same seed gives the same files.
/// </summary>
internal static class RandomCheckpoint
{
    private sealed record TensorSpec(string Name, long[] Shape, Func<long, double, float> Value);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver(),
    };

    /// <summary>Writes the checkpoint into <paramref name="directory"/> (created); returns the bytes of weights written.</summary>
    public static long Write(string directory, ModelShape shape, SafetensorsDType dtype, ulong seed)
    {
        Directory.CreateDirectory(directory);
        var config = shape.Arch == "mamba" ? MambaConfig(shape, dtype) : LlamaConfig(shape, dtype);
        File.WriteAllText(Path.Combine(directory, "config.json"), JsonSerializer.Serialize(config, JsonOptions));

        var groups = shape.Arch == "mamba" ? MambaTensors(shape) : LlamaTensors(shape);
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        long total = 0;
        for (int g = 0; g < groups.Count; g++)
        {
            string file = string.Create(CultureInfo.InvariantCulture, $"model-{g + 1:D5}-of-{groups.Count:D5}.safetensors");
            var entries = new List<(string, SafetensorsDType, long[], ReadOnlyMemory<byte>)>();
            foreach (var t in groups[g])
            {
                byte[] data = Encode(t, dtype, seed);
                entries.Add((t.Name, dtype, t.Shape, data));
                map[t.Name] = file;
                total += data.Length;
            }
            SafetensorsWriter.Write(Path.Combine(directory, file), entries);
        }
        var index = new Dictionary<string, object>
        {
            ["metadata"] = new Dictionary<string, long> { ["total_size"] = total },
            ["weight_map"] = map,
        };
        File.WriteAllText(Path.Combine(directory, WeightStore.IndexFileName), JsonSerializer.Serialize(index, JsonOptions));
        return total;
    }

    private static Dictionary<string, object?> MambaConfig(ModelShape s, SafetensorsDType dtype) => new()
    {
        ["architectures"] = new[] { "MambaForCausalLM" },
        ["model_type"] = "mamba",
        ["vocab_size"] = s.Vocab,
        ["hidden_size"] = s.Hidden,
        ["intermediate_size"] = s.Intermediate,
        ["state_size"] = s.State,
        ["num_hidden_layers"] = s.Layers,
        ["conv_kernel"] = s.Conv,
        ["expand"] = s.Intermediate / s.Hidden,
        ["time_step_rank"] = s.TimeStepRank,
        ["use_bias"] = false,
        ["use_conv_bias"] = true,
        ["layer_norm_epsilon"] = 1e-5,
        ["residual_in_fp32"] = true,
        ["tie_word_embeddings"] = s.Tied,
        ["pad_token_id"] = 0,
        ["bos_token_id"] = 0,
        ["eos_token_id"] = 0,
        ["hidden_act"] = "silu",
        ["torch_dtype"] = DTypeName(dtype),
    };

    private static Dictionary<string, object?> LlamaConfig(ModelShape s, SafetensorsDType dtype) => new()
    {
        ["architectures"] = new[] { "LlamaForCausalLM" },
        ["model_type"] = "llama",
        ["vocab_size"] = s.Vocab,
        ["hidden_size"] = s.Hidden,
        ["intermediate_size"] = s.Intermediate,
        ["num_hidden_layers"] = s.Layers,
        ["num_attention_heads"] = s.Heads,
        ["num_key_value_heads"] = s.KvHeads,
        ["head_dim"] = s.HeadDim,
        ["hidden_act"] = "silu",
        ["max_position_embeddings"] = 131072,
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = s.RopeTheta,
        ["rope_scaling"] = null,
        ["attention_bias"] = false,
        ["mlp_bias"] = false,
        ["tie_word_embeddings"] = s.Tied,
        ["bos_token_id"] = 128000,
        ["eos_token_id"] = 128001,
        ["torch_dtype"] = DTypeName(dtype),
    };

    private static string DTypeName(SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.BF16 => "bfloat16",
        SafetensorsDType.F16 => "float16",
        _ => "float32",
    };

    private static Func<long, double, float> Uniform(double scale, double offset = 0) => (_, u) => (float)(offset + scale * u);

    /// <summary>Shard 0: embeddings and final norm (and an untied head); then one shard per layer.</summary>
    private static List<List<TensorSpec>> MambaTensors(ModelShape s)
    {
        int h = s.Hidden, i = s.Intermediate, n = s.State, k = s.Conv, r = s.TimeStepRank, v = s.Vocab;
        var groups = new List<List<TensorSpec>>();
        var head = new List<TensorSpec>
        {
            new("backbone.embeddings.weight", [v, h], Uniform(1.0)),
            new("backbone.norm_f.weight", [h], Uniform(0.2, 1.0)),
        };
        if (!s.Tied)
        {
            head.Add(new("lm_head.weight", [v, h], Uniform(1.0 / Math.Sqrt(h))));
        }
        groups.Add(head);
        for (int l = 0; l < s.Layers; l++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"backbone.layers.{l}.");
            groups.Add(
            [
                new(p + "norm.weight", [h], Uniform(0.2, 1.0)),
                new(p + "mixer.in_proj.weight", [2 * i, h], Uniform(1.0 / Math.Sqrt(h))),
                new(p + "mixer.conv1d.weight", [i, 1, k], Uniform(0.5)),
                new(p + "mixer.conv1d.bias", [i], Uniform(0.1)),
                new(p + "mixer.x_proj.weight", [r + 2 * n, i], Uniform(1.0 / Math.Sqrt(i))),
                new(p + "mixer.dt_proj.weight", [i, r], Uniform(1.0 / Math.Sqrt(r))),
                // Inverse softplus of dt log-uniform in [0.001, 0.1], like HF's initialisation.
                new(p + "mixer.dt_proj.bias", [i], (_, u) =>
                {
                    double dt = Math.Exp(Math.Log(0.001) + (u + 1) / 2 * (Math.Log(0.1) - Math.Log(0.001)));
                    return (float)(dt + Math.Log(1 - Math.Exp(-dt)));
                }),
                new(p + "mixer.A_log", [i, n], (j, u) => (float)(Math.Log(1 + j % n) + 0.1 * u)),
                new(p + "mixer.D", [i], Uniform(0.5, 1.0)),
                new(p + "mixer.out_proj.weight", [h, i], Uniform(1.0 / Math.Sqrt(i) / Math.Sqrt(2.0 * s.Layers))),
            ]);
        }
        return groups;
    }

    private static List<List<TensorSpec>> LlamaTensors(ModelShape s)
    {
        int h = s.Hidden, f = s.Intermediate, v = s.Vocab, q = s.Heads * s.HeadDim, kv = s.KvHeads * s.HeadDim;
        double std = 0.02 * Math.Sqrt(3.0); // uniform with the standard deviation of HF's initializer_range 0.02
        var groups = new List<List<TensorSpec>>();
        var head = new List<TensorSpec>
        {
            new("model.embed_tokens.weight", [v, h], Uniform(std)),
            new("model.norm.weight", [h], Uniform(0.1, 1.0)),
        };
        if (!s.Tied)
        {
            head.Add(new("lm_head.weight", [v, h], Uniform(std)));
        }
        groups.Add(head);
        for (int l = 0; l < s.Layers; l++)
        {
            string p = string.Create(CultureInfo.InvariantCulture, $"model.layers.{l}.");
            groups.Add(
            [
                new(p + "input_layernorm.weight", [h], Uniform(0.1, 1.0)),
                new(p + "self_attn.q_proj.weight", [q, h], Uniform(std)),
                new(p + "self_attn.k_proj.weight", [kv, h], Uniform(std)),
                new(p + "self_attn.v_proj.weight", [kv, h], Uniform(std)),
                new(p + "self_attn.o_proj.weight", [h, q], Uniform(std)),
                new(p + "post_attention_layernorm.weight", [h], Uniform(0.1, 1.0)),
                new(p + "mlp.gate_proj.weight", [f, h], Uniform(std)),
                new(p + "mlp.up_proj.weight", [f, h], Uniform(std)),
                new(p + "mlp.down_proj.weight", [h, f], Uniform(std)),
            ]);
        }
        return groups;
    }

    private static byte[] Encode(TensorSpec t, SafetensorsDType dtype, ulong seed)
    {
        long count = 1;
        foreach (long d in t.Shape)
        {
            count = checked(count * d);
        }
        if (dtype is not (SafetensorsDType.F32 or SafetensorsDType.BF16 or SafetensorsDType.F16))
        {
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "float32, float16 or bfloat16");
        }
        int size = dtype.ElementSize();
        var bytes = new byte[checked(count * size)];
        ulong stream = seed ^ Fnv1a(t.Name);
        const long Chunk = 1 << 20;
        // SplitMix64 is counter-based (element j uses stream + (j + 1) * gamma), so chunks fill in parallel and the
        // values do not depend on the thread count.
        Parallel.For(0, (count + Chunk - 1) / Chunk, chunk =>
        {
            long end = Math.Min(count, (chunk + 1) * Chunk);
            for (long j = chunk * Chunk; j < end; j++)
            {
                ulong z = stream + (ulong)(j + 1) * 0x9E3779B97F4A7C15UL;
                z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
                z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
                z ^= z >> 31;
                double u = (z >> 11) * (1.0 / (1UL << 53)) * 2 - 1;
                float value = t.Value(j, u);
                var span = bytes.AsSpan(checked((int)(j * size)), size);
                switch (dtype)
                {
                    case SafetensorsDType.F32:
                        BinaryPrimitives.WriteSingleLittleEndian(span, value);
                        break;
                    case SafetensorsDType.BF16:
                        BinaryPrimitives.WriteUInt16LittleEndian(span, ((BFloat16)value).Bits);
                        break;
                    default:
                        BinaryPrimitives.WriteHalfLittleEndian(span, (Half)value);
                        break;
                }
            }
        });
        return bytes;
    }

    private static ulong Fnv1a(string text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        return hash;
    }
}
