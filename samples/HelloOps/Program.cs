// HelloOps: runs two operators on the CPU backend through the NativeModels packages
// and checks the results, so a broken package fails loudly (exit code 1).
using NativeModels;

using var device = Device.Create("cpu");
Console.WriteLine($"NativeModels {NativeLibraryInfo.Version} (ABI {NativeLibraryInfo.AbiVersion}) on {device.Backend}");

// [2, 3] @ [3, 2]
float[] a = [1, 2, 3, 4, 5, 6];
float[] b = [7, 8, 9, 10, 11, 12];
using var ta = Tensor.FromArray(device, a, 2, 3);
using var tb = Tensor.FromArray(device, b, 3, 2);
using var product = Ops.MatMul(ta, tb);
float[] got = product.ToFloatArray();
float[] want = [58, 64, 139, 154];
Console.WriteLine($"matmul: [{string.Join(", ", got)}]");

// RMSNorm of one row with unit weight: x / sqrt(mean(x^2) + eps)
float[] row = [3, 4];
using var x = Tensor.FromArray(device, row, 1, 2);
using var normed = Ops.RmsNorm(x, weight: null, eps: 0f);
float[] norm = normed.ToFloatArray();
float rms = MathF.Sqrt((9f + 16f) / 2f);
Console.WriteLine($"rmsnorm: [{string.Join(", ", norm)}]");

bool ok = got.SequenceEqual(want)
    && MathF.Abs(norm[0] - 3f / rms) < 1e-6f && MathF.Abs(norm[1] - 4f / rms) < 1e-6f;
Console.WriteLine(ok ? "HelloOps: OK" : "HelloOps: WRONG RESULTS");
return ok ? 0 : 1;
