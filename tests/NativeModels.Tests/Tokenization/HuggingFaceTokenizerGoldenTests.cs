using System.Text;
using System.Text.Json;
using NativeModels.Tokenization;

namespace NativeModels.Tests.Tokenization;

/// <summary>
/// TextTokenizer against Hugging Face `tokenizers` (the Rust library, through its Node bindings): tokenizer.json
/// files in the GPT-NeoX (Mamba), Llama 3 and Qwen2/3 layouts with the ids and texts the reference library gives for
/// ~30 awkward strings (whitespace runs, contractions, digit runs, NFC, CJK, emoji ZWJ sequences, special tokens in
/// the text, a long text). Made by tests/fixtures/tokenizer/make_goldens.mjs.
/// </summary>
public class HuggingFaceTokenizerGoldenTests
{
    private sealed record Case(string Text, int[] Ids, int[] IdsWithSpecialTokens, string Decoded, string DecodedSkipSpecial);

    public static TheoryData<string> Layouts => new() { "gpt-neox", "llama3", "qwen" };

    private static string Directory(string layout)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", "tokenizer", layout);
            if (File.Exists(Path.Combine(candidate, "golden.json")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException($"tests/fixtures/tokenizer/{layout} not found above {AppContext.BaseDirectory}");
    }

    private static List<Case> Cases(string directory)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "golden.json")));
        static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
        return json.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Case(
            c.GetProperty("text").GetString()!, Ints(c.GetProperty("ids")), Ints(c.GetProperty("ids_with_special_tokens")),
            c.GetProperty("decoded").GetString()!, c.GetProperty("decoded_skip_special").GetString()!)).ToList();
    }

    private static string Show(string text) => JsonSerializer.Serialize(text.Length > 60 ? text[..60] + "…" : text);

    [Theory]
    [MemberData(nameof(Layouts))]
    public void EncodeGivesTheReferenceIds(string layout)
    {
        string directory = Directory(layout);
        var tokenizer = TextTokenizer.Load(directory);
        var failures = new List<string>();
        foreach (var c in Cases(directory))
        {
            int[] plain = tokenizer.Encode(c.Text);
            if (!plain.SequenceEqual(c.Ids))
            {
                failures.Add($"{Show(c.Text)}: [{string.Join(",", plain)}], reference [{string.Join(",", c.Ids)}]");
            }
            int[] special = tokenizer.Encode(c.Text, addSpecialTokens: true);
            if (!special.SequenceEqual(c.IdsWithSpecialTokens))
            {
                failures.Add($"{Show(c.Text)} with special tokens: [{string.Join(",", special)}], reference [{string.Join(",", c.IdsWithSpecialTokens)}]");
            }
        }
        Assert.True(failures.Count == 0, $"{layout}: {failures.Count} mismatches\n" + string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void DecodeGivesTheReferenceText(string layout)
    {
        string directory = Directory(layout);
        var tokenizer = TextTokenizer.Load(directory);
        var failures = new List<string>();
        foreach (var c in Cases(directory))
        {
            string decoded = tokenizer.Decode(c.IdsWithSpecialTokens);
            if (decoded != c.Decoded)
            {
                failures.Add($"{Show(c.Text)}: {Show(decoded)}, reference {Show(c.Decoded)}");
            }
            string skipped = tokenizer.Decode(c.IdsWithSpecialTokens, skipSpecialTokens: true);
            if (skipped != c.DecodedSkipSpecial)
            {
                failures.Add($"{Show(c.Text)} skipping special tokens: {Show(skipped)}, reference {Show(c.DecodedSkipSpecial)}");
            }
        }
        Assert.True(failures.Count == 0, $"{layout}: {failures.Count} mismatches\n" + string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void StreamingDecodeAddsUpToTheReferenceText(string layout)
    {
        string directory = Directory(layout);
        var tokenizer = TextTokenizer.Load(directory);
        foreach (var c in Cases(directory))
        {
            foreach (bool skip in new[] { false, true })
            {
                var stream = tokenizer.CreateStreamingDetokenizer(skip);
                var text = new StringBuilder();
                foreach (int id in c.IdsWithSpecialTokens)
                {
                    text.Append(stream.Append(id));
                }
                text.Append(stream.Flush());
                Assert.Equal(skip ? c.DecodedSkipSpecial : c.Decoded, text.ToString());
            }
        }
    }
}
