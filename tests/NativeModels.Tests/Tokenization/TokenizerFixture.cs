using System.Text;
using System.Text.Json;
using NativeModels.Tests.IO;

namespace NativeModels.Tests.Tokenization;

/// <summary>
/// A small hand-built byte-level BPE tokenizer.json in the GPT-2 / GPT-NeoX layout: ids 0-255 are the 256 bytes
/// (id == byte value, spelled in GPT-2's byte alphabet: space is "Ġ"), then a few merges, then added tokens.
/// </summary>
public static class TokenizerFixture
{
    public const int Gt = 256;        // "Ġt"
    public const int He = 257;        // "he"
    public const int GThe = 258;      // "Ġthe"
    public const int Ll = 259;        // "ll"
    public const int Hell = 260;      // "hell"
    public const int Hello = 261;     // "hello"
    public const int EAcute = 262;    // "Ã©" = UTF-8 of "é"
    public const int EndOfText = 263; // <|endoftext|>, special
    public const int Pad = 264;       // <pad>, special
    public const int Marker = 265;    // "[M]", added but not special

    /// <summary>GPT-2's byte → character table.</summary>
    public static char ByteChar(int b)
    {
        int n = 0;
        for (int i = 0; i < 256; i++)
        {
            bool printable = (i >= '!' && i <= '~') || (i >= 0xA1 && i <= 0xAC) || (i >= 0xAE && i <= 0xFF);
            if (i == b)
            {
                return printable ? (char)i : (char)(256 + n);
            }
            if (!printable)
            {
                n++;
            }
        }
        throw new ArgumentOutOfRangeException(nameof(b));
    }

    /// <summary>Writes tokenizer.json (merges in mixed "a b" and ["a", "b"] form unless <paramref name="arrayMerges"/>
    /// decides) and, when asked, a tokenizer_config.json.</summary>
    public static void Write(TempDirectory dir, bool? arrayMerges = null, bool withConfig = true,
        string preTokenizer = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}",
        string postProcessor = "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}",
        string normalizer = "{\"type\": \"NFC\"}",
        string modelType = "BPE")
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("version", "1.0");
            json.WriteNull("truncation");
            json.WriteNull("padding");
            json.WriteStartArray("added_tokens");
            WriteAdded(json, EndOfText, "<|endoftext|>", special: true);
            WriteAdded(json, Pad, "<pad>", special: true);
            WriteAdded(json, Marker, "[M]", special: false);
            json.WriteEndArray();
            json.WritePropertyName("normalizer");
            using (var n = JsonDocument.Parse(normalizer)) n.WriteTo(json);
            json.WritePropertyName("pre_tokenizer");
            using (var p = JsonDocument.Parse(preTokenizer)) p.WriteTo(json);
            json.WritePropertyName("post_processor");
            using (var p = JsonDocument.Parse(postProcessor)) p.WriteTo(json);
            json.WriteStartObject("decoder");
            json.WriteString("type", "ByteLevel");
            json.WriteEndObject();
            json.WriteStartObject("model");
            json.WriteString("type", modelType);
            json.WriteNull("dropout");
            json.WriteNull("unk_token");
            json.WriteBoolean("byte_fallback", false);
            json.WriteStartObject("vocab");
            for (int b = 0; b < 256; b++)
            {
                json.WriteNumber(ByteChar(b).ToString(), b);
            }
            string g = ByteChar(' ').ToString();
            json.WriteNumber(g + "t", Gt);
            json.WriteNumber("he", He);
            json.WriteNumber(g + "the", GThe);
            json.WriteNumber("ll", Ll);
            json.WriteNumber("hell", Hell);
            json.WriteNumber("hello", Hello);
            json.WriteNumber("Ã©", EAcute);
            json.WriteEndObject();
            json.WriteStartArray("merges");
            (string, string)[] merges = [(g, "t"), ("h", "e"), (g + "t", "he"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("Ã", "©")];
            for (int i = 0; i < merges.Length; i++)
            {
                bool asArray = arrayMerges ?? (i % 2 == 1);
                if (asArray)
                {
                    json.WriteStartArray();
                    json.WriteStringValue(merges[i].Item1);
                    json.WriteStringValue(merges[i].Item2);
                    json.WriteEndArray();
                }
                else
                {
                    json.WriteStringValue(merges[i].Item1 + " " + merges[i].Item2);
                }
            }
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndObject();
        }
        File.WriteAllBytes(dir.File("tokenizer.json"), buffer.ToArray());
        if (withConfig)
        {
            dir.WriteText("tokenizer_config.json",
                "{\"bos_token\": \"<|endoftext|>\", \"eos_token\": {\"content\": \"<|endoftext|>\", \"special\": true}, \"unk_token\": \"<|endoftext|>\"}");
        }
    }

    private static void WriteAdded(Utf8JsonWriter json, int id, string content, bool special)
    {
        json.WriteStartObject();
        json.WriteNumber("id", id);
        json.WriteString("content", content);
        json.WriteBoolean("single_word", false);
        json.WriteBoolean("lstrip", false);
        json.WriteBoolean("rstrip", false);
        json.WriteBoolean("normalized", false);
        json.WriteBoolean("special", special);
        json.WriteEndObject();
    }

    /// <summary>The byte ids of <paramref name="text"/> (no merges).</summary>
    public static int[] ByteIds(string text) => Encoding.UTF8.GetBytes(text).Select(b => (int)b).ToArray();
}
