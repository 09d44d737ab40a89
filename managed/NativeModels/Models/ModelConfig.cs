using System.Globalization;
using System.Text.Json;
using NativeModels.IO;

namespace NativeModels.Models;

/// <summary>
/// A model's config.json with typed accessors whose errors name the file and the key:
/// <c>config.json: 'hidden_size' is missing</c>, <c>config.json: 'hidden_size' must be a positive integer, got -3</c>.
/// A key whose value is JSON null counts as missing. Nested values (rope_scaling, ...) are read through <see cref="Root"/>.
/// </summary>
public sealed class ModelConfig
{
    public const string FileName = "config.json";

    private readonly JsonElement _root;

    private ModelConfig(string path, JsonElement root)
    {
        Path = path;
        _root = root;
    }

    /// <summary>Full path of the config.json read.</summary>
    public string Path { get; }

    /// <summary>The parsed object (owned by this config; valid for its lifetime).</summary>
    public JsonElement Root => _root;

    /// <summary>"model_type", or the empty string when config.json has none (original Mamba checkpoints).</summary>
    public string ModelType => GetString("model_type") ?? string.Empty;

    /// <summary>Reads <paramref name="modelDirectory"/>/config.json.</summary>
    public static ModelConfig Load(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        string directory = System.IO.Path.GetFullPath(modelDirectory);
        string path = System.IO.Path.Combine(directory, FileName);
        if (!File.Exists(path))
        {
            throw new ModelFormatException(path, null, $"{FileName}: not found in {directory}");
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ModelFormatException(path, null, $"{FileName}: cannot read {path}: {e.Message}", e);
        }
        return Parse(bytes, path);
    }

    /// <summary>Parses config.json text (UTF-8); <paramref name="path"/> is used in messages.</summary>
    public static ModelConfig Parse(ReadOnlySpan<byte> utf8Json, string path = FileName)
    {
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(utf8Json.ToArray(),
                new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(path, null,
                $"{FileName}: invalid JSON at line {e.LineNumber + 1}, position {e.BytePositionInLine + 1} ({path}): {e.Message}", e);
        }
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(path, null, $"{FileName}: must hold a JSON object, got {root.ValueKind} ({path})");
        }
        return new ModelConfig(path, root);
    }

    /// <summary>Whether <paramref name="key"/> is present with a non-null value.</summary>
    public bool Has(string key) => TryGet(key, out _);

    /// <summary>A positive integer (dimensions, counts).</summary>
    public int GetInt(string key) => PositiveInt(key, Require(key));

    /// <summary>A positive integer, or <paramref name="defaultValue"/> when the key is missing or null.</summary>
    public int GetInt(string key, int defaultValue) => TryGet(key, out var value) ? PositiveInt(key, value) : defaultValue;

    /// <summary>Any integer in the int range, zero and negatives included (token ids, flags).</summary>
    public int GetInteger(string key) => AnyInt(key, Require(key));

    /// <summary>Any integer, or <paramref name="defaultValue"/> when the key is missing or null.</summary>
    public int GetInteger(string key, int defaultValue) => TryGet(key, out var value) ? AnyInt(key, value) : defaultValue;

    /// <summary>A finite number.</summary>
    public float GetFloat(string key) => Float(key, Require(key));

    /// <summary>A finite number, or <paramref name="defaultValue"/> when the key is missing or null.</summary>
    public float GetFloat(string key, float defaultValue) => TryGet(key, out var value) ? Float(key, value) : defaultValue;

    /// <summary>true/false, or <paramref name="defaultValue"/> when the key is missing or null.</summary>
    public bool GetBool(string key, bool defaultValue)
    {
        if (!TryGet(key, out var value))
        {
            return defaultValue;
        }
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(key, $"must be true or false, got {Show(value)}"),
        };
    }

    /// <summary>A string, or null when the key is missing or null.</summary>
    public string? GetString(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw Error(key, $"must be a string, got {Show(value)}");
        }
        return value.GetString();
    }

    /// <summary>true/false, or null when the key is missing or null.</summary>
    internal bool? GetOptionalBool(string key) => Has(key) ? GetBool(key, false) : null;

    /// <summary>A number as a double (no float rounding), or <paramref name="defaultValue"/> when the key is missing or null.</summary>
    internal double GetDouble(string key, double defaultValue)
    {
        if (!TryGet(key, out var value))
        {
            return defaultValue;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d))
        {
            throw Error(key, $"must be a number, got {Show(value)}");
        }
        return d;
    }

    /// <summary>A token id (an int32 &gt;= 0), or the first of an array of them (several EOS tokens, say); null when the key
    /// is missing, null or an empty array.</summary>
    internal int? GetTokenId(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Array)
        {
            if (value.GetArrayLength() == 0)
            {
                return null;
            }
            value = value[0];
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int id) || id < 0)
        {
            throw Error(key, $"must be a token id (an integer >= 0), got {Show(value)}");
        }
        return id;
    }

    /// <summary>A JSON object, or null when the key is missing or null.</summary>
    internal JsonElement? GetObject(string key)
    {
        if (!TryGet(key, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Error(key, $"must be an object or null, got {Show(value)}");
        }
        return value;
    }

    /// <summary>A string inside the object <paramref name="parent"/> (read with <see cref="GetObject"/>), or null when
    /// missing or null; errors name the key "parent.key".</summary>
    internal string? GetNestedString(JsonElement obj, string parent, string key)
    {
        if (!TryGetNested(obj, key, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.String)
        {
            throw Error($"{parent}.{key}", $"must be a string, got {Show(value)}");
        }
        return value.GetString();
    }

    /// <summary>A finite number inside the object <paramref name="parent"/>, or null when missing or null.</summary>
    internal double? GetNestedNumber(JsonElement obj, string parent, string key)
    {
        if (!TryGetNested(obj, key, out var value))
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d) || !double.IsFinite(d))
        {
            throw Error($"{parent}.{key}", $"must be a number, got {Show(value)}");
        }
        return d;
    }

    /// <summary>A required number &gt; 0 inside the object <paramref name="parent"/>.</summary>
    internal float GetNestedPositive(JsonElement obj, string parent, string key)
    {
        double? value = GetNestedNumber(obj, parent, key) ?? throw Error($"{parent}.{key}", "is missing");
        if (!(value > 0))
        {
            throw Error($"{parent}.{key}", $"must be > 0, got {value.Value.ToString(CultureInfo.InvariantCulture)}");
        }
        return (float)value.Value;
    }

    /// <summary>An error about <paramref name="key"/> with an architecture's own wording: "{Path}: {message}".</summary>
    internal ModelFormatException Invalid(string key, string message) => new(Path, key, $"{Path}: {message}");

    public override string ToString() => $"ModelConfig({Path}, model_type '{ModelType}')";

    private bool TryGet(string key, out JsonElement value)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (_root.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }
        value = default;
        return false;
    }

    private static bool TryGetNested(JsonElement obj, string key, out JsonElement value)
    {
        if (obj.TryGetProperty(key, out value) && value.ValueKind != JsonValueKind.Null)
        {
            return true;
        }
        value = default;
        return false;
    }

    private JsonElement Require(string key)
    {
        if (!TryGet(key, out var value))
        {
            throw Error(key, "is missing");
        }
        return value;
    }

    private int PositiveInt(string key, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number || !TryInteger(value, out long n) || n <= 0 || n > int.MaxValue)
        {
            throw Error(key, $"must be a positive integer, got {Show(value)}");
        }
        return (int)n;
    }

    private int AnyInt(string key, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number || !TryInteger(value, out long n) || n < int.MinValue || n > int.MaxValue)
        {
            throw Error(key, $"must be an integer, got {Show(value)}");
        }
        return (int)n;
    }

    private float Float(string key, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double d) || !float.IsFinite((float)d))
        {
            throw Error(key, $"must be a finite number, got {Show(value)}");
        }
        return (float)d;
    }

    /// <summary>Integers, including the "2.0" and "1e3" spellings some writers use.</summary>
    private static bool TryInteger(JsonElement value, out long n)
    {
        if (value.TryGetInt64(out n))
        {
            return true;
        }
        if (value.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) <= 9e15)
        {
            n = (long)d;
            return true;
        }
        return false;
    }

    private static string Show(JsonElement value)
    {
        string text = value.GetRawText();
        return text.Length > 60 ? text[..57] + "..." : text;
    }

    private ModelFormatException Error(string key, string problem) =>
        new(Path, key, string.Create(CultureInfo.InvariantCulture, $"{FileName}: '{key}' {problem} ({Path})"));
}
