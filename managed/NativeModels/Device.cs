using NativeModels.Interop;

namespace NativeModels;

/// <summary>
/// A compute device: owns one native context (nm_context). Tensors are created on a device and
/// may only be combined with tensors of the same device. Use from one thread at a time.
/// </summary>
public sealed unsafe class Device : IDisposable
{
    private readonly ContextHandle _context;

    private Device(ContextHandle context, BackendKind backend, int index)
    {
        _context = context;
        Backend = backend;
        Index = index;
    }

    /// <summary>Creates a device. spec: "auto" (CUDA if usable, else CPU), "cpu", "cuda" (= "cuda:0"), "cuda:N".</summary>
    public static Device Create(string spec = "auto")
    {
        ArgumentNullException.ThrowIfNull(spec);
        var context = ContextHandle.Create(spec);
        try
        {
            NmBackendKind kind;
            int index;
            NativeStatus.Check(NativeMethods.nm_context_backend(context.DangerousGetHandle(), &kind, &index));
            return new Device(context, (BackendKind)kind, index);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>A new CPU device.</summary>
    public static Device CreateCpu() => Create("cpu");

    /// <summary>A new device on CUDA GPU <paramref name="index"/>.</summary>
    public static Device CreateCuda(int index = 0) => Create($"cuda:{index}");

    public BackendKind Backend { get; }

    /// <summary>Device index (the GPU ordinal on CUDA; 0 on CPU).</summary>
    public int Index { get; }

    /// <summary>The context handle, for the interop layer.</summary>
    public ContextHandle Handle => _context;

    /// <summary>Bytes currently held by tensors of this device.</summary>
    public ulong MemoryInUse => ReadMemory().InUse;

    /// <summary>The most bytes ever held by tensors of this device at once.</summary>
    public ulong PeakMemory => ReadMemory().Peak;

    /// <summary>Waits for all queued work; reports asynchronous CUDA errors.</summary>
    public void Synchronize()
    {
        using var context = new HandleLease(_context);
        NativeStatus.Check(NativeMethods.nm_context_synchronize(context.Pointer));
    }

    /// <summary>A zero-filled tensor on this device.</summary>
    public Tensor Zeros(DType dtype, params long[] shape) => Tensor.Zeros(this, dtype, shape);

    /// <summary>Whether <paramref name="kind"/> can be used here, with the native reason when it cannot. Never throws
    /// for an unusable backend (it does throw if the native library itself cannot be loaded).</summary>
    public static BackendProbeResult Probe(BackendKind kind)
    {
        int count = 0;
        int status = NativeMethods.nm_backend_probe((NmBackendKind)kind, &count);
        if (status == (int)NmStatus.Ok)
        {
            return new BackendProbeResult(kind, true, count, string.Empty);
        }
        string reason = NativeMethods.ReadString(NativeMethods.nm_last_error());
        return new BackendProbeResult(kind, false, 0, string.IsNullOrEmpty(reason) ? NativeStatus.Name((NmStatus)status) : reason);
    }

    /// <summary>Properties of every CUDA GPU; empty when CUDA is unavailable.</summary>
    public static IReadOnlyList<CudaDeviceInfo> GetCudaDevices()
    {
        var probe = Probe(BackendKind.Cuda);
        var devices = new List<CudaDeviceInfo>(probe.DeviceCount);
        for (int i = 0; i < probe.DeviceCount; i++)
        {
            devices.Add(GetCudaDevice(i));
        }
        return devices;
    }

    /// <summary>Properties of CUDA GPU <paramref name="index"/>.</summary>
    public static CudaDeviceInfo GetCudaDevice(int index)
    {
        NmDeviceInfo info;
        NativeStatus.Check(NativeMethods.nm_cuda_device_info(index, &info));
        return CudaDeviceInfo.FromNative(index, info);
    }

    /// <summary>Threads of the CPU backend (OpenMP and OpenBLAS). Setting a value &lt;= 0 restores the default.</summary>
    public static int CpuThreads
    {
        get => NativeMethods.nm_cpu_num_threads();
        set => NativeStatus.Check(NativeMethods.nm_cpu_set_num_threads(value));
    }

    public override string ToString() => Backend == BackendKind.Cpu ? "cpu" : $"cuda:{Index}";

    /// <summary>Releases the context once every tensor of this device is released too.</summary>
    public void Dispose() => _context.Dispose();

    private (ulong InUse, ulong Peak) ReadMemory()
    {
        using var context = new HandleLease(_context);
        ulong inUse, peak;
        NativeStatus.Check(NativeMethods.nm_context_memory(context.Pointer, &inUse, &peak));
        return (inUse, peak);
    }
}
