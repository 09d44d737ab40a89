namespace NativeModels;

/// <summary>Whether a backend is usable: the device count (CPU: 1), or the native reason it is not.</summary>
public sealed record BackendProbeResult(BackendKind Backend, bool Available, int DeviceCount, string Reason);
