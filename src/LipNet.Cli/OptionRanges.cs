using System.CommandLine;

namespace LipNet.Cli;

/// <summary>Range checks for numeric options: a value out of range is a usage error naming the option, before any work.</summary>
internal static class OptionRanges
{
    /// <summary>
    /// An option's or argument's value, or false when its text does not parse ("--beam abc"): validators run on such input too,
    /// and System.CommandLine then throws from GetValue instead of reporting; the parse error itself is reported on its own.
    /// </summary>
    private static bool Try<T>(Func<T> get, out T value)
    {
        try
        {
            value = get();
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    /// <summary>The option's value in its own validator (see <see cref="Try{T}"/>).</summary>
    public static bool TryValue<T>(this System.CommandLine.Parsing.OptionResult result, out T value) => Try(result.GetValueOrDefault<T>, out value);

    /// <summary>An option's value in a command's validator (see <see cref="Try{T}"/>).</summary>
    public static bool TryValue<T>(this System.CommandLine.Parsing.CommandResult result, Option<T> option, out T value) =>
        Try(() => result.GetValue(option)!, out value);

    /// <summary>An argument's value in a command's validator (see <see cref="Try{T}"/>).</summary>
    public static bool TryValue<T>(this System.CommandLine.Parsing.CommandResult result, Argument<T> argument, out T value) =>
        Try(() => result.GetValue(argument)!, out value);

    /// <summary>
    /// A list of files must not swallow a mistyped option: System.CommandLine hands "--beem 50" to a many-valued argument as two
    /// file names. A token starting with '-' that names no existing file or folder is a usage error instead. Added as a command
    /// validator: an argument's own validators do not run once a command validator has read its value.
    /// </summary>
    public static Command RejectingUnknownOptions(this Command command, Argument<FileInfo[]> argument)
    {
        command.Validators.Add(r =>
        {
            foreach (var token in r.GetResult(argument)?.Tokens ?? [])
            {
                string v = token.Value;
                if (v.Length > 1 && v[0] == '-' && !File.Exists(v) && !Directory.Exists(v))
                    r.AddError($"Unrecognized option '{v}' (see --help for the options of this command).");
            }
        });
        return command;
    }

    /// <summary>
    /// An output path (<c>--out</c>) that can be written: a folder option must not name a file, a file option not a folder, and no
    /// part of the path above it may be a file. Checked up front, so the error names the option and the path instead of a raw
    /// "Could not find a part of the path" or "already exists" after the work.
    /// </summary>
    public static Option<T> OutputPath<T>(this Option<T> option) where T : FileSystemInfo?
    {
        bool folder = typeof(T) == typeof(DirectoryInfo);
        option.Validators.Add(r =>
        {
            if (!r.TryValue(out T value) || value is null)
                return;
            string path = value.FullName;
            if (folder && File.Exists(path))
                r.AddError($"{option.Name} {path}: is a file, not a folder");
            else if (!folder && Directory.Exists(path))
                r.AddError($"{option.Name} {path}: is a folder, not a file");
            else
            {
                for (var parent = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(path)); !string.IsNullOrEmpty(parent);
                     parent = Path.GetDirectoryName(parent))
                {
                    if (File.Exists(parent))
                    {
                        r.AddError($"{option.Name} {path}: {parent} on its path is a file, not a folder");
                        break;
                    }
                    if (Directory.Exists(parent))
                        break;
                }
            }
        });
        return option;
    }

    /// <summary>A <c>WxH</c> size option (pixels) with both sides in <paramref name="min"/>..<paramref name="max"/>; absent passes.</summary>
    public static T SizeWithin<T>(this T option, int min, int max) where T : Option
    {
        option.Validators.Add(r =>
        {
            if (r.Tokens.Count == 0)
                return;
            string text = r.Tokens[^1].Value;
            try
            {
                var (w, h) = CropCommand.ParseSize(text); // the commands' own parsing: one reading of WxH
                if (w < min || w > max || h < min || h > max)
                    r.AddError($"{option.Name} must have both sides in {min}..{max} pixels (got {text})");
            }
            catch (LipNet.ML.TensorShapeException)
            {
                r.AddError($"{option.Name} must be WxH in pixels, e.g. 100x50 (got {text})");
            }
        });
        return option;
    }

    public static Option<int> AtLeast(this Option<int> option, int min)
    {
        option.Validators.Add(r =>
        {
            if (r.TryValue(out int v) && v < min)
                r.AddError($"{option.Name} must be at least {min} (got {v})");
        });
        return option;
    }

    public static Option<int> Within(this Option<int> option, int min, int max)
    {
        option.Validators.Add(r =>
        {
            if (r.TryValue(out int v) && (v < min || v > max))
                r.AddError($"{option.Name} must be in {min}..{max} (got {v})");
        });
        return option;
    }

    /// <summary>
    /// Checks a <c>--split</c> value's form up front (a usage error): one of <paramref name="words"/>, <c>list:FILE</c>, or, when
    /// <paramref name="counted"/>, <c>overlapped:N</c> / <c>unseen:N</c> with N a whole number of at least 0.
    /// </summary>
    public static Option<string> SplitSyntax(this Option<string> option, bool counted, params string[] words)
    {
        option.Validators.Add(r =>
        {
            if (!r.TryValue(out string? v) || v is null || words.Contains(v) || (v.StartsWith("list:", StringComparison.Ordinal) && v.Length > 5))
                return;
            var parts = v.Split(':');
            if (counted && parts.Length == 2 && parts[0] is "overlapped" or "unseen" && int.TryParse(parts[1], out int n) && n >= 0)
                return;
            r.AddError($"--split must be {string.Join(", ", [.. words, .. counted ? new[] { "overlapped:N", "unseen:N" } : [], "list:FILE"])} (got '{v}')");
        });
        return option;
    }

    /// <summary><c>--device</c>: cpu (default) or cuda:N, checked as a usage error before any model is loaded.</summary>
    public static Option<string> DeviceOption()
    {
        var option = new Option<string>("--device") { Description = "cpu or cuda:N (CUDA needs the Microsoft.ML.OnnxRuntime.Gpu native package).", DefaultValueFactory = _ => "cpu" };
        option.Validators.Add(r =>
        {
            if (r.TryValue(out string? v) && v is not null && v != "cpu" && !System.Text.RegularExpressions.Regex.IsMatch(v, @"^cuda(:\d+)?$"))
                r.AddError($"--device must be cpu or cuda:N (got '{v}')");
        });
        return option;
    }

    /// <summary>Beam widths: 0 (greedy) to 1,000 — wider beams change nothing on GRID-length outputs and take minutes.</summary>
    public static Option<int> BeamWidth(this Option<int> option) => option.Within(0, 1000);

    public static Option<float> Within(this Option<float> option, float min, float max, bool maxExclusive = false)
    {
        option.Validators.Add(r =>
        {
            if (r.TryValue(out float v) && (!float.IsFinite(v) || v < min || v > max || (maxExclusive && v == max)))
                r.AddError($"{option.Name} must be in {min}..{max}{(maxExclusive ? " (exclusive)" : "")} (got {v})");
        });
        return option;
    }

    public static Option<double> Positive(this Option<double> option)
    {
        option.Validators.Add(r =>
        {
            if (r.TryValue(out double v) && (!(v > 0) || !double.IsFinite(v)))
                r.AddError($"{option.Name} must be a positive number (got {v})");
        });
        return option;
    }
}
