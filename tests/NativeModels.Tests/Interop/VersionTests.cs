using System.Text.RegularExpressions;
using NativeModels.Interop;

namespace NativeModels.Tests.Interop;

public class VersionTests
{
    [Fact]
    public void AbiVersionMatchesBindings() => Assert.Equal(NativeAbi.Version, NativeMethods.nm_abi_version());

    [Fact]
    public void VersionIsMajorMinorPatch()
    {
        string version = NativeLibraryInfo.Version;
        Assert.False(string.IsNullOrWhiteSpace(version));
        Assert.Matches(new Regex(@"^\d+\.\d+\.\d+"), version);
    }

    [Fact]
    public void BuildInfoIsNotEmpty() => Assert.False(string.IsNullOrWhiteSpace(NativeLibraryInfo.BuildInfo));

    [Fact]
    public void DTypeNamesAndSizesAgreeWithManagedOnes()
    {
        foreach (DType dtype in Enum.GetValues<DType>())
        {
            Assert.Equal(dtype.Name(), NativeMethods.ReadString(NativeMethods.nm_dtype_name((NmDType)dtype)));
            Assert.Equal((nuint)dtype.Size(), NativeMethods.nm_dtype_size((NmDType)dtype));
        }
        Assert.Equal("invalid", NativeMethods.ReadString(NativeMethods.nm_dtype_name((NmDType)99)));
        Assert.Equal((nuint)0, NativeMethods.nm_dtype_size((NmDType)99));
    }

    [Fact]
    public void StatusNamesAgreeWithManagedOnes()
    {
        foreach (NmStatus status in Enum.GetValues<NmStatus>())
        {
            Assert.Equal(NativeStatus.Name(status), NativeMethods.ReadString(NativeMethods.nm_status_name(status)));
        }
    }
}
