using System.CommandLine;

namespace NativeModels.Cli;

/// <summary>Options every command accepts; they become <see cref="NativeModelsOptions"/> on top of the
/// JSON file (--config) and NATIVEMODELS__* environment variables.</summary>
public sealed class CommonOptions
{
    public Option<string?> Backend { get; } = new("--backend")
    {
        Description = "Backend: auto, cpu or cuda (default: auto)",
        Recursive = true,
    };

    public Option<int?> Device { get; } = new("--device")
    {
        Description = "CUDA device index (with --backend cuda)",
        Recursive = true,
    };

    public Option<string?> DType { get; } = new("--dtype")
    {
        Description = "Compute dtype: float32, float16 or bfloat16 (default: float32)",
        Recursive = true,
    };

    public Option<string?> NativeLibrary { get; } = new("--native-library")
    {
        Description = "Path of libnativemodels.so or its directory (default: NATIVEMODELS_LIBRARY_PATH, then next to the tool)",
        Recursive = true,
    };

    public Option<string?> Config { get; } = new("--config")
    {
        Description = "JSON configuration file with a \"NativeModels\" section",
        Recursive = true,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Backend);
        command.Options.Add(Device);
        command.Options.Add(DType);
        command.Options.Add(NativeLibrary);
        command.Options.Add(Config);
    }

    /// <summary>The options, with the switches given on the command line overriding file and environment.</summary>
    public NativeModelsOptions Load(ParseResult parseResult)
    {
        var switches = new List<string>();
        AddSwitch(switches, "--backend", parseResult.GetValue(Backend));
        AddSwitch(switches, "--device", parseResult.GetValue(Device)?.ToString(System.Globalization.CultureInfo.InvariantCulture));
        AddSwitch(switches, "--dtype", parseResult.GetValue(DType));
        AddSwitch(switches, "--native-library", parseResult.GetValue(NativeLibrary));
        var options = NativeModelsOptions.Load([.. switches], parseResult.GetValue(Config));
        // Before any native call: the library path must be known when the library is first loaded.
        options.ApplyNativeLibraryPath();
        return options;
    }

    private static void AddSwitch(List<string> switches, string name, string? value)
    {
        if (value is not null)
        {
            switches.Add(name);
            switches.Add(value);
        }
    }
}
