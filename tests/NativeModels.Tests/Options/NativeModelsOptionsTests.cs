using NativeModels.Interop;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Options;

[Collection(EnvironmentCollection.Name)]
public sealed class NativeModelsOptionsTests : IDisposable
{
    private readonly EnvironmentVariableScope _environment = new EnvironmentVariableScope().ClearNativeModelsVariables();
    private readonly string _jsonFile = Path.Combine(Path.GetTempPath(), $"nativemodels-options-{Guid.NewGuid():N}.json");

    public void Dispose()
    {
        _environment.Dispose();
        File.Delete(_jsonFile);
    }

    private string WriteJson(string json)
    {
        File.WriteAllText(_jsonFile, json);
        return _jsonFile;
    }

    [Fact]
    public void DefaultsWithNoSources()
    {
        var options = NativeModelsOptions.Load([]);
        Assert.Equal("auto", options.Backend);
        Assert.Null(options.Device);
        Assert.Equal(DType.Float32, options.GetDType());
        Assert.Null(options.NativeLibraryPath);
        Assert.Equal("auto", options.DeviceSpec);
    }

    [Fact]
    public void MissingJsonFileIsFine() =>
        Assert.Equal("auto", NativeModelsOptions.Load([], Path.Combine(Path.GetTempPath(), "nativemodels-absent.json")).Backend);

    [Fact]
    public void JsonThenEnvironmentThenCommandLine()
    {
        string json = WriteJson("""
            { "NativeModels": { "Backend": "cuda", "Device": 1, "DType": "float16", "NativeLibraryPath": "/from/json" } }
            """);
        _environment.Set("NATIVEMODELS__DTYPE", "bfloat16").Set("NATIVEMODELS__NATIVELIBRARYPATH", "/from/env");

        var options = NativeModelsOptions.Load(["--native-library", "/from/cli"], json);

        Assert.Equal("cuda", options.Backend);              // only in the file
        Assert.Equal(1, options.Device);                    // only in the file
        Assert.Equal(DType.BFloat16, options.GetDType());   // environment beats the file
        Assert.Equal("/from/cli", options.NativeLibraryPath); // command line beats both
        Assert.Equal("cuda:1", options.DeviceSpec);
    }

    [Fact]
    public void EachLaterSourceOverridesTheBackend()
    {
        string json = WriteJson("""{ "NativeModels": { "Backend": "cuda" } }""");
        Assert.Equal("cuda", NativeModelsOptions.Load([], json).Backend);

        _environment.Set("NATIVEMODELS__BACKEND", "cpu");
        Assert.Equal("cpu", NativeModelsOptions.Load([], json).Backend);

        Assert.Equal("auto", NativeModelsOptions.Load(["--backend", "auto"], json).Backend);
        Assert.Equal("cuda", NativeModelsOptions.Load(["--backend=cuda"], json).Backend);
    }

    [Fact]
    public void EnvironmentVariableLandsInTheSection()
    {
        _environment.Set("NATIVEMODELS__BACKEND", "cpu").Set("NATIVEMODELS__DTYPE", "float16");
        var configuration = NativeModelsOptions.BuildConfiguration([]);
        Assert.Equal("cpu", configuration["NativeModels:Backend"]);
        Assert.Equal("float16", configuration["NativeModels:DType"]);
    }

    [Fact]
    public void AllSwitchesAreMapped()
    {
        var options = NativeModelsOptions.Load(["--backend", "cuda", "--device", "2", "--dtype", "bf16", "--native-library", "/lib"]);
        Assert.Equal(BackendKind.Cuda, options.GetBackend());
        Assert.Equal(2, options.Device);
        Assert.Equal(DType.BFloat16, options.GetDType());
        Assert.Equal("/lib", options.NativeLibraryPath);
        Assert.Equal("cuda:2", options.DeviceSpec);
    }

    [Fact]
    public void UnknownBackendNamesTheKeyAndTheAllowedValues()
    {
        var e = Assert.Throws<NativeModelsConfigurationException>(() => NativeModelsOptions.Load(["--backend", "tpu"]));
        Assert.IsAssignableFrom<NativeModelsException>(e);
        Assert.Equal("NativeModels:Backend", e.Key);
        Assert.Contains("NativeModels:Backend", e.Message);
        Assert.Contains("'tpu'", e.Message);
        Assert.Contains("auto, cpu, cuda", e.Message);
    }

    [Fact]
    public void UnknownBackendFromTheEnvironmentIsReportedToo()
    {
        _environment.Set("NATIVEMODELS__BACKEND", "metal");
        var e = Assert.Throws<NativeModelsConfigurationException>(() => NativeModelsOptions.Load([]));
        Assert.Contains("'metal'", e.Message);
    }

    [Theory]
    [InlineData("int32")]
    [InlineData("float64")]
    public void UnknownDTypeNamesTheKeyAndTheAllowedValues(string dtype)
    {
        var e = Assert.Throws<NativeModelsConfigurationException>(() => NativeModelsOptions.Load(["--dtype", dtype]));
        Assert.Contains("NativeModels:DType", e.Message);
        Assert.Contains("float32, float16, bfloat16", e.Message);
    }

    [Fact]
    public void DeviceMustBeAnIndex()
    {
        var e = Assert.Throws<NativeModelsConfigurationException>(() => NativeModelsOptions.Load(["--backend", "cuda", "--device", "first"]));
        Assert.Contains("NativeModels:Device", e.Message);
    }

    [Fact]
    public void DeviceIndexNeedsTheCudaBackend()
    {
        var e = Assert.Throws<NativeModelsConfigurationException>(() => NativeModelsOptions.Load(["--backend", "cpu", "--device", "1"]));
        Assert.Contains("NativeModels:Device", e.Message);
    }

    [Fact]
    public void CreateDeviceMakesTheConfiguredDevice()
    {
        using var device = NativeModelsOptions.Load(["--backend", "cpu"]).CreateDevice();
        Assert.Equal(BackendKind.Cpu, device.Backend);
    }
}
