using System.Text.Json;
using NativeModels.Tokenization;

namespace NativeModels.Tests.Tokenization;

/// <summary>
/// TextTokenizer against Hugging Face `tokenizers` on a real model's tokenizer.json that is not in the repository:
/// set NATIVEMODELS_TOKENIZER_AGREEMENT to a folder holding tokenizer.json and the agreement.json written for it by
/// tests/fixtures/tokenizer/reference_ids.mjs. Skipped when the variable is not set.
/// </summary>
public class RealTokenizerAgreementTests
{
    private const string Variable = "NATIVEMODELS_TOKENIZER_AGREEMENT";

    public sealed class AgreementFactAttribute : FactAttribute
    {
        public AgreementFactAttribute()
        {
            if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
            {
                Skip = $"set {Variable} to a folder with tokenizer.json and agreement.json (see reference_ids.mjs)";
            }
        }
    }

    [AgreementFact]
    public void EncodeAndDecodeAgreeWithTheReference()
    {
        string directory = Environment.GetEnvironmentVariable(Variable)!;
        var tokenizer = TextTokenizer.Load(directory);
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "agreement.json")));
        var failures = new List<string>();
        int count = 0;
        foreach (var c in json.RootElement.EnumerateArray())
        {
            count++;
            string text = c.GetProperty("text").GetString()!;
            int[] expected = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int[] ids = tokenizer.Encode(text);
            if (!ids.SequenceEqual(expected))
            {
                int at = 0;
                while (at < Math.Min(ids.Length, expected.Length) && ids[at] == expected[at])
                {
                    at++;
                }
                failures.Add($"{JsonSerializer.Serialize(text.Length > 80 ? text[..80] : text)}: first difference at token {at}");
            }
            if (tokenizer.Decode(expected) != c.GetProperty("decoded").GetString())
            {
                failures.Add($"{JsonSerializer.Serialize(text.Length > 80 ? text[..80] : text)}: decode differs");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {count} texts differ:\n" + string.Join("\n", failures.Take(40)));
    }
}
