namespace NativeModels.Generation;

/// <summary>One generated token of the sequence <paramref name="SequenceIndex"/> (its index among the prompts), the
/// <paramref name="Index"/>-th of that sequence. <paramref name="Text"/> is the new text it completes (empty while a
/// multi-byte character is incomplete; empty without a tokenizer).</summary>
public readonly record struct GeneratedToken(int SequenceIndex, int Index, int TokenId, string Text);
