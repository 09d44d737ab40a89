using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using NativeModels.IO;

namespace NativeModels.Tests.IO;

public class SafetensorsRoundTripTests
{
    public static TheoryData<SafetensorsDType> AllDTypes() =>
        new(Enum.GetValues<SafetensorsDType>());

    [Theory]
    [MemberData(nameof(AllDTypes))]
    public void EveryDTypeRoundTripsByteForByte(SafetensorsDType dtype)
    {
        using var dir = new TempDirectory();
        int size = dtype.ElementSize();
        byte[] a = Enumerable.Range(0, 6 * size).Select(i => (byte)(i * 7 + 1)).ToArray();
        byte[] b = Enumerable.Range(0, 4 * size).Select(i => (byte)(255 - i)).ToArray();
        string path = dir.File("t.safetensors");
        SafetensorsWriter.Write(path, [("b.weight", dtype, [4], b), ("a.weight", dtype, [2, 3], a)]);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(path, file.Path);
        Assert.Equal(2, file.Entries.Count);
        var ea = file.Entries["a.weight"];
        Assert.Equal(dtype, ea.DType);
        Assert.Equal([2L, 3L], ea.Shape);
        Assert.Equal(6L * size, ea.ByteLength);
        Assert.Equal(a, file.GetBytes("a.weight").ToArray());
        Assert.Equal(b, file.GetBytes("b.weight").ToArray());
    }

    [Fact]
    public void FloatDTypesKeepTheirValues()
    {
        using var dir = new TempDirectory();
        float[] values = [1f, -2.5f, 0.15625f, 65504f, -0f, 3.140625f];
        double[] doubles = values.Select(v => (double)v).ToArray();
        Half[] halves = values.Select(v => (Half)v).ToArray();
        BFloat16[] bf = values.Select(v => (BFloat16)v).ToArray();
        string path = dir.File("f.safetensors");
        SafetensorsWriter.Write(path,
        [
            ("f64", SafetensorsDType.F64, [6], MemoryMarshal.AsBytes(doubles.AsSpan()).ToArray()),
            ("f32", SafetensorsDType.F32, [2, 3], MemoryMarshal.AsBytes(values.AsSpan()).ToArray()),
            ("f16", SafetensorsDType.F16, [3, 2], MemoryMarshal.AsBytes(halves.AsSpan()).ToArray()),
            ("bf16", SafetensorsDType.BF16, [1, 6], MemoryMarshal.AsBytes(bf.AsSpan()).ToArray()),
        ]);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(doubles, MemoryMarshal.Cast<byte, double>(file.GetBytes("f64")).ToArray());
        Assert.Equal(values, MemoryMarshal.Cast<byte, float>(file.GetBytes("f32")).ToArray());
        Assert.Equal(halves, MemoryMarshal.Cast<byte, Half>(file.GetBytes("f16")).ToArray());
        Assert.Equal(bf, MemoryMarshal.Cast<byte, BFloat16>(file.GetBytes("bf16")).ToArray());
    }

    [Fact]
    public void HeaderIsSortedAlignedAndDataContiguous()
    {
        using var dir = new TempDirectory();
        string path = dir.File("s.safetensors");
        SafetensorsWriter.Write(path,
            [("z", SafetensorsDType.U8, [3], new byte[] { 1, 2, 3 }), ("a", SafetensorsDType.I16, [1], new byte[] { 4, 5 }), ("m", SafetensorsDType.Bool, [1], new byte[] { 1 })],
            new Dictionary<string, string> { ["format"] = "pt", ["note"] = "x" });
        byte[] bytes = File.ReadAllBytes(path);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0UL, n % 8);
        Assert.Equal((long)(8 + n + 6), bytes.Length);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        using var doc = JsonDocument.Parse(header);
        Assert.Equal(["__metadata__", "a", "m", "z"], doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal(new byte[] { 4, 5, 1, 1, 2, 3 }, bytes[(8 + (int)n)..]);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal("x", file.Metadata["note"]);
        Assert.Equal(0L, file.Entries["a"].DataOffset);
        Assert.Equal(3L, file.Entries["z"].DataOffset);
        Assert.Equal(8 + (long)n, file.DataSectionOffset);
    }

    [Fact]
    public void ScalarsEmptyTensorsAndEmptyFilesAreValid()
    {
        using var dir = new TempDirectory();
        string path = dir.File("e.safetensors");
        SafetensorsWriter.Write(path, [("scalar", SafetensorsDType.F32, [], BitConverter.GetBytes(2.5f)), ("empty", SafetensorsDType.F32, [0, 4], Array.Empty<byte>())]);
        using (var file = SafetensorsFile.Open(path))
        {
            Assert.Empty(file.Entries["scalar"].Shape);
            Assert.Equal(2.5f, BitConverter.ToSingle(file.GetBytes("scalar")));
            Assert.Equal(0, file.GetBytes("empty").Length);
        }
        string none = dir.File("none.safetensors");
        SafetensorsWriter.Write(none, []);
        using var noneFile = SafetensorsFile.Open(none);
        Assert.Empty(noneFile.Entries);
        Assert.Empty(noneFile.Metadata);
    }

    [Fact]
    public void WriteFloat32AndPartialReads()
    {
        using var dir = new TempDirectory();
        string path = dir.File("w.safetensors");
        SafetensorsWriter.WriteFloat32(path, [("w", [2, 2], [1f, 2f, 3f, 4f])]);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(SafetensorsDType.F32, file.Entries["w"].DType);
        Assert.Equal([3f, 4f], MemoryMarshal.Cast<byte, float>(file.GetBytes("w", 8, 8)).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => file.GetBytes("w", 12, 8).ToArray());
        var missing = Assert.Throws<ModelFormatException>(() => file.GetBytes("nope").ToArray());
        Assert.Contains(path, missing.Message);
        Assert.Contains("'nope'", missing.Message);
    }

    [Fact]
    public void WriterRejectsBadInput()
    {
        using var dir = new TempDirectory();
        string path = dir.File("bad.safetensors");
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("a", SafetensorsDType.F32, [2], new byte[4])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("a", SafetensorsDType.F32, [1], new byte[4]), ("a", SafetensorsDType.F32, [1], new byte[4])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("__metadata__", SafetensorsDType.U8, [1], new byte[1])]));
        Assert.Throws<ArgumentException>(() => SafetensorsWriter.Write(path, [("a", SafetensorsDType.U8, [-1], new byte[1])]));
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void DisposedFileRefusesReads()
    {
        using var dir = new TempDirectory();
        string path = dir.File("d.safetensors");
        SafetensorsWriter.WriteFloat32(path, [("w", [1], [1f])]);
        var file = SafetensorsFile.Open(path);
        file.Dispose();
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.GetBytes("w").ToArray());
    }
}
