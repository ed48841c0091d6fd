using System.CommandLine;
using LipNet.ML.Decoding;

namespace LipNet.Cli;

/// <summary><c>lipnet lm --text &lt;file&gt; --order N --unit word|char --out &lt;arpa&gt;</c>: estimate an n-gram language model.</summary>
internal static class LmCommand
{
    public static Command Create(CliIO io)
    {
        var text = new Option<FileInfo>("--text") { Description = "Training text, one sentence per line.", Required = true };
        var order = (new Option<int>("--order") { Description = "n-gram order (1-4).", DefaultValueFactory = _ => 3 }).Within(1, 4);
        var unit = new Option<string>("--unit") { Description = "word or char.", DefaultValueFactory = _ => "word" };
        unit.AcceptOnlyFromAmong("word", "char");
        var output = new Option<FileInfo>("--out") { Description = "ARPA file to write.", Required = true }.OutputPath();
        var command = new Command("lm", "Estimate an n-gram language model (ARPA) from a text file, for --lm.") { text, order, unit, output };
        command.SetAction(parse =>
        {
            var lm = NGramLanguageModel.EstimateFromFile(parse.GetValue(text)!.FullName, parse.GetValue(order),
                parse.GetValue(unit) == "char" ? LanguageModelUnit.Character : LanguageModelUnit.Word);
            string path = parse.GetValue(output)!.FullName;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using (var writer = new StreamWriter(path))
                lm.WriteArpa(writer);
            io.Out.WriteLine($"{path}: {lm.Unit.ToString().ToLowerInvariant()} {lm.Order}-gram model, {lm.Vocabulary.Count()} tokens");
            return 0;
        });
        return command;
    }
}
