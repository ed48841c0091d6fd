using LipNet.ML.Corpora;

namespace LipNet.ML.Synthesis;

/// <summary>One phoneme of a planned utterance, in seconds.</summary>
public sealed record PhonemeSegment(string Phoneme, Viseme Viseme, double Start, double End, int WordIndex);

/// <summary>
/// When each word and phoneme of a GRID sentence is spoken within a fixed-length clip, and the mouth
/// shape at every frame: targets per phoneme, blended between neighbours (coarticulation).
/// </summary>
public sealed class SpeechTimeline
{
    private SpeechTimeline(IReadOnlyList<PhonemeSegment> phonemes, IReadOnlyList<WordTiming> words, double seconds)
    {
        Phonemes = phonemes;
        Words = words;
        Seconds = seconds;
    }

    /// <summary>
    /// Every phoneme in speaking order, times in seconds from the clip's start; the phonemes of a word are back to back,
    /// words may be separated by short pauses. Never empty.
    /// </summary>
    public IReadOnlyList<PhonemeSegment> Phonemes { get; }

    /// <summary>Every word in order, from its first phoneme's start to its last phoneme's end, in seconds rounded to 0.1 ms.</summary>
    public IReadOnlyList<WordTiming> Words { get; }

    /// <summary>Clip length in seconds the plan was fitted into (<see cref="Plan"/>'s argument; frames / fps when rendering).</summary>
    public double Seconds { get; }

    /// <summary>Plans a sentence: silence, the words at the speaker's rate with jitter, silence; fitted into <paramref name="seconds"/>.</summary>
    /// <exception cref="ArgumentException">The sentence is empty or has a word not in <see cref="GridGrammar.Pronunciations"/>.</exception>
    public static SpeechTimeline Plan(string sentence, SpeakerIdentity speaker, Random random, double seconds = 3.0)
    {
        var words = sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
            throw new ArgumentException("empty sentence", nameof(sentence));
        var plan = new List<(string Phoneme, Viseme Viseme, double Duration, int Word)>();
        var gaps = new double[words.Length];
        for (int w = 0; w < words.Length; w++)
        {
            if (!GridGrammar.Pronunciations.TryGetValue(words[w], out var phones))
                throw new ArgumentException($"'{words[w]}' has no pronunciation in the GRID table", nameof(sentence));
            foreach (var p in phones)
            {
                var v = Visemes.Of(p);
                double jitter = 0.8 + 0.4 * random.NextDouble();
                plan.Add((p, v, Visemes.BaseDuration(v) * speaker.Rate * jitter, w));
            }
            gaps[w] = random.NextDouble() < 0.3 ? 0.02 + 0.06 * random.NextDouble() : 0;
        }
        double speech = plan.Sum(p => p.Duration) + gaps.Sum();
        double lead = 0.35 + 0.35 * random.NextDouble();
        double tail = 0.3 + 0.3 * random.NextDouble();
        // Squeeze speech (never the silences below 0.2 s) when it would not fit the clip.
        double available = seconds - lead - tail;
        if (speech > available)
        {
            double minSilence = 0.2;
            double scale = Math.Max(0.5, (seconds - 2 * minSilence) / speech);
            speech *= scale;
            for (int i = 0; i < plan.Count; i++)
                plan[i] = plan[i] with { Duration = plan[i].Duration * scale };
            for (int i = 0; i < gaps.Length; i++)
                gaps[i] *= scale;
            lead = tail = Math.Max(0.05, (seconds - speech) / 2);
        }
        var segments = new List<PhonemeSegment>();
        var wordTimes = new List<WordTiming>();
        double t = lead;
        for (int w = 0; w < words.Length; w++)
        {
            double start = t;
            foreach (var p in plan.Where(p => p.Word == w))
            {
                segments.Add(new PhonemeSegment(p.Phoneme, p.Viseme, t, t + p.Duration, w));
                t += p.Duration;
            }
            wordTimes.Add(new WordTiming(words[w], Math.Round(start, 4), Math.Round(t, 4)));
            t += gaps[w];
        }
        return new SpeechTimeline(segments, wordTimes, seconds);
    }

    /// <summary>
    /// The mouth shape at each frame centre, scaled by the speaker's articulation. Keyframes are the rest shape at the ends
    /// and each phoneme's <see cref="Visemes.Target(string)"/> at its middle (bilabials hold their closure over the middle
    /// half); frames between keyframes are blended with smoothstep easing, which gives coarticulation.
    /// </summary>
    /// <param name="frames">Number of frames, the length of the returned array.</param>
    /// <param name="fps">Frame rate in Hz: frame f shows the mouth at (f + 0.5) / fps seconds.</param>
    /// <param name="articulation">How far the mouth moves from <see cref="MouthShape.Rest"/> towards each target, normally
    /// <see cref="SpeakerIdentity.Articulation"/>: 1 = the targets, below 1 undershoots, above 1 overshoots (clamped to 0..1).
    /// Closures stay closed and teeth and tongue are not scaled.</param>
    /// <param name="onsetSeconds">When set, the mouth rests until this long before the first phoneme (a speaker pausing
    /// between sentences); otherwise it moves towards the first target from the clip's start, as GRID clips were rendered.</param>
    /// <returns><paramref name="frames"/> shapes, one per frame, each parameter in 0..1.</returns>
    public MouthShape[] MouthTrack(int frames, double fps, float articulation, double? onsetSeconds = null)
    {
        // Keyframes: rest at both ends, each phoneme's target at its middle; bilabials hold the closure
        // over their middle half so a frame always catches the lips shut.
        var keys = new List<(double Time, MouthShape Shape)> { (0, MouthShape.Rest) };
        if (onsetSeconds is { } onset && Phonemes[0].Start - onset > 0)
            keys.Add((Phonemes[0].Start - onset, MouthShape.Rest));
        foreach (var p in Phonemes)
        {
            var target = Scale(Visemes.Target(p.Phoneme), articulation);
            double mid = (p.Start + p.End) / 2, quarter = (p.End - p.Start) / 4;
            if (p.Viseme == Viseme.Bilabial)
            {
                keys.Add((mid - quarter, target));
                keys.Add((mid + quarter, target));
            }
            else
            {
                keys.Add((mid, target));
            }
        }
        keys.Add((Phonemes[^1].End + 0.12, MouthShape.Rest));
        keys.Add((Math.Max(Seconds, Phonemes[^1].End + 0.2), MouthShape.Rest));
        var track = new MouthShape[frames];
        int k = 0;
        for (int f = 0; f < frames; f++)
        {
            double time = (f + 0.5) / fps;
            while (k < keys.Count - 2 && keys[k + 1].Time <= time)
                k++;
            var (t0, s0) = keys[k];
            var (t1, s1) = keys[Math.Min(k + 1, keys.Count - 1)];
            double a = t1 > t0 ? Math.Clamp((time - t0) / (t1 - t0), 0, 1) : 0;
            a = a * a * (3 - 2 * a); // smoothstep: articulators accelerate and decelerate
            track[f] = MouthShape.Lerp(s0, s1, (float)a);
        }
        return track;
    }

    private static MouthShape Scale(MouthShape target, float articulation)
    {
        var rest = MouthShape.Rest;
        float S(float r, float v) => Math.Clamp(r + (v - r) * articulation, 0f, 1f);
        // A closure stays a closure however weakly a speaker articulates.
        return new MouthShape(target.Open == 0 ? 0 : S(rest.Open, target.Open), S(rest.Spread, target.Spread), S(rest.Round, target.Round), target.Teeth, target.Tongue);
    }
}
