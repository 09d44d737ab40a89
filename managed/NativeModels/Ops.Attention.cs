using NativeModels.Interop;

namespace NativeModels;

/// <summary>Flash-style attention and the KV cache, token-major. See nativemodels.h and docs/attention.md.</summary>
public static unsafe partial class Ops
{
    /// <summary>
    /// Attention over a batch of variable-length sequences packed along tokens: q [Tq, Hq, Dh]; k, v [Tk, Hkv, Dh]
    /// with Hkv dividing Hq (GQA); the output (allocated like q when null) is [Tq, Hq, Dh] and may be q.
    /// <paramref name="cuSeqlensQ"/> / <paramref name="cuSeqlensK"/> hold batch + 1 offsets (first 0, last Tq / Tk);
    /// both null means one sequence. <paramref name="lse"/>: optional float32 [Hq, Tq] receiving the log-sum-exp of the
    /// scaled scores. Fully masked queries get 0 and lse = -inf.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, int[]? cuSeqlensQ = null, int[]? cuSeqlensK = null,
        AttentionOptions? options = null, Tensor? output = null, Tensor? lse = null)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        if ((cuSeqlensQ is null) != (cuSeqlensK is null))
        {
            throw new ArgumentException("cuSeqlensQ and cuSeqlensK must both be given or both be null");
        }
        int batch = 1;
        if (cuSeqlensQ is not null)
        {
            if (cuSeqlensQ.Length < 2 || cuSeqlensQ.Length != cuSeqlensK!.Length)
            {
                throw new ArgumentException(
                    $"cuSeqlensQ and cuSeqlensK need batch + 1 >= 2 entries each, got {cuSeqlensQ.Length} and {cuSeqlensK!.Length}");
            }
            batch = cuSeqlensQ.Length - 1;
        }
        var nativeOptions = Native(options);
        return WithOutput(q, output, o =>
        {
            var parameters = nativeOptions;
            using var context = HandleLease.ContextOf(o.Handle);
            using var pq = new HandleLease(q.Handle);
            using var pk = new HandleLease(k.Handle);
            using var pv = new HandleLease(v.Handle);
            using var pout = new HandleLease(o.Handle);
            using var plse = new HandleLease(lse?.Handle);
            fixed (int* cq = cuSeqlensQ)
            fixed (int* ck = cuSeqlensK)
            {
                NativeStatus.Check(NativeMethods.nm_attention(context.Pointer, pq.Pointer, pk.Pointer, pv.Pointer, cq, ck, batch,
                    pout.Pointer, plse.Pointer, &parameters));
            }
        });
    }

    /// <summary>
    /// Writes new keys and values into a preallocated cache: <paramref name="kCache"/>, <paramref name="vCache"/>
    /// [slots, capacity, Hkv, Dh]; <paramref name="k"/>, <paramref name="v"/> [count, Hkv, Dh] in the cache's dtype;
    /// row i goes to cache[slots[i], positions[i]].
    /// </summary>
    public static void KvCacheAppend(Tensor kCache, Tensor vCache, Tensor k, Tensor v, ReadOnlySpan<int> slots, ReadOnlySpan<int> positions)
    {
        ArgumentNullException.ThrowIfNull(kCache);
        ArgumentNullException.ThrowIfNull(vCache);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        if (slots.Length != positions.Length)
        {
            throw new ArgumentException($"one slot per position is needed: {slots.Length} slots, {positions.Length} positions", nameof(positions));
        }
        using var context = HandleLease.ContextOf(kCache.Handle);
        using var pkc = new HandleLease(kCache.Handle);
        using var pvc = new HandleLease(vCache.Handle);
        using var pk = new HandleLease(k.Handle);
        using var pv = new HandleLease(v.Handle);
        fixed (int* ps = slots)
        fixed (int* pp = positions)
        {
            NativeStatus.Check(NativeMethods.nm_kv_cache_append(context.Pointer, pkc.Pointer, pvc.Pointer, pk.Pointer, pv.Pointer,
                ps, pp, slots.Length));
        }
    }

    /// <summary>
    /// Decode attention against the cache (split-KV flash-decoding). q and the output (allocated like q when null) are
    /// [batch * queries, Hq, Dh]: sequence b's <paramref name="queries"/> newest tokens, whose keys are already in the
    /// cache; it lives in slot slots[b] and has cacheLens[b] &gt;= queries valid positions. Masking is that of
    /// <see cref="Attention"/> with Lq = queries and Lk = cacheLens[b].
    /// </summary>
    public static Tensor AttentionDecode(Tensor q, Tensor kCache, Tensor vCache, ReadOnlySpan<int> slots, ReadOnlySpan<int> cacheLens,
        int queries = 1, AttentionOptions? options = null, Tensor? output = null)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(kCache);
        ArgumentNullException.ThrowIfNull(vCache);
        if (slots.Length != cacheLens.Length)
        {
            throw new ArgumentException($"one cache length per slot is needed: {slots.Length} slots, {cacheLens.Length} lengths", nameof(cacheLens));
        }
        var nativeOptions = Native(options);
        int[] slotArray = slots.ToArray();
        int[] lenArray = cacheLens.ToArray();
        return WithOutput(q, output, o =>
        {
            var parameters = nativeOptions;
            using var context = HandleLease.ContextOf(o.Handle);
            using var pq = new HandleLease(q.Handle);
            using var pkc = new HandleLease(kCache.Handle);
            using var pvc = new HandleLease(vCache.Handle);
            using var pout = new HandleLease(o.Handle);
            fixed (int* ps = slotArray)
            fixed (int* pl = lenArray)
            {
                NativeStatus.Check(NativeMethods.nm_attention_decode(context.Pointer, pq.Pointer, pkc.Pointer, pvc.Pointer, ps, pl,
                    slotArray.Length, queries, pout.Pointer, &parameters));
            }
        });
    }

    private static NmAttentionParams Native(AttentionOptions? options)
    {
        options ??= new AttentionOptions();
        return new NmAttentionParams
        {
            SoftmaxScale = options.SoftmaxScale,
            Causal = options.Causal ? 1 : 0,
            WindowLeft = options.WindowLeft,
            WindowRight = options.WindowRight,
        };
    }
}
