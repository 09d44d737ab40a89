using System.Text;

namespace NativeModels.Tokenization;

/// <summary>Unicode NFC, the normalizer of GPT-NeoX's and Qwen's tokenizer.json.</summary>
internal static class Nfc
{
    public static string Normalize(string text)
    {
        if (IsAsciiOrLatin1Prefix(text))
        {
            return text;
        }
        return text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
    }

    /// <summary>Text below U+0300 is in NFC already (no character there decomposes or combines).</summary>
    private static bool IsAsciiOrLatin1Prefix(string text) => !text.AsSpan().ContainsAnyExceptInRange('\0', '\u02FF');
}
