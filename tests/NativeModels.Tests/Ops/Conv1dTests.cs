using NativeModels.Tests.Support;

namespace NativeModels.Tests.Ops;

public class Conv1dTests : CpuTest
{
    private const int L = 5, D = 2, K = 3;
    private static readonly float[] X = [1, -1, 2, 0.5f, -3, 2, 4, 1, 0, -2];          // [1, L, D]
    private static readonly float[] W = [0.5f, -1, 2, 1, 0.25f, -0.5f];                // [D, K]
    private static readonly float[] Bias = [0.1f, -0.2f];

    // out[t, d] = bias[d] + sum_k W[d, k] * xin[t + k, d], xin = (K-1 zeros) then X.
    private static float[] Reference(bool silu)
    {
        var result = new float[L * D];
        for (int t = 0; t < L; t++)
        {
            for (int d = 0; d < D; d++)
            {
                float sum = Bias[d];
                for (int k = 0; k < K; k++)
                {
                    int time = t + k - (K - 1);
                    sum += time < 0 ? 0 : W[d * K + k] * X[time * D + d];
                }
                result[t * D + d] = silu ? sum / (1 + MathF.Exp(-sum)) : sum;
            }
        }
        return result;
    }

    [Theory]
    [InlineData(Activation.None)]
    [InlineData(Activation.Silu)]
    public void CausalConvolutionMatchesTheFormula(Activation activation)
    {
        using var x = F32(X, 1, L, D);
        using var w = F32(W, D, K);
        using var b = F32(Bias, D);
        using var y = NativeModels.Ops.Conv1dCausal(x, w, b, activation: activation);
        TestAssert.Close(Reference(activation == Activation.Silu), y.ToArray<float>());
    }

    [Fact]
    public void StepByStepUpdatesReproduceTheSequence()
    {
        using var x = F32(X, 1, L, D);
        using var w = F32(W, D, K);
        using var b = F32(Bias, D);
        using var finalState = Cpu.Zeros(DType.Float32, 1, D, K - 1);
        using var sequence = NativeModels.Ops.Conv1dCausal(x, w, b, finalState: finalState, activation: Activation.Silu);
        float[] expected = sequence.ToArray<float>();

        using var state = Cpu.Zeros(DType.Float32, 1, D, K - 1);
        using var step = Cpu.Zeros(DType.Float32, 1, D);
        for (int t = 0; t < L; t++)
        {
            step.CopyFrom(X.AsSpan(t * D, D));
            using var y = NativeModels.Ops.Conv1dUpdate(step, state, w, b, Activation.Silu);
            TestAssert.Close(expected.AsSpan(t * D, D), y.ToArray<float>());
        }
        TestAssert.Close(finalState.ToArray<float>(), state.ToArray<float>());
        // The state holds the last K-1 inputs per channel: [B, D, K-1].
        TestAssert.Close([X[3 * D], X[4 * D], X[3 * D + 1], X[4 * D + 1]], state.ToArray<float>());
    }

    [Fact]
    public void InitialStateContinuesASplitSequence()
    {
        using var w = F32(W, D, K);
        using var whole = F32(X, 1, L, D);
        using var expected = NativeModels.Ops.Conv1dCausal(whole, w);

        using var first = F32(X[..(2 * D)], 1, 2, D);
        using var second = F32(X[(2 * D)..], 1, L - 2, D);
        using var state = Cpu.Zeros(DType.Float32, 1, D, K - 1);
        using var y1 = NativeModels.Ops.Conv1dCausal(first, w, finalState: state);
        // initial_state and final_state may be the same tensor.
        using var y2 = NativeModels.Ops.Conv1dCausal(second, w, initialState: state, finalState: state);
        TestAssert.Close(expected.ToArray<float>(), [.. y1.ToArray<float>(), .. y2.ToArray<float>()]);
    }
}
