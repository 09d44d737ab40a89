using System.Globalization;
using System.Text.RegularExpressions;

namespace NativeModels.Tokenization;

/// <summary>
/// A .NET regular expression that matches by code point, as the Oniguruma regexes of Hugging Face tokenizers do.
/// .NET matches UTF-16 code units, so a character outside the BMP is two surrogates to it, neither a letter nor a
/// digit: "x𝐀y" would not be one \p{L}+ word. Text holding such characters is matched through a stand-in string
/// where each of them is one BMP character of the same Unicode general category (the categories, \s and \w are all
/// the tokenizer patterns ask about), and the match positions are mapped back.
/// </summary>
internal sealed class CodePointRegex
{
    private static readonly char[] s_standIns = BuildStandIns();

    public CodePointRegex(Regex regex) => Regex = regex;

    public Regex Regex { get; }

    /// <summary>Appends the (start, end) UTF-16 positions of every match in <paramref name="text"/>.</summary>
    public void Matches(string text, List<(int Start, int End)> output)
    {
        if (text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (ValueMatch m in Regex.EnumerateMatches(text))
            {
                output.Add((m.Index, m.Index + m.Length));
            }
            return;
        }
        var shadow = new char[text.Length];
        var map = new int[text.Length + 1];
        int n = 0;
        for (int i = 0; i < text.Length; i++)
        {
            map[n] = i;
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                shadow[n++] = StandIn(char.ConvertToUtf32(c, text[i + 1]));
                i++;
            }
            else
            {
                shadow[n++] = char.IsSurrogate(c) ? '\uFFFD' : c;
            }
        }
        map[n] = text.Length;
        foreach (ValueMatch m in Regex.EnumerateMatches(shadow.AsSpan(0, n)))
        {
            output.Add((map[m.Index], map[m.Index + m.Length]));
        }
    }

    /// <summary>The BMP character standing in for <paramref name="codePoint"/>: same general category.</summary>
    internal static char StandIn(int codePoint) => s_standIns[(int)CharUnicodeInfo.GetUnicodeCategory(codePoint)];

    private static char[] BuildStandIns()
    {
        // One BMP character per UnicodeCategory, away from ASCII and from what tokenizer patterns spell out.
        var table = new char[30];
        table[(int)UnicodeCategory.UppercaseLetter] = '\uA640';
        table[(int)UnicodeCategory.LowercaseLetter] = '\uA641';
        table[(int)UnicodeCategory.TitlecaseLetter] = '\u01C5';
        table[(int)UnicodeCategory.ModifierLetter] = '\u02B0';
        table[(int)UnicodeCategory.OtherLetter] = '\uA500';
        table[(int)UnicodeCategory.NonSpacingMark] = '\u1DC0';
        table[(int)UnicodeCategory.SpacingCombiningMark] = '\u0903';
        table[(int)UnicodeCategory.EnclosingMark] = '\u20DD';
        table[(int)UnicodeCategory.DecimalDigitNumber] = '\u1040';
        table[(int)UnicodeCategory.LetterNumber] = '\u2160';
        table[(int)UnicodeCategory.OtherNumber] = '\u2460';
        table[(int)UnicodeCategory.SpaceSeparator] = '\u2000';
        table[(int)UnicodeCategory.LineSeparator] = '\u2028';
        table[(int)UnicodeCategory.ParagraphSeparator] = '\u2029';
        table[(int)UnicodeCategory.Control] = '\u0080';
        table[(int)UnicodeCategory.Format] = '\uFFF9';
        table[(int)UnicodeCategory.Surrogate] = '\uFFFD';
        table[(int)UnicodeCategory.PrivateUse] = '\uE000';
        table[(int)UnicodeCategory.ConnectorPunctuation] = '\u203F';
        table[(int)UnicodeCategory.DashPunctuation] = '\u2E3A';
        table[(int)UnicodeCategory.OpenPunctuation] = '\u2E28';
        table[(int)UnicodeCategory.ClosePunctuation] = '\u2E29';
        table[(int)UnicodeCategory.InitialQuotePunctuation] = '\u2E02';
        table[(int)UnicodeCategory.FinalQuotePunctuation] = '\u2E03';
        table[(int)UnicodeCategory.OtherPunctuation] = '\uA60D';
        table[(int)UnicodeCategory.MathSymbol] = '\u2A00';
        table[(int)UnicodeCategory.CurrencySymbol] = '\u20A0';
        table[(int)UnicodeCategory.ModifierSymbol] = '\uA700';
        table[(int)UnicodeCategory.OtherSymbol] = '\u2100';
        table[(int)UnicodeCategory.OtherNotAssigned] = '\uFDD0';
        return table;
    }
}

/// <summary>
/// Turns an Oniguruma pattern (Ruby syntax, as Hugging Face tokenizers compiles Split regexes) into a .NET one with
/// the same meaning, or refuses it: \w is Unicode letters, marks, decimal digits and connector punctuation there
/// (.NET's \w leaves out spacing and enclosing marks), \x{HHHH} is a code point, and ^ / $ are line anchors (the
/// caller compiles with RegexOptions.Multiline). Word boundaries, \W inside a class, class intersections (&amp;&amp;),
/// nested and POSIX classes have no faithful .NET spelling here and throw <see cref="NotSupportedException"/>.
/// </summary>
internal static class OnigurumaPattern
{
    private const string WordClass = @"\p{L}\p{M}\p{Nd}\p{Pc}";

    public static string ToDotNet(string pattern)
    {
        var result = new System.Text.StringBuilder(pattern.Length + 16);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char next = pattern[++i];
                switch (next)
                {
                    case 'w':
                        result.Append(inClass ? WordClass : "[" + WordClass + "]");
                        break;
                    case 'W' when !inClass:
                        result.Append("[^" + WordClass + "]");
                        break;
                    case 'W' or 'b' or 'B':
                        throw new NotSupportedException($"the pattern uses \\{next}, whose Oniguruma meaning .NET does not share");
                    case 'x' when i + 1 < pattern.Length && pattern[i + 1] == '{':
                    {
                        int close = pattern.IndexOf('}', i + 2);
                        if (close < 0 || !int.TryParse(pattern.AsSpan(i + 2, close - i - 2), System.Globalization.NumberStyles.HexNumber,
                                System.Globalization.CultureInfo.InvariantCulture, out int codePoint) || codePoint > 0xFFFF)
                        {
                            throw new NotSupportedException("the pattern uses \\x{...} with a code point outside the BMP or a malformed one");
                        }
                        result.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{codePoint:X4}");
                        i = close;
                        break;
                    }
                    default:
                        result.Append(c).Append(next);
                        break;
                }
                continue;
            }
            if (inClass)
            {
                if (c == '[')
                {
                    throw new NotSupportedException("the pattern nests character classes (or uses POSIX [:name:] classes), which .NET reads differently");
                }
                if (c == '&' && i + 1 < pattern.Length && pattern[i + 1] == '&')
                {
                    throw new NotSupportedException("the pattern uses a class intersection (&&), which .NET does not have");
                }
                if (c == ']')
                {
                    inClass = false;
                }
            }
            else if (c == '[')
            {
                inClass = true;
                result.Append(c);
                // A ']' right after '[' or '[^' is a literal in both syntaxes.
                if (i + 1 < pattern.Length && pattern[i + 1] == '^')
                {
                    result.Append('^');
                    i++;
                }
                if (i + 1 < pattern.Length && pattern[i + 1] == ']')
                {
                    result.Append(']');
                    i++;
                }
                continue;
            }
            result.Append(c);
        }
        return result.ToString();
    }
}

/// <summary>What a Split pre-tokenizer does with the matches (Hugging Face's SplitDelimiterBehavior).</summary>
internal enum SplitBehavior
{
    Removed,
    Isolated,
    MergedWithPrevious,
    MergedWithNext,
    Contiguous,
}

/// <summary>One pre-tokenizer of tokenizer.json.</summary>
internal abstract class PreTokenizerStep
{
    /// <summary>Appends the non-empty pieces <paramref name="piece"/> splits into.</summary>
    public abstract void Split(string piece, List<string> output);
}

/// <summary>The Split pre-tokenizer: a regex (or a literal string), a behavior, and invert.</summary>
internal sealed class SplitStep(CodePointRegex pattern, SplitBehavior behavior, bool invert) : PreTokenizerStep
{
    public override void Split(string piece, List<string> output)
    {
        // (start, end, is match) covering the whole piece, as Hugging Face's Pattern::find_matches gives them.
        var spans = new List<(int Start, int End, bool Match)>();
        if (piece.Length == 0)
        {
            spans.Add((0, 0, false));
        }
        else
        {
            var matches = new List<(int Start, int End)>();
            pattern.Matches(piece, matches);
            int previous = 0;
            foreach (var (start, end) in matches)
            {
                if (previous != start)
                {
                    spans.Add((previous, start, false));
                }
                spans.Add((start, end, true));
                previous = end;
            }
            if (previous != piece.Length)
            {
                spans.Add((previous, piece.Length, false));
            }
        }
        if (invert)
        {
            for (int i = 0; i < spans.Count; i++)
            {
                spans[i] = spans[i] with { Match = !spans[i].Match };
            }
        }

        // (start, end, remove)
        var splits = new List<(int Start, int End, bool Remove)>(spans.Count);
        switch (behavior)
        {
            case SplitBehavior.Isolated:
                splits.AddRange(spans.Select(s => (s.Start, s.End, false)));
                break;
            case SplitBehavior.Removed:
                splits.AddRange(spans.Select(s => (s.Start, s.End, s.Match)));
                break;
            case SplitBehavior.MergedWithPrevious:
            {
                bool previousMatch = false;
                foreach (var s in spans)
                {
                    if (s.Match && !previousMatch && splits.Count > 0)
                    {
                        splits[^1] = splits[^1] with { End = s.End };
                    }
                    else
                    {
                        splits.Add((s.Start, s.End, false));
                    }
                    previousMatch = s.Match;
                }
                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                bool previousMatch = false;
                for (int i = spans.Count - 1; i >= 0; i--)
                {
                    var s = spans[i];
                    if (s.Match && !previousMatch && splits.Count > 0)
                    {
                        splits[^1] = splits[^1] with { Start = s.Start };
                    }
                    else
                    {
                        splits.Add((s.Start, s.End, false));
                    }
                    previousMatch = s.Match;
                }
                splits.Reverse();
                break;
            }
            case SplitBehavior.Contiguous:
            {
                bool previousMatch = false;
                foreach (var s in spans)
                {
                    if (s.Match == previousMatch && splits.Count > 0)
                    {
                        splits[^1] = splits[^1] with { End = s.End };
                    }
                    else
                    {
                        splits.Add((s.Start, s.End, false));
                    }
                    previousMatch = s.Match;
                }
                break;
            }
        }
        foreach (var (start, end, remove) in splits)
        {
            if (!remove && end > start)
            {
                output.Add(start == 0 && end == piece.Length ? piece : piece[start..end]);
            }
        }
    }
}

/// <summary>The ByteLevel pre-tokenizer: a space before every piece that does not start with one (add_prefix_space),
/// then GPT-2's pattern (use_regex). Its mapping of bytes to characters happens in the BPE step.</summary>
internal sealed class ByteLevelStep(bool addPrefixSpace, SplitStep? gpt2Split) : PreTokenizerStep
{
    public override void Split(string piece, List<string> output)
    {
        if (addPrefixSpace && !piece.StartsWith(' '))
        {
            piece = " " + piece;
        }
        if (gpt2Split is null)
        {
            output.Add(piece);
        }
        else
        {
            gpt2Split.Split(piece, output);
        }
    }
}

/// <summary>The pre-tokenizers of tokenizer.json in order, each applied to every piece the previous ones left.</summary>
internal sealed class PreTokenizerPipeline(IReadOnlyList<PreTokenizerStep> steps)
{
    public void Split(string text, List<string> words)
    {
        if (text.Length == 0)
        {
            return;
        }
        var pieces = new List<string> { text };
        var next = new List<string>();
        foreach (var step in steps)
        {
            next.Clear();
            foreach (string piece in pieces)
            {
                step.Split(piece, next);
            }
            (pieces, next) = (next, pieces);
        }
        words.AddRange(pieces);
    }
}
