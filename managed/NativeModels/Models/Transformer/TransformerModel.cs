using NativeModels.Generation;
using NativeModels.IO;

namespace NativeModels.Models.Transformer;

/// <summary>
/// A dense decoder-only transformer as Hugging Face's LlamaForCausalLM and Qwen3ForCausalLM define it: token embeddings,
/// then per layer RMSNorm → q/k/v projections (→ per-head q/k RMSNorm for Qwen3) → NeoX rotary embedding → KV cache
/// append → causal grouped-query attention → o_proj → residual, RMSNorm → SwiGLU MLP → residual; final RMSNorm and the
/// LM head. Activations are token-major ([T, H], [T, heads, head_dim]); weights and the KV cache are in the compute
/// dtype, logits float32.
/// </summary>
public sealed class TransformerModel : ICausalLanguageModel
{
    private readonly TransformerLayer[] _layers;
    private readonly CausalLanguageModelCore _core;
    private readonly RopeOptions _rope;
    private readonly AttentionOptions _full;
    private readonly AttentionOptions _sliding;

    private TransformerModel(TransformerConfig config, Device device, DType dtype, Tensor embedding, Tensor norm, Tensor lmHead,
        Tensor invFreq, TransformerLayer[] layers)
    {
        Config = config;
        _layers = layers;
        _core = new CausalLanguageModelCore(this, device, dtype, config.VocabSize, embedding, norm, lmHead, layers, invFreq);
        _rope = new RopeOptions { Theta = config.RopeTheta, RotaryDim = config.RotaryDim, InverseFrequencies = invFreq };
        _full = AttentionOptions.CausalMask;
        _sliding = config.SlidingWindow is int w ? new AttentionOptions { Causal = true, WindowLeft = w - 1 } : _full;
        StateShape = TransformerStateShape.Of(config, dtype);
        KvBytesPerToken = 2L * config.NumHiddenLayers * config.NumKeyValueHeads * config.HeadDim * dtype.Size();
    }

    /// <summary>Loads config.json and the weights (model.safetensors or a sharded index) of <paramref name="modelDirectory"/>.</summary>
    public static TransformerModel Load(string modelDirectory, Device device, DType dtype = DType.Float32)
    {
        ArgumentNullException.ThrowIfNull(modelDirectory);
        var config = TransformerConfig.Load(modelDirectory);
        using var store = WeightStore.Open(modelDirectory);
        return Load(store, config, device, dtype);
    }

    /// <summary>Loads the weights from <paramref name="store"/>, checking every shape against <paramref name="config"/>.</summary>
    public static TransformerModel Load(WeightStore store, TransformerConfig config, Device device, DType dtype = DType.Float32)
    {
        CausalLanguageModelCore.CheckLoadArguments(store, config, device, dtype);
        return new Loader(config, device, dtype,
            new CheckpointWeights(store, device, dtype, config.SourcePath, config.ToString(), config.ModelType)).Load();
    }

    public TransformerConfig Config { get; }

    public string ModelType => Config.ModelType;

    public Device Device => _core.Device;

    public DType DType => _core.DType;

    public int VocabSize => Config.VocabSize;

    /// <summary>What a <see cref="TransformerState"/> of this model must match.</summary>
    public TransformerStateShape StateShape { get; }

    /// <summary>KV-cache bytes per token of one sequence: 2 * layers * Hkv * head_dim * element size.</summary>
    public long KvBytesPerToken { get; }

    /// <summary>Positions per sequence preallocated by <see cref="CreateCache(int)"/> when no size hint is given:
    /// min(max_position_embeddings, this). Default 4096. (The cache grows if a sequence goes past it.)</summary>
    public int DefaultCacheCapacity
    {
        get => _defaultCacheCapacity;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _defaultCacheCapacity = value;
        }
    }

    private int _defaultCacheCapacity = 4096;

    /// <summary>An empty KV cache for <paramref name="batchSize"/> sequences of min(max_position_embeddings,
    /// <see cref="DefaultCacheCapacity"/>) positions each.</summary>
    public TransformerCache CreateCache(int batchSize = 1) =>
        CreateCache(batchSize, Math.Min(Config.MaxPositionEmbeddings, DefaultCacheCapacity));

    /// <summary>An empty KV cache for <paramref name="batchSize"/> sequences of <paramref name="maxTokensPerSequence"/>
    /// positions each (bounded by max_position_embeddings; the cache grows if a sequence goes past it).</summary>
    public TransformerCache CreateCache(int batchSize, long maxTokensPerSequence)
    {
        _core.ThrowIfDisposed();
        int capacity = (int)Math.Clamp(maxTokensPerSequence, 1, Math.Max(1, Config.MaxPositionEmbeddings));
        return new TransformerCache(this, batchSize, capacity);
    }

    IGenerationCache ICausalLanguageModel.CreateCache(int batchSize) => CreateCache(batchSize);

    IGenerationCache ICausalLanguageModel.CreateCache(int batchSize, long maxTokensPerSequence) => CreateCache(batchSize, maxTokensPerSequence);

    /// <summary>Parses a saved state and checks that it belongs to this model.</summary>
    public TransformerState ReadState(ReadOnlySpan<byte> bytes)
    {
        var state = TransformerState.FromBytes(bytes);
        state.EnsureCompatible(StateShape);
        return state;
    }

    /// <summary>Float32 logits [T, V] of every position of <paramref name="tokens"/>, from an empty cache.</summary>
    public Tensor Forward(ReadOnlySpan<int> tokens)
    {
        using var cache = CreateCache(1, tokens.Length);
        return Prefill(cache, 0, tokens, allLogits: true);
    }

    public Tensor Prefill(IGenerationCache cache, int row, ReadOnlySpan<int> tokens, bool allLogits = false)
    {
        var kv = _core.PrefillCache<TransformerCache>(cache, row, tokens);
        int length = tokens.Length;
        long start = kv.TokenCount(row);
        CheckPositions(start + length);
        kv.EnsureCapacity(start + length);
        int slot = kv.SlotOf(row);
        var slots = new int[length];
        var positions = new int[length];
        for (int i = 0; i < length; i++)
        {
            slots[i] = slot;
            positions[i] = (int)start + i;
        }

        using var a = new Activations(this, length);
        Ops.Embedding(_core.Embedding, tokens, a.Hidden);
        Layers(kv, a, slots, positions, l =>
        {
            var options = Mask(l);
            if (start == 0)
            {
                // Empty cache: attention over the new keys themselves.
                Ops.Attention(a.Q, a.K, a.V, null, null, options, a.Attn);
            }
            else
            {
                // Continuing a sequence: the new queries are the last `length` of the cache's start + length positions.
                Ops.AttentionDecode(a.Q, kv.KeyCache(l), kv.ValueCache(l), [slot], [(int)(start + length)], length, options, a.Attn);
            }
        });
        kv.AddTokens(row, length);

        Ops.RmsNorm(a.Hidden, _core.FinalNorm, Config.RmsNormEps, output: a.Normed);
        if (allLogits)
        {
            return _core.Logits(a.Normed, length);
        }
        return _core.LastLogits(a.Normed, length, Config.HiddenSize);
    }

    public Tensor DecodeStep(IGenerationCache cache, ReadOnlySpan<int> tokens)
    {
        var kv = _core.DecodeCache<TransformerCache>(cache, tokens);
        int batch = kv.BatchSize;
        var slots = new int[batch];
        var positions = new int[batch];
        var lengths = new int[batch];
        long longest = 0;
        for (int r = 0; r < batch; r++)
        {
            slots[r] = kv.SlotOf(r);
            long position = kv.TokenCount(r);
            CheckPositions(position + 1);
            positions[r] = (int)position;
            lengths[r] = (int)position + 1;
            longest = Math.Max(longest, position + 1);
        }
        kv.EnsureCapacity(longest);
        var a = kv.DecodeActivations();
        Ops.Embedding(_core.Embedding, tokens, a.Hidden);
        Layers(kv, a, slots, positions, l =>
            Ops.AttentionDecode(a.Q, kv.KeyCache(l), kv.ValueCache(l), slots, lengths, 1, Mask(l), a.Attn));
        for (int r = 0; r < batch; r++)
        {
            kv.AddTokens(r, 1);
        }
        Ops.RmsNorm(a.Hidden, _core.FinalNorm, Config.RmsNormEps, output: a.Normed);
        return _core.Logits(a.Normed, batch);
    }

    public void Dispose() => _core.Dispose();

    public override string ToString() => _core.Describe(nameof(TransformerModel), Config);

    private AttentionOptions Mask(int layer) => Config.SlidingLayers.Count > layer && Config.SlidingLayers[layer] ? _sliding : _full;

    /// <summary>Every decoder layer over the tokens in <paramref name="a"/> (a.Hidden in, a.Hidden out).</summary>
    private void Layers(TransformerCache kv, Activations a, int[] slots, int[] positions, Action<int> attention)
    {
        var c = Config;
        long t = a.Tokens;
        long qWidth = (long)c.NumAttentionHeads * c.HeadDim, kvWidth = (long)c.NumKeyValueHeads * c.HeadDim;
        for (int l = 0; l < _layers.Length; l++)
        {
            var layer = _layers[l];
            Ops.RmsNorm(a.Hidden, layer.InputNorm, c.RmsNormEps, output: a.Normed);
            Project(a.Normed, layer.QProj, layer.QBias, a.Q, t, qWidth, c.NumAttentionHeads, c.HeadDim);
            Project(a.Normed, layer.KProj, layer.KBias, a.K, t, kvWidth, c.NumKeyValueHeads, c.HeadDim);
            Project(a.Normed, layer.VProj, layer.VBias, a.V, t, kvWidth, c.NumKeyValueHeads, c.HeadDim);
            if (layer.QNorm is not null && layer.KNorm is not null)
            {
                Ops.RmsNorm(a.Q, layer.QNorm, c.RmsNormEps, output: a.Q);
                Ops.RmsNorm(a.K, layer.KNorm, c.RmsNormEps, output: a.K);
            }
            Ops.Rope(a.Q, positions, _rope, a.Q);
            Ops.Rope(a.K, positions, _rope, a.K);
            Ops.KvCacheAppend(kv.KeyCache(l), kv.ValueCache(l), a.K, a.V, slots, positions);
            attention(l);

            a.Attn.Reshape(t, qWidth);
            try
            {
                Ops.Gemm(a.Attn, layer.OProj, a.Out, layer.OBias, transposeB: true);
            }
            finally
            {
                a.Attn.Reshape(t, c.NumAttentionHeads, c.HeadDim);
            }
            Ops.Add(a.Hidden, a.Out, output: a.Hidden);

            Ops.RmsNorm(a.Hidden, layer.PostNorm, c.RmsNormEps, output: a.Normed);
            Ops.Gemm(a.Normed, layer.GateProj, a.Gate, layer.GateBias, transposeB: true);
            Ops.Gemm(a.Normed, layer.UpProj, a.Up, layer.UpBias, transposeB: true);
            Ops.SwiGlu(a.Gate, a.Up, a.Act);
            Ops.Gemm(a.Act, layer.DownProj, a.Out, layer.DownBias, transposeB: true);
            Ops.Add(a.Hidden, a.Out, output: a.Hidden);
        }
    }

    private static void Project(Tensor x, Tensor weight, Tensor? bias, Tensor output, long tokens, long width, int heads, int headDim)
    {
        output.Reshape(tokens, width);
        try
        {
            Ops.Gemm(x, weight, output, bias, transposeB: true);
        }
        finally
        {
            output.Reshape(tokens, heads, headDim);
        }
    }

    private static void CheckPositions(long needed)
    {
        if (needed > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(needed), needed, "the sequence is longer than int32 positions allow");
        }
    }

    /// <summary>The weights of one decoder layer.</summary>
    private sealed class TransformerLayer : IDisposable
    {
        public required Tensor InputNorm { get; init; }
        public required Tensor QProj { get; init; }
        public required Tensor KProj { get; init; }
        public required Tensor VProj { get; init; }
        public required Tensor OProj { get; init; }
        public Tensor? QBias { get; init; }
        public Tensor? KBias { get; init; }
        public Tensor? VBias { get; init; }
        public Tensor? OBias { get; init; }
        public Tensor? QNorm { get; init; }
        public Tensor? KNorm { get; init; }
        public required Tensor PostNorm { get; init; }
        public required Tensor GateProj { get; init; }
        public required Tensor UpProj { get; init; }
        public required Tensor DownProj { get; init; }
        public Tensor? GateBias { get; init; }
        public Tensor? UpBias { get; init; }
        public Tensor? DownBias { get; init; }

        public void Dispose()
        {
            foreach (var t in new[] { InputNorm, QProj, KProj, VProj, OProj, QBias, KBias, VBias, OBias, QNorm, KNorm, PostNorm,
                         GateProj, UpProj, DownProj, GateBias, UpBias, DownBias })
            {
                t?.Dispose();
            }
        }
    }

    /// <summary>Reads and checks the weights; disposes whatever it loaded when something fails.</summary>
    private sealed class Loader(TransformerConfig config, Device device, DType dtype, CheckpointWeights weights)
    {
        public TransformerModel Load()
        {
            try
            {
                var c = config;
                var embedding = weights.Load("model.embed_tokens.weight", c.VocabSize, c.HiddenSize);
                var layers = new TransformerLayer[c.NumHiddenLayers];
                for (int l = 0; l < layers.Length; l++)
                {
                    layers[l] = LoadLayer(c, l);
                }
                var norm = weights.Load("model.norm.weight", c.HiddenSize);
                var lmHead = CausalLanguageModelCore.LoadLmHead(weights, c.TieWordEmbeddings, embedding, c.VocabSize, c.HiddenSize);
                var invFreq = weights.Track(Tensor.FromArray(device, c.InverseFrequencies(), c.RotaryDim / 2));
                return new TransformerModel(c, device, dtype, embedding, norm, lmHead, invFreq, layers);
            }
            catch
            {
                weights.DisposeLoaded();
                throw;
            }
        }

        private TransformerLayer LoadLayer(TransformerConfig c, int l)
        {
            string p = $"model.layers.{l}.";
            long h = c.HiddenSize, i = c.IntermediateSize, q = (long)c.NumAttentionHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
            string a = p + "self_attn.", m = p + "mlp.";
            return new TransformerLayer
            {
                InputNorm = weights.Load(p + "input_layernorm.weight", h),
                QProj = weights.Load(a + "q_proj.weight", q, h),
                KProj = weights.Load(a + "k_proj.weight", kv, h),
                VProj = weights.Load(a + "v_proj.weight", kv, h),
                OProj = weights.Load(a + "o_proj.weight", h, q),
                QBias = c.AttentionBias ? weights.Load(a + "q_proj.bias", q) : null,
                KBias = c.AttentionBias ? weights.Load(a + "k_proj.bias", kv) : null,
                VBias = c.AttentionBias ? weights.Load(a + "v_proj.bias", kv) : null,
                OBias = c.AttentionBias ? weights.Load(a + "o_proj.bias", h) : null,
                QNorm = c.QkNorm ? weights.Load(a + "q_norm.weight", c.HeadDim) : null,
                KNorm = c.QkNorm ? weights.Load(a + "k_norm.weight", c.HeadDim) : null,
                PostNorm = weights.Load(p + "post_attention_layernorm.weight", h),
                GateProj = weights.Load(m + "gate_proj.weight", i, h),
                UpProj = weights.Load(m + "up_proj.weight", i, h),
                DownProj = weights.Load(m + "down_proj.weight", h, i),
                GateBias = c.MlpBias ? weights.Load(m + "gate_proj.bias", i) : null,
                UpBias = c.MlpBias ? weights.Load(m + "up_proj.bias", i) : null,
                DownBias = c.MlpBias ? weights.Load(m + "down_proj.bias", h) : null,
            };
        }
    }
}
