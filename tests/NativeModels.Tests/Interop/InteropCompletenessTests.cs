using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using NativeModels.Interop;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.Interop;

/// <summary>The bindings cover exactly what the library exports, read from its ELF dynamic symbol table.</summary>
public class InteropCompletenessTests
{
    private static IReadOnlySet<string> BoundEntryPoints() =>
        typeof(NativeMethods).GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            .Select(m => (Method: m, Import: m.GetCustomAttribute<LibraryImportAttribute>()))
            .Where(x => x.Import is not null)
            .Select(x => x.Import!.EntryPoint ?? x.Method.Name)
            .ToHashSet(StringComparer.Ordinal);

    [Fact]
    public void EveryExportedFunctionIsBoundAndEveryBindingIsExported()
    {
        var exported = ElfSymbolReader.ReadExportedFunctions(NativeLibraryLocator.LoadedLibraryPath());
        var bound = BoundEntryPoints();

        var notBound = exported.Except(bound).Order().ToList();
        var notExported = bound.Except(exported).Order().ToList();
        Assert.True(notBound.Count == 0, "exported but not bound: " + string.Join(", ", notBound));
        Assert.True(notExported.Count == 0, "bound but not exported: " + string.Join(", ", notExported));
    }

    [Fact]
    public void LibraryExportsOnlyNmSymbols()
    {
        var symbols = ElfSymbolReader.ReadDynamicSymbols(NativeLibraryLocator.LoadedLibraryPath());
        var foreign = symbols
            .Where(s => s.IsDefined && s.IsGlobalOrWeak && s.Name.Length > 0 && !s.Name.StartsWith("nm_", StringComparison.Ordinal))
            .Select(s => s.Name)
            .Order()
            .ToList();
        Assert.True(foreign.Count == 0, "exported symbols without the nm_ prefix: " + string.Join(", ", foreign));
    }

    [Fact]
    public void BindingsCoverTheWholeHeader()
    {
        // The function names declared with NM_API in nativemodels.h (copied next to the tests).
        string header = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "nativemodels.h"));
        var declared = Regex.Matches(header, @"NM_API\s+[^;(]*?\b(nm_\w+)\s*\(")
            .Select(m => m.Groups[1].Value)
            .ToHashSet(StringComparer.Ordinal);
        var bound = BoundEntryPoints();

        Assert.True(declared.Count > 40, $"parsed only {declared.Count} declarations from the header");
        Assert.Equal(declared.Order(), bound.Order());
    }
}
