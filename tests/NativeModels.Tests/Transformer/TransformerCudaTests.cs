using NativeModels.Generation;
using NativeModels.Models.Transformer;
using NativeModels.Tests.Cuda;
using NativeModels.Tests.Mamba;

namespace NativeModels.Tests.Transformer;

/// <summary>The transformer on the CUDA backend against the reference (fp32) and the CPU (bf16, greedy batches).
/// Skipped where no GPU can be used.</summary>
public sealed class TransformerCudaTests : IDisposable
{
    private readonly Lazy<Device> _gpu = new(() => Device.Create("cuda"));

    public void Dispose()
    {
        if (_gpu.IsValueCreated)
        {
            _gpu.Value.Dispose();
        }
    }

    [CudaFact]
    public void Fp32LogitsMatchTheReferenceOnTheGpu()
    {
        foreach (string variant in new[] { "llama-gqa", "llama3-rope", "qwen3", "qwen3-sliding", "llama-head-dim-16" })
        {
            using var tiny = TinyTransformer.Create(TransformerForwardTests.Variants[variant]);
            using var model = TransformerModel.Load(tiny.Directory, _gpu.Value);
            MambaTestSupport.AssertClose(TransformerReference.Logits(tiny, TransformerForwardTests.Prompt),
                TransformerForwardTests.Forward(model, TransformerForwardTests.Prompt), 1e-4, variant);
        }
    }

    [CudaFact]
    public void Bf16GpuIsCloseToTheReferenceAndBatchesMatchSingles()
    {
        using var tiny = TinyTransformer.Create(TransformerForwardTests.Variants["qwen3"]);
        using var model = TransformerModel.Load(tiny.Directory, _gpu.Value, DType.BFloat16);
        double error = MambaTestSupport.MaxAbsError(TransformerReference.Logits(tiny, TransformerForwardTests.Prompt),
            TransformerForwardTests.Forward(model, TransformerForwardTests.Prompt));
        Assert.True(error < 0.15, $"bf16 max abs error {error}");

        using var fp32 = TransformerModel.Load(tiny.Directory, _gpu.Value);
        int[][] prompts = [[5, 6, 7, 8, 9], [1], [40, 41, 42]];
        var generator = new TextGenerator(fp32);
        var options = GenerationOptions.Greedy(8) with { StopTokenIds = [] };
        int[][] together = generator.Generate(prompts, options);
        for (int i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(TransformerReference.Greedy(tiny, prompts[i], 8), together[i]);
        }
    }
}
