using System.Globalization;
using Microsoft.Extensions.Configuration;
using NativeModels.Interop;

namespace NativeModels;

/// <summary>
/// Settings of the "NativeModels" configuration section: from a JSON file, then NATIVEMODELS__* environment
/// variables, then command-line switches, each overriding the one before.
/// </summary>
public sealed class NativeModelsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "NativeModels";

    /// <summary>Prefix of the environment variables: NATIVEMODELS__BACKEND sets NativeModels:Backend.</summary>
    public const string EnvironmentPrefix = "NATIVEMODELS__";

    /// <summary>The backends <see cref="Backend"/> accepts.</summary>
    public static IReadOnlyList<string> BackendNames { get; } = ["auto", "cpu", "cuda"];

    /// <summary>Command-line switches and the keys they set.</summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>
    {
        ["--backend"] = $"{SectionName}:{nameof(Backend)}",
        ["--device"] = $"{SectionName}:{nameof(Device)}",
        ["--dtype"] = $"{SectionName}:{nameof(DType)}",
        ["--native-library"] = $"{SectionName}:{nameof(NativeLibraryPath)}",
    };

    /// <summary>"auto" (CUDA if usable, else CPU), "cpu" or "cuda".</summary>
    public string Backend { get; set; } = "auto";

    /// <summary>CUDA device index; only with Backend "cuda" (null = device 0).</summary>
    public int? Device { get; set; }

    /// <summary>Compute dtype name: "float32", "float16", "bfloat16" (see <see cref="GetDType"/>).</summary>
    public string DType { get; set; } = "float32";

    /// <summary>libnativemodels file or directory; null = NATIVEMODELS_LIBRARY_PATH or the default search.</summary>
    public string? NativeLibraryPath { get; set; }

    /// <summary>
    /// Builds the configuration from <paramref name="jsonFile"/> (optional), NATIVEMODELS__* environment variables
    /// and <paramref name="args"/> (--backend, --device, --dtype, --native-library), then reads and validates the options.
    /// </summary>
    public static NativeModelsOptions Load(string[] args, string? jsonFile = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        return FromConfiguration(BuildConfiguration(args, jsonFile));
    }

    /// <summary>The layered configuration <see cref="Load"/> reads.</summary>
    public static IConfiguration BuildConfiguration(string[] args, string? jsonFile = null)
    {
        var builder = new ConfigurationBuilder();
        if (!string.IsNullOrEmpty(jsonFile))
        {
            builder.AddJsonFile(Path.GetFullPath(jsonFile), optional: true, reloadOnChange: false);
        }
        // The environment provider strips the prefix (NATIVEMODELS__BACKEND → "BACKEND"); re-root those keys under
        // the section so they override the JSON file's NativeModels:Backend rather than living beside it.
        var environment = new ConfigurationBuilder().AddEnvironmentVariables(EnvironmentPrefix).Build();
        builder.AddInMemoryCollection(environment.AsEnumerable()
            .Where(entry => entry.Value is not null)
            .Select(entry => KeyValuePair.Create($"{SectionName}:{entry.Key}", entry.Value)));
        builder.AddCommandLine(args, SwitchMappings.ToDictionary(StringComparer.OrdinalIgnoreCase));
        return builder.Build();
    }

    /// <summary>Reads and validates the "NativeModels" section of <paramref name="configuration"/>
    /// (keys read one by one: no reflection, safe for trimming and AOT).</summary>
    public static NativeModelsOptions FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(SectionName);
        var options = new NativeModelsOptions();
        if (section[nameof(Backend)] is { } backend)
        {
            options.Backend = backend.Trim();
        }
        if (section[nameof(Device)] is { } device && !string.IsNullOrWhiteSpace(device))
        {
            if (!int.TryParse(device, NumberStyles.Integer, CultureInfo.InvariantCulture, out int index) || index < 0)
            {
                throw new NativeModelsConfigurationException(Key(nameof(Device)), $"'{device}' is not a device index (0, 1, ...)");
            }
            options.Device = index;
        }
        if (section[nameof(DType)] is { } dtype)
        {
            options.DType = dtype.Trim();
        }
        if (section[nameof(NativeLibraryPath)] is { } path && !string.IsNullOrWhiteSpace(path))
        {
            options.NativeLibraryPath = path;
        }
        options.Validate();
        return options;
    }

    /// <summary>Throws <see cref="NativeModelsConfigurationException"/> naming the key and the allowed values.</summary>
    public void Validate()
    {
        GetBackend();
        GetDType();
        if (Device is { } index)
        {
            if (index < 0)
            {
                throw new NativeModelsConfigurationException(Key(nameof(Device)), $"{index} is not a device index (0, 1, ...)");
            }
            if (GetBackend() != BackendKind.Cuda)
            {
                throw new NativeModelsConfigurationException(Key(nameof(Device)),
                    $"a device index needs backend 'cuda' (the backend is '{Backend}')");
            }
        }
    }

    /// <summary>The backend, or null for "auto".</summary>
    public BackendKind? GetBackend() => Backend.ToLowerInvariant() switch
    {
        "auto" => null,
        "cpu" => BackendKind.Cpu,
        "cuda" => BackendKind.Cuda,
        _ => throw new NativeModelsConfigurationException(Key(nameof(Backend)),
            $"unknown backend '{Backend}'; allowed values: {string.Join(", ", BackendNames)}"),
    };

    /// <summary>The parsed <see cref="DType"/>; only floating-point dtypes are compute dtypes.</summary>
    public NativeModels.DType GetDType()
    {
        if (!DTypes.TryParse(DType, out var dtype) || !dtype.IsFloatingPoint())
        {
            throw new NativeModelsConfigurationException(Key(nameof(DType)),
                $"unknown dtype '{DType}'; allowed values: float32, float16, bfloat16");
        }
        return dtype;
    }

    /// <summary>The context spec: "auto", "cpu", "cuda" or "cuda:N".</summary>
    public string DeviceSpec => GetBackend() switch
    {
        null => "auto",
        BackendKind.Cpu => "cpu",
        _ => Device is { } index ? $"cuda:{index}" : "cuda",
    };

    /// <summary>Points the resolver at <see cref="NativeLibraryPath"/> (if set); call before any native call.</summary>
    public void ApplyNativeLibraryPath()
    {
        if (!string.IsNullOrWhiteSpace(NativeLibraryPath))
        {
            NativeLibraryResolver.Configure(NativeLibraryPath);
        }
    }

    /// <summary>Validates, applies <see cref="NativeLibraryPath"/>, then creates the device.</summary>
    public Device CreateDevice()
    {
        Validate();
        ApplyNativeLibraryPath();
        return NativeModels.Device.Create(DeviceSpec);
    }

    private static string Key(string property) => $"{SectionName}:{property}";
}
