using NativeModels.IO;
using NativeModels.Tests.Support;

namespace NativeModels.Tests.IO;

public class ShardedWeightStoreTests : CpuTest, IDisposable
{
    private readonly TempDirectory _dir = new();

    public new void Dispose()
    {
        _dir.Dispose();
        base.Dispose();
    }

    private string IndexPath => _dir.File(WeightStore.IndexFileName);

    private void WriteShards()
    {
        SafetensorsWriter.WriteFloat32(_dir.File("model-00001-of-00002.safetensors"), [("a", [2], [1f, 2f]), ("b", [1], [3f])]);
        SafetensorsWriter.WriteFloat32(_dir.File("model-00002-of-00002.safetensors"), [("c", [2, 2], [4f, 5f, 6f, 7f])]);
    }

    private void WriteIndex(string weightMap) =>
        _dir.WriteText(WeightStore.IndexFileName, $"{{\"metadata\": {{\"total_size\": 28}}, \"weight_map\": {weightMap}}}");

    private const string GoodMap =
        "{\"a\": \"model-00001-of-00002.safetensors\", \"b\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00002-of-00002.safetensors\"}";

    private ModelFormatException OpenFails(string expected, string? key = null)
    {
        var e = Assert.Throws<ModelFormatException>(() => WeightStore.Open(_dir.Path).Dispose());
        Assert.Contains(IndexPath, e.Message);
        Assert.Contains(expected, e.Message);
        if (key is not null)
        {
            Assert.Contains($"'{key}'", e.Message);
        }
        return e;
    }

    [Fact]
    public void ShardedIndexLoadsFromEveryShard()
    {
        WriteShards();
        WriteIndex(GoodMap);
        using var store = WeightStore.Open(_dir.Path);
        Assert.Equal(["a", "b", "c"], store.Names.ToArray());
        Assert.Equal(2, store.Files.Count);
        Assert.Equal(_dir.File("model-00002-of-00002.safetensors"), store.Describe("c").File);
        using var c = store.Load("c", Cpu, DType.Float32, 2, 2);
        Assert.Equal([4f, 5f, 6f, 7f], c.ToArray<float>());
        using var a = store.Load("a", Cpu, DType.BFloat16);
        Assert.Equal([1f, 2f], a.ToFloatArray());
    }

    [Fact]
    public void IndexWinsOverASingleFile()
    {
        WriteShards();
        WriteIndex(GoodMap);
        SafetensorsWriter.WriteFloat32(_dir.File(WeightStore.SingleFileName), [("other", [1], [0f])]);
        using var store = WeightStore.Open(_dir.Path);
        Assert.False(store.Contains("other"));
    }

    [Fact]
    public void MissingShard()
    {
        WriteShards();
        WriteIndex("{\"a\": \"model-00001-of-00002.safetensors\", \"x\": \"model-00003-of-00003.safetensors\"}");
        OpenFails("model-00003-of-00003.safetensors", "x");
    }

    [Fact]
    public void TensorNotInItsShard()
    {
        WriteShards();
        WriteIndex("{\"a\": \"model-00001-of-00002.safetensors\", \"c\": \"model-00001-of-00002.safetensors\"}");
        OpenFails("does not contain it", "c");
    }

    [Theory]
    [InlineData("{\"a\": 3}")]
    [InlineData("{\"a\": \"\"}")]
    public void BadWeightMapEntries(string map)
    {
        WriteShards();
        WriteIndex(map);
        OpenFails("weight_map", "a");
    }

    [Theory]
    [InlineData("[]", "must be an object")]
    [InlineData("{}", "empty")]
    public void BadWeightMap(string map, string problem)
    {
        WriteShards();
        WriteIndex(map);
        OpenFails(problem, "weight_map");
    }

    [Fact]
    public void MissingWeightMap()
    {
        _dir.WriteText(WeightStore.IndexFileName, "{\"metadata\": {}}");
        OpenFails("'weight_map' is missing");
    }

    [Fact]
    public void IndexNotJson()
    {
        _dir.WriteText(WeightStore.IndexFileName, "{\n\"weight_map\": {\n");
        OpenFails("invalid JSON at line");
    }

    [Fact]
    public void ShardOutsideTheFolderIsRefused()
    {
        WriteShards();
        WriteIndex("{\"a\": \"../elsewhere.safetensors\"}");
        OpenFails("outside the model folder");
    }

    [Fact]
    public void BrokenShardNamesTheShardAndTheIndex()
    {
        WriteShards();
        File.WriteAllBytes(_dir.File("model-00002-of-00002.safetensors"), [1, 2, 3]);
        WriteIndex(GoodMap);
        var e = OpenFails("shorter than the 8-byte header length");
        Assert.Contains(_dir.File("model-00002-of-00002.safetensors"), e.Message);
    }
}
