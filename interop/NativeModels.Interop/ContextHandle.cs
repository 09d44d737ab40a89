using Microsoft.Win32.SafeHandles;

namespace NativeModels.Interop;

/// <summary>Owns an nm_context*; releases it with nm_context_destroy once no <see cref="TensorHandle"/> refers to it.</summary>
public sealed unsafe class ContextHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private ContextHandle() : base(ownsHandle: true) { }

    /// <summary>Creates a context (nm_context_create). spec: "auto", "cpu", "cuda", "cuda:N"; null = "auto".</summary>
    public static ContextHandle Create(string? spec)
    {
        var handle = new ContextHandle();
        IntPtr raw;
        NativeStatus.Check(NativeMethods.nm_context_create(spec, &raw));
        handle.SetHandle(raw);
        return handle;
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.nm_context_destroy(handle);
        return true;
    }
}
