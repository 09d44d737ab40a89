using System.Diagnostics;
using System.Globalization;
using System.Text;
using NativeModels.Generation;
using NativeModels.IO;
using NativeModels.Models;
using NativeModels.Models.Mamba;

namespace NativeModels.Bench;

internal sealed record E2eOptions
{
    public required string Arch { get; init; }
    public required string Backend { get; init; }
    public required DType DType { get; init; }
    public required int[] Contexts { get; init; }
    public int DecodeTokens { get; init; } = 64;
    public int Batch { get; init; } = 1;
    public int? Layers { get; init; }
    public int Repeats { get; init; } = 3;
    public ulong Seed { get; init; } = 1234;
    public string? Out { get; init; }
    public string? WorkDir { get; init; }
}

internal sealed record E2eRow(
    int Context,
    double PrefillMs,
    double DecodeMs,
    ulong PeakBytes,
    ulong CacheBytesAfterPrefill,
    ulong CacheBytesAfterDecode,
    long StateBytes);

/// <summary>
/// The end-to-end benchmark: random weights shaped like a real model, loaded through <see cref="AutoModel"/>, timed
/// through <see cref="ICausalLanguageModel.Prefill"/> and <see cref="ICausalLanguageModel.DecodeStep"/> (the calls
/// <see cref="TextGenerator"/> makes), with greedy <see cref="Ops.Sample"/> between decode steps.
/// </summary>
internal static class E2eBench
{
    public static int Run(E2eOptions o)
    {
        var shape = o.Arch switch
        {
            "mamba" => ModelShape.Mamba130m(),
            "llama" => ModelShape.Llama1B(),
            _ => throw new UsageException($"--arch must be mamba or llama, got '{o.Arch}'"),
        };
        if (o.Layers is int layers)
        {
            shape = shape with { Layers = layers };
        }
        if (!AutoModel.SupportedModelTypes.Contains(o.Arch))
        {
            Console.Error.WriteLine(
                $"nativemodels-bench: model_type \"{o.Arch}\" is not supported by this build of NativeModels " +
                $"(AutoModel supports: {string.Join(", ", AutoModel.SupportedModelTypes)}). " +
                "The Llama architecture has not landed yet; this benchmark runs it as soon as AutoModel.Load accepts \"llama\".");
            return 3;
        }
        var storage = o.DType switch
        {
            DType.Float32 => SafetensorsDType.F32,
            DType.BFloat16 => SafetensorsDType.BF16,
            DType.Float16 => SafetensorsDType.F16,
            _ => throw new UsageException("--dtype must be float32, bfloat16 or float16"),
        };

        using var device = Device.Create(o.Backend);
        string deviceText = DescribeDevice(device);
        Console.WriteLine($"# nativemodels-bench e2e: {shape.Describe()}");
        Console.WriteLine($"# device {deviceText}; dtype {o.DType.Name()}; batch {o.Batch}; decode {o.DecodeTokens} tokens; " +
                          $"median of {o.Repeats} prefills after 1 warm-up; native {NativeLibraryInfo.Version}");

        string root = o.WorkDir ?? Path.GetTempPath();
        string dir = Path.Combine(root, "nm-bench-" + o.Arch + "-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var sw = Stopwatch.StartNew();
            long weightBytes = RandomCheckpoint.Write(dir, shape, storage, o.Seed);
            Console.WriteLine($"# wrote {Mib(weightBytes):F1} MiB of random weights to {dir} in {sw.Elapsed.TotalSeconds:F1} s");

            sw.Restart();
            using var model = AutoModel.Load(dir, device, o.DType);
            device.Synchronize();
            ulong weightsOnDevice = device.MemoryInUse;
            Console.WriteLine($"# loaded in {sw.Elapsed.TotalSeconds:F1} s; {Mib(weightsOnDevice):F1} MiB on the device");

            var rows = new List<E2eRow>();
            foreach (int context in o.Contexts.Order())
            {
                rows.Add(Measure(model, device, o, context));
                var r = rows[^1];
                Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  context {context}: prefill {r.PrefillMs:F1} ms, decode {r.DecodeMs / o.DecodeTokens:F2} ms/step"));
            }

            string markdown = Table(o, shape, deviceText, weightsOnDevice, rows);
            Console.WriteLine();
            Console.WriteLine(markdown);
            if (o.Out is not null)
            {
                File.WriteAllText(o.Out, markdown);
                Console.WriteLine($"# written to {o.Out}");
            }
            return 0;
        }
        finally
        {
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    private static E2eRow Measure(ICausalLanguageModel model, Device device, E2eOptions o, int context)
    {
        var random = new Random(unchecked((int)o.Seed) ^ context);
        var prompts = new int[o.Batch][];
        for (int b = 0; b < o.Batch; b++)
        {
            prompts[b] = new int[context];
            for (int t = 0; t < context; t++)
            {
                prompts[b][t] = random.Next(model.VocabSize);
            }
        }

        device.Synchronize();
        ulong before = device.MemoryInUse;
        // Room for the prompt, the two warm-up steps and the timed steps: a KV cache allocates just that.
        long capacity = context + 2L + o.DecodeTokens;
        using var cache = model.CreateCache(o.Batch, capacity);
        long stateBytes = model is MambaModel mambaModel && cache is MambaCache mamba ? MambaStateBytes(mambaModel, mamba) : 0;

        // Warm-up: one prefill and two decode steps (first call of every kernel, workspaces, allocator).
        int[] next = PrefillAll(model, cache, prompts);
        for (int s = 0; s < 2; s++)
        {
            next = Step(model, cache, next);
        }

        var prefillTimes = new List<double>();
        for (int rep = 0; rep < Math.Max(1, o.Repeats); rep++)
        {
            for (int b = 0; b < o.Batch; b++)
            {
                cache.ResetRow(b);
            }
            device.Synchronize();
            long start = Stopwatch.GetTimestamp();
            next = PrefillAll(model, cache, prompts);   // synchronous: Ops.Sample reads the logits back
            prefillTimes.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        device.Synchronize();
        ulong afterPrefill = device.MemoryInUse - before;

        long decodeStart = Stopwatch.GetTimestamp();
        for (int s = 0; s < o.DecodeTokens; s++)
        {
            next = Step(model, cache, next);
        }
        double decodeMs = Stopwatch.GetElapsedTime(decodeStart).TotalMilliseconds;
        device.Synchronize();
        ulong afterDecode = device.MemoryInUse - before;
        return new E2eRow(context, Median(prefillTimes), decodeMs, device.PeakMemory, afterPrefill, afterDecode, stateBytes);
    }

    /// <summary>Prefills every row and samples its first token greedily (which synchronises).</summary>
    private static int[] PrefillAll(ICausalLanguageModel model, IGenerationCache cache, int[][] prompts)
    {
        var next = new int[prompts.Length];
        for (int b = 0; b < prompts.Length; b++)
        {
            using var logits = model.Prefill(cache, b, prompts[b]);
            next[b] = Ops.Sample(logits, SamplingOptions.Greedy)[0];
        }
        return next;
    }

    private static int[] Step(ICausalLanguageModel model, IGenerationCache cache, int[] tokens)
    {
        using var logits = model.DecodeStep(cache, tokens);
        return Ops.Sample(logits, SamplingOptions.Greedy);
    }

    private static long MambaStateBytes(MambaModel model, MambaCache cache)
    {
        long total = 0;
        for (int l = 0; l < model.Config.NumHiddenLayers; l++)
        {
            total += cache.ConvState(l).NBytes + cache.SsmState(l).NBytes;
        }
        return total;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }

    private static double Mib(double bytes) => bytes / (1024.0 * 1024.0);

    private static string DescribeDevice(Device device)
    {
        if (device.Backend == BackendKind.Cuda)
        {
            var info = Device.GetCudaDevice(device.Index);
            return $"cuda:{device.Index} ({info.Name}, CUDA runtime {info.RuntimeVersionText})";
        }
        return $"cpu ({Environment.ProcessorCount} logical cores, {Device.CpuThreads} threads)";
    }

    /// <summary>The result table. Column names are read by bench/e2e_vs_transformers.py --ours: keep them.</summary>
    private static string Table(E2eOptions o, ModelShape shape, string deviceText, ulong weightsOnDevice, List<E2eRow> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        bool mamba = shape.Arch == "mamba";
        sb.AppendLine(inv, $"NativeModels e2e — {shape.Describe()}; {deviceText}; {o.DType.Name()}; batch {o.Batch}; " +
                           $"{o.DecodeTokens} decode steps; weights on device {Mib(weightsOnDevice):F1} MiB");
        sb.AppendLine();
        string last = mamba ? "recurrent state MiB" : "KV bytes/token (theory / measured)";
        sb.AppendLine(inv, $"| arch | backend | dtype | layers | batch | context | prefill tok/s | prefill ms | decode tok/s | decode ms/step | peak MiB | cache MiB | {last} |");
        sb.AppendLine("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var r in rows)
        {
            double prefillTps = o.Batch * (double)r.Context / (r.PrefillMs / 1000.0);
            double decodeTps = o.Batch * (double)o.DecodeTokens / (r.DecodeMs / 1000.0);
            string tail;
            if (mamba)
            {
                tail = string.Create(inv, $"{Mib(r.StateBytes):F3}");
            }
            else
            {
                long theory = shape.KvBytesPerToken(o.DType.Size());
                // Device bytes of the cache (created for context + 2 + decode tokens per row) and the decode workspace.
                double measured = (double)r.CacheBytesAfterDecode / (o.Batch * (double)(r.Context + 2 + o.DecodeTokens));
                tail = string.Create(inv, $"{theory} / {measured:F0}");
            }
            sb.AppendLine(inv,
                $"| {shape.Arch} | {o.Backend} | {o.DType.Name()} | {shape.Layers} | {o.Batch} | {r.Context} | {prefillTps:F1} | {r.PrefillMs:F2} | " +
                $"{decodeTps:F1} | {r.DecodeMs / o.DecodeTokens:F3} | {Mib(r.PeakBytes):F1} | {Mib(r.CacheBytesAfterDecode):F2} | {tail} |");
        }
        sb.AppendLine();
        sb.AppendLine("prefill: median wall time of prompt → last-token logits → greedy token, per row, synchronised; " +
                      "decode: DecodeStep + greedy Ops.Sample per step (synchronous), after that prefill; " +
                      "peak: highest device bytes held by tensors since the model was loaded (contexts run in ascending order); " +
                      "cache: device bytes held after decoding beyond what was held before the cache was created (state or KV cache plus decode workspace).");
        if (mamba && rows.Count > 0)
        {
            bool constant = rows.All(r => r.CacheBytesAfterDecode == rows[0].CacheBytesAfterDecode && r.StateBytes == rows[0].StateBytes);
            sb.AppendLine();
            sb.AppendLine(inv, $"Decode-state memory constant in context length: {(constant ? "yes" : "NO")} " +
                               $"(recurrent state {rows[0].StateBytes} bytes; cache after decode " +
                               $"{string.Join(", ", rows.Select(r => r.CacheBytesAfterDecode.ToString(inv)))} bytes).");
        }
        return sb.ToString();
    }
}
