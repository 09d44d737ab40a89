using System.Text.Json.Nodes;
using NativeModels.Tests.IO;
using NativeModels.Tokenization;
using static NativeModels.Tests.Tokenization.TokenizerFixture;

namespace NativeModels.Tests.Tokenization;

/// <summary>
/// What TextTokenizer does not implement must fail when loading, with a <see cref="NotSupportedException"/> naming
/// it, rather than give ids that differ from Hugging Face tokenizers'. And what it does implement loads.
/// </summary>
public sealed class TokenizerSupportTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>The hand-built fixture with one top-level key (or model key) replaced.</summary>
    private void WriteWith(string key, string? json, bool inModel = false)
    {
        Write(_dir);
        string path = _dir.File("tokenizer.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        var target = inModel ? root["model"]!.AsObject() : root;
        target[key] = json is null ? null : JsonNode.Parse(json);
        File.WriteAllText(path, root.ToJsonString());
    }

    private NotSupportedException Refused(string mentions)
    {
        var e = Assert.Throws<NotSupportedException>(() => TextTokenizer.Load(_dir.Path));
        Assert.Contains(mentions, e.Message);
        Assert.Contains(_dir.File("tokenizer.json"), e.Message);
        return e;
    }

    private static string Split(string pattern, string behavior = "Isolated") =>
        $$"""{"type": "Split", "pattern": {"Regex": {{System.Text.Json.JsonSerializer.Serialize(pattern)}}}, "behavior": "{{behavior}}", "invert": false}""";

    private const string ByteLevelLast = """{"type": "ByteLevel", "add_prefix_space": false, "use_regex": false}""";

    [Theory]
    [InlineData("""{"type": "Digits", "individual_digits": true}""", "'Digits'")]
    [InlineData("""{"type": "Whitespace"}""", "'Whitespace'")]
    [InlineData("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}""", "'Metaspace'")]
    [InlineData("""{"type": "Punctuation", "behavior": "Isolated"}""", "'Punctuation'")]
    [InlineData("""{"type": "BertPreTokenizer"}""", "'BertPreTokenizer'")]
    public void OtherPreTokenizersAreRefused(string preTokenizer, string named)
    {
        WriteWith("pre_tokenizer", $$"""{"type": "Sequence", "pretokenizers": [{{preTokenizer}}, {{ByteLevelLast}}]}""");
        Refused(named);
    }

    [Fact]
    public void ByteLevelMustBeTheLastPreTokenizer()
    {
        WriteWith("pre_tokenizer", $$"""{"type": "Sequence", "pretokenizers": [{{ByteLevelLast}}, {{Split("\\s+")}}]}""");
        Refused("not the last");
        WriteWith("pre_tokenizer", Split("\\s+"));
        Refused("does not end with ByteLevel");
        WriteWith("pre_tokenizer", null);
        Refused("without a pre_tokenizer");
    }

    [Fact]
    public void UnknownSplitBehaviorIsRefused()
    {
        WriteWith("pre_tokenizer", $$"""{"type": "Sequence", "pretokenizers": [{{Split("a", "Sideways")}}, {{ByteLevelLast}}]}""");
        Refused("'Sideways'");
    }

    [Theory]
    [InlineData(@"\p{L}++|\s+", "cannot be used by .NET")]            // possessive quantifier
    [InlineData(@"[a-z&&[^aeiou]]+", "intersection")]                  // class intersection
    [InlineData(@"[xy[a]]", "nests character classes")]
    [InlineData(@"[[:alpha:]]+", "POSIX")]
    [InlineData(@"\bword\b", @"\b")]
    [InlineData(@"[\W]", @"\W")]
    [InlineData(@"\p{Han}+", "cannot be used by .NET")]                 // script names
    [InlineData(@"\x{1F600}", "outside the BMP")]
    public void SplitPatternsWithoutAFaithfulDotNetSpellingAreRefused(string pattern, string mentions)
    {
        WriteWith("pre_tokenizer", $$"""{"type": "Sequence", "pretokenizers": [{{Split(pattern)}}, {{ByteLevelLast}}]}""");
        Refused(mentions);
    }

    [Theory]
    [InlineData("""{"type": "NFKC"}""", "'NFKC'")]
    [InlineData("""{"type": "Lowercase"}""", "'Lowercase'")]
    [InlineData("""{"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Strip", "left": true, "right": true}]}""", "'Strip'")]
    public void OtherNormalizersAreRefused(string normalizer, string named)
    {
        WriteWith("normalizer", normalizer);
        Refused(named);
    }

    [Theory]
    [InlineData(null, "without a decoder")]
    [InlineData("""{"type": "WordPiece", "prefix": "##", "cleanup": true}""", "'WordPiece'")]
    [InlineData("""{"type": "Sequence", "decoders": [{"type": "ByteLevel"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}""", "'Sequence'")]
    public void DecodersOtherThanByteLevelAreRefused(string? decoder, string mentions)
    {
        WriteWith("decoder", decoder);
        Refused(mentions);
    }

    [Theory]
    [InlineData("""{"type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0], "trim_offsets": true, "add_prefix_space": false}""", "'RobertaProcessing'")]
    [InlineData("""{"type": "BertProcessing", "sep": ["[SEP]", 102], "cls": ["[CLS]", 101]}""", "'BertProcessing'")]
    public void OtherPostProcessorsAreRefused(string postProcessor, string named)
    {
        WriteWith("post_processor", postProcessor);
        Refused(named);
    }

    [Fact]
    public void DropoutIsRefused()
    {
        WriteWith("dropout", "0.1", inModel: true);
        Refused("dropout");
        WriteWith("dropout", "0.0", inModel: true);
        Assert.Equal([Hello], TextTokenizer.Load(_dir.Path).Encode("hello"));
    }

    [Fact]
    public void ByteFallbackIsRefusedOnlyWhenSomeByteTokenIsMissing()
    {
        WriteWith("byte_fallback", "true", inModel: true);
        Assert.Equal([Hello], TextTokenizer.Load(_dir.Path).Encode("hello")); // all 256 byte tokens: never used

        string path = _dir.File("tokenizer.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root["model"]!["vocab"]!.AsObject().Remove(ByteChar(0xFF).ToString());
        File.WriteAllText(path, root.ToJsonString());
        Refused("byte_fallback");
    }

    [Fact]
    public void WhatIsImplementedLoads()
    {
        // Decoder as a one-step Sequence, Split with every behavior and invert, ByteLevel with its regex last,
        // NFC in a Sequence, a ByteLevel + TemplateProcessing post-processor.
        Write(_dir, normalizer: """{"type": "Sequence", "normalizers": [{"type": "NFC"}]}""",
            preTokenizer: $$"""
                {"type": "Sequence", "pretokenizers": [
                  {{Split(@"\d+", "Contiguous")}}, {{Split(@"x", "Removed")}}, {{Split(@"\w+", "MergedWithPrevious")}},
                  {{Split(@"^\s+", "MergedWithNext")}},
                  {"type": "Split", "pattern": {"String": "-"}, "behavior": "Isolated", "invert": true},
                  {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}]}
                """,
            postProcessor: """
                {"type": "Sequence", "processors": [{"type": "ByteLevel", "trim_offsets": false},
                  {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
                   "pair": [], "special_tokens": {"<|endoftext|>": {"id": "<|endoftext|>", "ids": [263], "tokens": ["<|endoftext|>"]}}}]}
                """);
        string path = _dir.File("tokenizer.json");
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        root["decoder"] = JsonNode.Parse("""{"type": "Sequence", "decoders": [{"type": "ByteLevel"}]}""");
        File.WriteAllText(path, root.ToJsonString());
        var tokenizer = TextTokenizer.Load(_dir.Path);
        Assert.Equal([Hello, EndOfText], tokenizer.Encode("hello", addSpecialTokens: true));
        Assert.Equal("hello", tokenizer.Decode([Hello]));
    }
}
