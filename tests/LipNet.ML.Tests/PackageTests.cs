using System.Diagnostics;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace LipNet.ML.Tests;

/// <summary>
/// The package as a new user gets it: LipNet.ML is packed, a fresh console app references the packed package (a local
/// source) and the native packages the package readme names, builds, and runs the readme's quick start on the bundled
/// real clip. Slow (a pack, a restore and a build: about a minute), but it is the only test that sees what a package
/// consumer sees — missing files, wrong dependencies, a readme that does not build.
/// </summary>
public class PackageTests(ITestOutputHelper output)
{
    private static string Repository => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(OnnxGraphTests.Fixture("x"))!, "..", ".."));

    [Fact]
    public void APackedPackageRunsTheQuickStartInAFreshConsoleApp()
    {
        using var dir = new TempDir();
        string version = TestVersion();
        string feed = dir.File("feed/.keep");
        feed = Path.GetDirectoryName(feed)!;
        try
        {
            // The tests run on a Release build of the library; pack that build (no second build of it while tests run).
            Run("dotnet", $"pack src/LipNet.ML/LipNet.ML.csproj -c Release --no-build -o \"{feed}\" -p:PackageVersion={version}", Repository);
            Assert.True(File.Exists(Path.Combine(feed, $"LipNet.ML.{version}.nupkg")), "the package was packed");
            Assert.True(File.Exists(Path.Combine(feed, $"LipNet.ML.{version}.snupkg")), "the symbols package was packed");

            string readme = File.ReadAllText(Path.Combine(Repository, "src", "LipNet.ML", "PACKAGE.md"));
            string quickStart = Regex.Match(readme, "```csharp\n(.*?)```", RegexOptions.Singleline).Groups[1].Value;
            Assert.Contains("LipReader.Default", quickStart);
            // The native packages and versions are the ones the readme tells the user to add.
            var natives = Regex.Matches(readme, @"`(Microsoft\.ML\.OnnxRuntime|OpenCvSharp4\.official\.runtime\.linux-x64)` ([0-9][0-9.]*[0-9])")
                .Select(m => (Id: m.Groups[1].Value, Version: m.Groups[2].Value)).ToList();
            Assert.Equal(2, natives.Count);

            string app = Path.Combine(dir.Path, "app");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "app.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="LipNet.ML" Version="{version}" />
                    {string.Join("\n        ", natives.Select(n => $"<PackageReference Include=\"{n.Id}\" Version=\"{n.Version}\" />"))}
                  </ItemGroup>
                </Project>
                """);
            // The local feed beside the machine's own package sources (no <clear/>).
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="lipnet-packtest" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "Program.cs"), quickStart);
            File.Copy(Path.Combine(Repository, "samples", "data", "grid", "video", "s1", "bwwbzp.mp4"), Path.Combine(app, "clip.mp4"));

            Run("dotnet", "build -c Release -o out -nologo", app);
            string stdout = Run("dotnet", "out/app.dll", app);
            // The bundled held-out clip the embedded model reads right (its align file's sentence), and the confidence after it.
            Assert.StartsWith("bin white with b zero please (", stdout.Trim());
            Assert.Contains("-->", File.ReadAllText(Path.Combine(app, "clip.srt")));

            // Without OpenCV's native library, then also without ONNX Runtime's, the app gets the typed error that names the
            // package to add (the front end's stages check that OpenCV loads when they are made); the loader's own
            // TypeInitializationException is only its inner exception.
            foreach (var (library, package) in new[] { ("libOpenCvSharpExtern.so*", "OpenCvSharp4.official.runtime"), ("libonnxruntime.so*", "Microsoft.ML.OnnxRuntime") })
            {
                foreach (var native in Directory.GetFiles(Path.Combine(app, "out"), library, SearchOption.AllDirectories))
                    File.Delete(native);
                var (code, all) = TryRun("dotnet", "out/app.dll", app);
                Assert.NotEqual(0, code);
                Assert.Contains("Unhandled exception. LipNet.ML.NativeLibraryException", all);
                Assert.Contains(package, all);
            }
        }
        finally
        {
            RemoveFromPackageCache("lipnet.ml", version);
        }
    }

    [Fact]
    public void TheToolPackagesAreSmallAndTheInstalledToolTranscribes()
    {
        using var dir = new TempDir();
        string feed = Path.Combine(dir.Path, "feed"), tools = Path.Combine(dir.Path, "tools");
        string version = TestVersion();
        try
        {
            // In the same test class as the library's pack: xunit runs one class's tests one after another, so this build of
            // the library (for the tool) never overlaps that pack of it.
            Run("dotnet", $"pack src/LipNet.Cli/LipNet.Cli.csproj -c Release -o \"{feed}\" -nologo -p:PackageVersion={version}", Repository);
            var packages = Directory.GetFiles(feed, "LipNet.Cli*.nupkg").Select(p => new FileInfo(p)).ToList();
            foreach (var p in packages)
                output.WriteLine($"{p.Name}: {p.Length / 1e6:F1} MB");
            // RID-specific tool packages (.NET 10): a small pointer package and one per platform, each well under nuget.org's limit.
            Assert.Contains(packages, p => p.Name.StartsWith("LipNet.Cli.linux-x64.", StringComparison.Ordinal));
            Assert.All(packages, p => Assert.True(p.Length < 150_000_000, $"{p.Name} is {p.Length / 1e6:F1} MB"));

            Run("dotnet", $"tool install LipNet.Cli --tool-path \"{tools}\" --add-source \"{feed}\" --version {version}", dir.Path);
            string clip = Path.Combine(Repository, "samples", "data", "grid", "video", "s1", "bwwbzp.mp4");
            string stdout = Run(Path.Combine(tools, "lipnet"), $"transcribe \"{clip}\" --beam 50 --grammar grid", dir.Path);
            Assert.Contains("\"bin white with b zero please\"  truth \"bin white with b zero please\"  CER 0.0 %  WER 0.0 %", stdout);
        }
        finally
        {
            RemoveFromPackageCache("lipnet.cli", version);
            RemoveFromPackageCache("lipnet.cli.linux-x64", version);
        }
    }

    [Theory]
    [InlineData("src/LipNet.ML/PACKAGE.md", "src/LipNet.ML/icon.png")]
    [InlineData("src/LipNet.Cli/PACKAGE.md", "src/LipNet.ML/icon.png")]
    public void APackageReadmeHasNoLinksThatBreakInsideAPackage(string readme, string icon)
    {
        string text = File.ReadAllText(Path.Combine(Repository, readme));
        // Markdown links and images: inside a package only absolute URLs resolve.
        var targets = Regex.Matches(text, @"\]\(([^)]+)\)").Select(m => m.Groups[1].Value).ToList();
        Assert.All(targets, t => Assert.StartsWith("https://", t));
        Assert.True(new FileInfo(Path.Combine(Repository, icon)).Length > 1000, "the package icon exists");
    }

    // A version of its own per run, so a package cached by an earlier run (global packages folder) is never taken instead.
    private static string TestVersion() => "0.1.0-packtest." + DateTime.UtcNow.ToString("yyyyMMddHHmmss") + "." + Environment.ProcessId;

    // Leave no test version in the global packages folder.
    private static void RemoveFromPackageCache(string id, string version)
    {
        string cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), id, version);
        try { if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true); } catch (IOException) { }
    }

    private string Run(string file, string arguments, string workingDirectory)
    {
        var (code, all) = TryRun(file, arguments, workingDirectory);
        Assert.True(code == 0, $"{file} {arguments} exited {code}:\n{all}");
        return all;
    }

    private (int Code, string Output) TryRun(string file, string arguments, string workingDirectory)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        // The test host's MSBuild settings must not leak into the child builds.
        foreach (var name in new[] { "MSBuildExtensionsPath", "MSBuildSDKsPath", "MSBUILD_EXE_PATH", "VSTEST_HOST_DEBUG" })
            start.Environment.Remove(name);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string all = stdout + stderr.Result;
        output.WriteLine($"$ {file} {arguments}  (exit {process.ExitCode})");
        output.WriteLine(all.Length > 4000 ? all[^4000..] : all);
        return (process.ExitCode, stdout + (stderr.Result.Length > 0 ? "\n" + stderr.Result : ""));
    }
}
