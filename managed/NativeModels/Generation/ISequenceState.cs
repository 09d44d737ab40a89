namespace NativeModels.Generation;

/// <summary>The saved state of one sequence: everything needed to continue it exactly as if never interrupted.</summary>
public interface ISequenceState
{
    /// <summary>Tokens consumed to reach this state.</summary>
    long TokenCount { get; }

    /// <summary>The state in the architecture's versioned binary format.</summary>
    byte[] ToBytes();

    /// <summary>Writes <see cref="ToBytes"/> to <paramref name="stream"/>.</summary>
    void WriteTo(Stream stream);
}
