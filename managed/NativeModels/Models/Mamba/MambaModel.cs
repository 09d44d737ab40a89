using NativeModels.Generation;
using NativeModels.IO;

namespace NativeModels.Models.Mamba;

/// <summary>
/// Mamba-1 as Hugging Face's MambaForCausalLM defines it (state-spaces/mamba-*-hf checkpoints; the original
/// checkpoints' backbone.embedding.weight is accepted too). Weights are stored in the compute dtype, with the fused
/// in_proj and x_proj split at load so that every projection is one plain GEMM into a dense tensor; A = -exp(A_log),
/// D and the dt bias stay float32. Activations are token-major ([B, L, *]).
/// </summary>
public sealed class MambaModel : ICausalLanguageModel
{
    private readonly MambaLayer[] _layers;
    private readonly CausalLanguageModelCore _core;
    private readonly SsmOptions _noOptions = new();

    private MambaModel(MambaConfig config, Device device, DType dtype, Tensor embedding, Tensor normF, Tensor lmHead, MambaLayer[] layers)
    {
        Config = config;
        _layers = layers;
        _core = new CausalLanguageModelCore(this, device, dtype, config.VocabSize, embedding, normF, lmHead, layers);
        ResidualDType = config.ResidualInFp32 ? DType.Float32 : dtype;
        StateShape = MambaStateShape.Of(config, dtype);
    }

    /// <summary>Loads config.json and the weights (model.safetensors or a sharded index) of <paramref name="modelDirectory"/>.</summary>
    public static MambaModel Load(string modelDirectory, Device device, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        var config = MambaConfig.Load(modelDirectory);
        using var store = WeightStore.Open(modelDirectory);
        return Load(store, config, device, dtype);
    }

    /// <summary>Loads the weights from <paramref name="store"/>, checking every shape against <paramref name="config"/>.</summary>
    public static MambaModel Load(WeightStore store, MambaConfig config, Device device, DType dtype = DType.Float32)
    {
        CausalLanguageModelCore.CheckLoadArguments(store, config, device, dtype);
        var loader = new Loader(config, device, dtype,
            new CheckpointWeights(store, device, dtype, config.SourcePath, config.ToString(), "Mamba"));
        return loader.Load();
    }

    public MambaConfig Config { get; }

    public string ModelType => MambaConfig.ModelTypeName;

    public Device Device => _core.Device;

    public DType DType => _core.DType;

    /// <summary>float32 when residual_in_fp32, else the compute dtype.</summary>
    public DType ResidualDType { get; }

    public int VocabSize => Config.VocabSize;

    /// <summary>What a <see cref="MambaState"/> of this model must match.</summary>
    public MambaStateShape StateShape { get; }

    /// <summary>An empty recurrent state for <paramref name="batchSize"/> sequences.</summary>
    public MambaCache CreateCache(int batchSize = 1)
    {
        _core.ThrowIfDisposed();
        return new MambaCache(this, batchSize);
    }

    IGenerationCache ICausalLanguageModel.CreateCache(int batchSize) => CreateCache(batchSize);

    /// <summary>Parses a saved state and checks that it belongs to this model (<see cref="MambaStateException"/> otherwise).</summary>
    public MambaState ReadState(ReadOnlySpan<byte> bytes)
    {
        var state = MambaState.FromBytes(bytes);
        state.EnsureCompatible(StateShape);
        return state;
    }

    /// <summary>Float32 logits [T, V] of every position of <paramref name="tokens"/>, from an empty state.</summary>
    public Tensor Forward(ReadOnlySpan<int> tokens)
    {
        using var cache = CreateCache(1);
        return Prefill(cache, 0, tokens, allLogits: true);
    }

    public Tensor Prefill(IGenerationCache cache, int row, ReadOnlySpan<int> tokens, bool allLogits = false)
    {
        var mamba = _core.PrefillCache<MambaCache>(cache, row, tokens);
        var c = Config;
        long length = tokens.Length;

        using var embedded = Ops.Embedding(_core.Embedding, tokens);
        embedded.Reshape(1, length, c.HiddenSize);
        using var residual = ResidualDType == DType ? null : Ops.Convert(embedded, ResidualDType);
        Tensor hidden = residual ?? embedded;
        using var normed = Tensor.Zeros(Device, DType, 1, length, c.HiddenSize);
        using var x = Tensor.Zeros(Device, DType, 1, length, c.IntermediateSize);
        using var z = Tensor.Zeros(Device, DType, 1, length, c.IntermediateSize);
        using var xConv = Tensor.Zeros(Device, DType, 1, length, c.IntermediateSize);
        using var dtLow = Tensor.Zeros(Device, DType, 1, length, c.TimeStepRank);
        using var b = Tensor.Zeros(Device, DType, 1, length, c.StateSize);
        using var cMatrix = Tensor.Zeros(Device, DType, 1, length, c.StateSize);
        using var dt = Tensor.Zeros(Device, DType, 1, length, c.IntermediateSize);
        using var y = Tensor.Zeros(Device, DType, 1, length, c.IntermediateSize);
        using var mixerOut = Tensor.Zeros(Device, DType, 1, length, c.HiddenSize);

        bool direct = mamba.BatchSize == 1;
        for (int l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            // The states of this row, as [1, ...] tensors (the batch's own when it has one row).
            using var rowConv = direct ? null : Tensor.Zeros(Device, DType, 1, c.IntermediateSize, c.ConvKernel - 1);
            using var rowSsm = direct ? null : Tensor.Zeros(Device, DType.Float32, 1, c.IntermediateSize, c.StateSize);
            Tensor convState = rowConv ?? mamba.ConvState(l);
            Tensor ssmState = rowSsm ?? mamba.SsmState(l);
            if (!direct)
            {
                TensorRows.Copy(mamba.ConvState(l), row, convState, 0, 1);
                TensorRows.Copy(mamba.SsmState(l), row, ssmState, 0, 1);
            }

            Ops.RmsNorm(hidden, layer.Norm, c.LayerNormEpsilon, output: normed);
            Ops.Gemm(normed, layer.InProjX, x, layer.InProjXBias, transposeB: true);
            Ops.Gemm(normed, layer.InProjZ, z, layer.InProjZBias, transposeB: true);
            Ops.Conv1dCausal(x, layer.ConvWeight, layer.ConvBias, initialState: convState, finalState: convState,
                activation: Activation.Silu, output: xConv);
            Ops.Gemm(xConv, layer.XProjDt, dtLow, transposeB: true);
            b.Reshape(1, length, c.StateSize);
            cMatrix.Reshape(1, length, c.StateSize);
            Ops.Gemm(xConv, layer.XProjB, b, transposeB: true);
            Ops.Gemm(xConv, layer.XProjC, cMatrix, transposeB: true);
            Ops.Gemm(dtLow, layer.DtProj, dt, transposeB: true);
            b.Reshape(1, length, 1, c.StateSize);
            cMatrix.Reshape(1, length, 1, c.StateSize);
            Ops.SelectiveScan(xConv, dt, layer.A, b, cMatrix, layer.ScanOptions(z), initialState: ssmState, output: y,
                finalState: ssmState);
            Ops.Gemm(y, layer.OutProj, mixerOut, layer.OutProjBias, transposeB: true);
            Ops.Add(hidden, mixerOut, output: hidden);

            if (!direct)
            {
                TensorRows.Copy(convState, 0, mamba.ConvState(l), row, 1);
                TensorRows.Copy(ssmState, 0, mamba.SsmState(l), row, 1);
            }
        }
        mamba.AddTokens(row, length);

        Ops.RmsNorm(hidden, _core.FinalNorm, c.LayerNormEpsilon, output: normed);
        if (allLogits)
        {
            var logits = Tensor.Zeros(Device, DType.Float32, 1, length, c.VocabSize);
            try
            {
                Ops.Gemm(normed, _core.LmHead, logits, transposeB: true);
                return logits.Reshape(length, c.VocabSize);
            }
            catch
            {
                logits.Dispose();
                throw;
            }
        }
        normed.Reshape(length, c.HiddenSize);
        return _core.LastLogits(normed, length, c.HiddenSize);
    }

    public Tensor DecodeStep(IGenerationCache cache, ReadOnlySpan<int> tokens)
    {
        var mamba = _core.DecodeCache<MambaCache>(cache, tokens);
        var c = Config;
        int batch = mamba.BatchSize;
        var w = mamba.Workspace();

        Ops.Embedding(_core.Embedding, tokens, w.Embedded);
        if (!ReferenceEquals(w.Hidden, w.Embedded))
        {
            Ops.Convert(w.Embedded, w.Hidden);
        }
        for (int l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            Ops.RmsNorm(w.Hidden, layer.Norm, c.LayerNormEpsilon, output: w.Normed);
            Ops.Gemm(w.Normed, layer.InProjX, w.X, layer.InProjXBias, transposeB: true);
            Ops.Gemm(w.Normed, layer.InProjZ, w.Z, layer.InProjZBias, transposeB: true);
            Ops.Conv1dUpdate(w.X, mamba.ConvState(l), layer.ConvWeight, layer.ConvBias, Activation.Silu, w.XConv);
            Ops.Gemm(w.XConv, layer.XProjDt, w.DtLow, transposeB: true);
            w.B.Reshape(batch, c.StateSize);
            w.C.Reshape(batch, c.StateSize);
            Ops.Gemm(w.XConv, layer.XProjB, w.B, transposeB: true);
            Ops.Gemm(w.XConv, layer.XProjC, w.C, transposeB: true);
            Ops.Gemm(w.DtLow, layer.DtProj, w.Dt, transposeB: true);
            w.B.Reshape(batch, 1, c.StateSize);
            w.C.Reshape(batch, 1, c.StateSize);
            Ops.SelectiveStateUpdate(mamba.SsmState(l), w.XConv, w.Dt, layer.A, w.B, w.C, layer.ScanOptions(w.Z), w.Y);
            Ops.Gemm(w.Y, layer.OutProj, w.MixerOut, layer.OutProjBias, transposeB: true);
            Ops.Add(w.Hidden, w.MixerOut, output: w.Hidden);
        }
        for (int row = 0; row < batch; row++)
        {
            mamba.AddTokens(row, 1);
        }
        Ops.RmsNorm(w.Hidden, _core.FinalNorm, c.LayerNormEpsilon, output: w.Normed);
        return _core.Logits(w.Normed, batch);
    }

    public void Dispose() => _core.Dispose();

    public override string ToString() => _core.Describe(nameof(MambaModel), Config);

    /// <summary>The weights of one block.</summary>
    private sealed class MambaLayer : IDisposable
    {
        public required Tensor Norm { get; init; }
        public required Tensor InProjX { get; init; }
        public required Tensor InProjZ { get; init; }
        public Tensor? InProjXBias { get; init; }
        public Tensor? InProjZBias { get; init; }
        public required Tensor ConvWeight { get; init; }
        public Tensor? ConvBias { get; init; }
        public required Tensor XProjDt { get; init; }
        public required Tensor XProjB { get; init; }
        public required Tensor XProjC { get; init; }
        public required Tensor DtProj { get; init; }
        public Tensor? DtBias { get; init; }
        public required Tensor A { get; init; }
        public required Tensor D { get; init; }
        public required Tensor OutProj { get; init; }
        public Tensor? OutProjBias { get; init; }

        public SsmOptions ScanOptions(Tensor z) => new() { DSkip = D, Z = z, DeltaBias = DtBias, DeltaSoftplus = true };

        public void Dispose()
        {
            foreach (var t in new[] { Norm, InProjX, InProjZ, InProjXBias, InProjZBias, ConvWeight, ConvBias, XProjDt, XProjB,
                         XProjC, DtProj, DtBias, A, D, OutProj, OutProjBias })
            {
                t?.Dispose();
            }
        }
    }

    /// <summary>Reads and checks the weights; disposes whatever it loaded when something fails.</summary>
    private sealed class Loader(MambaConfig config, Device device, DType dtype, CheckpointWeights weights)
    {
        public MambaModel Load()
        {
            try
            {
                var c = ResolveBiases();
                string embeddingName = weights.Contains("backbone.embeddings.weight") ? "backbone.embeddings.weight"
                    : weights.Contains("backbone.embedding.weight") ? "backbone.embedding.weight"
                    : throw weights.Missing("backbone.embeddings.weight", "the token embeddings (backbone.embeddings.weight, or backbone.embedding.weight in original checkpoints)");
                var embedding = weights.Load(embeddingName, c.VocabSize, c.HiddenSize);
                var layers = new MambaLayer[c.NumHiddenLayers];
                for (int l = 0; l < layers.Length; l++)
                {
                    layers[l] = LoadLayer(c, l);
                }
                var normF = weights.Load("backbone.norm_f.weight", c.HiddenSize);
                var lmHead = CausalLanguageModelCore.LoadLmHead(weights, c.TieWordEmbeddings, embedding, c.VocabSize, c.HiddenSize);
                return new MambaModel(c, device, dtype, embedding, normF, lmHead, layers);
            }
            catch
            {
                weights.DisposeLoaded();
                throw;
            }
        }

        private MambaConfig ResolveBiases()
        {
            bool hasBias = weights.Contains("backbone.layers.0.mixer.in_proj.bias");
            bool hasConvBias = weights.Contains("backbone.layers.0.mixer.conv1d.bias");
            var c = config;
            if (!c.UseBiasGiven)
            {
                c = c with { UseBias = hasBias };
            }
            if (!c.UseConvBiasGiven)
            {
                c = c with { UseConvBias = hasConvBias };
            }
            return c;
        }

        private MambaLayer LoadLayer(MambaConfig c, int l)
        {
            string p = $"backbone.layers.{l}.";
            long h = c.HiddenSize, i = c.IntermediateSize, n = c.StateSize, k = c.ConvKernel, r = c.TimeStepRank;

            var norm = weights.Load(p + "norm.weight", h);

            string inProj = p + "mixer.in_proj.weight";
            weights.CheckShape(inProj, 2 * i, h);
            var inProjX = weights.LoadRows(inProj, 0, i);
            var inProjZ = weights.LoadRows(inProj, i, i);
            Tensor? inProjXBias = null, inProjZBias = null, outProjBias = null;
            if (c.UseBias)
            {
                float[] bias = weights.LoadFloats(p + "mixer.in_proj.bias", 2 * i);
                inProjXBias = weights.Upload(bias.AsSpan(0, (int)i), dtype);
                inProjZBias = weights.Upload(bias.AsSpan((int)i, (int)i), dtype);
            }

            var convWeight = weights.Load(p + "mixer.conv1d.weight", i, 1, k);
            var convBias = c.UseConvBias ? weights.Load(p + "mixer.conv1d.bias", i) : null;

            string xProj = p + "mixer.x_proj.weight";
            weights.CheckShape(xProj, r + 2 * n, i);
            var xProjDt = weights.LoadRows(xProj, 0, r);
            var xProjB = weights.LoadRows(xProj, r, n);
            var xProjC = weights.LoadRows(xProj, r + n, n);

            var dtProj = weights.Load(p + "mixer.dt_proj.weight", i, r);
            var dtBias = weights.Contains(p + "mixer.dt_proj.bias") ? weights.LoadAs(p + "mixer.dt_proj.bias", DType.Float32, i) : null;

            float[] aLog = weights.LoadFloats(p + "mixer.A_log", i, n);
            var a = new float[aLog.Length];
            for (int j = 0; j < a.Length; j++)
            {
                a[j] = -MathF.Exp(aLog[j]);
            }
            var aTensor = weights.Upload(a, DType.Float32, i, n);
            var d = weights.LoadAs(p + "mixer.D", DType.Float32, i);

            var outProj = weights.Load(p + "mixer.out_proj.weight", h, i);
            if (c.UseBias)
            {
                outProjBias = weights.Load(p + "mixer.out_proj.bias", h);
            }

            return new MambaLayer
            {
                Norm = norm,
                InProjX = inProjX,
                InProjZ = inProjZ,
                InProjXBias = inProjXBias,
                InProjZBias = inProjZBias,
                ConvWeight = convWeight,
                ConvBias = convBias,
                XProjDt = xProjDt,
                XProjB = xProjB,
                XProjC = xProjC,
                DtProj = dtProj,
                DtBias = dtBias,
                A = aTensor,
                D = d,
                OutProj = outProj,
                OutProjBias = outProjBias,
            };
        }
    }
}
