using LipNet.ML.Decoding;

namespace LipNet.ML.Runtime;

/// <summary>
/// Word times inside a stretch of speech. LipNet models trained on fixed 3 s windows emit each word at a position in the
/// window, not when it was said (on GRID s1 the default model emits the first word at frame 0 and the last near frame 69
/// wherever they were spoken), so CTC frames do not time words. The stretch where the lips moved (or the window) is split
/// between the words in proportion to their length instead — at least two letters' worth each, as a spelled letter is a
/// syllable — giving ordered, non-overlapping words inside their segment. Confidence is the mean probability of a word's
/// tokens at the frames the model emitted them (<see cref="CtcAlignment"/>).
/// </summary>
internal static class WordTimes
{
    /// <summary>
    /// The words of <paramref name="best"/> with fractional frame bounds [Start, End) that tile [<paramref name="from"/>,
    /// <paramref name="to"/>): strictly increasing, however many words share however few frames.
    /// </summary>
    /// <param name="best">The hypothesis (token frames as the decoder aligned them).</param>
    /// <param name="vocabulary">Its vocabulary (the space token separates words).</param>
    /// <param name="from">First frame of the stretch.</param>
    /// <param name="to">End of the stretch (exclusive), after <paramref name="from"/>.</param>
    /// <param name="tokenProbability">The probability (0..1) of the hypothesis's token i at its frame.</param>
    public static List<(string Word, double Start, double End, float Confidence)> Spread(CtcHypothesis best, CtcVocabulary vocabulary, int from, int to,
        Func<int, float> tokenProbability)
    {
        var words = new List<(string Word, float Confidence)>();
        int first = -1;
        for (int i = 0; i <= best.Tokens.Length; i++)
        {
            if (i < best.Tokens.Length && best.Tokens[i] != vocabulary.SpaceId)
            {
                if (first < 0)
                    first = i;
                continue;
            }
            if (first >= 0)
            {
                float confidence = 0;
                for (int k = first; k < i; k++)
                    confidence += tokenProbability(k);
                words.Add((string.Concat(best.Tokens[first..i].Select(id => vocabulary[id])), confidence / (i - first)));
            }
            first = -1;
        }
        to = Math.Max(to, from + 1);
        double total = words.Sum(w => Math.Max(2, w.Word.Length)), done = 0;
        var timed = new List<(string, double, double, float)>(words.Count);
        double start = from;
        for (int k = 0; k < words.Count; k++)
        {
            done += Math.Max(2, words[k].Word.Length);
            double end = k == words.Count - 1 ? to : from + done / total * (to - from);
            timed.Add((words[k].Word, start, end, words[k].Confidence));
            start = end;
        }
        return timed;
    }
}
