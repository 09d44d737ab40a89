using System.Globalization;
using NativeModels.Interop;

namespace NativeModels.Cli.Commands;

/// <summary>Argument parsing shared by the model commands.</summary>
internal static class ModelCommandHelpers
{
    /// <summary>Parses "1,2,3" (spaces allowed) into token ids.</summary>
    public static int[] ParseIds(string text)
    {
        var parts = text.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new CliUsageException("--ids: no token ids given (expected e.g. --ids 1,2,3)");
        }
        var ids = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out ids[i]))
            {
                throw new CliUsageException($"--ids: '{parts[i]}' is not a token id (a non-negative integer)");
            }
        }
        return ids;
    }

    /// <summary>Runs <paramref name="body"/>, turning an invalid input the library rejects with an
    /// <see cref="ArgumentException"/> (e.g. a token id outside the vocabulary) into a one-line usage error.</summary>
    public static T RejectBadInput<T>(Func<T> body)
    {
        try
        {
            return body();
        }
        catch (ArgumentException e)
        {
            throw UsageError(e);
        }
    }

    /// <summary>The first line of an <see cref="ArgumentException"/>'s message, without the "(Parameter ...)" suffix.</summary>
    public static CliUsageException UsageError(ArgumentException e)
    {
        string message = e.Message.Split('\n')[0].Trim();
        int parameter = message.IndexOf(" (Parameter '", StringComparison.Ordinal);
        return new CliUsageException(parameter > 0 ? message[..parameter] : message);
    }

    /// <summary>The model directory, which must exist.</summary>
    public static string ModelDirectory(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new CliUsageException("--model: a model directory is required");
        }
        if (!Directory.Exists(path))
        {
            throw new CliUsageException($"--model: directory '{path}' not found");
        }
        return path;
    }
}

/// <summary>A command-line usage error: reported as one line, exit code 1.</summary>
internal sealed class CliUsageException(string message) : NativeModelsException(message);
