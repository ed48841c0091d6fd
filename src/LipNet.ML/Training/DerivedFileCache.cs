using System.Security.Cryptography;
using System.Text;

namespace LipNet.ML.Training;

/// <summary>
/// Files derived from a source file (crops, keypoints …), named by a hash of the source's full path, size, modification time
/// and the settings that made them: a changed source or setting misses the cache instead of reading stale data. Writes are
/// atomic (a temporary file moved into place); failures to read or write only cost the recomputation.
/// </summary>
internal static class DerivedFileCache
{
    public static string PathFor(string directory, string sourcePath, string settings, string extension)
    {
        var info = new FileInfo(sourcePath);
        string key = $"{Path.GetFullPath(sourcePath)}|{info.Length}|{info.LastWriteTimeUtc.Ticks}|{settings}";
        return Path.Combine(directory, Convert.ToHexString(SHA1.HashData(Encoding.UTF8.GetBytes(key))).ToLowerInvariant() + extension);
    }

    public static T? TryRead<T>(string file, Func<BinaryReader, T?> read) where T : class
    {
        if (!File.Exists(file))
            return null;
        try
        {
            using var reader = new BinaryReader(File.OpenRead(file));
            return read(reader);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or EndOfStreamException)
        {
            return null; // a damaged cache file is recomputed
        }
    }

    public static void Write(string file, Action<BinaryWriter> write)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            string temp = file + "." + Guid.NewGuid().ToString("N") + ".tmp";
            using (var writer = new BinaryWriter(File.Create(temp)))
                write(writer);
            File.Move(temp, file, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Caching is an optimisation; the work goes on without it.
        }
    }
}
