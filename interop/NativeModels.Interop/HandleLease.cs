using System.Runtime.InteropServices;

namespace NativeModels.Interop;

/// <summary>
/// Keeps a SafeHandle referenced (so it cannot be released) while its raw pointer is passed to a
/// native call. A null handle gives IntPtr.Zero, which the C API reads as NULL.
/// A disposed handle throws ObjectDisposedException here rather than passing a dangling pointer.
/// </summary>
public ref struct HandleLease
{
    private readonly SafeHandle? _handle;
    private bool _referenced;

    public HandleLease(SafeHandle? handle)
    {
        _handle = handle;
        _referenced = false;
        Pointer = IntPtr.Zero;
        if (handle is not null)
        {
            handle.DangerousAddRef(ref _referenced);
            Pointer = handle.DangerousGetHandle();
        }
    }

    /// <summary>
    /// Leases <paramref name="tensor"/> and yields the pointer of its context: the tensor holds a reference on
    /// its context, so this works even after the owning device was disposed (the native context lives on
    /// until its last tensor is released).
    /// </summary>
    public static HandleLease ContextOf(TensorHandle tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var lease = new HandleLease(tensor);
        lease.Pointer = tensor.Context.DangerousGetHandle();
        return lease;
    }

    /// <summary>The raw native pointer, valid until <see cref="Dispose"/>.</summary>
    public IntPtr Pointer { get; private set; }

    public void Dispose()
    {
        if (_referenced)
        {
            _handle!.DangerousRelease();
            _referenced = false;
        }
    }
}
