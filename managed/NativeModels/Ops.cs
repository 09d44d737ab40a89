using NativeModels.Interop;

namespace NativeModels;

/// <summary>
/// The operators of the native library. Each runs on the device of its output tensor (or, when the
/// output is allocated here, of its first input); every tensor must belong to that device, which the
/// native library checks (<see cref="DeviceMismatchException"/>). Shape and dtype rules are the C ABI's
/// (nativemodels.h). Where an output is optional, null allocates one on the input's device; the output
/// is returned either way.
/// </summary>
public static unsafe partial class Ops
{
    /// <summary>c = alpha * op(a) @ op(b) + beta * c (+ bias over rows); fp32 accumulation.</summary>
    public static Tensor Gemm(Tensor a, Tensor b, Tensor c, Tensor? bias = null,
        bool transposeA = false, bool transposeB = false, float alpha = 1f, float beta = 0f)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(c);
        using var context = HandleLease.ContextOf(c.Handle);
        using var pa = new HandleLease(a.Handle);
        using var pb = new HandleLease(b.Handle);
        using var pbias = new HandleLease(bias?.Handle);
        using var pc = new HandleLease(c.Handle);
        NativeStatus.Check(NativeMethods.nm_gemm(context.Pointer, pa.Pointer, pb.Pointer, pbias.Pointer, pc.Pointer,
            transposeA ? 1 : 0, transposeB ? 1 : 0, alpha, beta));
        return c;
    }

    /// <summary>Matrix product a @ b into a new tensor of a's dtype (a [..., K], b [K, N] → [..., N]).</summary>
    public static Tensor MatMul(Tensor a, Tensor b, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        long[] shape = a.Shape;
        long[] bShape = b.Shape;
        shape[^1] = bShape[^1];
        return WithOutput(Tensor.Zeros(a.Device, a.DType, shape), owned: true, c => Gemm(a, b, c, bias));
    }

    /// <summary>output[i, :] = weight[ids[i], :]; weight [V, H], output [ids.Length, H] by default.</summary>
    public static Tensor Embedding(Tensor weight, ReadOnlySpan<int> ids, Tensor? output = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        long[] weightShape = weight.Shape;
        var result = output ?? Tensor.Zeros(weight.Device, weight.DType, ids.Length, weightShape[^1]);
        try
        {
            using var context = HandleLease.ContextOf(result.Handle);
            using var pw = new HandleLease(weight.Handle);
            using var pout = new HandleLease(result.Handle);
            fixed (int* pids = ids)
            {
                NativeStatus.Check(NativeMethods.nm_embedding(context.Pointer, pw.Pointer, pids, ids.Length, pout.Pointer));
            }
            return result;
        }
        catch when (output is null)
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>RMSNorm over the last dim: x / sqrt(mean(x²) + eps) * w, with w = weight, or 1 + weight when
    /// <paramref name="zeroCentered"/>; no scaling when weight is null. In place allowed.</summary>
    public static Tensor RmsNorm(Tensor x, Tensor? weight, float eps = 1e-6f, bool zeroCentered = false, Tensor? output = null) =>
        WithOutput(x, output, o =>
        {
            using var context = HandleLease.ContextOf(o.Handle);
            using var px = new HandleLease(x.Handle);
            using var pw = new HandleLease(weight?.Handle);
            using var pout = new HandleLease(o.Handle);
            NativeStatus.Check(NativeMethods.nm_rmsnorm(context.Pointer, px.Pointer, pw.Pointer, pout.Pointer, eps, zeroCentered ? 1 : 0));
        });

    /// <summary>Gated RMSNorm: weight * rmsnorm(x) * silu(z), or weight * rmsnorm(x * silu(z)) when
    /// <paramref name="gateBeforeNorm"/>; normalised over groups of <paramref name="groupSize"/> (0 = whole last dim).</summary>
    public static Tensor RmsNormGated(Tensor x, Tensor z, Tensor? weight, float eps = 1e-6f, long groupSize = 0,
        bool gateBeforeNorm = false, Tensor? output = null) =>
        WithOutput(x, output, o =>
        {
            ArgumentNullException.ThrowIfNull(z);
            using var context = HandleLease.ContextOf(o.Handle);
            using var px = new HandleLease(x.Handle);
            using var pz = new HandleLease(z.Handle);
            using var pw = new HandleLease(weight?.Handle);
            using var pout = new HandleLease(o.Handle);
            NativeStatus.Check(NativeMethods.nm_rmsnorm_gated(context.Pointer, px.Pointer, pz.Pointer, pw.Pointer, pout.Pointer,
                eps, groupSize, gateBeforeNorm ? 1 : 0));
        });

    /// <summary>x * sigmoid(x). In place allowed.</summary>
    public static Tensor Silu(Tensor x, Tensor? output = null) =>
        WithOutput(x, output, o => Unary(o, x, static (c, i, r) => NativeMethods.nm_silu(c, i, r)));

    /// <summary>GELU, exact (erf) or with the tanh approximation. In place allowed.</summary>
    public static Tensor Gelu(Tensor x, bool tanhApproximation = false, Tensor? output = null) =>
        WithOutput(x, output, o =>
        {
            using var context = HandleLease.ContextOf(o.Handle);
            using var px = new HandleLease(x.Handle);
            using var pout = new HandleLease(o.Handle);
            NativeStatus.Check(NativeMethods.nm_gelu(context.Pointer, px.Pointer, pout.Pointer, tanhApproximation ? 1 : 0));
        });

    /// <summary>silu(gate) * up. With <paramref name="up"/> null, gate is [..., 2F] packing gate then up,
    /// and the output is [..., F].</summary>
    public static Tensor SwiGlu(Tensor gate, Tensor? up, Tensor? output = null)
    {
        ArgumentNullException.ThrowIfNull(gate);
        Tensor result;
        if (output is not null)
        {
            result = output;
        }
        else
        {
            long[] shape = gate.Shape;
            if (up is null)
            {
                shape[^1] /= 2;
            }
            result = Tensor.Zeros(gate.Device, gate.DType, shape);
        }
        return WithOutput(result, owned: output is null, o =>
        {
            using var context = HandleLease.ContextOf(o.Handle);
            using var pg = new HandleLease(gate.Handle);
            using var pu = new HandleLease(up?.Handle);
            using var pout = new HandleLease(o.Handle);
            NativeStatus.Check(NativeMethods.nm_swiglu(context.Pointer, pg.Pointer, pu.Pointer, pout.Pointer));
        });
    }

    /// <summary>Softmax over the last dim of scale * x. In place allowed.</summary>
    public static Tensor Softmax(Tensor x, float scale = 1f, Tensor? output = null) =>
        WithOutput(x, output, o =>
        {
            using var context = HandleLease.ContextOf(o.Handle);
            using var px = new HandleLease(x.Handle);
            using var pout = new HandleLease(o.Handle);
            NativeStatus.Check(NativeMethods.nm_softmax(context.Pointer, px.Pointer, pout.Pointer, scale));
        });

    /// <summary>a + b; b has a's shape, a suffix of it, or one element. In place allowed (output = a).</summary>
    public static Tensor Add(Tensor a, Tensor b, Tensor? output = null) =>
        WithOutput(a, output, o => Binary(o, a, b, static (c, x, y, r) => NativeMethods.nm_add(c, x, y, r)));

    /// <summary>a * b elementwise, broadcasting like <see cref="Add"/>.</summary>
    public static Tensor Mul(Tensor a, Tensor b, Tensor? output = null) =>
        WithOutput(a, output, o => Binary(o, a, b, static (c, x, y, r) => NativeMethods.nm_mul(c, x, y, r)));

    /// <summary>alpha * x. In place allowed.</summary>
    public static Tensor Scale(Tensor x, float alpha, Tensor? output = null) =>
        WithOutput(x, output, o =>
        {
            using var context = HandleLease.ContextOf(o.Handle);
            using var px = new HandleLease(x.Handle);
            using var pout = new HandleLease(o.Handle);
            NativeStatus.Check(NativeMethods.nm_scale(context.Pointer, px.Pointer, pout.Pointer, alpha));
        });

    /// <summary>x / sqrt(sum(x²) + eps) over the last dim. In place allowed.</summary>
    public static Tensor L2Norm(Tensor x, float eps = 1e-6f, Tensor? output = null) =>
        WithOutput(x, output, o =>
        {
            using var context = HandleLease.ContextOf(o.Handle);
            using var px = new HandleLease(x.Handle);
            using var pout = new HandleLease(o.Handle);
            NativeStatus.Check(NativeMethods.nm_l2norm(context.Pointer, px.Pointer, pout.Pointer, eps));
        });

    /// <summary>Rotary position embedding of x [..., heads, head_dim] with one position per token. In place allowed.</summary>
    public static Tensor Rope(Tensor x, ReadOnlySpan<int> positions, RopeOptions options, Tensor? output = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(options);
        var result = output ?? Tensor.ZerosLike(x);
        try
        {
            using var context = HandleLease.ContextOf(result.Handle);
            using var px = new HandleLease(x.Handle);
            using var pout = new HandleLease(result.Handle);
            using var pfreq = new HandleLease(options.InverseFrequencies?.Handle);
            var parameters = new NmRopeParams
            {
                RotaryDim = options.RotaryDim,
                Theta = options.Theta,
                AttentionScaling = options.AttentionScaling,
                Interleaved = options.Interleaved ? 1 : 0,
                InvFreq = pfreq.Pointer,
            };
            fixed (int* ppos = positions)
            {
                NativeStatus.Check(NativeMethods.nm_rope(context.Pointer, px.Pointer, ppos, positions.Length, pout.Pointer, &parameters));
            }
            return result;
        }
        catch when (output is null)
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Depthwise causal conv1d over a sequence, channels last: x [B, L, D], weight [D, K] (or [D, 1, K]),
    /// bias [D], initialState / finalState [B, D, K-1] (the inputs before x / the last K-1 inputs). Output [B, L, D].</summary>
    public static Tensor Conv1dCausal(Tensor x, Tensor weight, Tensor? bias = null, Tensor? initialState = null,
        Tensor? finalState = null, Activation activation = Activation.None, Tensor? output = null) =>
        WithOutput(x, output, o =>
        {
            ArgumentNullException.ThrowIfNull(weight);
            using var context = HandleLease.ContextOf(o.Handle);
            using var px = new HandleLease(x.Handle);
            using var pw = new HandleLease(weight.Handle);
            using var pb = new HandleLease(bias?.Handle);
            using var pinit = new HandleLease(initialState?.Handle);
            using var pout = new HandleLease(o.Handle);
            using var pfinal = new HandleLease(finalState?.Handle);
            NativeStatus.Check(NativeMethods.nm_conv1d_causal(context.Pointer, px.Pointer, pw.Pointer, pb.Pointer, pinit.Pointer,
                pout.Pointer, pfinal.Pointer, (NmActivation)activation));
        });

    /// <summary>One decoding step of the causal conv1d: x [B, D]; convState [B, D, K-1] holds the previous K-1
    /// inputs and is rolled left with x appended. Output [B, D].</summary>
    public static Tensor Conv1dUpdate(Tensor x, Tensor convState, Tensor weight, Tensor? bias = null,
        Activation activation = Activation.None, Tensor? output = null) =>
        WithOutput(x, output, o =>
        {
            ArgumentNullException.ThrowIfNull(convState);
            ArgumentNullException.ThrowIfNull(weight);
            using var context = HandleLease.ContextOf(o.Handle);
            using var px = new HandleLease(x.Handle);
            using var pstate = new HandleLease(convState.Handle);
            using var pw = new HandleLease(weight.Handle);
            using var pb = new HandleLease(bias?.Handle);
            using var pout = new HandleLease(o.Handle);
            NativeStatus.Check(NativeMethods.nm_conv1d_update(context.Pointer, px.Pointer, pstate.Pointer, pw.Pointer, pb.Pointer,
                pout.Pointer, (NmActivation)activation));
        });

    /// <summary>destination = source converted between float32 / float16 / bfloat16 (round to nearest even).</summary>
    public static Tensor Convert(Tensor source, Tensor destination)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        using var context = HandleLease.ContextOf(destination.Handle);
        using var psrc = new HandleLease(source.Handle);
        using var pdst = new HandleLease(destination.Handle);
        NativeStatus.Check(NativeMethods.nm_convert(context.Pointer, psrc.Pointer, pdst.Pointer));
        return destination;
    }

    /// <summary>source converted into a new tensor of <paramref name="dtype"/> with the same shape.</summary>
    public static Tensor Convert(Tensor source, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(source);
        return WithOutput(Tensor.ZerosLike(source, dtype), owned: true, o => Convert(source, o));
    }

    /// <summary>Draws one token per row of logits ([V] or [B, V]). Same logits, options, seed and step give the
    /// same tokens on every backend (docs/sampling.md). Synchronous.</summary>
    public static int[] Sample(Tensor logits, SamplingOptions options, ulong seed = 0, ulong step = 0)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(options);
        long[] shape = logits.Shape;
        long rows = shape.Length <= 1 ? 1 : shape[..^1].Aggregate(1L, (p, d) => p * d);
        var tokens = new int[rows];
        var parameters = new NmSamplingParams { Temperature = options.Temperature, TopK = options.TopK, TopP = options.TopP };
        using var context = HandleLease.ContextOf(logits.Handle);
        using var pl = new HandleLease(logits.Handle);
        fixed (int* ptokens = tokens)
        {
            NativeStatus.Check(NativeMethods.nm_sample(context.Pointer, pl.Pointer, &parameters, seed, step, ptokens, tokens.Length));
        }
        return tokens;
    }

    private delegate int UnaryCall(IntPtr context, IntPtr x, IntPtr output);

    private delegate int BinaryCall(IntPtr context, IntPtr a, IntPtr b, IntPtr output);

    private static void Unary(Tensor output, Tensor x, UnaryCall call)
    {
        using var context = HandleLease.ContextOf(output.Handle);
        using var px = new HandleLease(x.Handle);
        using var pout = new HandleLease(output.Handle);
        NativeStatus.Check(call(context.Pointer, px.Pointer, pout.Pointer));
    }

    private static void Binary(Tensor output, Tensor a, Tensor b, BinaryCall call)
    {
        ArgumentNullException.ThrowIfNull(b);
        using var context = HandleLease.ContextOf(output.Handle);
        using var pa = new HandleLease(a.Handle);
        using var pb = new HandleLease(b.Handle);
        using var pout = new HandleLease(output.Handle);
        NativeStatus.Check(call(context.Pointer, pa.Pointer, pb.Pointer, pout.Pointer));
    }

    // Runs `run` on `output`, or on a new tensor shaped like `like` when output is null; a tensor
    // allocated here is disposed again if the operator fails.
    private static Tensor WithOutput(Tensor like, Tensor? output, Action<Tensor> run)
    {
        ArgumentNullException.ThrowIfNull(like);
        return output is not null ? WithOutput(output, owned: false, run) : WithOutput(Tensor.ZerosLike(like), owned: true, run);
    }

    private static Tensor WithOutput(Tensor output, bool owned, Action<Tensor> run)
    {
        try
        {
            run(output);
            return output;
        }
        catch when (owned)
        {
            output.Dispose();
            throw;
        }
    }
}
