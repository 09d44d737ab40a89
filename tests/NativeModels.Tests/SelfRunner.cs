using System.Diagnostics;
using System.Reflection;
using System.Xml.Linq;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace NativeModels.Tests;

/// <summary>
/// Lets the test assembly run itself without the .NET SDK: `dotnet exec NativeModels.Tests.dll [-xml FILE]`
/// (scripts/gpu-check.sh runs it that way on GPU machines). Discovers and runs every test in-process with
/// xunit's own engine, prints failures and a summary, and writes xunit's XML format (an &lt;assembly&gt; element
/// with total / passed / failed / skipped / errors). Exit code 0 only when nothing failed.
/// `dotnet test` does not use this: it runs the tests through xunit.runner.visualstudio.
/// </summary>
public static class SelfRunner
{
    public static int Main(string[] args)
    {
        string? xmlPath = null;
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] is "-xml" or "--xml" && i + 1 < args.Length)
            {
                xmlPath = args[++i];
            }
        }

        var assembly = typeof(SelfRunner).Assembly;
        var sink = new ResultSink();
        var stopwatch = Stopwatch.StartNew();
        using (var framework = new XunitTestFramework(new NullSink()))
        {
            var discoverySink = new DiscoverySink();
            using (var discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly)))
            {
                discoverer.Find(includeSourceInformation: false, discoverySink, new Options());
                discoverySink.Done.WaitOne();
            }
            using var executor = framework.GetExecutor(assembly.GetName());
            executor.RunTests(discoverySink.TestCases, sink, new Options());
            sink.Done.WaitOne();
        }
        stopwatch.Stop();

        Console.WriteLine($"{assembly.GetName().Name}: total {sink.Total}, passed {sink.Passed}, failed {sink.Failed}, skipped {sink.Skipped}, {stopwatch.Elapsed.TotalSeconds:F1} s");
        if (xmlPath is not null)
        {
            var element = new XElement("assembly",
                new XAttribute("name", assembly.Location),
                new XAttribute("test-framework", "xUnit.net 2 (NativeModels.Tests self-runner)"),
                new XAttribute("total", sink.Total),
                new XAttribute("passed", sink.Passed),
                new XAttribute("failed", sink.Failed),
                new XAttribute("skipped", sink.Skipped),
                new XAttribute("errors", sink.Errors),
                new XAttribute("time", stopwatch.Elapsed.TotalSeconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)),
                sink.Results);
            new XDocument(new XElement("assemblies", element)).Save(xmlPath);
        }
        return sink.Failed + sink.Errors == 0 ? 0 : 1;
    }

    private sealed class NullSink : LongLivedMarshalByRefObject, IMessageSink
    {
        public bool OnMessage(IMessageSinkMessage message) => true;
    }

    private sealed class DiscoverySink : LongLivedMarshalByRefObject, IMessageSink
    {
        public List<ITestCase> TestCases { get; } = [];

        public ManualResetEvent Done { get; } = new(false);

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is ITestCaseDiscoveryMessage discovered)
            {
                TestCases.Add(discovered.TestCase);
            }
            else if (message is IDiscoveryCompleteMessage)
            {
                Done.Set();
            }
            return true;
        }
    }

    private sealed class ResultSink : LongLivedMarshalByRefObject, IMessageSink
    {
        private readonly Lock _sync = new();

        public List<XElement> Results { get; } = [];

        public int Total, Passed, Failed, Skipped, Errors;

        public ManualResetEvent Done { get; } = new(false);

        public bool OnMessage(IMessageSinkMessage message)
        {
            lock (_sync)
            {
                switch (message)
                {
                    case ITestPassed passed:
                        Passed++;
                        Total++;
                        Results.Add(Test(passed, "Pass"));
                        break;
                    case ITestFailed failed:
                        Failed++;
                        Total++;
                        string text = string.Join(Environment.NewLine, failed.Messages ?? []);
                        Console.WriteLine($"[FAIL] {failed.Test.DisplayName}{Environment.NewLine}  {text}");
                        Results.Add(Test(failed, "Fail", new XElement("failure",
                            new XElement("message", text),
                            new XElement("stack-trace", string.Join(Environment.NewLine, failed.StackTraces ?? [])))));
                        break;
                    case ITestSkipped skipped:
                        Skipped++;
                        Total++;
                        Results.Add(Test(skipped, "Skip", new XElement("reason", skipped.Reason)));
                        break;
                    case IErrorMessage or ITestAssemblyCleanupFailure or ITestCollectionCleanupFailure or ITestClassCleanupFailure:
                        Errors++;
                        Console.WriteLine($"[ERROR] {string.Join(Environment.NewLine, ((IFailureInformation)message).Messages ?? [])}");
                        break;
                    case ITestAssemblyFinished:
                        Done.Set();
                        break;
                }
            }
            return true;
        }

        private static XElement Test(ITestResultMessage result, string outcome, params object[] content) =>
            new("test",
                new XAttribute("name", result.Test.DisplayName),
                new XAttribute("type", result.TestClass.Class.Name),
                new XAttribute("method", result.TestMethod.Method.Name),
                new XAttribute("result", outcome),
                new XAttribute("time", result.ExecutionTime.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)),
                content);
    }

    private sealed class Options : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        private readonly Dictionary<string, object?> _values = new();

        public TValue GetValue<TValue>(string name) =>
            _values.TryGetValue(name, out var value) && value is TValue typed ? typed : default!;

        public void SetValue<TValue>(string name, TValue value) => _values[name] = value;
    }
}
