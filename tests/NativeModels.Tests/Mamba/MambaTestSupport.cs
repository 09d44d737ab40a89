using NativeModels.Models.Mamba;

namespace NativeModels.Tests.Mamba;

internal static class MambaTestSupport
{
    public static readonly int[] Prompt = [3, 17, 42, 5, 9, 21, 0, 33, 8];

    /// <summary>Largest |expected - actual| over all elements.</summary>
    public static double MaxAbsError(double[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(expected[i] - actual[i]);
            Assert.False(double.IsNaN(actual[i]), $"element {i} is NaN");
            max = Math.Max(max, error);
        }
        return max;
    }

    public static double MaxAbsError(float[] expected, float[] actual) => MaxAbsError(Array.ConvertAll(expected, v => (double)v), actual);

    public static void AssertClose(double[] expected, float[] actual, double tolerance, string what)
    {
        double error = MaxAbsError(expected, actual);
        Assert.True(error <= tolerance, $"{what}: max abs error {error:G4} > {tolerance:G4}");
    }

    public static float[] ForwardLogits(MambaModel model, int[] tokens)
    {
        using var logits = model.Forward(tokens);
        Assert.Equal([tokens.Length, model.VocabSize], logits.Shape);
        return logits.ToArray<float>();
    }

    public static int ArgMax(ReadOnlySpan<float> row)
    {
        int best = 0;
        for (int i = 1; i < row.Length; i++)
        {
            if (row[i] > row[best])
            {
                best = i;
            }
        }
        return best;
    }
}
