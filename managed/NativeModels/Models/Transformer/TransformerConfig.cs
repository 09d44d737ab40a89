using System.Globalization;
using System.Text.Json;

namespace NativeModels.Models.Transformer;

/// <summary>How the rotary frequencies are scaled (HF rope_scaling / rope_parameters "rope_type").</summary>
public enum RopeScalingKind
{
    /// <summary>inv_freq[i] = theta^(-2i/d).</summary>
    Default,

    /// <summary>Position interpolation: inv_freq / factor.</summary>
    Linear,

    /// <summary>Llama 3.1: low frequencies divided by factor, high ones kept, a smooth ramp in between.</summary>
    Llama3,
}

/// <summary>
/// The architecture of a dense decoder-only transformer as Hugging Face's LlamaConfig / Qwen3Config write it to
/// config.json (model_type "llama" or "qwen3"): pre-norm RMSNorm blocks, grouped-query attention with NeoX rotary
/// embeddings, a SwiGLU MLP. Qwen3 adds a per-head RMSNorm of q and k before RoPE. Both the transformers 4.x keys
/// (rope_theta, rope_scaling) and the 5.x ones (rope_parameters) are read.
/// </summary>
public sealed record TransformerConfig
{
    public const string LlamaModelType = "llama";
    public const string Qwen3ModelType = "qwen3";

    /// <summary>The model_type values this architecture reads.</summary>
    public static IReadOnlyList<string> ModelTypes { get; } = [LlamaModelType, Qwen3ModelType];

    public string ModelType { get; init; } = LlamaModelType;

    public int VocabSize { get; init; }

    public int HiddenSize { get; init; }

    public int IntermediateSize { get; init; }

    public int NumHiddenLayers { get; init; }

    public int NumAttentionHeads { get; init; }

    /// <summary>KV heads (grouped-query attention); equals <see cref="NumAttentionHeads"/> for plain multi-head attention.</summary>
    public int NumKeyValueHeads { get; init; }

    public int HeadDim { get; init; }

    /// <summary>Rotated dims per head (head_dim * partial_rotary_factor, even).</summary>
    public int RotaryDim { get; init; }

    public float RmsNormEps { get; init; } = 1e-6f;

    public float RopeTheta { get; init; } = 10000f;

    public RopeScalingKind RopeScaling { get; init; }

    public float RopeFactor { get; init; } = 1f;

    public float RopeLowFreqFactor { get; init; } = 1f;

    public float RopeHighFreqFactor { get; init; } = 4f;

    public int RopeOriginalMaxPositionEmbeddings { get; init; }

    /// <summary>Biases on q/k/v/o_proj.</summary>
    public bool AttentionBias { get; init; }

    /// <summary>Biases on gate/up/down_proj.</summary>
    public bool MlpBias { get; init; }

    public bool TieWordEmbeddings { get; init; }

    public int MaxPositionEmbeddings { get; init; }

    /// <summary>Per-head RMSNorm of q and k (weights q_norm / k_norm [head_dim]) before RoPE: Qwen3.</summary>
    public bool QkNorm { get; init; }

    /// <summary>Keys a query sees at most (itself included) in sliding-window layers; null: no sliding window.</summary>
    public int? SlidingWindow { get; init; }

    /// <summary>Per layer: whether it uses <see cref="SlidingWindow"/>.</summary>
    public IReadOnlyList<bool> SlidingLayers { get; init; } = [];

    public int? BosTokenId { get; init; }

    public int? EosTokenId { get; init; }

    public string SourcePath { get; init; } = "config.json";

    /// <summary>Query heads per KV head.</summary>
    public int Groups => NumAttentionHeads / NumKeyValueHeads;

    /// <summary>Reads <paramref name="modelDirectory"/>/config.json.</summary>
    public static TransformerConfig Load(string modelDirectory) => FromModelConfig(ModelConfig.Load(modelDirectory));

    /// <summary>Reads and validates the keys of a parsed config.json (model_type "llama" or "qwen3").</summary>
    public static TransformerConfig FromModelConfig(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string path = config.Path;
        string modelType = config.ModelType;
        if (modelType is not (LlamaModelType or Qwen3ModelType))
        {
            throw config.Invalid("model_type", modelType.Length == 0
                ? $"no model_type; expected one of {string.Join(", ", ModelTypes)}"
                : $"model_type is \"{modelType}\", not one of {string.Join(", ", ModelTypes)}");
        }
        bool qwen3 = modelType == Qwen3ModelType;

        int hidden = config.GetInt("hidden_size");
        int intermediate = config.GetInt("intermediate_size");
        int layers = config.GetInt("num_hidden_layers");
        int heads = config.GetInt("num_attention_heads");
        int kvHeads = config.GetInt("num_key_value_heads", heads);
        int vocab = config.GetInt("vocab_size");
        if (heads % kvHeads != 0)
        {
            throw config.Invalid("num_key_value_heads", $"num_key_value_heads ({kvHeads}) must divide num_attention_heads ({heads})");
        }
        int headDim;
        if (config.Has("head_dim"))
        {
            headDim = config.GetInt("head_dim");
        }
        else if (qwen3)
        {
            headDim = 128; // Qwen3Config's default
        }
        else
        {
            if (hidden % heads != 0)
            {
                throw config.Invalid("num_attention_heads", $"hidden_size ({hidden}) is not a multiple of num_attention_heads ({heads}) and there is no head_dim");
            }
            headDim = hidden / heads;
        }

        string? act = config.GetString("hidden_act");
        if (act is not null && act != "silu")
        {
            throw config.Invalid("hidden_act", $"hidden_act \"{act}\" is not supported (only \"silu\")");
        }

        float eps = config.GetFloat("rms_norm_eps", 1e-6f);
        if (!(eps > 0))
        {
            throw config.Invalid("rms_norm_eps", $"rms_norm_eps must be > 0, got {Show(eps)}");
        }

        // transformers 5.x writes rope_parameters {rope_type, rope_theta, ...}; 4.x rope_theta + rope_scaling.
        JsonElement? rope = config.GetObject("rope_parameters") ?? config.GetObject("rope_scaling");
        string ropeKey = config.Root.TryGetProperty("rope_parameters", out var rp) && rp.ValueKind == JsonValueKind.Object ? "rope_parameters" : "rope_scaling";
        float theta = rope is { } r0 && config.GetNestedNumber(r0, ropeKey, "rope_theta") is double t0 ? (float)t0 : config.GetFloat("rope_theta", 10000f);
        if (!(theta > 0))
        {
            throw config.Invalid("rope_theta", $"rope_theta must be > 0, got {Show(theta)}");
        }
        float partial = rope is { } r1 && config.GetNestedNumber(r1, ropeKey, "partial_rotary_factor") is double p0
            ? (float)p0 : config.GetFloat("partial_rotary_factor", 1f);
        if (!(partial > 0 && partial <= 1))
        {
            throw config.Invalid("partial_rotary_factor", $"partial_rotary_factor must be in (0, 1], got {Show(partial)}");
        }
        int rotary = (int)(headDim * partial);
        if (rotary < 2 || rotary % 2 != 0)
        {
            throw config.Invalid("head_dim", $"the rotary dims (head_dim {headDim} * partial_rotary_factor {Show(partial)} = {rotary}) must be even and >= 2");
        }

        var kind = RopeScalingKind.Default;
        float factor = 1f, low = 1f, high = 4f;
        int original = 0;
        if (rope is { } r)
        {
            string? type = config.GetNestedString(r, ropeKey, "rope_type") ?? config.GetNestedString(r, ropeKey, "type");
            switch (type)
            {
                case null or "default":
                    break;
                case "linear":
                    kind = RopeScalingKind.Linear;
                    factor = config.GetNestedPositive(r, ropeKey, "factor");
                    break;
                case "llama3":
                    kind = RopeScalingKind.Llama3;
                    factor = config.GetNestedPositive(r, ropeKey, "factor");
                    low = config.GetNestedPositive(r, ropeKey, "low_freq_factor");
                    high = config.GetNestedPositive(r, ropeKey, "high_freq_factor");
                    original = (int)config.GetNestedPositive(r, ropeKey, "original_max_position_embeddings");
                    if (!(high > low))
                    {
                        throw config.Invalid(ropeKey + ".high_freq_factor", $"{ropeKey}.high_freq_factor ({Show(high)}) must be greater than low_freq_factor ({Show(low)})");
                    }
                    break;
                default:
                    throw config.Invalid(ropeKey + ".rope_type", $"{ropeKey} type \"{type}\" is not supported (supported: default, linear, llama3)");
            }
        }

        int maxPositions = config.GetInt("max_position_embeddings", qwen3 ? 32768 : 2048);
        int? window = null;
        var sliding = new bool[layers];
        if (config.GetBool("use_sliding_window", false) && config.Has("sliding_window"))
        {
            window = config.GetInt("sliding_window");
            if (config.Root.TryGetProperty("layer_types", out var types) && types.ValueKind == JsonValueKind.Array)
            {
                if (types.GetArrayLength() != layers)
                {
                    throw config.Invalid("layer_types", $"layer_types has {types.GetArrayLength()} entries for {layers} layers");
                }
                int i = 0;
                foreach (var item in types.EnumerateArray())
                {
                    string? s = item.ValueKind == JsonValueKind.String ? item.GetString() : null;
                    sliding[i++] = s switch
                    {
                        "sliding_attention" => true,
                        "full_attention" => false,
                        _ => throw config.Invalid("layer_types", $"layer_types entries must be \"full_attention\" or \"sliding_attention\", got {item.GetRawText()}"),
                    };
                }
            }
            else
            {
                int first = config.GetInteger("max_window_layers", qwen3 ? 28 : 0);
                for (int i = 0; i < layers; i++)
                {
                    sliding[i] = i >= first;
                }
            }
        }

        return new TransformerConfig
        {
            ModelType = modelType,
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = intermediate,
            NumHiddenLayers = layers,
            NumAttentionHeads = heads,
            NumKeyValueHeads = kvHeads,
            HeadDim = headDim,
            RotaryDim = rotary,
            RmsNormEps = eps,
            RopeTheta = theta,
            RopeScaling = kind,
            RopeFactor = factor,
            RopeLowFreqFactor = low,
            RopeHighFreqFactor = high,
            RopeOriginalMaxPositionEmbeddings = original,
            AttentionBias = config.GetBool("attention_bias", false),
            MlpBias = config.GetBool("mlp_bias", false),
            TieWordEmbeddings = config.GetBool("tie_word_embeddings", false),
            MaxPositionEmbeddings = maxPositions,
            QkNorm = qwen3,
            SlidingWindow = window,
            SlidingLayers = sliding,
            BosTokenId = config.GetTokenId("bos_token_id"),
            EosTokenId = config.GetTokenId("eos_token_id"),
            SourcePath = path,
        };
    }

    /// <summary>
    /// The rotary inverse frequencies [RotaryDim / 2], computed in float32 exactly as transformers'
    /// _compute_default_rope_parameters / _compute_linear_scaling_rope_parameters / _compute_llama3_parameters do.
    /// </summary>
    public float[] InverseFrequencies()
    {
        int half = RotaryDim / 2;
        var inv = new float[half];
        for (int i = 0; i < half; i++)
        {
            // 1.0 / (base ** (arange(0, dim, 2).float() / dim)); torch's scalar / tensor is reciprocal(tensor) * scalar.
            float exponent = (float)(2 * i) / RotaryDim;
            inv[i] = 1f / MathF.Pow(RopeTheta, exponent);
        }
        switch (RopeScaling)
        {
            case RopeScalingKind.Linear:
                for (int i = 0; i < half; i++)
                {
                    inv[i] /= RopeFactor;
                }
                break;
            case RopeScalingKind.Llama3:
            {
                float oldContext = RopeOriginalMaxPositionEmbeddings;
                float lowWavelen = oldContext / RopeLowFreqFactor;
                float highWavelen = oldContext / RopeHighFreqFactor;
                float twoPi = (float)(2 * Math.PI);
                for (int i = 0; i < half; i++)
                {
                    float wavelen = 1f / inv[i] * twoPi;
                    float scaled = wavelen > lowWavelen ? inv[i] / RopeFactor : inv[i];
                    bool medium = !(wavelen < highWavelen) && !(wavelen > lowWavelen);
                    if (medium)
                    {
                        float smooth = (1f / wavelen * oldContext - RopeLowFreqFactor) / (RopeHighFreqFactor - RopeLowFreqFactor);
                        scaled = (1f - smooth) * scaled / RopeFactor + smooth * scaled;
                    }
                    inv[i] = scaled;
                }
                break;
            }
        }
        return inv;
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{ModelType}: hidden_size={HiddenSize}, intermediate_size={IntermediateSize}, num_hidden_layers={NumHiddenLayers}, num_attention_heads={NumAttentionHeads}, num_key_value_heads={NumKeyValueHeads}, head_dim={HeadDim}, vocab_size={VocabSize}");

    private static string Show(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
