using NativeModels.Generation;
using NativeModels.IO;
using NativeModels.Models.Mamba;
using NativeModels.Models.Transformer;

namespace NativeModels.Models;

/// <summary>Loads a model directory (config.json + safetensors) with the architecture its model_type names.</summary>
public static class AutoModel
{
    /// <summary>The model_type values <see cref="Load"/> understands.</summary>
    public static IReadOnlyList<string> SupportedModelTypes { get; } = [MambaConfig.ModelTypeName, TransformerConfig.LlamaModelType, TransformerConfig.Qwen3ModelType];

    /// <summary>Reads config.json in <paramref name="modelDirectory"/>, picks the architecture from its model_type and
    /// loads the weights onto <paramref name="device"/> in <paramref name="dtype"/>.</summary>
    public static ICausalLanguageModel Load(string modelDirectory, Device device, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        ArgumentNullException.ThrowIfNull(device);
        var config = ModelConfig.Load(modelDirectory);
        string configPath = config.Path;
        string? modelType = config.ModelType.Length > 0 ? config.ModelType : null;
        // Original state-spaces/mamba-* checkpoints have no model_type; their config names d_model and ssm_cfg.
        if (modelType is null && config.Has("d_model") && config.Has("ssm_cfg"))
        {
            modelType = MambaConfig.ModelTypeName;
        }
        switch (modelType)
        {
            case MambaConfig.ModelTypeName:
            {
                var mambaConfig = MambaConfig.FromModelConfig(config);
                using var store = WeightStore.Open(modelDirectory);
                return MambaModel.Load(store, mambaConfig, device, dtype);
            }
            case TransformerConfig.LlamaModelType or TransformerConfig.Qwen3ModelType:
            {
                var transformerConfig = TransformerConfig.FromModelConfig(config);
                using var store = WeightStore.Open(modelDirectory);
                return TransformerModel.Load(store, transformerConfig, device, dtype);
            }
            default:
                throw new ModelFormatException(configPath, "model_type", modelType is null
                    ? $"{configPath}: no model_type; supported model types: {string.Join(", ", SupportedModelTypes)}"
                    : $"{configPath}: model_type \"{modelType}\" is not supported; supported model types: {string.Join(", ", SupportedModelTypes)}");
        }
    }
}
