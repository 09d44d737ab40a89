namespace NativeModels.Tests.Support;

/// <summary>Tests that change process environment variables: never run in parallel with each other.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "Process environment";
}

/// <summary>Sets environment variables and restores the previous values on Dispose.</summary>
public sealed class EnvironmentVariableScope : IDisposable
{
    private readonly Dictionary<string, string?> _saved = new();

    public EnvironmentVariableScope Set(string name, string? value)
    {
        if (!_saved.ContainsKey(name))
        {
            _saved[name] = Environment.GetEnvironmentVariable(name);
        }
        Environment.SetEnvironmentVariable(name, value);
        return this;
    }

    /// <summary>Clears every NATIVEMODELS__* variable (restored on Dispose) so the host's settings cannot leak in.</summary>
    public EnvironmentVariableScope ClearNativeModelsVariables()
    {
        foreach (string name in Environment.GetEnvironmentVariables().Keys.Cast<string>()
                     .Where(n => n.StartsWith(NativeModelsOptions.EnvironmentPrefix, StringComparison.OrdinalIgnoreCase)))
        {
            Set(name, null);
        }
        return this;
    }

    public void Dispose()
    {
        foreach (var (name, value) in _saved)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }
}
