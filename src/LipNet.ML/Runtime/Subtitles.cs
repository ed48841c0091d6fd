using System.Globalization;
using System.Text;

namespace LipNet.ML.Runtime;

/// <summary>
/// Subtitles from transcript segments: one cue per segment, in SubRip (SRT) or WebVTT. Times are formatted from
/// <see cref="TimeSpan"/> totals, so hours keep counting past 24 (a day-long stream stays in order).
/// </summary>
public static class Subtitles
{
    /// <summary>SubRip: numbered cues, <c>HH:MM:SS,mmm --&gt; HH:MM:SS,mmm</c>, a blank line after each.</summary>
    public static string Srt(IEnumerable<TranscriptSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var sb = new StringBuilder();
        int n = 0;
        foreach (var s in Cues(segments))
        {
            sb.Append(CultureInfo.InvariantCulture, $"{++n}\n{Time(s.Start, ',')} --> {Time(s.End, ',')}\n{s.Text}\n\n");
        }
        return sb.ToString();
    }

    /// <summary>WebVTT (W3C): the <c>WEBVTT</c> header, then cues <c>HH:MM:SS.mmm --&gt; HH:MM:SS.mmm</c>.</summary>
    public static string WebVtt(IEnumerable<TranscriptSegment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var sb = new StringBuilder("WEBVTT\n\n");
        foreach (var s in Cues(segments))
            sb.Append(CultureInfo.InvariantCulture, $"{Time(s.Start, '.')} --> {Time(s.End, '.')}\n{s.Text}\n\n");
        return sb.ToString();
    }

    /// <summary>Final segments with text, in time order; a cue ends after it starts (at least 1 ms).</summary>
    private static IEnumerable<TranscriptSegment> Cues(IEnumerable<TranscriptSegment> segments) =>
        segments.Where(s => s.IsFinal && s.Text.Length > 0).OrderBy(s => s.Start)
            .Select(s => s.End > s.Start ? s : s with { End = s.Start + TimeSpan.FromMilliseconds(1) });

    /// <summary>HH:MM:SS{separator}mmm, hours unbounded.</summary>
    public static string Time(TimeSpan time, char separator = ',')
    {
        if (time < TimeSpan.Zero)
            time = TimeSpan.Zero;
        long ms = (long)Math.Round(time.TotalMilliseconds);
        return string.Create(CultureInfo.InvariantCulture, $"{ms / 3_600_000:00}:{ms / 60_000 % 60:00}:{ms / 1000 % 60:00}{separator}{ms % 1000:000}");
    }
}
