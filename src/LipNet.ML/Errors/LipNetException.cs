namespace LipNet.ML;

/// <summary>
/// Base of every error the library raises on bad input. Catch this one type to handle any
/// missing, corrupt or malformed file, or a shape that does not fit.
/// </summary>
public class LipNetException : Exception
{
    public LipNetException(string message, string? path = null, Exception? inner = null)
        : base(path is null ? message : $"{path}: {message}", inner)
    {
        FilePath = path;
        Reason = message;
    }

    /// <summary>The file the error is about, when there is one.</summary>
    public string? FilePath { get; }

    /// <summary>The reason alone, without the file name.</summary>
    public string Reason { get; }
}

/// <summary>A video that is missing, unreadable, corrupt, empty or of an absurd size.</summary>
public sealed class VideoDecodeException(string message, string? path = null, Exception? inner = null)
    : LipNetException(message, path, inner);

/// <summary>A corpus file (align, JSON, CSV, transcript) that cannot be parsed.</summary>
public sealed class CorpusFormatException : LipNetException
{
    public CorpusFormatException(string message, string? path = null, int? line = null, Exception? inner = null)
        : base(line is null ? message : $"line {line}: {message}", path, inner)
    {
        Line = line;
    }

    /// <summary>1-based line number of the offending input, when known.</summary>
    public int? Line { get; }
}

/// <summary>A mouth locator that cannot work: missing cascade file, bad region, nothing found.</summary>
public sealed class MouthLocatorException(string message, string? path = null, Exception? inner = null)
    : LipNetException(message, path, inner);

/// <summary>A tensor, buffer or option whose shape does not fit what the operation needs.</summary>
public sealed class TensorShapeException(string message, string? path = null, Exception? inner = null)
    : LipNetException(message, path, inner);
