using NativeModels.IO;

namespace NativeModels.Models;

/// <summary>
/// What the architectures' loaders share: reads checkpoint tensors from a <see cref="WeightStore"/> onto a device in a
/// compute dtype, checking each name, shape and storage dtype against the config first (errors name the tensor and the
/// config), and tracks every tensor it hands out so that a load that fails half way can dispose them.
/// </summary>
/// <param name="store">The checkpoint.</param>
/// <param name="device">Where the tensors go.</param>
/// <param name="dtype">The compute dtype of <see cref="Load"/> and <see cref="LoadRows"/>.</param>
/// <param name="sourcePath">The config.json the dimensions come from (named by missing-tensor errors).</param>
/// <param name="description">The config's description (its ToString), quoted in errors.</param>
/// <param name="architecture">How storage-dtype errors name the weights ("Mamba", "llama", ...).</param>
internal sealed class CheckpointWeights(WeightStore store, Device device, DType dtype, string sourcePath, string description,
    string architecture)
{
    private readonly List<Tensor> _loaded = [];

    public WeightStore Store => store;

    public bool Contains(string name) => store.Contains(name);

    /// <summary>Loads <paramref name="name"/> in the compute dtype after checking its shape.</summary>
    public Tensor Load(string name, params long[] shape) => LoadAs(name, dtype, shape);

    /// <summary>Loads <paramref name="name"/> converted to <paramref name="target"/> after checking its shape.</summary>
    public Tensor LoadAs(string name, DType target, params long[] shape)
    {
        CheckShape(name, shape);
        return Track(store.Load(name, device, target, shape));
    }

    /// <summary>Rows [start, start + count) of <paramref name="name"/> in the compute dtype (the caller checks the shape).</summary>
    public Tensor LoadRows(string name, long start, long count) => Track(store.LoadRows(name, start, count, device, dtype));

    /// <summary>The values of <paramref name="name"/> as float32 on the host, after checking its shape (not tracked).</summary>
    public float[] LoadFloats(string name, params long[] shape)
    {
        CheckShape(name, shape);
        using var t = store.Load(name, device, DType.Float32, shape);
        return t.ToArray<float>();
    }

    /// <summary>A tracked tensor of <paramref name="values"/> (shape [values.Length] when none is given) in
    /// <paramref name="target"/>.</summary>
    public Tensor Upload(ReadOnlySpan<float> values, DType target, params long[] shape)
    {
        long[] dims = shape.Length == 0 ? [values.Length] : shape;
        var f32 = Tensor.FromArray(device, values, dims);
        if (target == DType.Float32)
        {
            return Track(f32);
        }
        using (f32)
        {
            return Track(Ops.Convert(f32, target));
        }
    }

    /// <summary>Adds <paramref name="t"/> to what <see cref="DisposeLoaded"/> disposes.</summary>
    public Tensor Track(Tensor t)
    {
        _loaded.Add(t);
        return t;
    }

    /// <summary>Disposes every tensor handed out (after a failed load).</summary>
    public void DisposeLoaded()
    {
        foreach (var t in _loaded)
        {
            t.Dispose();
        }
        _loaded.Clear();
    }

    /// <summary>Throws <see cref="ModelFormatException"/> unless <paramref name="name"/> exists with shape
    /// <paramref name="expected"/> and a float storage dtype.</summary>
    public void CheckShape(string name, params long[] expected)
    {
        if (!store.Contains(name))
        {
            throw Missing(name, $"a tensor of shape {Format(expected)}");
        }
        var info = store.Describe(name);
        if (!info.Shape.SequenceEqual(expected))
        {
            throw new ModelFormatException(info.File, name,
                $"{info.File}: tensor {name} has shape {Format(info.Shape)} but config.json ({description}) needs {Format(expected)}");
        }
        if (info.DType is not (SafetensorsDType.F32 or SafetensorsDType.F16 or SafetensorsDType.BF16))
        {
            throw new ModelFormatException(info.File, name,
                $"{info.File}: tensor {name} is {info.DType.HeaderName()}; {architecture} weights must be F32, F16 or BF16");
        }
    }

    /// <summary>The error for a tensor the checkpoint lacks; <paramref name="what"/> says what it is for.</summary>
    public ModelFormatException Missing(string name, string what) =>
        new(sourcePath, name, $"the checkpoint has no tensor {name} ({what}) for {description}");

    private static string Format(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";
}
