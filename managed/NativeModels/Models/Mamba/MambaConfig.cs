using System.Globalization;
using System.Text.Json;
using NativeModels.IO;

namespace NativeModels.Models.Mamba;

/// <summary>
/// The architecture of a Mamba-1 model, as Hugging Face's MambaConfig writes it to config.json (model_type "mamba").
/// Keys of the original state-spaces checkpoints (d_model, n_layer, tie_embeddings) are accepted as fallbacks.
/// </summary>
public sealed record MambaConfig
{
    /// <summary>The model_type this architecture reads.</summary>
    public const string ModelTypeName = "mamba";

    public int VocabSize { get; init; }

    /// <summary>H: width of the residual stream.</summary>
    public int HiddenSize { get; init; }

    /// <summary>I = D_inner: channels of the mixer (expand * H by default).</summary>
    public int IntermediateSize { get; init; }

    /// <summary>N: state size per channel.</summary>
    public int StateSize { get; init; }

    public int NumHiddenLayers { get; init; }

    /// <summary>K: width of the depthwise causal convolution.</summary>
    public int ConvKernel { get; init; }

    /// <summary>R: rank of the dt projection ("auto" = ceil(H / 16)).</summary>
    public int TimeStepRank { get; init; }

    /// <summary>Biases on in_proj and out_proj.</summary>
    public bool UseBias { get; init; }

    /// <summary>Bias on the convolution.</summary>
    public bool UseConvBias { get; init; } = true;

    public float LayerNormEpsilon { get; init; } = 1e-5f;

    /// <summary>Keep the residual stream in float32 whatever the compute dtype.</summary>
    public bool ResidualInFp32 { get; init; } = true;

    /// <summary>The LM head is the embedding matrix.</summary>
    public bool TieWordEmbeddings { get; init; } = true;

    public int? PadTokenId { get; init; }

    public int? BosTokenId { get; init; }

    public int? EosTokenId { get; init; }

    /// <summary>Whether config.json stated use_bias / use_conv_bias (otherwise the checkpoint decides at load).</summary>
    internal bool UseBiasGiven { get; init; }

    internal bool UseConvBiasGiven { get; init; }

    /// <summary>Where the config came from, for error messages.</summary>
    public string SourcePath { get; init; } = "config.json";

    /// <summary>Reads <paramref name="modelDirectory"/>/config.json.</summary>
    public static MambaConfig Load(string modelDirectory) => FromModelConfig(ModelConfig.Load(modelDirectory));

    /// <summary>Reads and validates the Mamba keys of a parsed config.json.</summary>
    public static MambaConfig FromModelConfig(ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        string sourcePath = config.Path;
        var root = config.Root;
        string? modelType = root.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
        if (modelType is not null && modelType != ModelTypeName)
        {
            throw Error(sourcePath, "model_type", $"model_type is \"{modelType}\", not \"{ModelTypeName}\"");
        }

        int hidden = Positive(sourcePath, root, "hidden_size", "d_model", null);
        int layers = Positive(sourcePath, root, "num_hidden_layers", "n_layer", null);
        int vocab = Positive(sourcePath, root, "vocab_size", null, null);
        int state = Positive(sourcePath, root, "state_size", null, 16);
        int kernel = Positive(sourcePath, root, "conv_kernel", null, 4);
        if (kernel < 2)
        {
            throw Error(sourcePath, "conv_kernel", $"conv_kernel must be >= 2, got {kernel}");
        }

        int intermediate;
        if (root.TryGetProperty("intermediate_size", out _))
        {
            intermediate = Positive(sourcePath, root, "intermediate_size", null, null);
        }
        else
        {
            double expand = Number(sourcePath, root, "expand", 2);
            intermediate = (int)(expand * hidden);
            if (intermediate <= 0)
            {
                throw Error(sourcePath, "expand", $"expand {expand.ToString(CultureInfo.InvariantCulture)} gives intermediate_size {intermediate}");
            }
        }

        int rank;
        if (!root.TryGetProperty("time_step_rank", out var r) || r.ValueKind == JsonValueKind.Null ||
            (r.ValueKind == JsonValueKind.String && r.GetString() == "auto"))
        {
            rank = (hidden + 15) / 16;
        }
        else
        {
            rank = Positive(sourcePath, root, "time_step_rank", null, null, "a positive integer or \"auto\"");
        }

        double eps = Number(sourcePath, root, "layer_norm_epsilon", 1e-5);
        if (!(eps > 0) || double.IsInfinity(eps))
        {
            throw Error(sourcePath, "layer_norm_epsilon", $"layer_norm_epsilon must be > 0, got {eps.ToString(CultureInfo.InvariantCulture)}");
        }

        bool? useBias = OptionalBool(sourcePath, root, "use_bias");
        bool? useConvBias = OptionalBool(sourcePath, root, "use_conv_bias");
        bool tie = OptionalBool(sourcePath, root, "tie_word_embeddings") ?? OptionalBool(sourcePath, root, "tie_embeddings") ?? true;

        return new MambaConfig
        {
            VocabSize = vocab,
            HiddenSize = hidden,
            IntermediateSize = intermediate,
            StateSize = state,
            NumHiddenLayers = layers,
            ConvKernel = kernel,
            TimeStepRank = rank,
            UseBias = useBias ?? false,
            UseBiasGiven = useBias.HasValue,
            UseConvBias = useConvBias ?? true,
            UseConvBiasGiven = useConvBias.HasValue,
            LayerNormEpsilon = (float)eps,
            ResidualInFp32 = OptionalBool(sourcePath, root, "residual_in_fp32") ?? true,
            TieWordEmbeddings = tie,
            PadTokenId = TokenId(sourcePath, root, "pad_token_id"),
            BosTokenId = TokenId(sourcePath, root, "bos_token_id"),
            EosTokenId = TokenId(sourcePath, root, "eos_token_id"),
            SourcePath = sourcePath,
        };
    }

    /// <summary>A short description of the dimensions, for messages.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"mamba: hidden_size={HiddenSize}, intermediate_size={IntermediateSize}, state_size={StateSize}, num_hidden_layers={NumHiddenLayers}, conv_kernel={ConvKernel}, time_step_rank={TimeStepRank}, vocab_size={VocabSize}");

    private static ModelFormatException Error(string path, string key, string message) =>
        new(path, key, $"{path}: {message}");

    private static int Positive(string path, JsonElement root, string key, string? alias, int? fallback, string expected = "a positive integer")
    {
        string used = key;
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (alias is not null && root.TryGetProperty(alias, out value) && value.ValueKind != JsonValueKind.Null)
            {
                used = alias;
            }
            else if (fallback is int f)
            {
                return f;
            }
            else
            {
                throw Error(path, key, $"missing key \"{key}\" ({expected})");
            }
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int result) || result <= 0)
        {
            throw Error(path, used, $"\"{used}\" must be {expected}, got {value.GetRawText()}");
        }
        return result;
    }

    private static double Number(string path, JsonElement root, string key, double fallback)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double result))
        {
            throw Error(path, key, $"\"{key}\" must be a number, got {value.GetRawText()}");
        }
        return result;
    }

    private static bool? OptionalBool(string path, JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(path, key, $"\"{key}\" must be true or false, got {value.GetRawText()}"),
        };
    }

    private static int? TokenId(string path, JsonElement root, string key)
    {
        if (!root.TryGetProperty(key, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        // Some configs list several ids (e.g. several EOS tokens): the first one is the id.
        if (value.ValueKind == JsonValueKind.Array)
        {
            if (value.GetArrayLength() == 0)
            {
                return null;
            }
            value = value[0];
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int id) || id < 0)
        {
            throw Error(path, key, $"\"{key}\" must be a token id (an integer >= 0), got {value.GetRawText()}");
        }
        return id;
    }
}
