using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Xunit.Abstractions;

namespace LipNet.ML.Tests;

/// <summary>Every C# block of the README compiles against the library as it is, so the README cannot drift from the API.</summary>
public class ReadmeCodeTests(ITestOutputHelper output)
{
    // What a console app referencing LipNet.ML (and ML.NET for its pipelines) has in scope: the implicit usings of an SDK
    // project plus the library's namespaces. Each block is compiled alone as a program of top-level statements.
    private const string Usings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Threading;
        global using System.Threading.Tasks;
        global using Microsoft.ML;
        global using LipNet.ML;
        global using LipNet.ML.Audio;
        global using LipNet.ML.Corpora;
        global using LipNet.ML.Decoding;
        global using LipNet.ML.Metrics;
        global using LipNet.ML.MLNet;
        global using LipNet.ML.Mouth;
        global using LipNet.ML.Onnx;
        global using LipNet.ML.Runtime;
        global using LipNet.ML.Synthesis;
        global using LipNet.ML.Tensors;
        global using LipNet.ML.Training;
        global using LipNet.ML.Video;
        """;

    private static string Repository => Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", "..");

    [Theory]
    [InlineData("README.md", 7)]
    [InlineData("src/LipNet.ML/PACKAGE.md", 1)]
    public void EveryCSharpBlockOfTheReadmeCompiles(string file, int atLeast)
    {
        string readme = Path.Combine(Repository, file);
        var blocks = Regex.Matches(File.ReadAllText(readme), "```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value).ToList();
        Assert.True(blocks.Count >= atLeast, $"{blocks.Count} C# blocks found in {file}");
        var references = ((string)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")!).Split(Path.PathSeparator)
            .Concat(Directory.GetFiles(AppContext.BaseDirectory, "*.dll"))
            .GroupBy(Path.GetFileName).Select(g => g.First())
            .Where(p => !Path.GetFileName(p).StartsWith("LipNet.ML.Tests", StringComparison.Ordinal))
            .Select(p => MetadataReference.CreateFromFile(p)).ToList();
        var failures = new List<string>();
        for (int i = 0; i < blocks.Count; i++)
        {
            var compilation = CSharpCompilation.Create($"readme_block_{i + 1}",
                [CSharpSyntaxTree.ParseText(Usings), CSharpSyntaxTree.ParseText(blocks[i])], references,
                new CSharpCompilationOptions(OutputKind.ConsoleApplication, nullableContextOptions: NullableContextOptions.Enable));
            using var stream = new MemoryStream();
            var errors = compilation.Emit(stream).Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            if (errors.Count > 0)
                failures.Add($"block {i + 1} ({blocks[i].Split('\n')[0].Trim()}): {string.Join("; ", errors.Take(5))}");
        }
        foreach (var f in failures)
            output.WriteLine(f);
        Assert.Empty(failures);
    }
}
