namespace NativeModels.Tests.Mamba;

/// <summary>A [Fact] that is skipped while the Hugging Face golden fixture folder
/// tests/fixtures/<paramref name="family"/>/<paramref name="fixture"/> has not been generated (see make_goldens.py there).
/// xunit 2 has no dynamic skip, so the check runs when the attribute is constructed (at discovery).</summary>
public sealed class GoldenFactAttribute : FactAttribute
{
    public GoldenFactAttribute(string fixture, string family = "mamba")
    {
        if (GoldenFixtures.Find(fixture, family) is null)
        {
            Skip = $"golden fixtures not generated yet: run tests/fixtures/{family}/make_goldens.py";
        }
    }
}

/// <summary>Locates tests/fixtures/&lt;family&gt; by walking up from the test assembly.</summary>
public static class GoldenFixtures
{
    /// <summary>The fixture folder when it holds config.json and golden.json; otherwise null.</summary>
    public static string? Find(string fixture, string family = "mamba")
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", family, fixture);
            if (File.Exists(Path.Combine(candidate, "golden.json")) && File.Exists(Path.Combine(candidate, "config.json")))
            {
                return candidate;
            }
        }
        return null;
    }
}
