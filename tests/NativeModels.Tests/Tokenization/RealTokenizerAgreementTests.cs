using System.Text.Json;
using NativeModels.Tokenization;
using Xunit.Abstractions;

namespace NativeModels.Tests.Tokenization;

/// <summary>
/// TextTokenizer against Hugging Face `tokenizers` on a real model's tokenizer.json that is not in the repository:
/// set NATIVEMODELS_TOKENIZER_AGREEMENT to a folder holding tokenizer.json and the agreement.json written for it by
/// tests/fixtures/tokenizer/reference_ids.mjs (several folders separated by ':'). Skipped when the variable is not set.
/// </summary>
public class RealTokenizerAgreementTests(ITestOutputHelper output)
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
        var failures = new List<string>();
        foreach (string directory in Environment.GetEnvironmentVariable(Variable)!.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var tokenizer = TextTokenizer.Load(directory);
            using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "agreement.json")));
            int texts = 0, tokens = 0, differing = 0;
            foreach (var c in json.RootElement.EnumerateArray())
            {
                texts++;
                string text = HuggingFaceTokenizerGoldenTests.JsonText(c.GetProperty("text"));
                int[] expected = c.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
                tokens += expected.Length;
                var problems = new List<string>();
                int[] ids = tokenizer.Encode(text);
                if (!ids.SequenceEqual(expected))
                {
                    int at = 0;
                    while (at < Math.Min(ids.Length, expected.Length) && ids[at] == expected[at])
                    {
                        at++;
                    }
                    problems.Add($"ids differ from token {at}: ours [{string.Join(",", ids.Skip(at).Take(6))}], reference [{string.Join(",", expected.Skip(at).Take(6))}]");
                }
                if (c.TryGetProperty("ids_with_special_tokens", out var withSpecialElement))
                {
                    int[] withSpecial = withSpecialElement.EnumerateArray().Select(e => e.GetInt32()).ToArray();
                    if (!tokenizer.Encode(text, addSpecialTokens: true).SequenceEqual(withSpecial))
                    {
                        problems.Add("ids with special tokens differ");
                    }
                    if (tokenizer.Decode(withSpecial) != HuggingFaceTokenizerGoldenTests.JsonText(c.GetProperty("decoded")))
                    {
                        problems.Add("decode differs");
                    }
                    if (tokenizer.Decode(withSpecial, skipSpecialTokens: true) != HuggingFaceTokenizerGoldenTests.JsonText(c.GetProperty("decoded_skip_special")))
                    {
                        problems.Add("decode skipping special tokens differs");
                    }
                }
                else if (tokenizer.Decode(expected) != HuggingFaceTokenizerGoldenTests.JsonText(c.GetProperty("decoded")))
                {
                    problems.Add("decode differs");
                }
                if (problems.Count > 0)
                {
                    differing++;
                    failures.Add($"{directory}: {JsonSerializer.Serialize(text.Length > 80 ? text[..80] : text)}: {string.Join("; ", problems)}");
                }
            }
            output.WriteLine($"{directory}: {texts} texts, {tokens} tokens, {differing} differing");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} texts differ:\n" + string.Join("\n", failures.Take(40)));
    }
}
