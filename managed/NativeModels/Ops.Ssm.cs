using NativeModels.Interop;

namespace NativeModels;

/// <summary>Selective state-space operators (Mamba-1), token-major. See nativemodels.h and docs/selective-scan.md.</summary>
public static unsafe partial class Ops
{
    /// <summary>
    /// Selective scan over a sequence: for every batch b, channel d and state n,
    /// dt = softplus?(delta[b,t,d] + DeltaBias[d]); h[n] = exp(dt * A[d,n]) * h[n] + dt * B[.., n] * u[b,t,d];
    /// y[b,t,d] = (sum_n C[.., n] * h[n] + DSkip[d] * u[b,t,d]) * silu?(z[b,t,d]).
    /// u, delta and the output are [B, L, D]; A is float32 [D, N]; B and C are [D, N] or [B, L, G, N];
    /// <paramref name="initialState"/> / <paramref name="finalState"/> are float32 [B, D, N] (null: zeros / not
    /// returned; they may be the same tensor). The output (allocated like u when null) may not alias an input.
    /// </summary>
    public static Tensor SelectiveScan(Tensor u, Tensor delta, Tensor a, Tensor b, Tensor c, SsmOptions? options = null,
        Tensor? initialState = null, Tensor? output = null, Tensor? finalState = null) =>
        WithOutput(u, output, o =>
        {
            ArgumentNullException.ThrowIfNull(delta);
            ArgumentNullException.ThrowIfNull(a);
            ArgumentNullException.ThrowIfNull(b);
            ArgumentNullException.ThrowIfNull(c);
            using var context = HandleLease.ContextOf(o.Handle);
            using var pu = new HandleLease(u.Handle);
            using var pdelta = new HandleLease(delta.Handle);
            using var pa = new HandleLease(a.Handle);
            using var pb = new HandleLease(b.Handle);
            using var pc = new HandleLease(c.Handle);
            using var pd = new HandleLease(options?.DSkip?.Handle);
            using var pz = new HandleLease(options?.Z?.Handle);
            using var pbias = new HandleLease(options?.DeltaBias?.Handle);
            using var pinit = new HandleLease(initialState?.Handle);
            using var pout = new HandleLease(o.Handle);
            using var pfinal = new HandleLease(finalState?.Handle);
            var native = new NmSsmOptions
            {
                DSkip = pd.Pointer,
                Z = pz.Pointer,
                DeltaBias = pbias.Pointer,
                DeltaSoftplus = options?.DeltaSoftplus == true ? 1 : 0,
            };
            NativeStatus.Check(NativeMethods.nm_selective_scan(context.Pointer, pu.Pointer, pdelta.Pointer, pa.Pointer,
                pb.Pointer, pc.Pointer, &native, pinit.Pointer, pout.Pointer, pfinal.Pointer));
        });

    /// <summary>
    /// One decoding step of the selective scan for a batch of states: <paramref name="state"/> float32 [B, D, N] is
    /// read and overwritten with the new state; x, dt and the output are [B, D] (options.Z [B, D] or null);
    /// A float32 [D, N]; B and C [B, G, N]. O(D * N) per sequence, whatever the context length.
    /// </summary>
    public static Tensor SelectiveStateUpdate(Tensor state, Tensor x, Tensor dt, Tensor a, Tensor b, Tensor c,
        SsmOptions? options = null, Tensor? output = null) =>
        WithOutput(x, output, o =>
        {
            ArgumentNullException.ThrowIfNull(state);
            ArgumentNullException.ThrowIfNull(dt);
            ArgumentNullException.ThrowIfNull(a);
            ArgumentNullException.ThrowIfNull(b);
            ArgumentNullException.ThrowIfNull(c);
            using var context = HandleLease.ContextOf(o.Handle);
            using var pstate = new HandleLease(state.Handle);
            using var px = new HandleLease(x.Handle);
            using var pdt = new HandleLease(dt.Handle);
            using var pa = new HandleLease(a.Handle);
            using var pb = new HandleLease(b.Handle);
            using var pc = new HandleLease(c.Handle);
            using var pd = new HandleLease(options?.DSkip?.Handle);
            using var pz = new HandleLease(options?.Z?.Handle);
            using var pbias = new HandleLease(options?.DeltaBias?.Handle);
            using var pout = new HandleLease(o.Handle);
            var native = new NmSsmOptions
            {
                DSkip = pd.Pointer,
                Z = pz.Pointer,
                DeltaBias = pbias.Pointer,
                DeltaSoftplus = options?.DeltaSoftplus == true ? 1 : 0,
            };
            NativeStatus.Check(NativeMethods.nm_selective_state_update(context.Pointer, pstate.Pointer, px.Pointer, pdt.Pointer,
                pa.Pointer, pb.Pointer, pc.Pointer, &native, pout.Pointer));
        });
}
