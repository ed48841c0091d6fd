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
        var config = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
        if (result.Errors.Count > 0 && result.CommandResult.Command is { Action: null, Subcommands.Count: > 0 })
        {
            // "lipnet" or "lipnet keypoints" alone: the group's help lists what it can do.
            string[] path = [.. CommandPath(result.CommandResult), "--help"];
            root.Parse(path).Invoke(config);
            return 1;
        }
        if (result.Errors.Count > 0 && result.Action is not System.CommandLine.Help.HelpAction)
        {
            // Usage errors: one line each on stderr and a pointer to the help, exit 1; stdout stays empty (it may be redirected
            // to the output file a command was asked for).
            foreach (var error in result.Errors)
                stderr.WriteLine($"error: {error.Message}");
            string command = string.Join(' ', result.CommandResult.Command.Name == root.Name ? ["lipnet"] : ["lipnet", .. CommandPath(result.CommandResult)]);
            stderr.WriteLine($"('{command} --help' lists the options)");
            return 1;
        }
        try
        {
            return result.Invoke(config);
        }
        catch (LipNet.ML.LipNetException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return BadInput;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // An output that cannot be written (disk full, no permission): the runtime's message names the path.
            stderr.WriteLine($"error: {ex.Message}");
            return BadInput;
        }
    }

    private static IEnumerable<string> CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new Stack<string>();
        for (var r = result; r?.Parent is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Push(r.Command.Name);
        return names;
    }
}

/// <summary>Where a command writes: results, diagnostics, progress.</summary>
public sealed class CliIO(TextWriter stdout, TextWriter stderr)
{
    public TextWriter Out { get; } = stdout;
    public TextWriter Error { get; } = stderr;

    /// <summary>One "skipped FILE: REASON" line on stderr; a reason that already starts with the file (a typed error's message) is not repeated.</summary>
    public void Skipped(string? source, string reason)
    {
        if (source is null || reason.StartsWith(source + ":", StringComparison.Ordinal))
            Error.WriteLine($"skipped {reason}");
        else
            Error.WriteLine($"skipped {source}: {reason}");
    }

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Writes exactly one JSON document and a newline to stdout.</summary>
    public void WriteJson<T>(T value) => Out.WriteLine(JsonSerializer.Serialize(value, Json));

    /// <summary>
    /// An output file's checks before any work: its folder must exist (else a typed error naming it: exit 2, as bad input).
    /// </summary>
    public static string OutputFile(FileInfo file)
    {
        string? folder = Path.GetDirectoryName(file.FullName);
        if (folder is not null && !Directory.Exists(folder))
            throw new LipNet.ML.LipNetException($"cannot be written: the folder {folder} does not exist", file.FullName);
        return file.FullName;
    }

    /// <summary>Accepts only file names ending in one of <paramref name="extensions"/> (lower case, with the dot): a usage error.</summary>
    public static Option<FileInfo?> Extensions(Option<FileInfo?> option, params string[] extensions)
    {
        option.Validators.Add(r =>
        {
            if (r.TryValue(out FileInfo? f) && f is not null && !extensions.Contains(f.Extension.ToLowerInvariant()))
                r.AddError($"{option.Name} must end in {string.Join(", ", extensions)} (got {f.Name})");
        });
        return option;
    }

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
