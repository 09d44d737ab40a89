namespace NativeModels.Models;

/// <summary>Row checks and tensor disposal shared by the architectures' generation caches.</summary>
internal static class CacheRows
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 0 &lt;= <paramref name="row"/> &lt; <paramref name="rows"/>.</summary>
    public static void Check(int row, int rows)
    {
        if ((uint)row >= (uint)rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"row must be in [0, {rows})");
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> when a SelectRows call would keep no row.</summary>
    public static void CheckKept(ReadOnlySpan<int> rows)
    {
        if (rows.IsEmpty)
        {
            throw new ArgumentException("at least one row must be kept", nameof(rows));
        }
    }

    /// <summary>Disposes the (possibly partly allocated) per-layer tensors of a cache.</summary>
    public static void Dispose(Tensor?[] first, Tensor?[] second)
    {
        foreach (var t in first)
        {
            t?.Dispose();
        }
        foreach (var t in second)
        {
            t?.Dispose();
        }
    }
}

/// <summary>A set of activation buffers reused from step to step, disposed together.</summary>
internal abstract class TensorBuffers : IDisposable
{
    private readonly List<Tensor> _all = [];

    protected Tensor Add(Tensor t)
    {
        _all.Add(t);
        return t;
    }

    public void Dispose()
    {
        foreach (var t in _all)
        {
            t.Dispose();
        }
        _all.Clear();
    }
}
