using System.Diagnostics;
using System.Globalization;
using NativeModels;
using NativeModels.Bench;

return BenchProgram.Run(args);

internal sealed class UsageException(string message) : Exception(message);

internal static class BenchProgram
{
    private const string Usage = """
        usage:
          nativemodels-bench e2e --arch mamba|llama [--backend cuda|cpu|auto] [--dtype bfloat16|float32|float16]
                                 [--contexts 128,512,2048,8192,16384] [--decode-tokens 64] [--batch 1]
                                 [--layers N] [--repeats 3] [--seed 1234] [--out results.md] [--work-dir DIR]
          nativemodels-bench kernels [--bin-dir build/bench/bin] [--out-dir DIR] [--quick]

        e2e: writes a random-weight model (Mamba-130m or Llama-3.2-1B shaped; --layers shrinks it) to a temporary
        folder, loads it with AutoModel and measures prefill and decode throughput and device memory per context.
        kernels: runs selective_scan_bench and attention_bench (CMake -DNM_BUILD_BENCH=ON; see bench/README.md).
        The native library is found as usual (NATIVEMODELS_LIBRARY_PATH, --native-library).
        """;

    public static int Run(string[] args)
    {
        try
        {
            if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
            {
                Console.WriteLine(Usage);
                return args.Length == 0 ? 2 : 0;
            }
            var options = ParseOptions(args.AsSpan(1));
            if (options.Remove("native-library", out string? library))
            {
                NativeLibraryInfo.Configure(library);
            }
            return args[0] switch
            {
                "e2e" => E2eBench.Run(E2e(options)),
                "kernels" => Kernels(options),
                _ => throw new UsageException($"unknown command '{args[0]}' (expected e2e or kernels)"),
            };
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"nativemodels-bench: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    private static Dictionary<string, string> ParseOptions(ReadOnlySpan<string> args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal) || a.Length == 2)
            {
                throw new UsageException($"unexpected argument '{a}'");
            }
            string key = a[2..];
            string value;
            int eq = key.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = key[(eq + 1)..];
                key = key[..eq];
            }
            else if (key == "quick")
            {
                value = "true";
            }
            else
            {
                if (i + 1 >= args.Length)
                {
                    throw new UsageException($"--{key} needs a value");
                }
                value = args[++i];
            }
            options[key] = value;
        }
        return options;
    }

    private static E2eOptions E2e(Dictionary<string, string> o)
    {
        string Take(string key, string fallback) => o.Remove(key, out string? v) ? v : fallback;
        int Int(string key, int fallback, int min)
        {
            string text = Take(key, fallback.ToString(CultureInfo.InvariantCulture));
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min)
            {
                throw new UsageException($"--{key} must be an integer >= {min}, got '{text}'");
            }
            return value;
        }

        string arch = Take("arch", "");
        if (arch is not ("mamba" or "llama"))
        {
            throw new UsageException($"--arch must be mamba or llama{(arch.Length > 0 ? $", got '{arch}'" : "")}");
        }
        string dtypeText = Take("dtype", "bfloat16");
        if (!DTypes.TryParse(dtypeText, out var dtype) || !dtype.IsFloatingPoint())
        {
            throw new UsageException($"--dtype must be bfloat16, float32 or float16, got '{dtypeText}'");
        }
        string contextsText = Take("contexts", "128,512,2048,8192,16384");
        var contexts = contextsText.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(c => int.TryParse(c, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n >= 1
                ? n : throw new UsageException($"--contexts: '{c}' is not a positive integer"))
            .Distinct().ToArray();
        if (contexts.Length == 0)
        {
            throw new UsageException("--contexts is empty");
        }
        int? layers = o.ContainsKey("layers") ? Int("layers", 0, 1) : null;
        var result = new E2eOptions
        {
            Arch = arch,
            Backend = Take("backend", "auto"),
            DType = dtype,
            Contexts = contexts,
            DecodeTokens = Int("decode-tokens", 64, 1),
            Batch = Int("batch", 1, 1),
            Layers = layers,
            Repeats = Int("repeats", 3, 1),
            Seed = (ulong)Int("seed", 1234, 0),
            Out = o.Remove("out", out string? outPath) ? outPath : null,
            WorkDir = o.Remove("work-dir", out string? work) ? work : null,
        };
        if (o.Count > 0)
        {
            throw new UsageException($"unknown option(s) for e2e: {string.Join(", ", o.Keys.Select(k => "--" + k))}");
        }
        return result;
    }

    /// <summary>Runs the native kernel benchmarks (built with -DNM_BUILD_BENCH=ON) that are present.</summary>
    private static int Kernels(Dictionary<string, string> o)
    {
        string binDir = o.Remove("bin-dir", out string? b) ? b : Path.Combine("build", "bench", "bin");
        string outDir = o.Remove("out-dir", out string? d) ? d : ".";
        bool quick = o.Remove("quick", out string? q) && q is "true" or "1";
        if (o.Count > 0)
        {
            throw new UsageException($"unknown option(s) for kernels: {string.Join(", ", o.Keys.Select(k => "--" + k))}");
        }
        Directory.CreateDirectory(outDir);
        int ran = 0, failed = 0;
        foreach (var (program, stem) in new[] { ("selective_scan_bench", "ssm"), ("attention_bench", "attn") })
        {
            string path = Path.Combine(binDir, program);
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"nativemodels-bench: {path} not found (configure CMake with -DNM_BUILD_BENCH=ON, see bench/README.md)");
                continue;
            }
            var start = new ProcessStartInfo(path) { UseShellExecute = false };
            start.ArgumentList.Add("--md");
            start.ArgumentList.Add(Path.Combine(outDir, stem + ".md"));
            start.ArgumentList.Add("--csv");
            start.ArgumentList.Add(Path.Combine(outDir, stem + ".csv"));
            if (quick)
            {
                start.ArgumentList.Add("--quick");
            }
            Console.WriteLine($"# {path}");
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {path}");
            process.WaitForExit();
            ran++;
            if (process.ExitCode != 0)
            {
                failed++;
                Console.Error.WriteLine($"nativemodels-bench: {program} exited with {process.ExitCode}");
            }
        }
        return ran == 0 ? 3 : failed > 0 ? 1 : 0;
    }
}
