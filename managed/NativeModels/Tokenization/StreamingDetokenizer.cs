using System.Text;

namespace NativeModels.Tokenization;

/// <summary>
/// Turns generated token ids into text as they come: <see cref="Append"/> returns the text completed by the new
/// token, holding back the bytes of a UTF-8 character that is not complete yet. The concatenation of every
/// <see cref="Append"/> result and a final <see cref="Flush"/> equals <see cref="TextTokenizer.Decode"/> of all ids.
/// </summary>
public sealed class StreamingDetokenizer
{
    private readonly TextTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly Decoder _decoder = new UTF8Encoding(false, false).GetDecoder();
    private readonly StringBuilder _text = new();
    private readonly List<byte> _bytes = new(16);
    private char[] _chars = new char[64];

    internal StreamingDetokenizer(TextTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>Every complete piece of text emitted so far.</summary>
    public string Text => _text.ToString();

    /// <summary>Adds one token; returns the newly completed text (possibly empty).</summary>
    public string Append(int id)
    {
        _bytes.Clear();
        _tokenizer.AppendTokenBytes(id, _skipSpecialTokens, _bytes);
        return Emit(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_bytes), flush: false);
    }

    /// <summary>Ends the stream: bytes of an unfinished character come out as U+FFFD, as <see cref="TextTokenizer.Decode"/> does.</summary>
    public string Flush() => Emit([], flush: true);

    /// <summary>Starts over.</summary>
    public void Reset()
    {
        _decoder.Reset();
        _text.Clear();
    }

    private string Emit(ReadOnlySpan<byte> bytes, bool flush)
    {
        int needed = _decoder.GetCharCount(bytes, flush);
        if (needed > _chars.Length)
        {
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        }
        int count = _decoder.GetChars(bytes, _chars, flush);
        if (count == 0)
        {
            return string.Empty;
        }
        string piece = new(_chars, 0, count);
        _text.Append(piece);
        return piece;
    }
}
