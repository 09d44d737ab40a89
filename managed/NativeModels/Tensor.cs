using System.Runtime.InteropServices;
using NativeModels.Interop;

namespace NativeModels;

/// <summary>
/// A dense row-major tensor living on a <see cref="Device"/>. Host data goes in with
/// <see cref="CopyFrom{T}(ReadOnlySpan{T})"/> and out with <see cref="CopyTo{T}(Span{T})"/>;
/// the element type T must match <see cref="DType"/> (float, Half, BFloat16, int).
/// </summary>
public sealed unsafe class Tensor : IDisposable
{
    private readonly TensorHandle _handle;

    private Tensor(Device device, TensorHandle handle, DType dtype)
    {
        Device = device;
        _handle = handle;
        DType = dtype;
    }

    /// <summary>A zero-filled tensor. Every dimension must be &gt;= 1 (checked by the native library).</summary>
    public static Tensor Zeros(Device device, DType dtype, params ReadOnlySpan<long> shape)
    {
        ArgumentNullException.ThrowIfNull(device);
        var handle = TensorHandle.Create(device.Handle, (NmDType)dtype, shape);
        return new Tensor(device, handle, dtype);
    }

    /// <summary>A zero-filled tensor with the shape of <paramref name="like"/> (and its dtype unless given).</summary>
    public static Tensor ZerosLike(Tensor like, DType? dtype = null)
    {
        ArgumentNullException.ThrowIfNull(like);
        return Zeros(like.Device, dtype ?? like.DType, like.Shape);
    }

    /// <summary>A tensor holding <paramref name="data"/>; its dtype follows T (float, Half, BFloat16, int).
    /// With no shape it is 1-D of data.Length elements.</summary>
    public static Tensor FromArray<T>(Device device, ReadOnlySpan<T> data, params ReadOnlySpan<long> shape) where T : unmanaged
    {
        DType dtype = DTypes.Of<T>();
        long[] dims = shape.IsEmpty ? [data.Length] : shape.ToArray();
        CheckLength(data.Length, dims);
        var tensor = Zeros(device, dtype, dims);
        try
        {
            tensor.CopyFrom(data);
            return tensor;
        }
        catch
        {
            tensor.Dispose();
            throw;
        }
    }

    /// <summary>Array overload of <see cref="FromArray{T}(Device, ReadOnlySpan{T}, ReadOnlySpan{long})"/>.</summary>
    public static Tensor FromArray<T>(Device device, T[] data, params ReadOnlySpan<long> shape) where T : unmanaged =>
        FromArray(device, new ReadOnlySpan<T>(data), shape);

    public Device Device { get; }

    public DType DType { get; }

    /// <summary>The handle, for the interop layer.</summary>
    public TensorHandle Handle => _handle;

    /// <summary>The current shape (a copy).</summary>
    public long[] Shape => GetInfo().GetShape();

    public int Rank => GetInfo().NDim;

    /// <summary>Number of elements.</summary>
    public long Numel => checked((long)GetInfo().Numel);

    /// <summary>Size in bytes.</summary>
    public long NBytes => checked((long)GetInfo().NBytes);

    /// <summary>Changes the shape in place (same element count) and returns this tensor.</summary>
    public Tensor Reshape(params ReadOnlySpan<long> shape)
    {
        using var self = new HandleLease(_handle);
        fixed (long* dims = shape)
        {
            NativeStatus.Check(NativeMethods.nm_tensor_reshape(self.Pointer, shape.Length, dims));
        }
        return this;
    }

    /// <summary>Uploads <paramref name="data"/>, which must have <see cref="Numel"/> elements of this dtype.</summary>
    public void CopyFrom<T>(ReadOnlySpan<T> data) where T : unmanaged
    {
        CheckElementType<T>();
        CheckLength(data.Length, Numel);
        using var self = new HandleLease(_handle);
        fixed (T* source = data)
        {
            NativeStatus.Check(NativeMethods.nm_tensor_upload(self.Pointer, 0, source, (ulong)data.Length * (ulong)sizeof(T)));
        }
    }

    public void CopyFrom<T>(T[] data) where T : unmanaged => CopyFrom(new ReadOnlySpan<T>(data));

    /// <summary>Uploads raw bytes into this tensor starting at byte <paramref name="byteOffset"/> (any dtype);
    /// the range must lie inside the tensor's <see cref="NBytes"/>. For uploading large tensors in pieces.
    /// The host buffer may be reused as soon as the call returns.</summary>
    public void CopyFrom(ReadOnlySpan<byte> bytes, long byteOffset)
    {
        long nbytes = NBytes;
        if (byteOffset < 0 || byteOffset > nbytes || bytes.Length > nbytes - byteOffset)
        {
            throw new ArgumentOutOfRangeException(nameof(byteOffset),
                $"{bytes.Length} bytes at offset {byteOffset} do not fit in the tensor's {nbytes} bytes");
        }
        if (bytes.IsEmpty)
        {
            return;
        }
        using var self = new HandleLease(_handle);
        fixed (byte* source = bytes)
        {
            NativeStatus.Check(NativeMethods.nm_tensor_upload(self.Pointer, (ulong)byteOffset, source, (ulong)bytes.Length));
        }
    }

    /// <summary>Downloads into <paramref name="destination"/> (exactly <see cref="Numel"/> elements of this dtype)
    /// and waits until the data has arrived.</summary>
    public void CopyTo<T>(Span<T> destination) where T : unmanaged
    {
        CheckElementType<T>();
        CheckLength(destination.Length, Numel);
        using var self = new HandleLease(_handle);
        using var context = HandleLease.ContextOf(_handle);
        fixed (T* target = destination)
        {
            NativeStatus.Check(NativeMethods.nm_tensor_download(self.Pointer, 0, target, (ulong)destination.Length * (ulong)sizeof(T)));
            // On CUDA the download is asynchronous: the buffer stays pinned until it has completed.
            NativeStatus.Check(NativeMethods.nm_context_synchronize(context.Pointer));
        }
    }

    /// <summary>All elements as a new array; T must match the dtype.</summary>
    public T[] ToArray<T>() where T : unmanaged
    {
        CheckElementType<T>();
        var result = new T[Numel];
        CopyTo<T>(result);
        return result;
    }

    /// <summary>All elements of a float32/float16/bfloat16 tensor converted to float.</summary>
    public float[] ToFloatArray()
    {
        switch (DType)
        {
            case DType.Float32:
                return ToArray<float>();
            case DType.Float16:
                return Array.ConvertAll(ToArray<Half>(), h => (float)h);
            case DType.BFloat16:
                return Array.ConvertAll(ToArray<BFloat16>(), b => (float)b);
            default:
                throw new InvalidOperationException($"ToFloatArray needs a floating-point tensor; this one is {DType.Name()} (use ToArray<int>())");
        }
    }

    /// <summary>this = source: same dtype and element count; source may live on another device.</summary>
    public void CopyFrom(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var destination = new HandleLease(_handle);
        using var from = new HandleLease(source._handle);
        NativeStatus.Check(NativeMethods.nm_tensor_copy(destination.Pointer, from.Pointer));
    }

    /// <summary>Sets every element to zero.</summary>
    public void Zero()
    {
        using var self = new HandleLease(_handle);
        NativeStatus.Check(NativeMethods.nm_tensor_zero(self.Pointer));
    }

    public override string ToString() => $"Tensor({DType.Name()}, [{string.Join(", ", Shape)}], {Device})";

    public void Dispose() => _handle.Dispose();

    private NmTensorInfo GetInfo()
    {
        using var self = new HandleLease(_handle);
        NmTensorInfo info;
        NativeStatus.Check(NativeMethods.nm_tensor_get_info(self.Pointer, &info));
        return info;
    }

    private void CheckElementType<T>() where T : unmanaged
    {
        DType elementType = DTypes.Of<T>();
        if (elementType != DType)
        {
            throw new ArgumentException(
                $"the tensor is {DType.Name()} but the host data is {typeof(T).Name} ({elementType.Name()})");
        }
    }

    private static void CheckLength(long length, long numel)
    {
        if (length != numel)
        {
            throw new ArgumentException($"the host data has {length} elements but the tensor has {numel}");
        }
    }

    private static void CheckLength(long length, long[] shape)
    {
        long numel = 1;
        foreach (long dim in shape)
        {
            numel *= dim;
        }
        // A shape with a zero or negative dimension is left to the native library to reject.
        if (shape.All(d => d > 0))
        {
            CheckLength(length, numel);
        }
    }
}
