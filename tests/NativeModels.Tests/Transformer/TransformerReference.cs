namespace NativeModels.Tests.Transformer;

/// <summary>
/// A naive Llama / Qwen3 forward in double precision, written from Hugging Face's modeling_llama / modeling_qwen3 and
/// modeling_rope_utils and independent of the library: RMSNorm, q/k/v projections (+ biases), Qwen3's per-head q/k
/// RMSNorm, rotate_half RoPE with the default / linear / llama3 inverse frequencies, causal softmax attention with
/// grouped KV heads (and Qwen3's sliding window), o_proj, SwiGLU MLP, final norm, LM head. Returns logits [T, V].
/// </summary>
public static class TransformerReference
{
    /// <summary>HF's rope init functions, in double.</summary>
    public static double[] InverseFrequencies(TinyTransformerSpec s)
    {
        int dim = s.Dh;
        var inv = new double[dim / 2];
        for (int i = 0; i < inv.Length; i++)
        {
            inv[i] = 1.0 / Math.Pow(s.Theta, 2.0 * i / dim);
        }
        if (s.RopeScaling == "linear")
        {
            for (int i = 0; i < inv.Length; i++)
            {
                inv[i] /= s.RopeFactor;
            }
        }
        else if (s.RopeScaling == "llama3")
        {
            double factor = s.RopeFactor, low = 1.0, high = 4.0, old = 64;
            double lowWavelen = old / low, highWavelen = old / high;
            for (int i = 0; i < inv.Length; i++)
            {
                double wavelen = 2 * Math.PI / inv[i];
                if (wavelen < highWavelen)
                {
                    continue;
                }
                if (wavelen > lowWavelen)
                {
                    inv[i] /= factor;
                    continue;
                }
                double smooth = (old / wavelen - low) / (high - low);
                inv[i] = (1 - smooth) * inv[i] / factor + smooth * inv[i];
            }
        }
        return inv;
    }

    public static double[] Logits(TinyTransformer model, int[] tokens)
    {
        var s = model.Spec;
        int h = s.Hidden, t = tokens.Length, dh = s.Dh, hq = s.Heads, hkv = s.KvHeads, v = s.Vocab;
        float[] embedding = model.W("model.embed_tokens.weight");
        var hidden = new double[t][];
        for (int i = 0; i < t; i++)
        {
            hidden[i] = new double[h];
            for (int j = 0; j < h; j++)
            {
                hidden[i][j] = embedding[tokens[i] * h + j];
            }
        }
        double[] inv = InverseFrequencies(s);

        for (int l = 0; l < s.Layers; l++)
        {
            string p = $"model.layers.{l}.", a = p + "self_attn.", m = p + "mlp.";
            var normed = hidden.Select(row => RmsNorm(row, model.W(p + "input_layernorm.weight"), s.Epsilon)).ToArray();
            var q = normed.Select(x => Linear(x, model.W(a + "q_proj.weight"), Bias(model, a + "q_proj.bias"), hq * dh)).ToArray();
            var k = normed.Select(x => Linear(x, model.W(a + "k_proj.weight"), Bias(model, a + "k_proj.bias"), hkv * dh)).ToArray();
            var vv = normed.Select(x => Linear(x, model.W(a + "v_proj.weight"), Bias(model, a + "v_proj.bias"), hkv * dh)).ToArray();
            for (int i = 0; i < t; i++)
            {
                if (s.Qwen3)
                {
                    PerHeadNorm(q[i], hq, dh, model.W(a + "q_norm.weight"), s.Epsilon);
                    PerHeadNorm(k[i], hkv, dh, model.W(a + "k_norm.weight"), s.Epsilon);
                }
                RotateHalf(q[i], hq, dh, inv, i);
                RotateHalf(k[i], hkv, dh, inv, i);
            }
            bool sliding = s.Qwen3 && s.SlidingWindow is not null && l >= s.MaxWindowLayers;
            var attn = new double[t][];
            int groups = hq / hkv;
            for (int i = 0; i < t; i++)
            {
                attn[i] = new double[hq * dh];
                for (int head = 0; head < hq; head++)
                {
                    int kvHead = head / groups;
                    var scores = new double[i + 1];
                    double max = double.NegativeInfinity;
                    for (int j = 0; j <= i; j++)
                    {
                        if (sliding && i - j >= s.SlidingWindow)
                        {
                            scores[j] = double.NegativeInfinity;
                            continue;
                        }
                        double dot = 0;
                        for (int d = 0; d < dh; d++)
                        {
                            dot += q[i][head * dh + d] * k[j][kvHead * dh + d];
                        }
                        scores[j] = dot / Math.Sqrt(dh);
                        max = Math.Max(max, scores[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++)
                    {
                        scores[j] = Math.Exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int j = 0; j <= i; j++)
                    {
                        for (int d = 0; d < dh; d++)
                        {
                            attn[i][head * dh + d] += scores[j] / sum * vv[j][kvHead * dh + d];
                        }
                    }
                }
            }
            for (int i = 0; i < t; i++)
            {
                var o = Linear(attn[i], model.W(a + "o_proj.weight"), Bias(model, a + "o_proj.bias"), h);
                for (int j = 0; j < h; j++)
                {
                    hidden[i][j] += o[j];
                }
                var x = RmsNorm(hidden[i], model.W(p + "post_attention_layernorm.weight"), s.Epsilon);
                var gate = Linear(x, model.W(m + "gate_proj.weight"), Bias(model, m + "gate_proj.bias"), s.Intermediate);
                var up = Linear(x, model.W(m + "up_proj.weight"), Bias(model, m + "up_proj.bias"), s.Intermediate);
                var act = new double[s.Intermediate];
                for (int j = 0; j < act.Length; j++)
                {
                    act[j] = gate[j] / (1 + Math.Exp(-gate[j])) * up[j];
                }
                var down = Linear(act, model.W(m + "down_proj.weight"), Bias(model, m + "down_proj.bias"), h);
                for (int j = 0; j < h; j++)
                {
                    hidden[i][j] += down[j];
                }
            }
        }

        float[] lmHead = model.Weights.ContainsKey("lm_head.weight") && !s.Tied ? model.W("lm_head.weight") : embedding;
        var logits = new double[t * v];
        for (int i = 0; i < t; i++)
        {
            var x = RmsNorm(hidden[i], model.W("model.norm.weight"), s.Epsilon);
            var row = Linear(x, lmHead, null, v);
            Array.Copy(row, 0, logits, i * v, v);
        }
        return logits;
    }

    /// <summary>Greedy continuation by re-running the full reference forward for every new token.</summary>
    public static int[] Greedy(TinyTransformer model, int[] prompt, int count)
    {
        var tokens = prompt.ToList();
        var result = new int[count];
        int v = model.Spec.Vocab;
        for (int n = 0; n < count; n++)
        {
            double[] logits = Logits(model, [.. tokens]);
            int best = 0;
            int offset = (tokens.Count - 1) * v;
            for (int j = 1; j < v; j++)
            {
                if (logits[offset + j] > logits[offset + best])
                {
                    best = j;
                }
            }
            result[n] = best;
            tokens.Add(best);
        }
        return result;
    }

    private static float[]? Bias(TinyTransformer model, string name) => model.Weights.TryGetValue(name, out var b) ? b.Data : null;

    private static double[] Linear(double[] x, float[] weight, float[]? bias, int outputs)
    {
        int inputs = x.Length;
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double sum = bias?[o] ?? 0;
            for (int i = 0; i < inputs; i++)
            {
                sum += weight[o * inputs + i] * x[i];
            }
            y[o] = sum;
        }
        return y;
    }

    private static double[] RmsNorm(double[] x, float[] weight, double eps)
    {
        double mean = x.Sum(e => e * e) / x.Length;
        double scale = 1 / Math.Sqrt(mean + eps);
        return x.Select((e, i) => e * scale * weight[i]).ToArray();
    }

    private static void PerHeadNorm(double[] x, int heads, int dh, float[] weight, double eps)
    {
        for (int head = 0; head < heads; head++)
        {
            var slice = x.AsSpan(head * dh, dh).ToArray();
            RmsNorm(slice, weight, eps).CopyTo(x, head * dh);
        }
    }

    /// <summary>q * cos + rotate_half(q) * sin with emb = cat(freqs, freqs), rotate_half(x) = cat(-x2, x1).</summary>
    private static void RotateHalf(double[] x, int heads, int dh, double[] inv, int position)
    {
        int half = dh / 2;
        for (int head = 0; head < heads; head++)
        {
            var src = x.AsSpan(head * dh, dh).ToArray();
            for (int d = 0; d < dh; d++)
            {
                double angle = position * inv[d % half];
                double rotated = d < half ? -src[d + half] : src[d - half];
                x[head * dh + d] = src[d] * Math.Cos(angle) + rotated * Math.Sin(angle);
            }
        }
    }
}
