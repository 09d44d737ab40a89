using Microsoft.Win32.SafeHandles;

namespace NativeModels.Interop;

/// <summary>
/// Owns an nm_tensor*. It holds a reference on its parent <see cref="ContextHandle"/> from creation
/// until after nm_tensor_destroy, so the context is destroyed after its tensors whatever order
/// Dispose or finalization happen in.
/// </summary>
public sealed unsafe class TensorHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    private readonly ContextHandle _context;

    private TensorHandle(ContextHandle context) : base(ownsHandle: true) => _context = context;

    /// <summary>The context this tensor belongs to.</summary>
    public ContextHandle Context => _context;

    /// <summary>Allocates a zero-filled tensor (nm_tensor_create).</summary>
    public static TensorHandle Create(ContextHandle context, NmDType dtype, ReadOnlySpan<long> shape)
    {
        var tensor = new TensorHandle(context);
        bool contextReferenced = false;
        try
        {
            // This reference is the one the tensor keeps; ReleaseHandle gives it back.
            context.DangerousAddRef(ref contextReferenced);
            IntPtr raw;
            fixed (long* dims = shape)
            {
                NativeStatus.Check(NativeMethods.nm_tensor_create(context.DangerousGetHandle(), dtype, shape.Length, dims, &raw));
            }
            tensor.SetHandle(raw);
            return tensor;
        }
        catch
        {
            // No native tensor exists: ReleaseHandle will not run (the handle is invalid), so drop the reference here.
            tensor.SetHandleAsInvalid();
            if (contextReferenced)
            {
                context.DangerousRelease();
            }
            throw;
        }
    }

    protected override bool ReleaseHandle()
    {
        NativeMethods.nm_tensor_destroy(handle);
        _context.DangerousRelease();
        return true;
    }
}
