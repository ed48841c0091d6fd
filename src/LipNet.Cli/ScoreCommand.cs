using System.CommandLine;
using LipNet.ML.Metrics;

namespace LipNet.Cli;

/// <summary><c>lipnet score --ref &lt;file&gt; --hyp &lt;file&gt; [--json]</c>: CER, WER and BLEU of line-aligned files.</summary>
internal static class ScoreCommand
{
    public static Command Create(CliIO io)
    {
        var reference = new Option<FileInfo>("--ref") { Description = "Reference sentences, one per line.", Required = true };
        var hypothesis = new Option<FileInfo>("--hyp") { Description = "Hypotheses, one per line, in the same order.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print one JSON object: sentences, cer, wer, cer_mean, wer_mean, bleu." };
        var command = new Command("score", "Character and word error rates (corpus-level and per-sentence mean) and BLEU.") { reference, hypothesis, json };
        command.SetAction(parse =>
        {
            var refs = ReadLines(parse.GetValue(reference)!.FullName);
            var hyps = ReadLines(parse.GetValue(hypothesis)!.FullName);
            if (refs.Count != hyps.Count)
                throw new LipNet.ML.CorpusFormatException($"{refs.Count} reference lines but {hyps.Count} hypothesis lines in {parse.GetValue(hypothesis)!.FullName}", parse.GetValue(reference)!.FullName);
            var report = ErrorRates.Report(refs, hyps, resamples: 0);
            var s = report.Overall;
            if (parse.GetValue(json))
            {
                io.WriteJson(new { sentences = s.Sentences, cer = s.Cer, wer = s.Wer, cer_mean = s.CerMean, wer_mean = s.WerMean, bleu = s.Bleu });
            }
            else
            {
                io.Out.WriteLine($"{s.Sentences} sentences");
                io.Out.WriteLine($"CER {s.Cer:P2} (corpus: total edits / total reference characters), mean per sentence {s.CerMean:P2}");
                io.Out.WriteLine($"WER {s.Wer:P2} (corpus), mean per sentence {s.WerMean:P2}");
                io.Out.WriteLine($"BLEU {s.Bleu:0.0000} (mean character BLEU-4, as rizkiarm/LipNet), corpus word BLEU-4 {s.WordBleu:0.0000}");
            }
            return 0;
        });
        return command;
    }

    /// <summary>Lines of a UTF-8 file; a final empty line (trailing newline) is not a sentence.</summary>
    private static List<string> ReadLines(string path)
    {
        if (!File.Exists(path))
            throw new LipNet.ML.CorpusFormatException("file not found", path);
        var lines = File.ReadAllText(path).Replace("\r\n", "\n").Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
