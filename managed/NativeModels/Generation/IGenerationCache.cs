namespace NativeModels.Generation;

/// <summary>The per-sequence state of a batch of sequences (one row each), created by
/// <see cref="ICausalLanguageModel.CreateCache(int)"/> and only usable with that model.</summary>
public interface IGenerationCache : IDisposable
{
    /// <summary>Rows (sequences).</summary>
    int BatchSize { get; }

    /// <summary>Tokens the sequence in <paramref name="row"/> has consumed.</summary>
    long TokenCount(int row);

    /// <summary>Empties row <paramref name="row"/>.</summary>
    void ResetRow(int row);

    /// <summary>Keeps only <paramref name="rows"/>, in that order: row i becomes the old row rows[i] and
    /// <see cref="BatchSize"/> becomes rows.Length (at least 1).</summary>
    void SelectRows(ReadOnlySpan<int> rows);

    /// <summary>A copy of the state of row <paramref name="row"/> that can be saved and restored later.</summary>
    ISequenceState SaveRow(int row);

    /// <summary>Replaces row <paramref name="row"/> with a saved state (which must come from a compatible model).</summary>
    void RestoreRow(int row, ISequenceState state);
}
