namespace NativeModels.Generation;

/// <summary>One sequence to continue: the prompt tokens (at least one) and, optionally, a saved state to start from
/// (the prompt then continues that state, e.g. a restored conversation followed by its next turn).</summary>
public sealed record GenerationRequest(IReadOnlyList<int> Prompt, ISequenceState? InitialState = null);
