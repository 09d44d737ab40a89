using System.Globalization;
using System.Text.Json;

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
        var root = config.Root;
        string? modelType = root.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String ? mt.GetString() : null;
        if (modelType is not null && modelType != ModelTypeName)
        {
            throw config.Invalid("model_type", $"model_type is \"{modelType}\", not \"{ModelTypeName}\"");
        }

        // Original state-spaces checkpoints spell hidden_size d_model and num_hidden_layers n_layer.
        int hidden = config.GetInt(KeyOrAlias(config, "hidden_size", "d_model"));
        int layers = config.GetInt(KeyOrAlias(config, "num_hidden_layers", "n_layer"));
        int vocab = config.GetInt("vocab_size");
        int state = config.GetInt("state_size", 16);
        int kernel = config.GetInt("conv_kernel", 4);
        if (kernel < 2)
        {
            throw config.Invalid("conv_kernel", $"conv_kernel must be >= 2, got {kernel}");
        }

        int intermediate;
        if (root.TryGetProperty("intermediate_size", out _))
        {
            intermediate = config.GetInt("intermediate_size");
        }
        else
        {
            double expand = config.GetDouble("expand", 2);
            intermediate = (int)(expand * hidden);
            if (intermediate <= 0)
            {
                throw config.Invalid("expand", $"expand {expand.ToString(CultureInfo.InvariantCulture)} gives intermediate_size {intermediate}");
            }
        }

        int rank;
        if (!config.Has("time_step_rank") ||
            (root.GetProperty("time_step_rank") is { ValueKind: JsonValueKind.String } r && r.GetString() == "auto"))
        {
            rank = (hidden + 15) / 16;
        }
        else if (root.GetProperty("time_step_rank").ValueKind == JsonValueKind.Number)
        {
            rank = config.GetInt("time_step_rank");
        }
        else
        {
            throw config.Invalid("time_step_rank",
                $"time_step_rank must be a positive integer or \"auto\", got {root.GetProperty("time_step_rank").GetRawText()}");
        }

        double eps = config.GetDouble("layer_norm_epsilon", 1e-5);
        if (!(eps > 0) || double.IsInfinity(eps))
        {
            throw config.Invalid("layer_norm_epsilon", $"layer_norm_epsilon must be > 0, got {eps.ToString(CultureInfo.InvariantCulture)}");
        }

        bool? useBias = config.GetOptionalBool("use_bias");
        bool? useConvBias = config.GetOptionalBool("use_conv_bias");
        bool tie = config.GetOptionalBool("tie_word_embeddings") ?? config.GetOptionalBool("tie_embeddings") ?? true;

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
            ResidualInFp32 = config.GetOptionalBool("residual_in_fp32") ?? true,
            TieWordEmbeddings = tie,
            PadTokenId = config.GetTokenId("pad_token_id"),
            BosTokenId = config.GetTokenId("bos_token_id"),
            EosTokenId = config.GetTokenId("eos_token_id"),
            SourcePath = config.Path,
        };
    }

    /// <summary>A short description of the dimensions, for messages.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"mamba: hidden_size={HiddenSize}, intermediate_size={IntermediateSize}, state_size={StateSize}, num_hidden_layers={NumHiddenLayers}, conv_kernel={ConvKernel}, time_step_rank={TimeStepRank}, vocab_size={VocabSize}");

    /// <summary><paramref name="key"/>, or <paramref name="alias"/> when only the alias is present (a missing key is reported
    /// under <paramref name="key"/>).</summary>
    private static string KeyOrAlias(ModelConfig config, string key, string alias) =>
        !config.Has(key) && config.Has(alias) ? alias : key;
}
