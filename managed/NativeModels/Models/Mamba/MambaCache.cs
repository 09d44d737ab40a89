using NativeModels.Generation;

namespace NativeModels.Models.Mamba;

/// <summary>
/// The recurrent state of a batch of Mamba sequences, one row each: per layer a convolution state [B, I, K-1] (compute
/// dtype) and an SSM state [B, I, N] (float32). Constant size whatever the sequence lengths.
/// </summary>
public sealed class MambaCache : IModelOwnedCache
{
    private readonly MambaModel _model;
    private Tensor[] _conv;
    private Tensor[] _ssm;
    private long[] _tokenCounts;
    private DecodeWorkspace? _workspace;
    private bool _disposed;

    internal MambaCache(MambaModel model, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        _model = model;
        var config = model.Config;
        _conv = new Tensor[config.NumHiddenLayers];
        _ssm = new Tensor[config.NumHiddenLayers];
        try
        {
            for (int l = 0; l < config.NumHiddenLayers; l++)
            {
                _conv[l] = Tensor.Zeros(model.Device, model.DType, batchSize, config.IntermediateSize, config.ConvKernel - 1);
                _ssm[l] = Tensor.Zeros(model.Device, DType.Float32, batchSize, config.IntermediateSize, config.StateSize);
            }
        }
        catch
        {
            DisposeTensors();
            throw;
        }
        _tokenCounts = new long[batchSize];
    }

    internal MambaModel Model => _model;

    ICausalLanguageModel IModelOwnedCache.Model => _model;

    public int BatchSize => _tokenCounts.Length;

    /// <summary>Conv state of <paramref name="layer"/>, [B, I, K-1].</summary>
    public Tensor ConvState(int layer) => Live()._conv[layer];

    /// <summary>SSM state of <paramref name="layer"/>, float32 [B, I, N].</summary>
    public Tensor SsmState(int layer) => Live()._ssm[layer];

    public long TokenCount(int row)
    {
        CheckRow(row);
        return _tokenCounts[row];
    }

    internal void AddTokens(int row, long count) => _tokenCounts[row] += count;

    public void ResetRow(int row)
    {
        CheckRow(row);
        for (int l = 0; l < _conv.Length; l++)
        {
            TensorRows.Zero(_conv[l], row, 1);
            TensorRows.Zero(_ssm[l], row, 1);
        }
        _tokenCounts[row] = 0;
    }

    public void SelectRows(ReadOnlySpan<int> rows)
    {
        Live();
        CacheRows.CheckKept(rows);
        foreach (int row in rows)
        {
            CheckRow(row);
        }
        var counts = new long[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            counts[i] = _tokenCounts[rows[i]];
        }
        for (int l = 0; l < _conv.Length; l++)
        {
            var conv = TensorRows.Gather(_conv[l], rows);
            _conv[l].Dispose();
            _conv[l] = conv;
            var ssm = TensorRows.Gather(_ssm[l], rows);
            _ssm[l].Dispose();
            _ssm[l] = ssm;
        }
        _tokenCounts = counts;
        _workspace?.Dispose();
        _workspace = null;
    }

    /// <summary>A copy of row <paramref name="row"/>'s state.</summary>
    public MambaState SaveRow(int row)
    {
        CheckRow(row);
        var conv = new byte[_conv.Length][];
        var ssm = new byte[_ssm.Length][];
        for (int l = 0; l < _conv.Length; l++)
        {
            conv[l] = TensorRows.Read(_conv[l], row, 1);
            ssm[l] = TensorRows.Read(_ssm[l], row, 1);
        }
        return new MambaState(_model.StateShape, _tokenCounts[row], conv, ssm);
    }

    /// <summary>Replaces row <paramref name="row"/> with <paramref name="state"/>, which must come from a model of the
    /// same dimensions and compute dtype (<see cref="MambaStateException"/> otherwise).</summary>
    public void RestoreRow(int row, MambaState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        CheckRow(row);
        state.EnsureCompatible(_model.StateShape);
        for (int l = 0; l < _conv.Length; l++)
        {
            TensorRows.Write(_conv[l], row, state.ConvBytes(l));
            TensorRows.Write(_ssm[l], row, state.SsmBytes(l));
        }
        _tokenCounts[row] = state.TokenCount;
    }

    ISequenceState IGenerationCache.SaveRow(int row) => SaveRow(row);

    void IGenerationCache.RestoreRow(int row, ISequenceState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state is not MambaState mamba)
        {
            throw new MambaStateException($"a Mamba model cannot continue a {state.GetType().Name}");
        }
        RestoreRow(row, mamba);
    }

    internal DecodeWorkspace Workspace()
    {
        Live();
        return _workspace ??= new DecodeWorkspace(_model, BatchSize);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _workspace?.Dispose();
        DisposeTensors();
    }

    private void DisposeTensors() => CacheRows.Dispose(_conv, _ssm);

    private MambaCache Live()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return this;
    }

    private void CheckRow(int row)
    {
        Live();
        CacheRows.Check(row, _tokenCounts.Length);
    }
}

/// <summary>Activation buffers of a decode step for one batch size, reused from step to step.</summary>
internal sealed class DecodeWorkspace : TensorBuffers
{
    public DecodeWorkspace(MambaModel model, int batch)
    {
        var c = model.Config;
        DType dt = model.DType;
        try
        {
            Embedded = Add(Tensor.Zeros(model.Device, dt, batch, c.HiddenSize));
            Hidden = model.ResidualDType == dt ? Embedded : Add(Tensor.Zeros(model.Device, model.ResidualDType, batch, c.HiddenSize));
            Normed = Add(Tensor.Zeros(model.Device, dt, batch, c.HiddenSize));
            X = Add(Tensor.Zeros(model.Device, dt, batch, c.IntermediateSize));
            Z = Add(Tensor.Zeros(model.Device, dt, batch, c.IntermediateSize));
            XConv = Add(Tensor.Zeros(model.Device, dt, batch, c.IntermediateSize));
            DtLow = Add(Tensor.Zeros(model.Device, dt, batch, c.TimeStepRank));
            B = Add(Tensor.Zeros(model.Device, dt, batch, c.StateSize));
            C = Add(Tensor.Zeros(model.Device, dt, batch, c.StateSize));
            Dt = Add(Tensor.Zeros(model.Device, dt, batch, c.IntermediateSize));
            Y = Add(Tensor.Zeros(model.Device, dt, batch, c.IntermediateSize));
            MixerOut = Add(Tensor.Zeros(model.Device, dt, batch, c.HiddenSize));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public Tensor Embedded { get; } = null!;
    public Tensor Hidden { get; } = null!;
    public Tensor Normed { get; } = null!;
    public Tensor X { get; } = null!;
    public Tensor Z { get; } = null!;
    public Tensor XConv { get; } = null!;
    public Tensor DtLow { get; } = null!;
    public Tensor B { get; } = null!;
    public Tensor C { get; } = null!;
    public Tensor Dt { get; } = null!;
    public Tensor Y { get; } = null!;
    public Tensor MixerOut { get; } = null!;
}
