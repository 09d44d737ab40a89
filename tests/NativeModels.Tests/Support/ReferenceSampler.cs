
namespace NativeModels.Tests.Support;

/// <summary>docs/sampling.md written out in C#, to check the native sampler token for token.</summary>
public static class ReferenceSampler
{
    public static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    public static ulong Rng(ulong seed, ulong step, ulong row) => SplitMix64(SplitMix64(SplitMix64(seed) ^ step) ^ row);

    public static int SampleRow(ReadOnlySpan<float> row, SamplingOptions options, ulong seed, ulong step, ulong rowIndex)
    {
        int v = row.Length;
        var logits = new float[v];
        for (int i = 0; i < v; i++)
        {
            logits[i] = float.IsNaN(row[i]) ? float.NegativeInfinity : row[i];
        }
        int best = 0;
        for (int i = 1; i < v; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }
        if (options.Temperature <= 0 || options.TopK == 1)
        {
            return best;
        }
        double m = logits[best];
        var q = new ulong[v];
        for (int i = 0; i < v; i++)
        {
            // The maximum weighs exactly 1 (also for +inf, where l - m is NaN); a NaN weight counts as 0.
            double w = logits[i] == m ? 1.0 : Math.Exp(((double)logits[i] - m) / options.Temperature);
            q[i] = float.IsNegativeInfinity(logits[i]) || double.IsNaN(w) ? 0 : (ulong)Math.Floor(w * 4294967296.0);
        }
        var kept = new bool[v];
        Array.Fill(kept, true);
        if (options.TopK > 0 && options.TopK < v)
        {
            float tauK = logits.OrderDescending().ElementAt(options.TopK - 1);
            for (int i = 0; i < v; i++)
            {
                kept[i] = logits[i] >= tauK;
            }
        }
        if (options.TopP < 1)
        {
            ulong total = 0;
            for (int i = 0; i < v; i++)
            {
                total += kept[i] ? q[i] : 0;
            }
            ulong p = (ulong)Math.Ceiling((double)options.TopP * total);
            float tauP = float.NegativeInfinity;
            foreach (float value in Enumerable.Range(0, v).Where(i => kept[i]).Select(i => logits[i]).Distinct().OrderDescending())
            {
                ulong mass = 0;
                for (int i = 0; i < v; i++)
                {
                    mass += kept[i] && logits[i] >= value ? q[i] : 0;
                }
                if (mass >= p)
                {
                    tauP = value;
                    break;
                }
            }
            for (int i = 0; i < v; i++)
            {
                kept[i] = kept[i] && logits[i] >= tauP;
            }
        }
        ulong keptMass = 0;
        for (int i = 0; i < v; i++)
        {
            keptMass += kept[i] ? q[i] : 0;
        }
        ulong x = Rng(seed, step, rowIndex);
        ulong t = (ulong)(((UInt128)x * keptMass) >> 64);
        ulong running = 0;
        for (int i = 0; i < v; i++)
        {
            if (!kept[i])
            {
                continue;
            }
            running += q[i];
            if (running > t)
            {
                return i;
            }
        }
        throw new InvalidOperationException("unreachable: the running sum reaches the kept mass");
    }

    public static int[] Sample(float[] logits, int rows, SamplingOptions options, ulong seed, ulong step)
    {
        int v = logits.Length / rows;
        return Enumerable.Range(0, rows)
            .Select(r => SampleRow(logits.AsSpan(r * v, v), options, seed, step, (ulong)r))
            .ToArray();
    }

    /// <summary>Deterministic pseudo-random logits for tests.</summary>
    public static float[] RandomLogits(int count, int seed, float spread = 4f)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1) * spread).ToArray();
    }
}
