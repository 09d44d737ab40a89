using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace NativeModels.IO;

/// <summary>Writes safetensors files: header entries sorted by name (ordinal), "__metadata__" first, the header
/// padded with spaces to a multiple of 8 bytes, and the data in header order with no gaps.</summary>
public static class SafetensorsWriter
{
    public static void Write(string path,
        IEnumerable<(string Name, SafetensorsDType DType, long[] Shape, ReadOnlyMemory<byte> Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors files are little-endian; this machine is big-endian");
        }

        var sorted = tensors.ToList();
        sorted.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        for (int i = 0; i < sorted.Count; i++)
        {
            var (name, dtype, shape, data) = sorted[i];
            if (string.IsNullOrEmpty(name))
            {
                throw new ArgumentException("a tensor name is null or empty", nameof(tensors));
            }
            if (name == "__metadata__")
            {
                throw new ArgumentException("'__metadata__' is reserved and cannot name a tensor", nameof(tensors));
            }
            if (i > 0 && sorted[i - 1].Name == name)
            {
                throw new ArgumentException($"tensor '{name}' is given twice", nameof(tensors));
            }
            ArgumentNullException.ThrowIfNull(shape, $"shape of '{name}'");
            long elements = 1;
            foreach (long d in shape)
            {
                if (d < 0)
                {
                    throw new ArgumentException($"tensor '{name}': negative dimension in shape [{string.Join(", ", shape)}]", nameof(tensors));
                }
                elements = checked(elements * d);
            }
            long expected = checked(elements * dtype.ElementSize());
            if (data.Length != expected)
            {
                throw new ArgumentException(
                    $"tensor '{name}': {data.Length} bytes of data, but shape [{string.Join(", ", shape)}] of {dtype.HeaderName()} needs {expected}",
                    nameof(tensors));
            }
        }

        var headerBuffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerBuffer))
        {
            json.WriteStartObject();
            if (metadata is not null && metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach (var pair in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    json.WriteString(pair.Key, pair.Value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape, data) in sorted)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", dtype.HeaderName());
                json.WriteStartArray("shape");
                foreach (long d in shape)
                {
                    json.WriteNumberValue(d);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + data.Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += data.Length;
            }
            json.WriteEndObject();
        }
        while (headerBuffer.Length % 8 != 0)
        {
            headerBuffer.WriteByte((byte)' ');
        }

        string fullPath = Path.GetFullPath(path);
        string temporary = fullPath + ".tmp" + Environment.ProcessId;
        try
        {
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                Span<byte> lengthBytes = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)headerBuffer.Length);
                file.Write(lengthBytes);
                headerBuffer.Position = 0;
                headerBuffer.CopyTo(file);
                foreach (var tensor in sorted)
                {
                    file.Write(tensor.Data.Span);
                }
            }
            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    /// <summary>Convenience: float32 tensors.</summary>
    public static void WriteFloat32(string path, IEnumerable<(string Name, long[] Shape, float[] Data)> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Write(path, tensors.Select(t => (t.Name, SafetensorsDType.F32, t.Shape,
            (ReadOnlyMemory<byte>)MemoryMarshal.AsBytes(t.Data.AsSpan()).ToArray())));
    }
}
