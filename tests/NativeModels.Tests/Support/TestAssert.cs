namespace NativeModels.Tests.Support;

/// <summary>Float comparisons with a tolerance and a message that shows the arrays.</summary>
public static class TestAssert
{
    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance = 1e-5f)
    {
        Assert.True(expected.Length == actual.Length, $"length: expected {expected.Length}, got {actual.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            float scale = Math.Max(1f, Math.Abs(expected[i]));
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance * scale))
            {
                Assert.Fail($"element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tolerance})\n" +
                    $"expected: [{string.Join(", ", expected.ToArray())}]\nactual:   [{string.Join(", ", actual.ToArray())}]");
            }
        }
    }
}
