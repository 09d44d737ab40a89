using System.Globalization;

namespace NativeModels.Tokenization;

/// <summary>One entry of tokenizer.json's <c>added_tokens</c>.</summary>
internal sealed record AddedToken(int Id, string Content, bool Special, bool SingleWord, bool LStrip, bool RStrip, bool Normalized);

/// <summary>A piece of the input: text still to pre-tokenize (<see cref="TokenId"/> &lt; 0) or an added token.</summary>
internal readonly record struct TextPiece(string Text, int TokenId)
{
    public bool IsToken => TokenId >= 0;
}

/// <summary>
/// Finds added tokens in text the way Hugging Face tokenizers' AddedVocabulary does: leftmost-longest matches
/// (Aho-Corasick, MatchKind::LeftmostLongest), scanning on from the end of each match; a <c>single_word</c> token only
/// counts when no word character touches it; <c>lstrip</c> / <c>rstrip</c> take the whitespace before / after the
/// match into the token.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Dictionary<char, (string Pattern, AddedToken Token)[]> _byFirstChar;

    /// <param name="tokens">The tokens to find.</param>
    /// <param name="pattern">The text to look for (the content, or its normalized form for normalized tokens).</param>
    public AddedTokenMatcher(IEnumerable<AddedToken> tokens, Func<AddedToken, string> pattern)
    {
        _byFirstChar = tokens
            .Select(t => (Pattern: pattern(t), Token: t))
            .Where(t => t.Pattern.Length > 0)
            .GroupBy(t => t.Pattern[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Pattern.Length).ThenBy(t => t.Token.Id).ToArray());
    }

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <summary>Splits <paramref name="text"/> into text pieces and added tokens (empty text pieces left out).</summary>
    public void Split(string text, List<TextPiece> output)
    {
        if (IsEmpty)
        {
            AddText(text, 0, text.Length, output);
            return;
        }
        int startOffset = 0;
        int position = 0;
        while (FindNext(text, position, out int matchStart, out int matchEnd, out var token))
        {
            position = matchEnd;
            int start = matchStart;
            int stop = matchEnd;
            if (token.SingleWord)
            {
                bool startSpace = start == 0 || !EndsWithWordCharacter(text, start);
                bool stopSpace = stop == text.Length || !StartsWithWordCharacter(text, stop);
                if (!startSpace || !stopSpace)
                {
                    continue;
                }
            }
            if (token.LStrip)
            {
                int newStart = start;
                while (newStart > 0 && char.IsWhiteSpace(text[newStart - 1]))
                {
                    newStart--;
                }
                start = Math.Max(newStart, startOffset);
            }
            if (token.RStrip)
            {
                while (stop < text.Length && char.IsWhiteSpace(text[stop]))
                {
                    stop++;
                }
            }
            if (startOffset < start)
            {
                AddText(text, startOffset, start, output);
            }
            output.Add(new TextPiece(text[start..stop], token.Id));
            startOffset = stop;
        }
        AddText(text, startOffset, text.Length, output);
    }

    private static void AddText(string text, int start, int end, List<TextPiece> output)
    {
        if (end > start)
        {
            output.Add(new TextPiece(start == 0 && end == text.Length ? text : text[start..end], -1));
        }
    }

    private bool FindNext(string text, int from, out int start, out int end, out AddedToken token)
    {
        for (int i = from; i < text.Length; i++)
        {
            if (!_byFirstChar.TryGetValue(text[i], out var candidates))
            {
                continue;
            }
            foreach (var (pattern, candidate) in candidates)
            {
                if (i + pattern.Length <= text.Length && string.CompareOrdinal(text, i, pattern, 0, pattern.Length) == 0)
                {
                    start = i;
                    end = i + pattern.Length;
                    token = candidate;
                    return true;
                }
            }
        }
        start = end = 0;
        token = null!;
        return false;
    }

    private static bool EndsWithWordCharacter(string text, int end)
    {
        int index = end - 1;
        if (char.IsLowSurrogate(text[index]) && index > 0 && char.IsHighSurrogate(text[index - 1]))
        {
            index--;
        }
        return IsWordCharacter(CodePoints.At(text, index));
    }

    private static bool StartsWithWordCharacter(string text, int start) => IsWordCharacter(CodePoints.At(text, start));

    /// <summary>Unicode \w as the Rust regex crate defines it: Alphabetic, marks, decimal digits, connector punctuation
    /// and the joiners.</summary>
    internal static bool IsWordCharacter(int codePoint)
    {
        if (codePoint is 0x200C or 0x200D)
        {
            return true;
        }
        // Other_Alphabetic symbols (circled and squared Latin letters).
        if (codePoint is (>= 0x24B6 and <= 0x24E9) or (>= 0x1F130 and <= 0x1F149) or (>= 0x1F150 and <= 0x1F169) or (>= 0x1F170 and <= 0x1F189))
        {
            return true;
        }
        return CharUnicodeInfo.GetUnicodeCategory(codePoint) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or
            UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter or UnicodeCategory.LetterNumber or
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }
}

internal static class CodePoints
{
    /// <summary>The code point at <paramref name="index"/>; a lone surrogate counts as U+FFFD.</summary>
    public static int At(string text, int index)
    {
        char c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            return char.ConvertToUtf32(c, text[index + 1]);
        }
        return char.IsSurrogate(c) ? 0xFFFD : c;
    }

    /// <summary><paramref name="text"/> with every lone surrogate replaced by U+FFFD, as any conversion to UTF-8
    /// does (the reference library only ever sees UTF-8).</summary>
    public static string ReplaceLoneSurrogates(string text)
    {
        int i = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (i < 0)
        {
            return text;
        }
        char[]? copy = null;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                copy ??= text.ToCharArray();
                copy[i] = '\uFFFD';
            }
        }
        return copy is null ? text : new string(copy);
    }
}
