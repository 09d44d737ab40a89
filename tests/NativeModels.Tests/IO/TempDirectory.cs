using System.Buffers.Binary;
using System.Text;

namespace NativeModels.Tests.IO;

/// <summary>A fresh folder under the system temp folder, deleted on dispose.</summary>
public sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nm-io-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string WriteText(string name, string text)
    {
        string path = File(name);
        System.IO.File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A safetensors file built by hand: 8-byte length (or <paramref name="headerLength"/>), the header
    /// text, then <paramref name="data"/>.</summary>
    public string WriteRawSafetensors(string name, string header, byte[] data, ulong? headerLength = null)
    {
        byte[] headerBytes = Encoding.UTF8.GetBytes(header);
        return WriteRawSafetensors(name, headerBytes, data, headerLength);
    }

    public string WriteRawSafetensors(string name, byte[] headerBytes, byte[] data, ulong? headerLength = null)
    {
        var bytes = new byte[8 + headerBytes.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, headerLength ?? (ulong)headerBytes.Length);
        headerBytes.CopyTo(bytes, 8);
        data.CopyTo(bytes, 8 + headerBytes.Length);
        string path = File(name);
        System.IO.File.WriteAllBytes(path, bytes);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
