using System.Runtime.InteropServices;

namespace NativeModels.Interop;

/// <summary>nm_device_info (320 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct NmDeviceInfo
{
    /// <summary>char name[256], NUL-terminated UTF-8.</summary>
    public fixed byte Name[256];
    public ulong TotalMemoryBytes;
    public ulong FreeMemoryBytes;
    public int ComputeCapabilityMajor;
    public int ComputeCapabilityMinor;
    public int MultiprocessorCount;
    public int DriverVersion;
    public int RuntimeVersion;
    public fixed int Reserved[7];

    /// <summary>Decodes <see cref="Name"/> up to its first NUL.</summary>
    public readonly string GetName()
    {
        fixed (byte* p = Name)
        {
            var bytes = new ReadOnlySpan<byte>(p, 256);
            int end = bytes.IndexOf((byte)0);
            return System.Text.Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
        }
    }
}

/// <summary>nm_tensor_info (96 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct NmTensorInfo
{
    public NmDType DType;
    public int NDim;
    public fixed long Shape[NativeAbi.MaxDims];
    public ulong Numel;
    public ulong NBytes;
    public NmBackendKind Backend;
    public int Device;

    /// <summary>The first <see cref="NDim"/> entries of <see cref="Shape"/>.</summary>
    public readonly long[] GetShape()
    {
        var shape = new long[Math.Clamp(NDim, 0, NativeAbi.MaxDims)];
        for (int i = 0; i < shape.Length; i++)
        {
            shape[i] = Shape[i];
        }
        return shape;
    }
}

/// <summary>nm_rope_params (24 bytes on 64-bit).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NmRopeParams
{
    public int RotaryDim;
    public float Theta;
    public float AttentionScaling;
    public int Interleaved;
    /// <summary>const nm_tensor* (optional float32 [rotary_dim/2]); zero for none.</summary>
    public IntPtr InvFreq;
}

/// <summary>nm_sampling_params (12 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NmSamplingParams
{
    public float Temperature;
    public int TopK;
    public float TopP;
}

/// <summary>nm_ssm_options: optional inputs of the selective scan and state update (tensor pointers may be zero).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NmSsmOptions
{
    public IntPtr DSkip;
    public IntPtr Z;
    public IntPtr DeltaBias;
    public int DeltaSoftplus;
}

/// <summary>nm_attention_params.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NmAttentionParams
{
    public float SoftmaxScale;
    public int Causal;
    public int WindowLeft;
    public int WindowRight;
}
