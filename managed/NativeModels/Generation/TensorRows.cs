using NativeModels.Interop;

namespace NativeModels.Generation;

/// <summary>
/// Reads, writes and copies rows of a tensor, a row being one index of its first dimension (e.g. one sequence of a
/// batched state [B, ...]). Tensors are dense and have no views, so this goes through host memory: it is meant for
/// per-sequence bookkeeping (placing a prefilled state into row b of a batch, saving a state), not for per-token work.
/// </summary>
public static unsafe class TensorRows
{
    /// <summary>Number of rows (the first dimension).</summary>
    public static long Count(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.Shape[0];
    }

    /// <summary>Bytes of one row.</summary>
    public static long RowBytes(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.NBytes / tensor.Shape[0];
    }

    /// <summary>The raw bytes of rows [start, start + count).</summary>
    public static byte[] Read(Tensor tensor, long start, long count)
    {
        long rowBytes = CheckRange(tensor, start, count);
        var bytes = new byte[checked(rowBytes * count)];
        Download(tensor, start * rowBytes, bytes);
        return bytes;
    }

    /// <summary>Writes raw bytes (a whole number of rows, in the tensor's dtype) starting at row <paramref name="start"/>.</summary>
    public static void Write(Tensor tensor, long start, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        long rowBytes = RowBytes(tensor);
        if (bytes.Length % rowBytes != 0)
        {
            throw new ArgumentException($"{bytes.Length} bytes are not a whole number of {rowBytes}-byte rows", nameof(bytes));
        }
        CheckRange(tensor, start, bytes.Length / rowBytes);
        Upload(tensor, start * rowBytes, bytes);
    }

    /// <summary>Sets rows [start, start + count) to zero.</summary>
    public static void Zero(Tensor tensor, long start, long count)
    {
        long rowBytes = CheckRange(tensor, start, count);
        using var self = new HandleLease(tensor.Handle);
        NativeStatus.Check(NativeMethods.nm_tensor_zero_bytes(self.Pointer, (ulong)(start * rowBytes), (ulong)(count * rowBytes)));
    }

    /// <summary>destination rows [destinationStart, +count) = source rows [sourceStart, +count). Both tensors must have
    /// the same dtype and row size; they may live on different devices.</summary>
    public static void Copy(Tensor source, long sourceStart, Tensor destination, long destinationStart, long count)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(destination);
        if (source.DType != destination.DType)
        {
            throw new ArgumentException($"row copy between {source.DType.Name()} and {destination.DType.Name()} tensors");
        }
        long rowBytes = RowBytes(source);
        if (rowBytes != RowBytes(destination))
        {
            throw new ArgumentException($"row copy between rows of {rowBytes} and {RowBytes(destination)} bytes");
        }
        CheckRange(source, sourceStart, count);
        CheckRange(destination, destinationStart, count);
        CopyBytes(source, sourceStart * rowBytes, destination, destinationStart * rowBytes, count * rowBytes);
    }

    /// <summary>A new tensor holding the given rows of <paramref name="source"/>, in that order (rows may repeat).</summary>
    public static Tensor Gather(Tensor source, ReadOnlySpan<int> rows)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (rows.IsEmpty)
        {
            throw new ArgumentException("at least one row is needed", nameof(rows));
        }
        long[] shape = source.Shape;
        long rowBytes = source.NBytes / shape[0];
        foreach (int row in rows)
        {
            if (row < 0 || row >= shape[0])
            {
                throw new ArgumentOutOfRangeException(nameof(rows), $"row {row} is outside [0, {shape[0]})");
            }
        }
        shape[0] = rows.Length;
        var result = Tensor.Zeros(source.Device, source.DType, shape);
        try
        {
            // Row by row on the device: no round trip through host memory.
            for (int i = 0; i < rows.Length; i++)
            {
                CopyBytes(source, rows[i] * rowBytes, result, i * rowBytes, rowBytes);
            }
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    /// <summary>Bytes [sourceOffset, +bytes) of source into destination at destinationOffset: on the device within one
    /// context, through host memory across contexts.</summary>
    private static void CopyBytes(Tensor source, long sourceOffset, Tensor destination, long destinationOffset, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }
        using var from = new HandleLease(source.Handle);
        using var to = new HandleLease(destination.Handle);
        NativeStatus.Check(NativeMethods.nm_tensor_copy_bytes(to.Pointer, (ulong)destinationOffset, from.Pointer, (ulong)sourceOffset, (ulong)bytes));
    }

    private static long CheckRange(Tensor tensor, long start, long count)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        long rows = tensor.Shape[0];
        if (start < 0 || count < 0 || start > rows || count > rows - start)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) are outside [0, {rows})");
        }
        return tensor.NBytes / rows;
    }

    private static void Download(Tensor tensor, long byteOffset, Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return;
        }
        using var self = new HandleLease(tensor.Handle);
        using var context = HandleLease.ContextOf(tensor.Handle);
        fixed (byte* target = destination)
        {
            NativeStatus.Check(NativeMethods.nm_tensor_download(self.Pointer, (ulong)byteOffset, target, (ulong)destination.Length));
            // Asynchronous on CUDA: keep the buffer pinned until the copy has landed.
            NativeStatus.Check(NativeMethods.nm_context_synchronize(context.Pointer));
        }
    }

    private static void Upload(Tensor tensor, long byteOffset, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty)
        {
            return;
        }
        using var self = new HandleLease(tensor.Handle);
        fixed (byte* from = source)
        {
            NativeStatus.Check(NativeMethods.nm_tensor_upload(self.Pointer, (ulong)byteOffset, from, (ulong)source.Length));
        }
    }
}
