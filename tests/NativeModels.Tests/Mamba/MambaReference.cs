namespace NativeModels.Tests.Mamba;

/// <summary>
/// A naive Mamba forward in double precision, written straight from Hugging Face's MambaMixer.slow_forward /
/// MambaBlock / MambaRMSNorm and independent of the library: in_proj, depthwise causal conv + bias, SiLU, x_proj split,
/// dt_proj + softplus, the discretised recurrence with A = -exp(A_log), D skip, SiLU(z) gate, out_proj, RMSNorm,
/// residual. Returns logits [T, V] (row-major).
/// </summary>
public static class MambaReference
{
    public static double[] Logits(TinyMamba model, int[] tokens)
    {
        var s = model.Spec;
        int h = s.Hidden, di = s.Intermediate, n = s.State, k = s.Kernel, r = s.Rank, v = s.Vocab, t = tokens.Length;
        float[] embedding = model.Weights.ContainsKey("backbone.embeddings.weight")
            ? model.W("backbone.embeddings.weight") : model.W("backbone.embedding.weight");

        // hidden[t][h]
        var hidden = new double[t][];
        for (int i = 0; i < t; i++)
        {
            hidden[i] = new double[h];
            for (int j = 0; j < h; j++)
            {
                hidden[i][j] = embedding[tokens[i] * h + j];
            }
        }

        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"backbone.layers.{l}.";
            var normed = hidden.Select(row => RmsNorm(row, model.W(p + "norm.weight"), s.Epsilon)).ToArray();

            // 1. in_proj: [2I] per token; first half x, second half the gate z.
            float[] inProj = model.W(p + "mixer.in_proj.weight");
            float[]? inBias = s.UseBias ? model.W(p + "mixer.in_proj.bias") : null;
            var x = new double[t][];
            var z = new double[t][];
            for (int i = 0; i < t; i++)
            {
                var projected = Linear(normed[i], inProj, inBias, 2 * di, h);
                x[i] = projected[..di];
                z[i] = projected[di..];
            }

            // 2. depthwise causal conv (zero padding on the left) + bias, then SiLU.
            float[] convW = model.W(p + "mixer.conv1d.weight");
            float[]? convB = s.UseConvBias ? model.W(p + "mixer.conv1d.bias") : null;
            var xc = new double[t][];
            for (int i = 0; i < t; i++)
            {
                xc[i] = new double[di];
                for (int d = 0; d < di; d++)
                {
                    double sum = convB?[d] ?? 0;
                    for (int j = 0; j < k; j++)
                    {
                        int time = i - (k - 1) + j;
                        if (time >= 0)
                        {
                            sum += convW[d * k + j] * x[time][d];
                        }
                    }
                    xc[i][d] = Silu(sum);
                }
            }

            // 3. x_proj → (dt_low [R], B [N], C [N]); dt = softplus(dt_proj(dt_low) + bias).
            float[] xProj = model.W(p + "mixer.x_proj.weight");
            float[] dtW = model.W(p + "mixer.dt_proj.weight");
            float[] dtB = model.W(p + "mixer.dt_proj.bias");
            float[] aLog = model.W(p + "mixer.A_log");
            float[] dSkip = model.W(p + "mixer.D");
            var state = new double[di, n];
            var y = new double[t][];
            for (int i = 0; i < t; i++)
            {
                var ssm = Linear(xc[i], xProj, null, r + 2 * n, di);
                var dtLow = ssm[..r];
                var b = ssm[r..(r + n)];
                var c = ssm[(r + n)..];
                var dt = Linear(dtLow, dtW, dtB, di, r).Select(Softplus).ToArray();
                y[i] = new double[di];
                for (int d = 0; d < di; d++)
                {
                    double acc = 0;
                    for (int m = 0; m < n; m++)
                    {
                        double a = -Math.Exp(aLog[d * n + m]);
                        state[d, m] = Math.Exp(a * dt[d]) * state[d, m] + dt[d] * b[m] * xc[i][d];
                        acc += state[d, m] * c[m];
                    }
                    acc += xc[i][d] * dSkip[d];
                    y[i][d] = acc * Silu(z[i][d]);
                }
            }

            // 4. out_proj, residual.
            float[] outW = model.W(p + "mixer.out_proj.weight");
            float[]? outB = s.UseBias ? model.W(p + "mixer.out_proj.bias") : null;
            for (int i = 0; i < t; i++)
            {
                var o = Linear(y[i], outW, outB, h, di);
                for (int j = 0; j < h; j++)
                {
                    hidden[i][j] += o[j];
                }
            }
        }

        float[] head = s.Tied ? embedding : model.W("lm_head.weight");
        var logits = new double[t * v];
        for (int i = 0; i < t; i++)
        {
            var normed = RmsNorm(hidden[i], model.W("backbone.norm_f.weight"), s.Epsilon);
            Linear(normed, head, null, v, h).CopyTo(logits, i * v);
        }
        return logits;
    }

    /// <summary>Greedy continuation by recomputing the whole sequence each step (no state at all).</summary>
    public static int[] Greedy(TinyMamba model, int[] prompt, int count)
    {
        var tokens = prompt.ToList();
        var result = new List<int>();
        int v = model.Spec.Vocab;
        for (int step = 0; step < count; step++)
        {
            var logits = Logits(model, [.. tokens]);
            int offset = (tokens.Count - 1) * v;
            int best = 0;
            for (int j = 1; j < v; j++)
            {
                if (logits[offset + j] > logits[offset + best])
                {
                    best = j;
                }
            }
            tokens.Add(best);
            result.Add(best);
        }
        return [.. result];
    }

    private static double[] Linear(double[] input, float[] weight, float[]? bias, int outFeatures, int inFeatures)
    {
        var output = new double[outFeatures];
        for (int o = 0; o < outFeatures; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int i = 0; i < inFeatures; i++)
            {
                sum += weight[o * inFeatures + i] * input[i];
            }
            output[o] = sum;
        }
        return output;
    }

    private static double[] RmsNorm(double[] x, float[] weight, double eps)
    {
        double mean = x.Sum(value => value * value) / x.Length;
        double scale = 1 / Math.Sqrt(mean + eps);
        return x.Select((value, i) => value * scale * weight[i]).ToArray();
    }

    private static double Silu(double x) => x / (1 + Math.Exp(-x));

    private static double Softplus(double x) => x > 20 ? x : Math.Log(1 + Math.Exp(x));
}
