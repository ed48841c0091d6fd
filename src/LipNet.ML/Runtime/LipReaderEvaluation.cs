using System.Diagnostics;
using LipNet.ML.Corpora;
using LipNet.ML.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LipNet.ML.Runtime;

/// <summary>What <see cref="LipReaderEvaluation.Evaluate"/> reports for one speaker.</summary>
/// <param name="Sentences">Sentences of this speaker that were read.</param>
/// <param name="Cer">Corpus-level CER of the speaker: total character edits / total reference characters, in [0, ∞) (1 = 100%).</param>
/// <param name="Wer">Corpus-level WER of the speaker: total word edits / total reference words.</param>
/// <param name="CerMean">Mean of the speaker's per-sentence CERs (the LipNet repositories' figure).</param>
/// <param name="WerMean">Mean of the speaker's per-sentence WERs.</param>
/// <param name="Bleu">Mean per-sentence character BLEU-4, as rizkiarm/LipNet reports it, in [0, 1].</param>
/// <param name="CerInterval">95% bootstrap interval of <paramref name="Cer"/>: [lower, upper] (500 resamples of the speaker's sentences).</param>
public sealed record SpeakerEvaluation(int Sentences, double Cer, double Wer, double CerMean, double WerMean, double Bleu, double[] CerInterval);

/// <summary>One clip of an evaluation: what was read and its error rates.</summary>
/// <param name="Video">The clip's path.</param>
/// <param name="Speaker">The clip's speaker id; null when the corpus has none.</param>
/// <param name="Truth">The reference text (normalized for scoring).</param>
/// <param name="Text">What was read (normalized for scoring).</param>
/// <param name="Cer">The sentence's CER: character edits / reference characters.</param>
/// <param name="Wer">The sentence's WER: word edits / reference words.</param>
public sealed record ClipEvaluation(string Video, string? Speaker, string Truth, string Text, double Cer, double Wer);

/// <summary>A letter read as another one, over the whole evaluation (character substitutions of the CER alignment).</summary>
/// <param name="Truth">The reference letter.</param>
/// <param name="ReadAs">The letter read in its place.</param>
/// <param name="Count">How many times.</param>
public sealed record LetterConfusion(string Truth, string ReadAs, int Count);

/// <summary>
/// A corpus evaluation: CER / WER / BLEU overall and per speaker with bootstrap intervals, the worst sentences, the most
/// frequent letter confusions, and the clips that could not be read. <c>lipnet evaluate</c> writes it as report.json
/// (snake_case names) and a model card's accuracy entries are read from such reports.
/// </summary>
/// <param name="Corpus">What was read (e.g. "GRID s1"); informational.</param>
/// <param name="Model">The model's source (file path or the embedded default model's name).</param>
/// <param name="Split">The split that selected the clips (e.g. "all", "list:onnx/splits/s1-validation.txt"); informational.</param>
/// <param name="Decoder">The decoder: "greedy" or "beam N", with " + GRID grammar" / " + mirror average" where used.</param>
/// <param name="Sentences">Sentences read (clips that failed are not counted).</param>
/// <param name="Cer">Corpus-level CER: total character edits / total reference characters (1 = 100%).</param>
/// <param name="Wer">Corpus-level WER: total word edits / total reference words.</param>
/// <param name="CerMean">Mean of per-sentence CERs.</param>
/// <param name="WerMean">Mean of per-sentence WERs.</param>
/// <param name="Bleu">Mean per-sentence character BLEU-4 (rizkiarm/LipNet's figure), in [0, 1].</param>
/// <param name="CerInterval">95% bootstrap interval of <paramref name="Cer"/>, [lower, upper].</param>
/// <param name="WerInterval">95% bootstrap interval of <paramref name="Wer"/>, [lower, upper].</param>
/// <param name="PerSpeaker">The same figures per speaker id.</param>
/// <param name="Worst">Up to 10 clips with the highest CER, worst first.</param>
/// <param name="LetterConfusions">Up to 20 most frequent letter substitutions, most frequent first.</param>
/// <param name="Failed">Clips that could not be read, with the reason.</param>
/// <param name="Seconds">Wall time of the evaluation, in seconds.</param>
/// <param name="Clips">Every clip read, in input order (null in reports written before it was added).</param>
public sealed record EvaluationReport(
    string Corpus, string Model, string Split, string Decoder, int Sentences, double Cer, double Wer, double CerMean, double WerMean, double Bleu,
    double[] CerInterval, double[] WerInterval, IReadOnlyDictionary<string, SpeakerEvaluation> PerSpeaker,
    IReadOnlyList<ClipEvaluation> Worst, IReadOnlyList<LetterConfusion> LetterConfusions, IReadOnlyList<TranscriptionFailure> Failed, double Seconds,
    IReadOnlyList<ClipEvaluation>? Clips = null);

/// <summary>How <see cref="LipReaderEvaluation.Evaluate"/> labels and resamples.</summary>
public sealed record EvaluationOptions
{
    /// <summary>What is read, for the report (e.g. "GRID s1"). Default empty.</summary>
    public string Corpus { get; init; } = "";

    /// <summary>The split that selected the clips, for the report. Default "all".</summary>
    public string Split { get; init; } = "all";

    /// <summary>Bootstrap resamples of the overall intervals (default 1,000; per speaker 500). At least 1.</summary>
    public int Resamples { get; init; } = 1000;

    /// <summary>Seed of the bootstrap resampling: the same seed gives the same intervals.</summary>
    public int Seed { get; init; }

    /// <summary>Where the evaluation logs its start, each unreadable clip (warning) and its result; null = nowhere.</summary>
    public ILogger? Logger { get; init; }
}

/// <summary>Corpus evaluation with a <see cref="LipReader"/>: the library side of <c>lipnet evaluate</c>.</summary>
public static class LipReaderEvaluation
{
    /// <summary>
    /// Reads every clip of <paramref name="items"/> (batched as <see cref="LipReader.TranscribeManyAsync"/> does) and scores
    /// it against the clip's sentence: CER and WER as Levenshtein edits over characters and words of the texts normalized
    /// for scoring (<see cref="ErrorRates"/>), corpus-level and per-sentence mean, with bootstrap intervals.
    /// Clips that cannot be read are skipped and listed in <see cref="EvaluationReport.Failed"/>; nothing else is lost.
    /// </summary>
    /// <param name="reader">The reader (model, front end and decoder) to evaluate.</param>
    /// <param name="items">The clips with their sentences and speakers (e.g. from <see cref="CorpusReader.Read"/>).</param>
    /// <param name="options">Report labels, resampling and a logger; null = defaults.</param>
    /// <param name="progress">Told of each transcription as it is done (from a worker thread); null = none.</param>
    /// <param name="cancellationToken">Cancels between clips (and between frames of a long video).</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="reader"/> or <paramref name="items"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="items"/> names one video twice.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static EvaluationReport Evaluate(this LipReader reader, IReadOnlyList<CorpusItem> items, EvaluationOptions? options = null,
        IProgress<Transcription>? progress = null, CancellationToken cancellationToken = default) =>
        reader.EvaluateAsync(items, options, progress, cancellationToken).GetAwaiter().GetResult();

    /// <inheritdoc cref="Evaluate"/>
    public static async Task<EvaluationReport> EvaluateAsync(this LipReader reader, IReadOnlyList<CorpusItem> items, EvaluationOptions? options = null,
        IProgress<Transcription>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(items);
        options ??= new EvaluationOptions();
        var logger = options.Logger ?? NullLogger.Instance;
        var byPath = new Dictionary<string, CorpusItem>();
        foreach (var item in items)
            if (!byPath.TryAdd(item.VideoPath, item))
                throw new ArgumentException($"the video {item.VideoPath} is listed twice", nameof(items));
        var started = Stopwatch.StartNew();
        logger.LogInformation("Evaluating {Model} on {Clips} clips of {Corpus} ({Split}), decoder {Decoder}",
            reader.Model.Source, items.Count, options.Corpus, options.Split, Describe(reader.Options));
        var batch = await reader.TranscribeManyAsync(items.Select(i => i.VideoPath).ToList(), progress, cancellationToken).ConfigureAwait(false);
        foreach (var failure in batch.Failures)
            logger.LogWarning("Skipped {Video}: {Reason}", failure.Source, failure.Reason);
        var report = Score(reader, batch, byPath, options, started.Elapsed.TotalSeconds);
        logger.LogInformation("Evaluated {Sentences} sentences: CER {Cer:P2} [{CerLow:P2}, {CerHigh:P2}], WER {Wer:P2} ({Seconds:F1} s, {Failed} skipped)",
            report.Sentences, report.Cer, report.CerInterval[0], report.CerInterval[1], report.Wer, report.Seconds, report.Failed.Count);
        return report;
    }

    /// <summary>The decoder as a report names it: "greedy" or "beam N", with the GRID grammar and mirror averaging where used.</summary>
    internal static string Describe(LipReaderOptions options) =>
        (options.BeamWidth <= 0 ? "greedy" : $"beam {options.BeamWidth}") + (options.GridGrammar ? " + GRID grammar" : "")
        + (options.MirrorAverage ? " + mirror average" : "");

    private static EvaluationReport Score(LipReader reader, TranscriptionBatch batch, Dictionary<string, CorpusItem> items,
        EvaluationOptions options, double seconds)
    {
        var results = batch.Transcriptions;
        var refs = results.Select(r => items[r.Source].Sentence).ToList();
        var hyps = results.Select(r => r.Text).ToList();
        var speakers = results.Select(r => (string?)items[r.Source].Speaker).ToList();
        var scored = ErrorRates.Report(refs, hyps, speakers, resamples: Math.Max(1, options.Resamples), seed: options.Seed);
        var perSpeaker = new SortedDictionary<string, SpeakerEvaluation>(StringComparer.Ordinal);
        foreach (var (speaker, s) in scored.PerSpeaker)
        {
            var (ci, _) = ErrorRates.Bootstrap(scored.Sentences.Where(x => x.Speaker == speaker).ToList(), 500, options.Seed);
            perSpeaker[speaker] = new SpeakerEvaluation(s.Sentences, s.Cer, s.Wer, s.CerMean, s.WerMean, s.Bleu, [ci.Lower, ci.Upper]);
        }
        var clips = scored.Sentences.Select((s, i) => new ClipEvaluation(results[i].Source, s.Speaker, s.Reference, s.Hypothesis, s.Cer, s.Wer)).ToList();
        var worst = clips.OrderByDescending(c => c.Cer).Take(10).ToList();
        var confusions = new Dictionary<(char, char), int>();
        foreach (var s in scored.Sentences)
            foreach (var step in Levenshtein.AlignCharacters(s.Reference, s.Hypothesis).Alignment.Where(a => a.Operation == EditOperation.Substitute))
            {
                var key = (s.Reference[step.ReferenceIndex], s.Hypothesis[step.HypothesisIndex]);
                confusions[key] = confusions.GetValueOrDefault(key) + 1;
            }
        var letterConfusions = confusions.OrderByDescending(c => c.Value).ThenBy(c => c.Key).Take(20)
            .Select(c => new LetterConfusion(c.Key.Item1.ToString(), c.Key.Item2.ToString(), c.Value)).ToList();
        var o = scored.Overall;
        return new EvaluationReport(options.Corpus, reader.Model.Source, options.Split, Describe(reader.Options), o.Sentences, o.Cer, o.Wer,
            o.CerMean, o.WerMean, o.Bleu, [scored.CerInterval.Lower, scored.CerInterval.Upper], [scored.WerInterval.Lower, scored.WerInterval.Upper],
            perSpeaker, worst, letterConfusions, batch.Failures, Math.Round(seconds, 2), clips);
    }
}
