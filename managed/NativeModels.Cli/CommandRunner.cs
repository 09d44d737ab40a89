using NativeModels.Interop;

namespace NativeModels.Cli;

/// <summary>Runs a command body and turns the errors a user can fix into one line on stderr and exit code 1.</summary>
public static class CommandRunner
{
    public static int Run(TextWriter error, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (NativeModelsException e)
        {
            error.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (DllNotFoundException e)
        {
            // The resolver's message lists every path tried, one per line: that is the useful part.
            error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
