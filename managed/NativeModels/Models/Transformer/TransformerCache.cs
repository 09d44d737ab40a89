using System.Globalization;
using NativeModels.Generation;

namespace NativeModels.Models.Transformer;

/// <summary>
/// The KV cache of a batch of transformer sequences. Per layer a K and a V tensor [slots, capacity, Hkv, Dh] in the
/// compute dtype, preallocated; new keys and values are written in place by nm_kv_cache_append. Row r of the batch
/// lives in slot <c>SlotOf(r)</c>: dropping finished rows only remaps rows to slots (no copy). A sequence that
/// outgrows the capacity makes the cache reallocate with a larger capacity (copying what it holds).
/// </summary>
public sealed class TransformerCache : IModelOwnedCache
{
    private readonly TransformerModel _model;
    private readonly Tensor[] _k;
    private readonly Tensor[] _v;
    private int[] _slotOfRow;
    private long[] _lengths; // per slot
    private int _capacity;
    private readonly int _slots;
    private Activations? _decode;
    private bool _disposed;

    internal TransformerCache(TransformerModel model, int batchSize, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _model = model;
        _slots = batchSize;
        _capacity = capacity;
        var c = model.Config;
        _k = new Tensor[c.NumHiddenLayers];
        _v = new Tensor[c.NumHiddenLayers];
        try
        {
            Allocate(_k, _v, capacity);
        }
        catch
        {
            DisposeTensors(_k, _v);
            throw;
        }
        _slotOfRow = Enumerable.Range(0, batchSize).ToArray();
        _lengths = new long[batchSize];
    }

    internal TransformerModel Model => _model;

    ICausalLanguageModel IModelOwnedCache.Model => _model;

    public int BatchSize => _slotOfRow.Length;

    /// <summary>Sequence slots allocated (the batch size the cache was created with).</summary>
    public int Slots => _slots;

    /// <summary>Positions per slot currently allocated.</summary>
    public int Capacity => _capacity;

    /// <summary>Bytes one token of one sequence takes: 2 (K and V) * layers * Hkv * Dh * element size.</summary>
    public long BytesPerToken => _model.KvBytesPerToken;

    /// <summary>Bytes held by the cache's K and V tensors: slots * capacity * <see cref="BytesPerToken"/>.</summary>
    public long Bytes => (long)_slots * _capacity * BytesPerToken;

    /// <summary>Bytes reserved per sequence slot: capacity * <see cref="BytesPerToken"/>.</summary>
    public long BytesPerSlot => _capacity * BytesPerToken;

    /// <summary>The K cache of <paramref name="layer"/>, [slots, capacity, Hkv, Dh].</summary>
    public Tensor KeyCache(int layer) => Live()._k[layer];

    /// <summary>The V cache of <paramref name="layer"/>, [slots, capacity, Hkv, Dh].</summary>
    public Tensor ValueCache(int layer) => Live()._v[layer];

    /// <summary>The slot that holds row <paramref name="row"/>.</summary>
    public int SlotOf(int row)
    {
        CheckRow(row);
        return _slotOfRow[row];
    }

    public long TokenCount(int row)
    {
        CheckRow(row);
        return _lengths[_slotOfRow[row]];
    }

    internal long SlotLength(int slot) => _lengths[slot];

    internal void AddTokens(int row, long count) => _lengths[_slotOfRow[row]] += count;

    /// <summary>Makes sure every slot can hold <paramref name="positions"/> positions, reallocating when needed.</summary>
    internal void EnsureCapacity(long positions)
    {
        Live();
        if (positions <= _capacity)
        {
            return;
        }
        if (positions > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(positions), positions, "sequence too long for the KV cache");
        }
        int grown = (int)Math.Min(int.MaxValue, Math.Max(positions, 2L * _capacity));
        var c = _model.Config;
        var k = new Tensor[c.NumHiddenLayers];
        var v = new Tensor[c.NumHiddenLayers];
        try
        {
            Allocate(k, v, grown);
            long rowWidth = (long)c.NumKeyValueHeads * c.HeadDim;
            for (int l = 0; l < k.Length; l++)
            {
                foreach (var (from, to) in new[] { (_k[l], k[l]), (_v[l], v[l]) })
                {
                    from.Reshape((long)_slots * _capacity, rowWidth);
                    to.Reshape((long)_slots * grown, rowWidth);
                    try
                    {
                        for (int s = 0; s < _slots; s++)
                        {
                            if (_lengths[s] > 0)
                            {
                                TensorRows.Copy(from, (long)s * _capacity, to, (long)s * grown, _lengths[s]);
                            }
                        }
                    }
                    finally
                    {
                        from.Reshape(_slots, _capacity, c.NumKeyValueHeads, c.HeadDim);
                        to.Reshape(_slots, grown, c.NumKeyValueHeads, c.HeadDim);
                    }
                }
            }
        }
        catch
        {
            DisposeTensors(k, v);
            throw;
        }
        DisposeTensors(_k, _v);
        Array.Copy(k, _k, k.Length);
        Array.Copy(v, _v, v.Length);
        _capacity = grown;
    }

    public void ResetRow(int row)
    {
        CheckRow(row);
        _lengths[_slotOfRow[row]] = 0;
    }

    public void SelectRows(ReadOnlySpan<int> rows)
    {
        Live();
        CacheRows.CheckKept(rows);
        var slots = new int[rows.Length];
        var seen = new HashSet<int>();
        bool repeats = false;
        for (int i = 0; i < rows.Length; i++)
        {
            CheckRow(rows[i]);
            slots[i] = _slotOfRow[rows[i]];
            repeats |= !seen.Add(slots[i]);
        }
        if (repeats)
        {
            // Two rows would write into one slot: give every row its own slot by copying.
            if (rows.Length > _slots)
            {
                throw new ArgumentException($"the cache has {_slots} slots; it cannot hold {rows.Length} rows", nameof(rows));
            }
            var saved = new ISequenceState[rows.Length];
            for (int i = 0; i < rows.Length; i++)
            {
                saved[i] = SaveRow(rows[i]);
            }
            _slotOfRow = Enumerable.Range(0, rows.Length).ToArray();
            Array.Clear(_lengths);
            for (int i = 0; i < rows.Length; i++)
            {
                RestoreRow(i, (TransformerState)saved[i]);
            }
        }
        else
        {
            _slotOfRow = slots;
        }
        _decode?.Dispose();
        _decode = null;
    }

    /// <summary>A copy of row <paramref name="row"/>'s keys and values.</summary>
    public TransformerState SaveRow(int row)
    {
        CheckRow(row);
        int slot = _slotOfRow[row];
        long length = _lengths[slot];
        var keys = new byte[_k.Length][];
        var values = new byte[_v.Length][];
        var c = _model.Config;
        for (int l = 0; l < _k.Length; l++)
        {
            keys[l] = ReadPositions(_k[l], slot, length);
            values[l] = ReadPositions(_v[l], slot, length);
        }
        return new TransformerState(_model.StateShape, length, keys, values);
    }

    /// <summary>Replaces row <paramref name="row"/> with <paramref name="state"/>, which must come from a model of the
    /// same dimensions and compute dtype (<see cref="TransformerStateException"/> otherwise).</summary>
    public void RestoreRow(int row, TransformerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckRow(row);
        state.EnsureCompatible(_model.StateShape);
        EnsureCapacity(state.TokenCount);
        int slot = _slotOfRow[row];
        var c = _model.Config;
        for (int l = 0; l < _k.Length; l++)
        {
            WritePositions(_k[l], slot, state.KeyBytes(l));
            WritePositions(_v[l], slot, state.ValueBytes(l));
        }
        _lengths[slot] = state.TokenCount;
    }

    ISequenceState IGenerationCache.SaveRow(int row) => SaveRow(row);

    void IGenerationCache.RestoreRow(int row, ISequenceState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state is not TransformerState saved)
        {
            throw new TransformerStateException($"a {_model.ModelType} model cannot continue a {state.GetType().Name}");
        }
        RestoreRow(row, saved);
    }

    internal Activations DecodeActivations()
    {
        Live();
        return _decode ??= new Activations(_model, BatchSize);
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"TransformerCache({BatchSize} rows, {_slots} slots x {_capacity} positions, {Bytes} bytes)");

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _decode?.Dispose();
        DisposeTensors(_k, _v);
    }

    private byte[] ReadPositions(Tensor cache, int slot, long length)
    {
        var c = _model.Config;
        cache.Reshape((long)_slots * _capacity, (long)c.NumKeyValueHeads * c.HeadDim);
        try
        {
            return TensorRows.Read(cache, (long)slot * _capacity, length);
        }
        finally
        {
            cache.Reshape(_slots, _capacity, c.NumKeyValueHeads, c.HeadDim);
        }
    }

    private void WritePositions(Tensor cache, int slot, ReadOnlySpan<byte> bytes)
    {
        var c = _model.Config;
        cache.Reshape((long)_slots * _capacity, (long)c.NumKeyValueHeads * c.HeadDim);
        try
        {
            TensorRows.Write(cache, (long)slot * _capacity, bytes);
        }
        finally
        {
            cache.Reshape(_slots, _capacity, c.NumKeyValueHeads, c.HeadDim);
        }
    }

    private void Allocate(Tensor[] k, Tensor[] v, int capacity)
    {
        var c = _model.Config;
        for (int l = 0; l < k.Length; l++)
        {
            k[l] = Tensor.Zeros(_model.Device, _model.DType, _slots, capacity, c.NumKeyValueHeads, c.HeadDim);
            v[l] = Tensor.Zeros(_model.Device, _model.DType, _slots, capacity, c.NumKeyValueHeads, c.HeadDim);
        }
    }

    private static void DisposeTensors(Tensor[] k, Tensor[] v) => CacheRows.Dispose(k, v);

    private TransformerCache Live()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return this;
    }

    private void CheckRow(int row)
    {
        Live();
        CacheRows.Check(row, _slotOfRow.Length);
    }
}

/// <summary>Activation buffers for a forward over a fixed number of tokens, reused by decode steps.</summary>
internal sealed class Activations : TensorBuffers
{
    public Activations(TransformerModel model, long tokens)
    {
        var c = model.Config;
        DType dt = model.DType;
        Tokens = tokens;
        try
        {
            Hidden = Add(Tensor.Zeros(model.Device, dt, tokens, c.HiddenSize));
            Normed = Add(Tensor.Zeros(model.Device, dt, tokens, c.HiddenSize));
            Q = Add(Tensor.Zeros(model.Device, dt, tokens, c.NumAttentionHeads, c.HeadDim));
            K = Add(Tensor.Zeros(model.Device, dt, tokens, c.NumKeyValueHeads, c.HeadDim));
            V = Add(Tensor.Zeros(model.Device, dt, tokens, c.NumKeyValueHeads, c.HeadDim));
            Attn = Add(Tensor.Zeros(model.Device, dt, tokens, c.NumAttentionHeads, c.HeadDim));
            Out = Add(Tensor.Zeros(model.Device, dt, tokens, c.HiddenSize));
            Gate = Add(Tensor.Zeros(model.Device, dt, tokens, c.IntermediateSize));
            Up = Add(Tensor.Zeros(model.Device, dt, tokens, c.IntermediateSize));
            Act = Add(Tensor.Zeros(model.Device, dt, tokens, c.IntermediateSize));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public long Tokens { get; }
    public Tensor Hidden { get; } = null!;
    public Tensor Normed { get; } = null!;
    public Tensor Q { get; } = null!;
    public Tensor K { get; } = null!;
    public Tensor V { get; } = null!;
    public Tensor Attn { get; } = null!;
    public Tensor Out { get; } = null!;
    public Tensor Gate { get; } = null!;
    public Tensor Up { get; } = null!;
    public Tensor Act { get; } = null!;
}
