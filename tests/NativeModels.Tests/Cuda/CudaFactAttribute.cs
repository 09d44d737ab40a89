using NativeModels.Interop;

namespace NativeModels.Tests.Cuda;

/// <summary>A [Fact] that is skipped, with the native reason, where no CUDA device can be used.
/// xunit 2 has no dynamic skip, so the probe runs when the attribute is constructed (at discovery).</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    public CudaFactAttribute()
    {
        if (CudaAvailability.Reason is { } reason)
        {
            Skip = $"CUDA unavailable: {reason}";
        }
    }
}

/// <summary>The CUDA probe, once per process. Never throws: any failure becomes the reason.</summary>
public static class CudaAvailability
{
    private static readonly Lazy<string?> LazyReason = new(Probe);

    /// <summary>Null when CUDA is usable; otherwise why not.</summary>
    public static string? Reason => LazyReason.Value;

    private static string? Probe()
    {
        try
        {
            var probe = Device.Probe(BackendKind.Cuda);
            if (!probe.Available)
            {
                return string.IsNullOrWhiteSpace(probe.Reason) ? "the probe gave no reason" : probe.Reason;
            }
            using var device = Device.Create("cuda");
            return null;
        }
        catch (Exception e) when (e is NativeModelsException or DllNotFoundException or InvalidOperationException)
        {
            return e.Message;
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }
}
