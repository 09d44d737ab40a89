using System.Runtime.InteropServices;

namespace NativeModels.Interop;

/// <summary>
/// One declaration per NM_API function of nativemodels.h, same names, same order.
/// Handles (nm_context*, nm_tensor*) are raw pointers here: <see cref="ContextHandle"/> and
/// <see cref="TensorHandle"/> own them, and callers keep those alive for the call.
/// Functions returning nm_status return <see cref="int"/>; pass it to <see cref="NativeStatus.Check"/>.
/// Functions returning const char* return the pointer: read it with <see cref="Marshal.PtrToStringUTF8(IntPtr)"/>,
/// never free it.
/// </summary>
public static unsafe partial class NativeMethods
{
    // An explicit static constructor runs before the first P/Invoke stub, so the resolver
    // is in place before the runtime tries to load "nativemodels".
    static NativeMethods() => NativeLibraryResolver.EnsureRegistered();

    // ---- status
    [LibraryImport(NativeAbi.LibraryName)]
    public static partial IntPtr nm_last_error();

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial IntPtr nm_status_name(NmStatus status);

    // ---- versioning
    [LibraryImport(NativeAbi.LibraryName)]
    public static partial uint nm_abi_version();

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial IntPtr nm_version();

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial IntPtr nm_build_info();

    // ---- enums
    [LibraryImport(NativeAbi.LibraryName)]
    public static partial IntPtr nm_dtype_name(NmDType dtype);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial nuint nm_dtype_size(NmDType dtype);

    // ---- backends
    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_backend_probe(NmBackendKind kind, int* deviceCount);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_cuda_device_info(int device, NmDeviceInfo* info);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_cpu_set_num_threads(int n);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_cpu_num_threads();

    // ---- context
    [LibraryImport(NativeAbi.LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nm_context_create(string? spec, IntPtr* context);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial void nm_context_destroy(IntPtr context);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_context_backend(IntPtr context, NmBackendKind* kind, int* device);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_context_synchronize(IntPtr context);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_context_memory(IntPtr context, ulong* tensorBytes, ulong* peakTensorBytes);

    // ---- tensor
    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_tensor_create(IntPtr context, NmDType dtype, int ndim, long* shape, IntPtr* tensor);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial void nm_tensor_destroy(IntPtr tensor);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_tensor_get_info(IntPtr tensor, NmTensorInfo* info);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_tensor_reshape(IntPtr tensor, int ndim, long* shape);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_tensor_upload(IntPtr tensor, ulong offset, void* src, ulong bytes);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_tensor_download(IntPtr tensor, ulong offset, void* dst, ulong bytes);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_tensor_copy(IntPtr dst, IntPtr src);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_tensor_zero(IntPtr tensor);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_tensor_copy_bytes(IntPtr dst, ulong dstOffset, IntPtr src, ulong srcOffset, ulong bytes);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_tensor_zero_bytes(IntPtr tensor, ulong offset, ulong bytes);

    // ---- operators (optional tensors are IntPtr.Zero for NULL)
    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_gemm(IntPtr context, IntPtr a, IntPtr b, IntPtr bias, IntPtr c,
        int transA, int transB, float alpha, float beta);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_embedding(IntPtr context, IntPtr weight, int* ids, long count, IntPtr output);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_rmsnorm(IntPtr context, IntPtr x, IntPtr weight, IntPtr output, float eps, int zeroCentered);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_rmsnorm_gated(IntPtr context, IntPtr x, IntPtr z, IntPtr weight, IntPtr output,
        float eps, long groupSize, int gateBeforeNorm);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_silu(IntPtr context, IntPtr x, IntPtr output);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_gelu(IntPtr context, IntPtr x, IntPtr output, int tanhApprox);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_swiglu(IntPtr context, IntPtr gate, IntPtr up, IntPtr output);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_softmax(IntPtr context, IntPtr x, IntPtr output, float scale);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_add(IntPtr context, IntPtr a, IntPtr b, IntPtr output);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_mul(IntPtr context, IntPtr a, IntPtr b, IntPtr output);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_scale(IntPtr context, IntPtr x, IntPtr output, float alpha);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_l2norm(IntPtr context, IntPtr x, IntPtr output, float eps);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_rope(IntPtr context, IntPtr x, int* positions, long count, IntPtr output,
        NmRopeParams* parameters);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_conv1d_causal(IntPtr context, IntPtr x, IntPtr weight, IntPtr bias,
        IntPtr initialState, IntPtr output, IntPtr finalState, NmActivation activation);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_conv1d_update(IntPtr context, IntPtr x, IntPtr convState, IntPtr weight,
        IntPtr bias, IntPtr output, NmActivation activation);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_convert(IntPtr context, IntPtr src, IntPtr dst);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_sample(IntPtr context, IntPtr logits, NmSamplingParams* parameters,
        ulong seed, ulong step, int* tokens, long tokensCount);

    // ---- selective state spaces
    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_selective_scan(IntPtr context, IntPtr u, IntPtr delta, IntPtr a, IntPtr b, IntPtr c,
        NmSsmOptions* options, IntPtr initialState, IntPtr output, IntPtr finalState);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_selective_state_update(IntPtr context, IntPtr state, IntPtr x, IntPtr dt, IntPtr a,
        IntPtr b, IntPtr c, NmSsmOptions* options, IntPtr output);

    // ---- attention
    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_attention(IntPtr context, IntPtr q, IntPtr k, IntPtr v, int* cuSeqlensQ,
        int* cuSeqlensK, int batch, IntPtr output, IntPtr lse, NmAttentionParams* parameters);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_kv_cache_append(IntPtr context, IntPtr kCache, IntPtr vCache, IntPtr k, IntPtr v,
        int* slots, int* positions, long count);

    [LibraryImport(NativeAbi.LibraryName)]
    public static partial int nm_attention_decode(IntPtr context, IntPtr q, IntPtr kCache, IntPtr vCache, int* slots,
        int* cacheLens, int batch, int queries, IntPtr output, NmAttentionParams* parameters);

    /// <summary>Reads a static or thread-local const char* returned by the library (not freed).</summary>
    public static string ReadString(IntPtr utf8) => Marshal.PtrToStringUTF8(utf8) ?? string.Empty;
}
