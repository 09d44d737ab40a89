using System.Text;

namespace NativeModels.Tokenization;

/// <summary>
/// Unicode NFC, the normalizer of GPT-NeoX's and Qwen's tokenizer.json, implemented here (canonical decomposition,
/// canonical ordering, canonical composition; data in <see cref="NfcData"/>) rather than with
/// <see cref="string.Normalize()"/>: with InvariantGlobalization (the CLI, NativeAOT builds) .NET has no ICU and its
/// Normalize leaves text unchanged, which would give other ids than Hugging Face tokenizers for decomposed text.
/// Checked against ICU over every code point by the tokenizer tests.
/// </summary>
internal static class Nfc
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Lazy<Tables> s_tables = new(Tables.Build);

    /// <summary>NFC of <paramref name="text"/> (the same instance when nothing changes). Lone surrogates are kept.</summary>
    public static string Normalize(string text)
    {
        // Text below U+0300 is in NFC and every character there is a starter: only the last of them before the
        // first other character can take part in a composition.
        int first = text.AsSpan().IndexOfAnyExceptInRange('\0', '\u02FF');
        if (first < 0)
        {
            return text;
        }
        var tables = s_tables.Value;
        if (tables.IsStable(text, first))
        {
            return text;
        }
        int start = Math.Max(first - 1, 0);

        var decomposed = new List<int>(text.Length - start + 8);
        for (int i = start; i < text.Length; i++)
        {
            int cp = CodePoints.At(text, i);
            if (cp > 0xFFFF)
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                cp = text[i]; // a lone surrogate stays as it is
            }
            Decompose(tables, cp, decomposed);
        }
        SortMarks(tables, decomposed);
        Compose(tables, decomposed);

        var result = new StringBuilder(text.Length);
        result.Append(text, 0, start);
        foreach (int cp in decomposed)
        {
            if (cp is >= 0xD800 and <= 0xDFFF)
            {
                result.Append((char)cp);
            }
            else
            {
                result.Append(char.ConvertFromUtf32(cp));
            }
        }
        string normalized = result.ToString();
        return normalized == text ? text : normalized;
    }

    private static void Decompose(Tables tables, int cp, List<int> output)
    {
        if (cp is >= SBase and < SBase + SCount)
        {
            int s = cp - SBase;
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0)
            {
                output.Add(TBase + s % TCount);
            }
            return;
        }
        if (tables.Decompositions.TryGetValue(cp, out var parts))
        {
            Decompose(tables, parts.First, output);
            if (parts.Second >= 0)
            {
                Decompose(tables, parts.Second, output);
            }
            return;
        }
        output.Add(cp);
    }

    /// <summary>Canonical ordering: a stable sort of every run of non-starters by combining class.</summary>
    private static void SortMarks(Tables tables, List<int> cps)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int ccc = tables.CombiningClass(cps[i]);
            if (ccc == 0)
            {
                continue;
            }
            int j = i;
            while (j > 0 && tables.CombiningClass(cps[j - 1]) > ccc)
            {
                (cps[j - 1], cps[j]) = (cps[j], cps[j - 1]);
                j--;
            }
        }
    }

    /// <summary>Canonical composition: each character joins the last starter when nothing between them blocks it.</summary>
    private static void Compose(Tables tables, List<int> cps)
    {
        int starter = -1;
        int lastClass = 0;
        int write = 0;
        for (int read = 0; read < cps.Count; read++)
        {
            int cp = cps[read];
            int ccc = tables.CombiningClass(cp);
            if (starter >= 0)
            {
                bool adjacent = write - 1 == starter;
                if ((adjacent || (lastClass != 0 && lastClass < ccc)) && TryCompose(tables, cps[starter], cp, out int composite))
                {
                    cps[starter] = composite;
                    continue;
                }
            }
            if (ccc == 0)
            {
                starter = write;
            }
            lastClass = ccc;
            cps[write++] = cp;
        }
        cps.RemoveRange(write, cps.Count - write);
    }

    private static bool TryCompose(Tables tables, int first, int second, out int composite)
    {
        if (first is >= LBase and < LBase + LCount && second is >= VBase and < VBase + VCount)
        {
            composite = SBase + ((first - LBase) * VCount + (second - VBase)) * TCount;
            return true;
        }
        if (first is >= SBase and < SBase + SCount && (first - SBase) % TCount == 0 && second is > TBase and < TBase + TCount)
        {
            composite = first + (second - TBase);
            return true;
        }
        return tables.Compositions.TryGetValue(((long)first << 21) | (uint)second, out composite);
    }

    private sealed class Tables
    {
        private int[] _rangeStarts = [];
        private int[] _rangeEnds = [];
        private byte[] _rangeClasses = [];

        public Dictionary<int, (int First, int Second)> Decompositions { get; } = new();

        public Dictionary<long, int> Compositions { get; } = new();

        /// <summary>Characters that can be the second of a composition (combining marks, Hangul vowels and finals,
        /// and a few starters such as U+0B3E).</summary>
        private readonly HashSet<int> _seconds = new();

        /// <summary>For each BMP character: 1 when NFC leaves it alone whatever surrounds it.</summary>
        private readonly byte[] _bmpStable = new byte[0x10000];

        /// <summary>Whether NFC leaves <paramref name="text"/> unchanged, judged character by character from
        /// <paramref name="from"/> (everything before is below U+0300): each one a starter that is not the second of
        /// any composition and that is not changed by decomposing and recomposing it.</summary>
        public bool IsStable(string text, int from)
        {
            for (int i = from; i < text.Length; i++)
            {
                char c = text[i];
                if (!char.IsSurrogate(c))
                {
                    if (_bmpStable[c] == 0)
                    {
                        return false;
                    }
                }
                else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    if (!IsStable(char.ConvertToUtf32(c, text[++i])))
                    {
                        return false;
                    }
                }
            }
            return true;
        }

        private bool IsStable(int cp)
        {
            if (CombiningClass(cp) != 0 || _seconds.Contains(cp) || cp is >= LBase and < LBase + LCount)
            {
                return false;
            }
            if (Decompositions.TryGetValue(cp, out var parts))
            {
                // Stable only when it is a composite that composes back from its parts.
                return parts.Second >= 0 && Compositions.TryGetValue(((long)parts.First << 21) | (uint)parts.Second, out int back) &&
                       back == cp && IsStable(parts.First);
            }
            return true;
        }

        public int CombiningClass(int cp)
        {
            if (cp < 0x300)
            {
                return 0;
            }
            int index = Array.BinarySearch(_rangeStarts, cp);
            if (index < 0)
            {
                index = ~index - 1;
            }
            return index >= 0 && cp <= _rangeEnds[index] ? _rangeClasses[index] : 0;
        }

        public static Tables Build()
        {
            var tables = new Tables();
            var ranges = NfcData.CombiningClassRanges;
            int count = ranges.Length / 3;
            tables._rangeStarts = new int[count];
            tables._rangeEnds = new int[count];
            tables._rangeClasses = new byte[count];
            for (int i = 0; i < count; i++)
            {
                tables._rangeStarts[i] = ranges[3 * i];
                tables._rangeEnds[i] = ranges[3 * i + 1];
                tables._rangeClasses[i] = (byte)ranges[3 * i + 2];
            }
            var excluded = new HashSet<int>();
            foreach (int cp in NfcData.CompositionExclusions)
            {
                excluded.Add(cp);
            }
            var decompositions = NfcData.Decompositions;
            for (int i = 0; i < decompositions.Length; i += 3)
            {
                int cp = decompositions[i], first = decompositions[i + 1], second = decompositions[i + 2];
                tables.Decompositions[cp] = (first, second);
                // Primary composites: two parts, a starter made of a starter and another character, not excluded.
                if (second >= 0 && !excluded.Contains(cp) && tables.CombiningClass(cp) == 0 && tables.CombiningClass(first) == 0)
                {
                    tables.Compositions[((long)first << 21) | (uint)second] = cp;
                    tables._seconds.Add(second);
                }
            }
            for (int v = VBase; v < VBase + VCount; v++)
            {
                tables._seconds.Add(v);
            }
            for (int t = TBase + 1; t < TBase + TCount; t++)
            {
                tables._seconds.Add(t);
            }
            for (int c = 0; c < 0x10000; c++)
            {
                if (c is < 0xD800 or > 0xDFFF && tables.IsStable(c))
                {
                    tables._bmpStable[c] = 1;
                }
            }
            return tables;
        }
    }
}
