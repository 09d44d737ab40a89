namespace NativeModels.Tokenization;

/// <summary>GPT-2's reversible byte ↔ printable-character mapping used by byte-level BPE vocabularies
/// (space is 'Ġ', newline 'Ċ', ...).</summary>
internal static class ByteLevelAlphabet
{
    private static readonly char[] s_byteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> s_charToByte = BuildCharToByte();

    public static char ToChar(byte b) => s_byteToChar[b];

    public static bool TryToByte(char c, out byte b) => s_charToByte.TryGetValue(c, out b);

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
