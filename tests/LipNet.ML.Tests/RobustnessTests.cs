using System.Text;
using LipNet.ML.Corpora;
using LipNet.ML.Video;

namespace LipNet.ML.Tests;

/// <summary>Every parser and the video loader get truncated, random and empty input; only the library's typed errors may come out.</summary>
public class RobustnessTests
{
    private static IEnumerable<string> Mutations(string valid, int seed)
    {
        var random = new Random(seed);
        yield return "";
        yield return "\n\n\n";
        for (int cut = 1; cut < valid.Length; cut += Math.Max(1, valid.Length / 25))
            yield return valid[..cut];
        for (int i = 0; i < 40; i++)
        {
            var chars = valid.ToCharArray();
            for (int k = 0; k < 1 + random.Next(6); k++)
                chars[random.Next(chars.Length)] = (char)random.Next(0, 128);
            yield return new string(chars);
        }
        for (int i = 0; i < 10; i++)
            yield return new string(Enumerable.Range(0, random.Next(1, 300)).Select(_ => (char)random.Next(0, 0x2FF)).ToArray());
    }

    private static void OnlyTypedErrors(Action parse)
    {
        try
        {
            parse();
        }
        catch (LipNetException)
        {
        }
    }

    [Fact]
    public void AlignParser() =>
        Assert.All(Mutations(CorpusTests.Align, 1), text => OnlyTypedErrors(() => GridAlign.Parse(text, "f.align")));

    [Fact]
    public void LombardParser() =>
        Assert.All(Mutations(CorpusTests.LombardJson("s2_l_bbim3a"), 2), text => OnlyTypedErrors(() => LombardCorpus.ParseLabel(text, "f.json", out _)));

    [Fact]
    public void LrsParser() =>
        Assert.All(Mutations("Text:  WHEN YOU\nConf: 4\n\nWORD START END ASDSCORE\nWHEN 0.1 0.3 1\nYOU 0.3 0.5 2\n", 3),
            text => OnlyTypedErrors(() => LrsCorpus.ParseTranscript(text, "f.txt")));

    [Fact]
    public void ChineseLipsCsv()
    {
        const string valid = "file_id,category,wav_path,ppt_path,face_path,text\nspk_1,a,w.wav,p.png,f.mp4,\"你好, 世界\"\nspk_2,b,w2.wav,p2.png,f2.mp4,再见\n";
        using var dir = new TempDir();
        Assert.All(Mutations(valid, 4), text =>
        {
            File.WriteAllText(dir.File("meta_train.csv"), text, Encoding.UTF8);
            OnlyTypedErrors(() => new ChineseLipsCorpus(dir.Path).Read().ToList());
        });
    }

    [Fact]
    public void VideoLoader()
    {
        using var dir = new TempDir();
        var valid = File.ReadAllBytes(TestVideos.Write(dir.File("v.avi"), frames: 6, width: 64, height: 48));
        var random = new Random(5);
        var inputs = new List<byte[]> { Array.Empty<byte>(), new byte[] { 0 }, valid[..8], valid[..(valid.Length / 4)] };
        for (int i = 0; i < 6; i++)
        {
            var noisy = (byte[])valid.Clone();
            for (int k = 0; k < 50; k++)
                noisy[random.Next(noisy.Length)] = (byte)random.Next(256);
            inputs.Add(noisy);
            var junk = new byte[random.Next(10, 5000)];
            random.NextBytes(junk);
            inputs.Add(junk);
        }
        int n = 0;
        Assert.All(inputs, bytes =>
        {
            foreach (var ext in new[] { ".avi", ".mp4", ".mpg" })
            {
                var path = dir.File($"in{n++}{ext}");
                File.WriteAllBytes(path, bytes);
                OnlyTypedErrors(() => Video.VideoLoader.Load(path));
                using var stream = new MemoryStream(bytes);
                OnlyTypedErrors(() => Video.VideoLoader.Load(stream, "x" + ext));
            }
        });
    }

    [Fact]
    public void AMissingNativeLibraryIsATypedErrorNamingThePackageToAdd()
    {
        var missing = new TypeInitializationException("OpenCvSharp.NativeMethods",
            new DllNotFoundException("Unable to load shared library 'OpenCvSharpExtern' or one of its dependencies.\n/app/libOpenCvSharpExtern: cannot open"));
        Assert.True(NativeLibraryException.IsMissingNative(missing));
        Assert.False(NativeLibraryException.IsMissingNative(new InvalidOperationException("other")));
        var opencv = NativeLibraryException.OpenCv(missing, "clip.mp4");
        Assert.Equal("clip.mp4", opencv.FilePath);
        Assert.Contains(NativeLibraryException.OpenCvPackage, opencv.Message);
        Assert.Contains("libgtk-3-0", opencv.Message);
        Assert.DoesNotContain("\n", opencv.Message);
        Assert.Contains(NativeLibraryException.OnnxRuntimePackage, NativeLibraryException.OnnxRuntime(new DllNotFoundException("onnxruntime")).Message);
    }
}
