using System.Text;
using NativeModels.IO;
using NativeModels.Tests.IO;
using NativeModels.Tokenization;
using static NativeModels.Tests.Tokenization.TokenizerFixture;

namespace NativeModels.Tests.Tokenization;

public class TextTokenizerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    private TextTokenizer Load(bool? arrayMerges = null)
    {
        Write(_dir, arrayMerges);
        return TextTokenizer.Load(_dir.Path);
    }

    public static TheoryData<string, int[]> KnownEncodings() => new()
    {
        { "hello", [Hello] },
        { " the", [GThe] },
        { "hello the", [Hello, GThe] },
        { "the", ['t', He] },
        { " hello", [' ', Hello] },                    // no merge "Ġ h": the space stays a byte token
        { "hell", [Hell] },
        { "a  b", ['a', ' ', ' ', 'b'] },              // "\s+(?!\S)" leaves the last space to the word
        { "x\n", ['x', '\n'] },
        { "é", [EAcute] },                             // two bytes merged
        { "café", ['c', 'a', 'f', EAcute] },
        { "日本", [0xE6, 0x97, 0xA5, 0xE6, 0x9C, 0xAC] }, // three-byte characters, no merges
        { "🙂", [0xF0, 0x9F, 0x99, 0x82] },            // four bytes (a surrogate pair in .NET)
        { "it's", ['i', 't', '\'', 's'] },
        { "42!", ['4', '2', '!'] },
        { "", [] },
    };

    [Theory]
    [MemberData(nameof(KnownEncodings))]
    public void EncodesToKnownIds(string text, int[] expected)
    {
        var tokenizer = Load();
        Assert.Equal(expected, tokenizer.Encode(text));
        Assert.Equal(text, tokenizer.Decode(expected));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StringAndArrayMergesGiveTheSameIds(bool arrayMerges)
    {
        var tokenizer = Load(arrayMerges);
        Assert.Equal([Hello, GThe, ' ', EAcute], tokenizer.Encode("hello the é"));
    }

    [Fact]
    public void SpecialAndAddedTokensAreMatchedWhole()
    {
        var tokenizer = Load();
        Assert.Equal([Hello, EndOfText, GThe], tokenizer.Encode("hello<|endoftext|> the"));
        Assert.Equal([EndOfText, Pad], tokenizer.Encode("<|endoftext|><pad>"));
        Assert.Equal(['a', Marker, 'b'], tokenizer.Encode("a[M]b"));
        Assert.Equal("hello<|endoftext|> the", tokenizer.Decode([Hello, EndOfText, GThe]));
        Assert.Equal("hello the", tokenizer.Decode([Hello, EndOfText, GThe], skipSpecialTokens: true));
        Assert.Equal("a[M]b", tokenizer.Decode(['a', Marker, 'b'], skipSpecialTokens: true)); // not special: kept
        Assert.True(tokenizer.IsSpecialToken(EndOfText));
        Assert.False(tokenizer.IsSpecialToken(Marker));
    }

    [Fact]
    public void BosAndEosComeFromTheTokenizerConfig()
    {
        var tokenizer = Load();
        Assert.Equal(EndOfText, tokenizer.BosTokenId);
        Assert.Equal(EndOfText, tokenizer.EosTokenId);
        // GPT-NeoX's ByteLevel post-processor adds nothing.
        Assert.Equal([Hello], tokenizer.Encode("hello", addSpecialTokens: true));
        Assert.Equal(266, tokenizer.VocabularySize);
    }

    [Fact]
    public void SpecialTokensMapIsTheFallback()
    {
        Write(_dir, withConfig: false);
        Assert.Null(TextTokenizer.Load(_dir.Path).BosTokenId);
        _dir.WriteText("special_tokens_map.json", "{\"bos_token\": \"<pad>\", \"eos_token\": \"<|endoftext|>\"}");
        var tokenizer = TextTokenizer.Load(_dir.Path);
        Assert.Equal(Pad, tokenizer.BosTokenId);
        Assert.Equal(EndOfText, tokenizer.EosTokenId);
    }

    [Fact]
    public void TemplatePostProcessorAddsBosAndEos()
    {
        Write(_dir, postProcessor: """
            {"type": "TemplateProcessing",
             "single": [{"SpecialToken": {"id": "<pad>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<|endoftext|>", "type_id": 0}}],
             "pair": [],
             "special_tokens": {"<pad>": {"id": "<pad>", "ids": [264], "tokens": ["<pad>"]}}}
            """);
        var tokenizer = TextTokenizer.Load(_dir.Path);
        Assert.Equal([Pad, Hello, EndOfText], tokenizer.Encode("hello", addSpecialTokens: true));
        Assert.Equal([Hello], tokenizer.Encode("hello"));
    }

    [Fact]
    public void AddBosTokenFlagWithoutTemplate()
    {
        Write(_dir);
        _dir.WriteText("tokenizer_config.json", "{\"bos_token\": \"<pad>\", \"eos_token\": \"<|endoftext|>\", \"add_bos_token\": true}");
        var tokenizer = TextTokenizer.Load(_dir.Path);
        Assert.Equal([Pad, Hello], tokenizer.Encode("hello", addSpecialTokens: true));
    }

    [Fact]
    public void SplitRegexPreTokenizerLikeLlama3()
    {
        // Llama 3 / Qwen: Split(regex, Isolated) then ByteLevel without its own regex. This pattern splits digits
        // one by one and keeps a leading non-letter with a word.
        Write(_dir, preTokenizer: """
            {"type": "Sequence", "pretokenizers": [
              {"type": "Split", "pattern": {"Regex": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}, "behavior": "Isolated", "invert": false},
              {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false}]}
            """);
        var tokenizer = TextTokenizer.Load(_dir.Path);
        Assert.Equal([Hello, GThe, ' ', '4', '2'], tokenizer.Encode("hello the 42"));
        Assert.Equal(['I', '\'', 'S'], tokenizer.Encode("I'S"));
    }

    [Fact]
    public void AddPrefixSpace()
    {
        Write(_dir, preTokenizer: "{\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"use_regex\": true}");
        var tokenizer = TextTokenizer.Load(_dir.Path);
        Assert.Equal([GThe], tokenizer.Encode("the"));
        Assert.Equal([GThe], tokenizer.Encode(" the"));
    }

    [Fact]
    public void DecodeRoundTripsArbitraryText()
    {
        var tokenizer = Load();
        string[] texts = ["hello the world", "  leading and trailing  ", "tabs\tand\nnewlines\r\n", "ünïcödé ñ 中文 🙂👍🏽", "<|endoftext|>x<pad>", "a[M]"];
        foreach (string text in texts)
        {
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text)));
        }
    }

    [Fact]
    public void DecodeOfBrokenUtf8UsesReplacementAndIgnoresPaddingIds()
    {
        var tokenizer = Load();
        Assert.Equal("a\uFFFD", tokenizer.Decode(['a', 0xE6, 0x97]));
        Assert.Equal("a", tokenizer.Decode(['a', 50000]));
        Assert.Throws<ArgumentOutOfRangeException>(() => tokenizer.Decode([-1]));
    }

    [Fact]
    public void StreamingMatchesDecodeAndNeverSplitsACharacter()
    {
        var tokenizer = Load();
        string text = "hello 日本 the 🙂é<|endoftext|> café";
        int[] ids = tokenizer.Encode(text);
        var detokenizer = tokenizer.CreateStreamingDetokenizer();
        var pieces = new List<string>();
        foreach (int id in ids)
        {
            string piece = detokenizer.Append(id);
            pieces.Add(piece);
            Assert.DoesNotContain('\uFFFD', piece);
            if (piece.Length > 0)
            {
                Assert.False(char.IsHighSurrogate(piece[^1]), "a piece ends inside a surrogate pair");
                Assert.False(char.IsLowSurrogate(piece[0]), "a piece starts inside a surrogate pair");
            }
        }
        pieces.Add(detokenizer.Flush());
        Assert.Equal(tokenizer.Decode(ids), string.Concat(pieces));
        Assert.Equal(text, string.Concat(pieces));
        Assert.Equal(text, detokenizer.Text);
        // The three bytes of 日 arrive one token each: nothing, nothing, then the character.
        int start = Array.IndexOf(ids, 0xE6);
        Assert.Equal(["", "", "日"], pieces.Skip(start).Take(3).ToArray());
    }

    [Fact]
    public void StreamingFlushEmitsAnUnfinishedCharacterAsDecodeDoes()
    {
        var tokenizer = Load();
        var detokenizer = tokenizer.CreateStreamingDetokenizer();
        Assert.Equal("a", detokenizer.Append('a'));
        Assert.Equal("", detokenizer.Append(0xF0));
        Assert.Equal("", detokenizer.Append(0x9F));
        Assert.Equal(tokenizer.Decode(['a', 0xF0, 0x9F]), "a" + detokenizer.Flush());
        var skipping = tokenizer.CreateStreamingDetokenizer(skipSpecialTokens: true);
        Assert.Equal("", skipping.Append(EndOfText));
        Assert.Equal("hello", skipping.Append(Hello));
    }

    [Fact]
    public void ExistsAndMissingFile()
    {
        Assert.False(TextTokenizer.Exists(_dir.Path));
        var e = Assert.Throws<ModelFormatException>(() => TextTokenizer.Load(_dir.Path));
        Assert.Contains("tokenizer.json: not found in " + _dir.Path, e.Message);
        Write(_dir);
        Assert.True(TextTokenizer.Exists(_dir.Path));
    }

    [Fact]
    public void InvalidJsonNamesFileAndLine()
    {
        _dir.WriteText("tokenizer.json", "{\n  \"model\": {\n    \"type\": \"BPE\",,\n");
        var e = Assert.Throws<ModelFormatException>(() => TextTokenizer.Load(_dir.Path));
        Assert.Contains(_dir.File("tokenizer.json"), e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Theory]
    [InlineData("WordPiece", "'WordPiece'")]
    [InlineData("Unigram", "'Unigram'")]
    public void OtherModelTypesAreNotSupported(string type, string named)
    {
        Write(_dir, modelType: type);
        var e = Assert.Throws<NotSupportedException>(() => TextTokenizer.Load(_dir.Path));
        Assert.Contains(named, e.Message);
        Assert.Contains(_dir.File("tokenizer.json"), e.Message);
    }

    [Fact]
    public void SentencePieceStyleBpeIsNotSupportedByName()
    {
        // Llama 2: no ByteLevel anywhere, byte_fallback true, Metaspace-like normalizer.
        string json = """
            {"model": {"type": "BPE", "byte_fallback": true, "vocab": {"▁a": 0, "<0x41>": 1}, "merges": []},
             "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
             "pre_tokenizer": null, "decoder": {"type": "Sequence", "decoders": [{"type": "ByteFallback"}]}}
            """;
        _dir.WriteText("tokenizer.json", json);
        var e = Assert.Throws<NotSupportedException>(() => TextTokenizer.Load(_dir.Path));
        Assert.Contains("byte_fallback", e.Message);
    }

    [Fact]
    public void MergeWithUnknownTokenIsAFormatError()
    {
        Write(_dir, arrayMerges: false);
        string path = _dir.File("tokenizer.json");
        File.WriteAllText(path, File.ReadAllText(path, Encoding.UTF8).Replace("\"h e\"", "\"h q9\"", StringComparison.Ordinal), Encoding.UTF8);
        var e = Assert.Throws<ModelFormatException>(() => TextTokenizer.Load(_dir.Path));
        Assert.Contains("merges", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void UnknownBosTokenIsAFormatError()
    {
        Write(_dir);
        _dir.WriteText("tokenizer_config.json", "{\"bos_token\": \"<s>\"}");
        var e = Assert.Throws<ModelFormatException>(() => TextTokenizer.Load(_dir.Path));
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("'bos_token'", e.Message);
    }
}
