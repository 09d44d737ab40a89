using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NativeModels.Tests.IO;
using NativeModels.Tokenization;

namespace NativeModels.Tests.Tokenization;

/// <summary>
/// TextTokenizer against Hugging Face `tokenizers` for settings the three model layouts do not use but tokenizer.json
/// files may: the qwen fixture's vocabulary with another pre-tokenizer (GPT-2 ByteLevel, add_prefix_space, Split with
/// every behavior, inverted, string patterns, two Splits), ignore_merges, added tokens with lstrip / rstrip /
/// single_word / normalized and contents the ByteLevel decoder maps to bytes, and a template adding tokens on both
/// sides. tests/fixtures/tokenizer/variants/golden.json holds each variant's overrides and the reference's results.
/// </summary>
public sealed class HuggingFaceTokenizerVariantTests
{
    private sealed record Case(string Text, int[] Ids, int[] IdsWithSpecialTokens, string Decoded, string DecodedSkipSpecial);

    private sealed record DecodeCase(int[] Ids, string Decoded, string DecodedSkipSpecial);

    private sealed record Variant(string Name, JsonObject Overrides, List<Case> Cases, List<DecodeCase> DecodeCases);

    private static readonly Lazy<List<Variant>> s_variants = new(ReadVariants);
    private static readonly Dictionary<string, TextTokenizer> s_tokenizers = new();
    private static readonly TempDirectory s_directory = new();

    private static List<Variant> ReadVariants()
    {
        string path = Path.Combine(Path.GetDirectoryName(HuggingFaceTokenizerGoldenTests.FixtureDirectory("qwen"))!, "variants", "golden.json");
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        static int[] Ints(JsonElement e) => e.EnumerateArray().Select(x => x.GetInt32()).ToArray();
        static string Str(JsonElement e, string name) => HuggingFaceTokenizerGoldenTests.JsonText(e.GetProperty(name));
        return json.RootElement.GetProperty("variants").EnumerateArray().Select(v => new Variant(
            Str(v, "name"),
            JsonNode.Parse(v.GetProperty("overrides").GetRawText())!.AsObject(),
            v.GetProperty("cases").EnumerateArray().Select(c => new Case(Str(c, "text"), Ints(c.GetProperty("ids")),
                Ints(c.GetProperty("ids_with_special_tokens")), Str(c, "decoded"), Str(c, "decoded_skip_special"))).ToList(),
            v.GetProperty("decode_cases").EnumerateArray().Select(c => new DecodeCase(Ints(c.GetProperty("ids")),
                Str(c, "decoded"), Str(c, "decoded_skip_special"))).ToList())).ToList();
    }

    /// <summary>qwen/tokenizer.json with the variant's overrides, loaded from a folder of its own.</summary>
    private static TextTokenizer Tokenizer(Variant variant)
    {
        lock (s_tokenizers)
        {
            if (s_tokenizers.TryGetValue(variant.Name, out var cached))
            {
                return cached;
            }
            string basePath = Path.Combine(HuggingFaceTokenizerGoldenTests.FixtureDirectory("qwen"), TextTokenizer.FileName);
            var root = JsonNode.Parse(File.ReadAllBytes(basePath))!.AsObject();
            foreach (var (key, value) in variant.Overrides)
            {
                if (key == "model")
                {
                    foreach (var (modelKey, modelValue) in value!.AsObject())
                    {
                        root["model"]![modelKey] = modelValue?.DeepClone();
                    }
                }
                else
                {
                    root[key] = value?.DeepClone();
                }
            }
            string directory = Path.Combine(s_directory.Path, $"variant{s_tokenizers.Count}");
            Directory.CreateDirectory(directory);
            File.WriteAllText(Path.Combine(directory, TextTokenizer.FileName), root.ToJsonString(), Encoding.UTF8);
            var tokenizer = TextTokenizer.Load(directory);
            s_tokenizers[variant.Name] = tokenizer;
            return tokenizer;
        }
    }

    private static Variant Find(string name) => s_variants.Value.Single(v => v.Name == name);

    public static TheoryData<string> Variants()
    {
        var data = new TheoryData<string>();
        foreach (var variant in s_variants.Value)
        {
            data.Add(variant.Name);
        }
        return data;
    }

    private static string Ids(IEnumerable<int> ids) => "[" + string.Join(",", ids) + "]";

    [Theory]
    [MemberData(nameof(Variants))]
    public void EncodeAndDecodeGiveTheReferenceResults(string name)
    {
        var variant = Find(name);
        var tokenizer = Tokenizer(variant);
        var failures = new List<string>();
        foreach (var c in variant.Cases)
        {
            string shown = JsonSerializer.Serialize(c.Text);
            if (Ids(tokenizer.Encode(c.Text)) is var ids && ids != Ids(c.Ids))
            {
                failures.Add($"{shown}: {ids}, reference {Ids(c.Ids)}");
            }
            if (Ids(tokenizer.Encode(c.Text, addSpecialTokens: true)) is var withSpecial && withSpecial != Ids(c.IdsWithSpecialTokens))
            {
                failures.Add($"{shown} with special tokens: {withSpecial}, reference {Ids(c.IdsWithSpecialTokens)}");
            }
            if (tokenizer.Decode(c.IdsWithSpecialTokens) is var decoded && decoded != c.Decoded)
            {
                failures.Add($"{shown} decoded: {JsonSerializer.Serialize(decoded)}, reference {JsonSerializer.Serialize(c.Decoded)}");
            }
            if (tokenizer.Decode(c.IdsWithSpecialTokens, skipSpecialTokens: true) is var skipped && skipped != c.DecodedSkipSpecial)
            {
                failures.Add($"{shown} decoded skipping special tokens: {JsonSerializer.Serialize(skipped)}, reference {JsonSerializer.Serialize(c.DecodedSkipSpecial)}");
            }
        }
        foreach (var d in variant.DecodeCases)
        {
            if (tokenizer.Decode(d.Ids) is var decoded && decoded != d.Decoded)
            {
                failures.Add($"decode {Ids(d.Ids)}: {JsonSerializer.Serialize(decoded)}, reference {JsonSerializer.Serialize(d.Decoded)}");
            }
            if (tokenizer.Decode(d.Ids, skipSpecialTokens: true) is var skipped && skipped != d.DecodedSkipSpecial)
            {
                failures.Add($"decode {Ids(d.Ids)} skipping special tokens: {JsonSerializer.Serialize(skipped)}, reference {JsonSerializer.Serialize(d.DecodedSkipSpecial)}");
            }
        }
        Assert.True(failures.Count == 0, $"{name}: {failures.Count} differences\n" + string.Join("\n", failures));
    }

    [Fact]
    public void EveryVariantHasCases()
    {
        Assert.True(s_variants.Value.Count >= 10);
        Assert.All(s_variants.Value, v => Assert.True(v.Cases.Count >= 15, v.Name));
    }
}
