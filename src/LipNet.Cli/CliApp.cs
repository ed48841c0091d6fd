using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace LipNet.Cli;

/// <summary>
/// The <c>lipnet</c> command tree. stdout carries results (exactly one JSON document with --json);
/// progress and errors go to stderr so piped JSON stays clean.
/// </summary>
public static class CliApp
{
    /// <summary>Exit code for bad input (a typed library error): the message names the file and the reason.</summary>
    public const int BadInput = 2;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        var root = new RootCommand("LipNet.ML: lipreading (visual speech recognition) tools.");
        var io = new CliIO(stdout, stderr);
        root.Subcommands.Add(CropCommand.Create(io));
        root.Subcommands.Add(CropCommand.Landmarks(io));
        root.Subcommands.Add(StatsCommand.Create(io));
        root.Subcommands.Add(SynthCommand.Create(io));
        root.Subcommands.Add(ScoreCommand.Create(io));
        root.Subcommands.Add(LmCommand.Create(io));
        root.Subcommands.Add(ModelCommands.Import(io));
        root.Subcommands.Add(ModelCommands.Transcribe(io));
        root.Subcommands.Add(ModelCommands.Bench(io));
        root.Subcommands.Add(LiveCommand.Create(io));
        root.Subcommands.Add(EvaluateCommand.Create(io));
        root.Subcommands.Add(TrainCommands.Train(io));
        root.Subcommands.Add(TrainCommands.ExportCommand(io));
        root.Subcommands.Add(TrainCommands.BenchTrain(io));
        root.Subcommands.Add(KeypointsCommand.Create(io));
        root.Subcommands.Add(SpeakCommand.Create(io));
        var result = root.Parse(args);
        try
        {
            return result.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (LipNet.ML.LipNetException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return BadInput;
        }
    }
}

/// <summary>Where a command writes: results, diagnostics, progress.</summary>
public sealed class CliIO(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;
    public TextWriter Error { get; } = stderr;

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes exactly one JSON document and a newline to stdout.</summary>
    public void WriteJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>Writes one JSON value to a file (snake_case, as stdout's).</summary>
    public static void WriteJsonTo<T>(string path, T value) => File.WriteAllText(path, JsonSerializer.Serialize(value, Json));

    /// <summary>A progress bar on stderr (Spectre.Console); plain when stderr is not a terminal.</summary>
    public void WithProgress(string label, int total, Action<Action> work) => WithProgress(label, total, (Action<string?> tick) => work(() => tick(null)));

    /// <summary>A progress bar whose label each tick may replace (e.g. with the current loss).</summary>
    public void WithProgress(string label, int total, Action<Action<string?>> work)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Error) });
        if (!console.Profile.Capabilities.Interactive)
        {
            work(_ => { });
            return;
        }
        console.Progress().AutoClear(true).Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(label, maxValue: Math.Max(1, total));
                work(text =>
                {
                    if (text is not null)
                        task.Description = Markup.Escape(text);
                    task.Increment(1);
                });
            });
    }
}
