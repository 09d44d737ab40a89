using System.Globalization;
using System.Text;
using NativeModels.Tokenization;

namespace NativeModels.Tests.Tokenization;

/// <summary>
/// TextTokenizer's own NFC (used so that InvariantGlobalization builds tokenize like the others) against ICU's, which
/// this test process has. The tables are Unicode 14 (make_nfc_data.py); code points that a newer ICU knows and
/// Unicode 14 did not are left out of the comparison.
/// </summary>
public class NfcTests
{
    private static bool IcuAvailable => "e\u0301".Normalize(NormalizationForm.FormC) == "\u00E9";

    private static IEnumerable<int> AllCodePoints()
    {
        for (int cp = 0; cp <= 0x10FFFF; cp++)
        {
            if (cp is < 0xD800 or > 0xDFFF)
            {
                yield return cp;
            }
        }
    }

    [Fact]
    public void EveryCodePointAloneAndAfterAStarterAgreesWithIcu()
    {
        Assert.True(IcuAvailable, "the test process needs ICU");
        var differences = new List<string>();
        var refused = new SortedSet<int>();
        foreach (int cp in AllCodePoints())
        {
            string c = char.ConvertFromUtf32(cp);
            foreach (string text in new[] { c, "a" + c, c + "\u0301", "\u1100" + c, c + "\u0323\u0302" })
            {
                string icu;
                try
                {
                    icu = text.Normalize(NormalizationForm.FormC);
                }
                catch (ArgumentException)
                {
                    refused.Add(cp); // .NET refuses noncharacters; ours leaves them as they are
                    Assert.Equal(text, Nfc.Normalize(text));
                    continue;
                }
                string ours = Nfc.Normalize(text);
                if (icu != ours && differences.Count < 200)
                {
                    differences.Add($"U+{cp:X4} in {Show(text)}: ours {Show(ours)}, ICU {Show(icu)}");
                }
            }
        }
        // Allowed: marks and letters assigned after Unicode 14 (the tables' version), which a newer ICU knows. With ICU
        // 72 (Unicode 15) that is U+1E08F and U+1E4EC..U+1E4EF; ICU refuses U+FFFE, which ours leaves alone.
        differences.RemoveAll(IsNewerThanUnicode14);
        Assert.True(differences.Count == 0, string.Join("\n", differences));
    }

    [Fact]
    public void RandomMixturesOfMarksAndStartersAgreeWithIcu()
    {
        Assert.True(IcuAvailable, "the test process needs ICU");
        // Characters that decompose, compose or reorder: Latin with diacritics, combining marks of several classes,
        // Hangul jamo and syllables, Indic vowel signs that compose, singletons and exclusions.
        int[] pool =
        [
            'a', 'e', 'o', 'u', 'A', 'E', 'O', 'U', 'n', 's', 0x00C5, 0x00E9, 0x00FC, 0x01D6, 0x1EA0, 0x1EC7, 0x212B, 0x2126,
            0x0300, 0x0301, 0x0302, 0x0303, 0x0308, 0x030A, 0x0323, 0x0327, 0x0328, 0x0331, 0x0344, 0x0345, 0x05B0, 0x05BC,
            0x0653, 0x0654, 0x0627, 0x0648, 0x0B47, 0x0B3E, 0x0B57, 0x0BC6, 0x0BBE, 0x0CC6, 0x0CD5, 0x0D46, 0x0D3E,
            0x1100, 0x1161, 0x11A8, 0xAC00, 0xAC01, 0xD7A3, 0x0958, 0x0915, 0x093C, 0x3099, 0x304B, 0x309A, 0x0F71,
            0x0F72, 0x0F80, 0x1E0A, 0x1E0C, 0x0112, 0x1D15E, 0x1D165, 0x1D16E, 0x11099, 0x110BA, 0x1F600, ' ', 'x',
        ];
        var random = new Random(1234);
        var text = new StringBuilder();
        for (int n = 0; n < 20000; n++)
        {
            text.Clear();
            int length = random.Next(1, 9);
            for (int i = 0; i < length; i++)
            {
                text.Append(char.ConvertFromUtf32(pool[random.Next(pool.Length)]));
            }
            string s = text.ToString();
            Assert.True(s.Normalize(NormalizationForm.FormC) == Nfc.Normalize(s),
                $"{Show(s)}: ours {Show(Nfc.Normalize(s))}, ICU {Show(s.Normalize(NormalizationForm.FormC))}");
        }
    }

    [Fact]
    public void TextThatIsAlreadyNfcComesBackAsTheSameInstance()
    {
        foreach (string s in new[] { "", "plain ascii", "Café 日本語 한국어 😀👍🏽 Ελληνικά", "\u00C0\u00E9" })
        {
            Assert.Same(s, Nfc.Normalize(s));
        }
        Assert.Equal("\u00E9", Nfc.Normalize("e\u0301"));
        Assert.Equal("\u00C5", Nfc.Normalize("\u212B"));
        Assert.Equal("\uAC01", Nfc.Normalize("\u1100\u1161\u11A8"));
        Assert.Equal("\u1E69", Nfc.Normalize("s\u0307\u0323"));
    }

    private static bool IsNewerThanUnicode14(string difference)
    {
        // "U+XXXX in ...": the code point the line is about.
        int end = difference.IndexOf(' ', StringComparison.Ordinal);
        int cp = int.Parse(difference.AsSpan(2, end - 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        return cp is (>= 0x11F00 and <= 0x11F5F)   // Kawi (Unicode 15)
            or (>= 0x11380 and <= 0x113FF)          // Tulu-Tigalari (Unicode 16)
            or (>= 0x16100 and <= 0x1613F)          // Gurung Khema (Unicode 16)
            or (>= 0x16D40 and <= 0x16D7F)          // Kirat Rai (Unicode 16)
            or (>= 0x10D40 and <= 0x10D8F)          // Garay (Unicode 16)
            or (>= 0x11BC0 and <= 0x11BFF)          // Sunuwar (Unicode 16)
            or (>= 0x105C0 and <= 0x105FF)          // Todhri (Unicode 16)
            or (>= 0x1E5D0 and <= 0x1E5FF)          // Ol Onal (Unicode 16)
            or (>= 0x1E4D0 and <= 0x1E4FF)          // Nag Mundari (Unicode 15)
            or (>= 0x10EFD and <= 0x10EFF)          // Arabic Extended-C marks (Unicode 15)
            or (>= 0x1E030 and <= 0x1E08F);         // Cyrillic Extended-D (Unicode 15)
    }

    private static string Show(string s) => string.Join(" ", s.EnumerateRunes().Select(r => $"U+{r.Value:X4}"));
}
