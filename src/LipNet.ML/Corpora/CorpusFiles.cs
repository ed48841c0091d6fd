using System.Text.RegularExpressions;

namespace LipNet.ML.Corpora;

/// <summary>Deterministic, lazy file walking shared by the corpus readers.</summary>
internal static partial class CorpusFiles
{
    public static readonly string[] VideoExtensions = [".mpg", ".mpeg", ".mp4", ".mov", ".avi", ".mkv", ".webm"];

    public static bool IsVideo(string path) =>
        VideoExtensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    /// <summary>Files below <paramref name="root"/>, depth first, each folder's entries in ordinal order.</summary>
    public static IEnumerable<string> Walk(string root, Func<string, bool> include)
    {
        var stack = new Stack<string>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            string dir = stack.Pop();
            string[] files, dirs;
            try
            {
                files = Directory.GetFiles(dir);
                dirs = Directory.GetDirectories(dir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CorpusFormatException($"cannot list folder ({ex.Message})", dir, inner: ex);
            }
            Array.Sort(files, StringComparer.Ordinal);
            Array.Sort(dirs, StringComparer.Ordinal);
            foreach (var f in files)
                if (include(f))
                    yield return f;
            for (int i = dirs.Length - 1; i >= 0; i--)
                stack.Push(dirs[i]);
        }
    }

    [GeneratedRegex(@"^s\d+$", RegexOptions.IgnoreCase)]
    private static partial Regex SpeakerFolder();

    /// <summary>The nearest folder named like a GRID speaker (s1, s26 ...) between the file and the root.</summary>
    public static string? GridSpeaker(string file, string root)
    {
        var rootFull = Path.GetFullPath(root);
        for (var dir = Path.GetDirectoryName(Path.GetFullPath(file)); dir is not null && dir.Length >= rootFull.Length; dir = Path.GetDirectoryName(dir))
        {
            var name = Path.GetFileName(dir);
            if (SpeakerFolder().IsMatch(name))
                return name.ToLowerInvariant();
        }
        return null;
    }
}
