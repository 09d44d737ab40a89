using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text.Unicode;
using System.Text.Json;

namespace NativeModels.IO;

/// <summary>
/// A safetensors file opened read-only through a memory mapping. <see cref="Open"/> validates the whole
/// header (dtypes, shapes, offsets, coverage of the data section) before anything is handed out;
/// tensor data is never copied into managed memory — <see cref="GetBytes(string)"/> returns views of the
/// mapping, valid while this object is open.
/// </summary>
/// <remarks>Format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
/// (<c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}</c>),
/// then the data section; offsets are relative to the data section, which the tensors must cover exactly.</remarks>
public sealed unsafe class SafetensorsFile : IDisposable
{
    /// <summary>Largest header accepted (the reference implementation uses the same limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    private readonly MemoryMappedFile? _mapping;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;
    private bool _disposed;

    private SafetensorsFile(string path, MemoryMappedFile? mapping, MemoryMappedViewAccessor? view, byte* basePointer,
        long fileLength, long dataSectionOffset, Dictionary<string, SafetensorsEntry> entries, Dictionary<string, string> metadata)
    {
        Path = path;
        _mapping = mapping;
        _view = view;
        _base = basePointer;
        FileLength = fileLength;
        DataSectionOffset = dataSectionOffset;
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>The full path of the file.</summary>
    public string Path { get; }

    /// <summary>Every tensor by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    /// <summary>The "__metadata__" object (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Size of the file in bytes.</summary>
    public long FileLength { get; }

    /// <summary>Absolute position of the data section (8 + header length).</summary>
    public long DataSectionOffset { get; }

    /// <summary>Opens and validates <paramref name="path"/>; every problem is a <see cref="ModelFormatException"/>
    /// naming the file (and the tensor, where one is concerned).</summary>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors files are little-endian; this machine is big-endian");
        }
        string fullPath = System.IO.Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new ModelFormatException(fullPath, null, $"{fullPath}: file not found");
        }

        FileStream stream;
        try
        {
            stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(fullPath, null, $"{fullPath}: cannot open: {e.Message}", e);
        }

        MemoryMappedFile? mapping = null;
        MemoryMappedViewAccessor? view = null;
        byte* pointer = null;
        try
        {
            long length = stream.Length;
            if (length < 8)
            {
                throw Error(fullPath, null, $"file is {length} bytes, shorter than the 8-byte header length");
            }
            mapping = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            stream = null!;
            view = mapping.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            pointer += view.PointerOffset;

            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(pointer, 8));
            if (headerLength > MaxHeaderBytes)
            {
                throw Error(fullPath, null, $"header length {headerLength} is larger than the {MaxHeaderBytes}-byte limit");
            }
            if ((long)headerLength > length - 8)
            {
                throw Error(fullPath, null, $"header length {headerLength} runs past the end of the {length}-byte file");
            }
            long dataStart = 8 + (long)headerLength;
            var header = new ReadOnlySpan<byte>(pointer + 8, (int)headerLength);
            var (entries, metadata) = ParseHeader(fullPath, header, length - dataStart);
            return new SafetensorsFile(fullPath, mapping, view, pointer, length, dataStart, entries, metadata);
        }
        catch
        {
            if (pointer != null)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }
            view?.Dispose();
            mapping?.Dispose();
            stream?.Dispose();
            throw;
        }
    }

    /// <summary>The entry named <paramref name="name"/>; a <see cref="ModelFormatException"/> naming the file when absent.</summary>
    public SafetensorsEntry GetEntry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!Entries.TryGetValue(name, out var entry))
        {
            throw Error(Path, name, "no such tensor in the file");
        }
        return entry;
    }

    /// <summary>The bytes of tensor <paramref name="name"/> (little-endian, row-major), a view into the mapping
    /// valid while this file is open. Tensors of 2 GiB or more do not fit a span: use
    /// <see cref="GetBytes(string, long, int)"/> to read them in pieces.</summary>
    public ReadOnlySpan<byte> GetBytes(string name)
    {
        var entry = GetEntry(name);
        if (entry.ByteLength > int.MaxValue)
        {
            throw new NotSupportedException(
                $"{Path}: tensor '{name}' has {entry.ByteLength} bytes, more than one span can hold; read it in pieces with GetBytes(name, offset, count)");
        }
        return GetBytes(name, 0, (int)entry.ByteLength);
    }

    /// <summary><paramref name="byteCount"/> bytes of tensor <paramref name="name"/> starting at
    /// <paramref name="byteOffset"/> within the tensor (for tensors larger than 2 GiB).</summary>
    public ReadOnlySpan<byte> GetBytes(string name, long byteOffset, int byteCount)
    {
        var entry = GetEntry(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (byteOffset < 0 || byteCount < 0 || byteOffset > entry.ByteLength || byteCount > entry.ByteLength - byteOffset)
        {
            throw new ArgumentOutOfRangeException(nameof(byteOffset),
                $"{Path}: bytes [{byteOffset}, {byteOffset + byteCount}) are outside tensor '{name}' ({entry.ByteLength} bytes)");
        }
        return new ReadOnlySpan<byte>(_base + DataSectionOffset + entry.DataOffset + byteOffset, byteCount);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _mapping?.Dispose();
        _base = null;
    }

    public override string ToString() => $"SafetensorsFile({Path}, {Entries.Count} tensors)";

    private static ModelFormatException Error(string path, string? tensor, string problem) =>
        new(path, tensor, tensor is null ? $"{path}: {problem}" : $"{path}: tensor '{tensor}': {problem}");

    private static (Dictionary<string, SafetensorsEntry>, Dictionary<string, string>) ParseHeader(
        string path, ReadOnlySpan<byte> header, long dataLength)
    {
        if (!Utf8.IsValid(header))
        {
            throw Error(path, null, "the header is not valid UTF-8");
        }
        JsonDocument document;
        try
        {
            // The header is small (bounded by MaxHeaderBytes); the tensor data is never copied.
            document = JsonDocument.Parse(header.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException e)
        {
            throw Error(path, null, $"the header is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Error(path, null, $"the header must be a JSON object, got {root.ValueKind}");
            }

            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var property in root.EnumerateObject())
            {
                string name = property.Name;
                if (name == MetadataKey)
                {
                    if (sawMetadata)
                    {
                        throw Error(path, null, "'__metadata__' appears twice in the header");
                    }
                    sawMetadata = true;
                    ParseMetadata(path, property.Value, metadata);
                    continue;
                }
                if (entries.ContainsKey(name))
                {
                    throw Error(path, name, "appears twice in the header");
                }
                entries.Add(name, ParseEntry(path, name, property.Value, dataLength));
            }

            CheckCoverage(path, entries.Values, dataLength);
            return (entries, metadata);
        }
    }

    private static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, MetadataKey, $"'__metadata__' must be an object of strings, got {value.ValueKind}");
        }
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Error(path, MetadataKey, $"'__metadata__' value '{item.Name}' must be a string, got {item.Value.ValueKind}");
            }
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw Error(path, MetadataKey, $"'__metadata__' key '{item.Name}' appears twice");
            }
        }
    }

    private static SafetensorsEntry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(path, name, $"the entry must be an object, got {value.ValueKind}");
        }
        JsonElement? dtypeElement = null, shapeElement = null, offsetsElement = null;
        foreach (var field in value.EnumerateObject())
        {
            switch (field.Name)
            {
                case "dtype": dtypeElement = field.Value; break;
                case "shape": shapeElement = field.Value; break;
                case "data_offsets": offsetsElement = field.Value; break;
                default: break; // other fields are ignored, as the reference implementation does
            }
        }
        if (dtypeElement is null)
        {
            throw Error(path, name, "the entry has no 'dtype'");
        }
        if (shapeElement is null)
        {
            throw Error(path, name, "the entry has no 'shape'");
        }
        if (offsetsElement is null)
        {
            throw Error(path, name, "the entry has no 'data_offsets'");
        }

        if (dtypeElement.Value.ValueKind != JsonValueKind.String)
        {
            throw Error(path, name, $"'dtype' must be a string, got {dtypeElement.Value.ValueKind}");
        }
        string dtypeText = dtypeElement.Value.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeText, out var dtype))
        {
            throw Error(path, name, $"unknown dtype '{dtypeText}'");
        }

        if (shapeElement.Value.ValueKind != JsonValueKind.Array)
        {
            throw Error(path, name, $"'shape' must be an array, got {shapeElement.Value.ValueKind}");
        }
        var shape = new long[shapeElement.Value.GetArrayLength()];
        long elements = 1;
        int i = 0;
        foreach (var dim in shapeElement.Value.EnumerateArray())
        {
            if (dim.ValueKind != JsonValueKind.Number || !dim.TryGetInt64(out long d))
            {
                throw Error(path, name, $"shape dimension {i} must be an integer, got {dim.GetRawText()}");
            }
            if (d < 0)
            {
                throw Error(path, name, $"shape dimension {i} is negative ({d})");
            }
            shape[i++] = d;
            if (d != 0 && elements > long.MaxValue / d)
            {
                throw Error(path, name, $"shape [{string.Join(", ", shapeElement.Value.EnumerateArray().Select(x => x.GetRawText()))}] overflows the element count");
            }
            elements *= d;
        }
        int elementSize = dtype.ElementSize();
        if (elements > long.MaxValue / elementSize)
        {
            throw Error(path, name, $"shape [{string.Join(", ", shape)}] overflows the byte count");
        }
        long expectedBytes = elements * elementSize;

        var offsets = offsetsElement.Value;
        if (offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw Error(path, name, $"'data_offsets' must be an array [begin, end], got {offsets.GetRawText()}");
        }
        long begin = ReadOffset(path, name, offsets[0], "begin");
        long end = ReadOffset(path, name, offsets[1], "end");
        if (end < begin)
        {
            throw Error(path, name, $"data_offsets [{begin}, {end}] end before they begin");
        }
        if (end > dataLength)
        {
            throw Error(path, name, $"data_offsets [{begin}, {end}] run past the end of the {dataLength}-byte data section");
        }
        if (end - begin != expectedBytes)
        {
            throw Error(path, name,
                $"data_offsets [{begin}, {end}] hold {end - begin} bytes but shape [{string.Join(", ", shape)}] of {dtype.HeaderName()} needs {expectedBytes}");
        }
        return new SafetensorsEntry(name, dtype, shape, begin, end - begin);
    }

    private static long ReadOffset(string path, string name, JsonElement value, string which)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long offset) || offset < 0)
        {
            throw Error(path, name, $"data_offsets {which} must be a non-negative integer, got {value.GetRawText()}");
        }
        return offset;
    }

    private static void CheckCoverage(string path, IEnumerable<SafetensorsEntry> entries, long dataLength)
    {
        long position = 0;
        SafetensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.DataOffset).ThenBy(e => e.ByteLength))
        {
            if (entry.DataOffset < position)
            {
                throw Error(path, entry.Name,
                    $"data [{entry.DataOffset}, {entry.DataOffset + entry.ByteLength}) overlaps tensor '{previous!.Name}' [{previous.DataOffset}, {position})");
            }
            if (entry.DataOffset > position)
            {
                throw Error(path, entry.Name,
                    $"data starts at {entry.DataOffset}, leaving bytes [{position}, {entry.DataOffset}) of the data section uncovered");
            }
            position = entry.DataOffset + entry.ByteLength;
            previous = entry;
        }
        if (position != dataLength)
        {
            throw Error(path, previous?.Name,
                $"the tensors cover {position} bytes of the {dataLength}-byte data section; bytes [{position}, {dataLength}) after "
                + (previous is null ? "the header" : "this last tensor") + " are not covered");
        }
    }
}
