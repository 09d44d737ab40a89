using System.Text;

namespace NativeModels.Tokenization;

/// <summary>GPT-2's reversible byte ↔ printable-character mapping used by byte-level BPE vocabularies
/// (space is 'Ġ', newline 'Ċ', ...).</summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] s_byteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> s_charToByte = BuildCharToByte();

    public static char ToChar(byte b) => s_byteToChar[b];

    public static bool TryToByte(char c, out byte b) => s_charToByte.TryGetValue(c, out b);

    /// <summary>The UTF-8 bytes of <paramref name="text"/> spelled in the byte alphabet (what the ByteLevel
    /// pre-tokenizer hands to the BPE model).</summary>
    public static string Spell(ReadOnlySpan<char> text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        int count = Encoding.UTF8.GetBytes(text, buffer);
        return string.Create(count, buffer[..count].ToArray(), static (chars, bytes) =>
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                chars[i] = s_byteToChar[bytes[i]];
            }
        });
    }

    /// <summary>The bytes a token decodes to, as Hugging Face's ByteLevel decoder does it: when every character of
    /// the token is in the byte alphabet, the bytes they stand for; otherwise the token's own UTF-8 (added tokens
    /// such as "&lt;|endoftext|&gt;" are in the alphabet, ones with a space or CJK are not).</summary>
    public static byte[] DecodeToken(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            if (!s_charToByte.TryGetValue(token[i], out bytes[i]))
            {
                return Encoding.UTF8.GetBytes(token);
            }
        }
        return bytes;
    }

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        bool[] printable = new bool[256];
        for (int b = '!'; b <= '~'; b++) printable[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) printable[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) printable[b] = true;
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            map[b] = printable[b] ? (char)b : (char)(256 + next++);
        }
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++)
        {
            map[s_byteToChar[b]] = (byte)b;
        }
        return map;
    }
}
