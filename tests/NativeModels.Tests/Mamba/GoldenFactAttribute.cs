namespace NativeModels.Tests.Mamba;

/// <summary>A [Fact] that is skipped while the Hugging Face golden fixture folder
/// tests/fixtures/mamba/<paramref name="fixture"/> has not been generated (see make_goldens.py there).
/// xunit 2 has no dynamic skip, so the check runs when the attribute is constructed (at discovery).</summary>
public sealed class GoldenFactAttribute : FactAttribute
{
    public GoldenFactAttribute(string fixture)
    {
        if (GoldenFixtures.Find(fixture) is null)
        {
            Skip = "Hugging Face goldens not generated yet: run tests/fixtures/mamba/make_goldens.py";
        }
    }
}

/// <summary>Locates tests/fixtures/mamba by walking up from the test assembly.</summary>
public static class GoldenFixtures
{
    /// <summary>The fixture folder when it holds config.json and golden.json; otherwise null.</summary>
    public static string? Find(string fixture)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "tests", "fixtures", "mamba", fixture);
            if (File.Exists(Path.Combine(candidate, "golden.json")) && File.Exists(Path.Combine(candidate, "config.json")))
            {
                return candidate;
            }
        }
        return null;
    }
}
