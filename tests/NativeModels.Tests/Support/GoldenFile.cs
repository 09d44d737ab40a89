using System.Text.Json;

namespace NativeModels.Tests.Support;

/// <summary>
/// A golden.json of a model fixture folder (tests/fixtures/&lt;family&gt;/&lt;name&gt;): the input ids, the reference's
/// float32 logits of the positions from <see cref="FirstPosition"/> on ([positions × vocab], row-major), its greedy
/// continuation, and optionally the model type and the dtype the weights are stored in.
/// </summary>
public sealed record GoldenFile(string? ModelType, int[] InputIds, int FirstPosition, float[] Logits, int Vocab,
    int[] GreedyNewTokens, bool StoredBFloat16)
{
    public static GoldenFile Read(string directory)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "golden.json")));
        var root = json.RootElement;
        int[] ids = root.GetProperty("input_ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        int first = root.TryGetProperty("logits_first_position", out var f) ? f.GetInt32() : 0;
        var rows = root.GetProperty("logits").EnumerateArray().Select(r => r.EnumerateArray().Select(e => e.GetSingle()).ToArray()).ToArray();
        Assert.Equal(ids.Length - first, rows.Length);
        int[] greedy = root.GetProperty("greedy_new_tokens").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        string? modelType = root.TryGetProperty("model_type", out var m) ? m.GetString() : null;
        bool bf16 = root.TryGetProperty("stored_dtype", out var s) && s.GetString() == "bfloat16";
        return new GoldenFile(modelType, ids, first, rows.SelectMany(r => r).ToArray(), rows[0].Length, greedy, bf16);
    }

    /// <summary>The rows of <paramref name="allLogits"/> ([InputIds.Length × Vocab]) that the golden holds.</summary>
    public float[] Stored(float[] allLogits) => allLogits.AsSpan(FirstPosition * Vocab).ToArray();
}
