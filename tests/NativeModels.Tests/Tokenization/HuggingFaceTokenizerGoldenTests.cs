using System.Text;
using System.Text.Json;
using NativeModels.Tokenization;

namespace NativeModels.Tests.Tokenization;

/// <summary>
/// TextTokenizer against Hugging Face `tokenizers` (the Rust library, through its Node bindings 0.23.2): byte-level
/// BPE tokenizers trained by the reference in the GPT-NeoX (Mamba), Llama 3 and Qwen2/3 layouts, with the ids and
/// texts the reference gives for ~35 awkward strings each (whitespace runs, contractions, digit runs, NFC, CJK, emoji
/// ZWJ sequences, astral letters, lone surrogates, special tokens inside the text, a long text) and for id sequences
/// no encoding produces (pieces of UTF-8 characters, every added token). Made by
/// tests/fixtures/tokenizer/make_goldens.mjs; see tests/fixtures/tokenizer/README.md.
/// </summary>
public class HuggingFaceTokenizerGoldenTests
{
    public static readonly string[] Layouts = ["gpt-neox", "llama3", "qwen"];

    public sealed record Case(string Name, string Text, int[] Ids, int[] IdsWithSpecialTokens, string Decoded, string DecodedSkipSpecial,
        string DecodedWithSpecialTokens, string DecodedWithSpecialTokensSkipSpecial);

    public sealed record DecodeCase(string Name, int[] Ids, string Decoded, string DecodedSkipSpecial);

    private static readonly Dictionary<string, (string Directory, List<Case> Cases, List<DecodeCase> DecodeCases)> s_fixtures = new();

    /// <summary>tests/fixtures/tokenizer/<paramref name="layout"/>: the copy next to the test assembly (the csproj
    /// copies the fixtures, so a published test folder has them), else found by walking up from it.</summary>
    public static string FixtureDirectory(string layout)
    {
        string copied = Path.Combine(AppContext.BaseDirectory, "fixtures", "tokenizer", layout);
        if (File.Exists(Path.Combine(copied, "golden.json")) && File.Exists(Path.Combine(copied, TextTokenizer.FileName)))
        {
            return copied;
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", "tokenizer", layout);
            if (File.Exists(Path.Combine(candidate, "golden.json")) && File.Exists(Path.Combine(candidate, TextTokenizer.FileName)))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException($"tests/fixtures/tokenizer/{layout} not found above {AppContext.BaseDirectory}");
    }

    private static (string Directory, List<Case> Cases, List<DecodeCase> DecodeCases) Fixture(string layout)
    {
        lock (s_fixtures)
        {
            if (s_fixtures.TryGetValue(layout, out var cached))
            {
                return cached;
            }
            string directory = FixtureDirectory(layout);
            using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(directory, "golden.json")));
            static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
            static string Str(JsonElement e, string name) => JsonText(e.GetProperty(name));
            var cases = json.RootElement.GetProperty("cases").EnumerateArray().Select(c => new Case(
                Str(c, "name"), Str(c, "text"), Ints(c.GetProperty("ids")), Ints(c.GetProperty("ids_with_special_tokens")),
                Str(c, "decoded"), Str(c, "decoded_skip_special"), Str(c, "decoded_with_special_tokens"),
                Str(c, "decoded_with_special_tokens_skip_special"))).ToList();
            var decodeCases = json.RootElement.GetProperty("decode_cases").EnumerateArray().Select(c => new DecodeCase(
                Str(c, "name"), Ints(c.GetProperty("ids")), Str(c, "decoded"), Str(c, "decoded_skip_special"))).ToList();
            var fixture = (directory, cases, decodeCases);
            s_fixtures[layout] = fixture;
            return fixture;
        }
    }

    /// <summary>A JSON string's value; System.Text.Json refuses escaped lone surrogates ("\ud800"), which the
    /// reference's inputs include, so those strings are unescaped here.</summary>
    public static string JsonText(JsonElement element)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            string raw = element.GetRawText();
            var text = new StringBuilder(raw.Length);
            for (int i = 1; i < raw.Length - 1; i++)
            {
                if (raw[i] != '\\')
                {
                    text.Append(raw[i]);
                    continue;
                }
                char kind = raw[++i];
                text.Append(kind switch
                {
                    'u' => (char)Convert.ToInt32(raw.Substring(i + 1, 4), 16),
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'b' => '\b',
                    'f' => '\f',
                    _ => kind,
                });
                if (kind == 'u')
                {
                    i += 4;
                }
            }
            return text.ToString();
        }
    }

    private static Case FindCase(string layout, string name) => Fixture(layout).Cases.Single(c => c.Name == name);

    private static readonly Dictionary<string, TextTokenizer> s_tokenizers = new();

    private static TextTokenizer Tokenizer(string layout)
    {
        lock (s_tokenizers)
        {
            if (!s_tokenizers.TryGetValue(layout, out var tokenizer))
            {
                tokenizer = TextTokenizer.Load(Fixture(layout).Directory);
                s_tokenizers[layout] = tokenizer;
            }
            return tokenizer;
        }
    }

    public static TheoryData<string, string> AllCases()
    {
        var data = new TheoryData<string, string>();
        foreach (string layout in Layouts)
        {
            foreach (var c in Fixture(layout).Cases)
            {
                data.Add(layout, c.Name);
            }
        }
        return data;
    }

    public static TheoryData<string, string> AllDecodeCases()
    {
        var data = new TheoryData<string, string>();
        foreach (string layout in Layouts)
        {
            foreach (var c in Fixture(layout).DecodeCases)
            {
                data.Add(layout, c.Name);
            }
        }
        return data;
    }

    private static string Ids(IEnumerable<int> ids) => "[" + string.Join(",", ids) + "]";

    [Theory]
    [MemberData(nameof(AllCases))]
    public void EncodeGivesTheReferenceIds(string layout, string name)
    {
        var c = FindCase(layout, name);
        var tokenizer = Tokenizer(layout);
        Assert.Equal(Ids(c.Ids), Ids(tokenizer.Encode(c.Text)));
        Assert.Equal(Ids(c.IdsWithSpecialTokens), Ids(tokenizer.Encode(c.Text, addSpecialTokens: true)));
    }

    [Theory]
    [MemberData(nameof(AllCases))]
    public void DecodeGivesTheReferenceText(string layout, string name)
    {
        var c = FindCase(layout, name);
        var tokenizer = Tokenizer(layout);
        Assert.Equal(c.Decoded, tokenizer.Decode(c.Ids));
        Assert.Equal(c.DecodedSkipSpecial, tokenizer.Decode(c.Ids, skipSpecialTokens: true));
        Assert.Equal(c.DecodedWithSpecialTokens, tokenizer.Decode(c.IdsWithSpecialTokens));
        Assert.Equal(c.DecodedWithSpecialTokensSkipSpecial, tokenizer.Decode(c.IdsWithSpecialTokens, skipSpecialTokens: true));
    }

    [Theory]
    [MemberData(nameof(AllDecodeCases))]
    public void DecodeOfUnusualIdSequencesGivesTheReferenceText(string layout, string name)
    {
        var c = Fixture(layout).DecodeCases.Single(d => d.Name == name);
        var tokenizer = Tokenizer(layout);
        Assert.Equal(c.Decoded, tokenizer.Decode(c.Ids));
        Assert.Equal(c.DecodedSkipSpecial, tokenizer.Decode(c.Ids, skipSpecialTokens: true));
        Assert.Equal(c.Decoded, Streamed(tokenizer, c.Ids, skipSpecialTokens: false));
        Assert.Equal(c.DecodedSkipSpecial, Streamed(tokenizer, c.Ids, skipSpecialTokens: true));
    }

    /// <summary>StreamingDetokenizer's contract: the concatenation of every Append and the final Flush is Decode of all
    /// the ids — here, the reference's decode.</summary>
    [Theory]
    [MemberData(nameof(AllCases))]
    public void StreamingDecodeAddsUpToTheReferenceText(string layout, string name)
    {
        var c = FindCase(layout, name);
        var tokenizer = Tokenizer(layout);
        Assert.Equal(c.DecodedWithSpecialTokens, Streamed(tokenizer, c.IdsWithSpecialTokens, skipSpecialTokens: false));
        Assert.Equal(c.DecodedWithSpecialTokensSkipSpecial, Streamed(tokenizer, c.IdsWithSpecialTokens, skipSpecialTokens: true));
    }

    private static string Streamed(TextTokenizer tokenizer, int[] ids, bool skipSpecialTokens)
    {
        var stream = tokenizer.CreateStreamingDetokenizer(skipSpecialTokens);
        var text = new StringBuilder();
        foreach (int id in ids)
        {
            text.Append(stream.Append(id));
        }
        text.Append(stream.Flush());
        Assert.Equal(text.ToString(), stream.Text);
        return text.ToString();
    }

    [Fact]
    public void EveryLayoutHasItsCases()
    {
        foreach (string layout in Layouts)
        {
            var (_, cases, decodeCases) = Fixture(layout);
            Assert.True(cases.Count >= 30, $"{layout}: {cases.Count} cases");
            Assert.True(decodeCases.Count >= 5, $"{layout}: {decodeCases.Count} decode cases");
            Assert.Equal(cases.Count, cases.Select(c => c.Name).Distinct().Count());
        }
    }

    [Fact]
    public void TheLlama3LayoutPutsBeginOfTextFirst()
    {
        var tokenizer = Tokenizer("llama3");
        var empty = FindCase("llama3", "empty");
        Assert.Empty(empty.Ids);
        int bos = Assert.Single(empty.IdsWithSpecialTokens);
        Assert.Equal("<|begin_of_text|>", tokenizer.IdToToken(bos));
        Assert.True(tokenizer.IsSpecialToken(bos));
    }
}
