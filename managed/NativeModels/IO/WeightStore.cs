using System.Text.Json;

namespace NativeModels.IO;

/// <summary>Where a weight lives: its stored dtype and shape and the file holding it.</summary>
public sealed record WeightInfo(string Name, SafetensorsDType DType, long[] Shape, string File);

/// <summary>
/// The weights of a model folder: <c>model.safetensors</c>, or <c>model.safetensors.index.json</c> whose
/// <c>weight_map</c> names the shard of every tensor. Shards are memory-mapped; tensors go to a device in pieces
/// straight from the mapping (never the whole file in managed memory), converted to the dtype asked for.
/// </summary>
public sealed class WeightStore : IDisposable
{
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    /// <summary>Largest piece uploaded at once (bounded by what a span can hold).</summary>
    internal static int UploadChunkBytes { get; set; } = 64 << 20;

    private readonly Dictionary<string, SafetensorsFile> _location;
    private readonly List<SafetensorsFile> _files;
    private bool _disposed;

    private WeightStore(string directory, List<SafetensorsFile> files, Dictionary<string, SafetensorsFile> location)
    {
        Directory = directory;
        _files = files;
        _location = location;
        Names = location.Keys.OrderBy(n => n, StringComparer.Ordinal).ToArray();
    }

    /// <summary>The model folder (full path).</summary>
    public string Directory { get; }

    /// <summary>Every tensor name, sorted.</summary>
    public IReadOnlyCollection<string> Names { get; }

    /// <summary>The safetensors files opened (one, or one per shard).</summary>
    public IReadOnlyList<SafetensorsFile> Files => _files;

    public static WeightStore Open(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        string directory = Path.GetFullPath(modelDirectory);
        if (!System.IO.Directory.Exists(directory))
        {
            throw new ModelFormatException(directory, null, $"{directory}: model folder not found");
        }
        string indexPath = Path.Combine(directory, IndexFileName);
        string singlePath = Path.Combine(directory, SingleFileName);
        if (File.Exists(indexPath))
        {
            return OpenSharded(directory, indexPath);
        }
        if (File.Exists(singlePath))
        {
            var file = SafetensorsFile.Open(singlePath);
            var location = file.Entries.Keys.ToDictionary(n => n, _ => file, StringComparer.Ordinal);
            return new WeightStore(directory, [file], location);
        }
        throw new ModelFormatException(directory, null,
            $"{directory}: no {SingleFileName} or {IndexFileName} in the model folder");
    }

    public bool Contains(string name) => name is not null && _location.ContainsKey(name);

    /// <summary>Stored dtype, shape and file of <paramref name="name"/>; a <see cref="ModelFormatException"/>
    /// naming the folder and the tensor when there is no such weight.</summary>
    public WeightInfo Describe(string name)
    {
        var (file, entry) = Find(name);
        return new WeightInfo(entry.Name, entry.DType, (long[])entry.Shape.Clone(), file.Path);
    }

    /// <summary>
    /// A new tensor on <paramref name="device"/> holding weight <paramref name="name"/> converted to
    /// <paramref name="dtype"/>. Stored F32/F16/BF16 go to any float dtype (conversion on the device, round to
    /// nearest even); stored I32 goes to Int32 only. <paramref name="expectedShape"/>, when given, must equal the
    /// stored shape exactly. A scalar (shape []) loads as shape [1].
    /// </summary>
    public Tensor Load(string name, Device device, DType dtype, params ReadOnlySpan<long> expectedShape)
    {
        ArgumentNullException.ThrowIfNull(device);
        var (file, entry) = Find(name);
        if (!expectedShape.IsEmpty && !expectedShape.SequenceEqual(entry.Shape))
        {
            throw new ModelFormatException(file.Path, name,
                $"{file.Path}: tensor '{name}' has shape [{string.Join(", ", entry.Shape)}], expected [{string.Join(", ", expectedShape.ToArray())}]");
        }
        long[] shape = entry.Shape.Length == 0 ? [1] : entry.Shape;
        return Upload(file, entry, 0, entry.ByteLength, shape, device, dtype);
    }

    /// <summary>Rows [rowStart, rowStart + rowCount) along the first dimension of weight <paramref name="name"/>
    /// (e.g. one part of a fused projection), as a new tensor of shape [rowCount, ...rest].</summary>
    public Tensor LoadRows(string name, long rowStart, long rowCount, Device device, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(device);
        var (file, entry) = Find(name);
        if (entry.Shape.Length == 0)
        {
            throw new ModelFormatException(file.Path, name, $"{file.Path}: tensor '{name}' is a scalar and has no rows");
        }
        long rows = entry.Shape[0];
        if (rowStart < 0 || rowCount <= 0 || rowStart > rows || rowCount > rows - rowStart)
        {
            throw new ArgumentOutOfRangeException(nameof(rowStart),
                $"{file.Path}: tensor '{name}': rows [{rowStart}, {rowStart + rowCount}) are outside its {rows} rows (shape [{string.Join(", ", entry.Shape)}])");
        }
        long rowBytes = rows == 0 ? 0 : entry.ByteLength / rows;
        long[] shape = (long[])entry.Shape.Clone();
        shape[0] = rowCount;
        return Upload(file, entry, rowStart * rowBytes, rowCount * rowBytes, shape, device, dtype);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        foreach (var file in _files)
        {
            file.Dispose();
        }
    }

    public override string ToString() => $"WeightStore({Directory}, {_location.Count} tensors in {_files.Count} file(s))";

    private (SafetensorsFile File, SafetensorsEntry Entry) Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_location.TryGetValue(name, out var file))
        {
            throw new ModelFormatException(Directory, name, $"{Directory}: the model has no weight '{name}'");
        }
        return (file, file.Entries[name]);
    }

    private static Tensor Upload(SafetensorsFile file, SafetensorsEntry entry, long byteStart, long byteCount, long[] shape,
        Device device, DType dtype)
    {
        DType? stored = entry.DType.ToDType();
        bool convertible = stored is { } s && (s.IsFloatingPoint() ? dtype.IsFloatingPoint() : s == dtype);
        if (!convertible)
        {
            string wanted = stored is { } st && st.IsFloatingPoint() ? "a floating-point dtype" : dtype.Name();
            throw new ModelFormatException(file.Path, entry.Name,
                $"{file.Path}: tensor '{entry.Name}' is stored as {entry.DType.HeaderName()}, which cannot be loaded as {dtype.Name()}"
                + " (supported: F32/F16/BF16 to float32/float16/bfloat16, I32 to int32)"
                + (stored is null ? "" : $"; ask for {wanted}"));
        }
        foreach (long d in shape)
        {
            if (d == 0)
            {
                throw new ModelFormatException(file.Path, entry.Name,
                    $"{file.Path}: tensor '{entry.Name}' has shape [{string.Join(", ", shape)}] with no elements, which a device tensor cannot hold");
            }
        }

        var staging = Tensor.Zeros(device, stored!.Value, shape);
        try
        {
            int chunk = Math.Max(1, UploadChunkBytes);
            for (long done = 0; done < byteCount;)
            {
                int piece = (int)Math.Min(chunk, byteCount - done);
                staging.CopyFrom(file.GetBytes(entry.Name, byteStart + done, piece), done);
                done += piece;
            }
            if (stored.Value == dtype)
            {
                return staging;
            }
            using (staging)
            {
                return Ops.Convert(staging, dtype);
            }
        }
        catch
        {
            staging.Dispose();
            throw;
        }
    }

    private static WeightStore OpenSharded(string directory, string indexPath)
    {
        Dictionary<string, string> weightMap = ReadIndex(indexPath);
        var shards = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        var location = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            foreach (string shardName in weightMap.Values.Distinct(StringComparer.Ordinal).OrderBy(s => s, StringComparer.Ordinal))
            {
                string shardPath = Path.GetFullPath(Path.Combine(directory, shardName));
                string relative = Path.GetRelativePath(directory, shardPath);
                if (Path.IsPathRooted(shardName) || relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
                {
                    throw new ModelFormatException(indexPath, shardName,
                        $"{indexPath}: shard '{shardName}' is outside the model folder");
                }
                if (!File.Exists(shardPath))
                {
                    string example = weightMap.First(p => p.Value == shardName).Key;
                    throw new ModelFormatException(indexPath, example,
                        $"{indexPath}: shard '{shardName}' (holding e.g. '{example}') does not exist in {directory}");
                }
                try
                {
                    shards.Add(shardName, SafetensorsFile.Open(shardPath));
                }
                catch (ModelFormatException e)
                {
                    throw new ModelFormatException(e.FilePath, e.Key, $"{e.Message} (shard listed in {indexPath})", e);
                }
            }
            foreach (var (tensor, shardName) in weightMap)
            {
                var shard = shards[shardName];
                if (!shard.Entries.ContainsKey(tensor))
                {
                    throw new ModelFormatException(indexPath, tensor,
                        $"{indexPath}: tensor '{tensor}' is mapped to shard '{shardName}', which does not contain it");
                }
                location.Add(tensor, shard);
            }
            return new WeightStore(directory, shards.Values.ToList(), location);
        }
        catch
        {
            foreach (var shard in shards.Values)
            {
                shard.Dispose();
            }
            throw;
        }
    }

    private static Dictionary<string, string> ReadIndex(string indexPath)
    {
        JsonDocument document;
        try
        {
            using var stream = File.OpenRead(indexPath);
            document = JsonDocument.Parse(stream);
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(indexPath, null,
                $"{indexPath}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(indexPath, null, $"{indexPath}: must be a JSON object, got {root.ValueKind}");
            }
            if (!root.TryGetProperty("weight_map", out var map))
            {
                throw new ModelFormatException(indexPath, "weight_map", $"{indexPath}: 'weight_map' is missing");
            }
            if (map.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(indexPath, "weight_map", $"{indexPath}: 'weight_map' must be an object, got {map.ValueKind}");
            }
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in map.EnumerateObject())
            {
                if (item.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(item.Value.GetString()))
                {
                    throw new ModelFormatException(indexPath, item.Name,
                        $"{indexPath}: 'weight_map' entry '{item.Name}' must be a shard file name, got {item.Value.GetRawText()}");
                }
                if (!result.TryAdd(item.Name, item.Value.GetString()!))
                {
                    throw new ModelFormatException(indexPath, item.Name, $"{indexPath}: 'weight_map' lists '{item.Name}' twice");
                }
            }
            if (result.Count == 0)
            {
                throw new ModelFormatException(indexPath, "weight_map", $"{indexPath}: 'weight_map' is empty");
            }
            return result;
        }
    }
}
