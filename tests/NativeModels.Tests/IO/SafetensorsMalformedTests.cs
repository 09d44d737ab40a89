using NativeModels.IO;

namespace NativeModels.Tests.IO;

/// <summary>Broken or hostile files: each is a ModelFormatException naming the file (and the tensor).</summary>
public class SafetensorsMalformedTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        _dir.Dispose();
        GC.SuppressFinalize(this);
    }

    private ModelFormatException Fails(string path, string? tensor, string expectedProblem)
    {
        var e = Assert.Throws<ModelFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Equal(path, e.FilePath);
        if (tensor is not null)
        {
            Assert.Contains($"'{tensor}'", e.Message);
            Assert.Equal(tensor, e.Key);
        }
        Assert.Contains(expectedProblem, e.Message);
        return e;
    }

    private string Raw(string header, int dataBytes, ulong? headerLength = null) =>
        _dir.WriteRawSafetensors("bad.safetensors", header, new byte[dataBytes], headerLength);

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void FileShorterThanEightBytes(int length)
    {
        string path = _dir.File("short.safetensors");
        File.WriteAllBytes(path, new byte[length]);
        Fails(path, null, "shorter than the 8-byte header length");
    }

    [Fact]
    public void MissingFile()
    {
        string path = _dir.File("absent.safetensors");
        Fails(path, null, "not found");
    }

    [Fact]
    public void HeaderLengthPastTheEnd() =>
        Fails(Raw("{}", 0, headerLength: 1000), null, "runs past the end");

    [Fact]
    public void AbsurdHeaderLength() =>
        Fails(Raw("{}", 0, headerLength: 200_000_000), null, "limit");

    [Fact]
    public void HugeHeaderLengthDoesNotOverflow() =>
        Fails(Raw("{}", 0, headerLength: ulong.MaxValue), null, "limit");

    [Fact]
    public void HeaderNotUtf8()
    {
        string path = _dir.WriteRawSafetensors("bad.safetensors", [(byte)'{', 0xC3, 0x28, (byte)'}'], []);
        Fails(path, null, "UTF-8");
    }

    [Theory]
    [InlineData("{\"a\": ")]
    [InlineData("not json")]
    [InlineData("")]
    public void HeaderNotJson(string header) => Fails(Raw(header, 0), null, "not valid JSON");

    [Theory]
    [InlineData("[1, 2]")]
    [InlineData("\"text\"")]
    [InlineData("42")]
    public void HeaderNotAnObject(string header) => Fails(Raw(header, 0), null, "must be a JSON object");

    [Theory]
    [InlineData("{\"w\": {\"shape\": [1], \"data_offsets\": [0, 4]}}", "no 'dtype'")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"data_offsets\": [0, 4]}}", "no 'shape'")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [1]}}", "no 'data_offsets'")]
    [InlineData("{\"w\": 5}", "must be an object")]
    [InlineData("{\"w\": {\"dtype\": 3, \"shape\": [1], \"data_offsets\": [0, 4]}}", "'dtype' must be a string")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": 1, \"data_offsets\": [0, 4]}}", "'shape' must be an array")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]}}", "must be an integer")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]}}", "[begin, end]")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [-4, 0]}}", "non-negative integer")]
    [InlineData("{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [\"0\", 4]}}", "non-negative integer")]
    public void EntryFieldsMissingOrMistyped(string header, string problem) => Fails(Raw(header, 4), "w", problem);

    [Theory]
    [InlineData("F31")]
    [InlineData("f32")]
    [InlineData("COMPLEX64")]
    public void UnknownDType(string dtype) =>
        Fails(Raw($"{{\"w\": {{\"dtype\": \"{dtype}\", \"shape\": [1], \"data_offsets\": [0, 4]}}}}", 4), "w", $"unknown dtype '{dtype}'");

    [Fact]
    public void NegativeDimension() =>
        Fails(Raw("{\"w\": {\"dtype\": \"F32\", \"shape\": [2, -2], \"data_offsets\": [0, 4]}}", 4), "w", "negative");

    [Theory]
    [InlineData("[4294967296, 4294967296, 4]", "overflows")]
    [InlineData("[9223372036854775807, 2]", "overflows")]
    [InlineData("[4611686018427387904]", "overflows the byte count")]
    [InlineData("[99999999999999999999]", "must be an integer")]
    public void ShapeOverflow(string shape, string problem) =>
        Fails(Raw($"{{\"w\": {{\"dtype\": \"F32\", \"shape\": {shape}, \"data_offsets\": [0, 4]}}}}", 4), "w", problem);

    [Fact]
    public void ByteLengthDoesNotMatchShape() =>
        Fails(Raw("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]}}", 4), "w", "needs 8");

    [Fact]
    public void OffsetsReversed() =>
        Fails(Raw("{\"w\": {\"dtype\": \"U8\", \"shape\": [0], \"data_offsets\": [4, 0]}}", 4), "w", "end before they begin");

    [Fact]
    public void OffsetsOutsideTheDataSection() =>
        Fails(Raw("{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 4), "w", "past the end");

    [Fact]
    public void OverlappingTensors() =>
        Fails(Raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8),
            "b", "overlaps tensor 'a'");

    [Fact]
    public void GapBetweenTensors() =>
        Fails(Raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}", 12),
            "b", "uncovered");

    [Fact]
    public void GapAtTheStart() =>
        Fails(Raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}", 8), "a", "uncovered");

    [Fact]
    public void TrailingBytesNotCovered() =>
        Fails(Raw("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}", 12), "a", "not covered");

    [Fact]
    public void DataButNoTensors() => Fails(Raw("{}", 4), null, "not covered");

    [Fact]
    public void DuplicateTensorName() =>
        Fails(Raw("{\"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}, \"a\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [1, 2]}}", 2),
            "a", "twice");

    [Theory]
    [InlineData("{\"__metadata__\": {\"k\": 1}}")]
    [InlineData("{\"__metadata__\": [\"k\"]}")]
    public void MetadataMustMapStringsToStrings(string header) => Fails(Raw(header, 0), "__metadata__", "__metadata__");

    [Fact]
    public void UnknownEntryFieldsAreIgnoredAndPaddingIsAccepted()
    {
        string path = Raw("{\"w\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [0, 2], \"extra\": true}}      ", 2);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(2L, file.Entries["w"].ByteLength);
    }
}
