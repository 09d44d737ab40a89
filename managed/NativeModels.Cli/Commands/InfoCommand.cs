using System.CommandLine;
using System.Globalization;
using NativeModels.Interop;

namespace NativeModels.Cli.Commands;

/// <summary>`nativemodels info`: library version, ABI, build, backends and GPUs.</summary>
public static class InfoCommand
{
    public static Command Create(CommonOptions common)
    {
        var command = new Command("info", "Show the native library, its backends and the GPUs it sees.");
        command.SetAction(parseResult =>
        {
            var invocation = parseResult.InvocationConfiguration;
            return CommandRunner.Run(invocation.Error, () => Run(common.Load(parseResult), invocation.Output));
        });
        return command;
    }

    /// <summary>Writes the report; returns the exit code.</summary>
    public static int Run(NativeModelsOptions options, TextWriter output)
    {
        options.ApplyNativeLibraryPath();
        output.WriteLine($"nativemodels {NativeLibraryInfo.Version}");
        output.WriteLine($"  library:  {NativeLibraryInfo.LoadedPath ?? "(found by the OS search)"}");
        output.WriteLine($"  ABI:      {NativeLibraryInfo.AbiVersion} (bindings: {NativeAbi.Version})");
        output.WriteLine($"  build:    {NativeLibraryInfo.BuildInfo}");
        output.WriteLine($"  bindings: {typeof(NativeModelsOptions).Assembly.GetName().Version?.ToString(3)}");

        output.WriteLine("backends:");
        var cpu = Device.Probe(BackendKind.Cpu);
        output.WriteLine(cpu.Available
            ? $"  cpu   available ({Device.CpuThreads} threads)"
            : $"  cpu   unavailable: {cpu.Reason}");
        var cuda = Device.Probe(BackendKind.Cuda);
        output.WriteLine(cuda.Available
            ? $"  cuda  available ({cuda.DeviceCount} {(cuda.DeviceCount == 1 ? "device" : "devices")})"
            : $"  cuda  unavailable: {cuda.Reason}");

        if (cuda.Available)
        {
            output.WriteLine("gpus:");
            foreach (var gpu in Device.GetCudaDevices())
            {
                output.WriteLine($"  [{gpu.Index}] {gpu.Name}");
                output.WriteLine($"      memory:             {FormatBytes(gpu.TotalMemory)} total, {FormatBytes(gpu.FreeMemory)} free");
                output.WriteLine($"      compute capability: {gpu.ComputeCapability.Major}.{gpu.ComputeCapability.Minor} ({gpu.MultiprocessorCount} SMs)");
                output.WriteLine($"      CUDA driver:        {gpu.DriverVersionText}");
                output.WriteLine($"      CUDA runtime:       {gpu.RuntimeVersionText}");
            }
        }

        using var device = options.CreateDevice();
        output.WriteLine($"selected: {device} (backend option '{options.Backend}', dtype {options.GetDType().Name()})");
        return 0;
    }

    private static string FormatBytes(ulong bytes) =>
        string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):F1} GiB");
}
