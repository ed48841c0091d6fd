using System.CommandLine;

namespace LipNet.Cli;

/// <summary>Range checks for numeric options: a value out of range is a usage error naming the option, before any work.</summary>
internal static class OptionRanges
{
    public static Option<int> AtLeast(this Option<int> option, int min)
    {
        option.Validators.Add(r =>
        {
            int v = r.GetValueOrDefault<int>();
            if (v < min)
                r.AddError($"{option.Name} must be at least {min} (got {v})");
        });
        return option;
    }

    public static Option<float> Within(this Option<float> option, float min, float max, bool maxExclusive = false)
    {
        option.Validators.Add(r =>
        {
            float v = r.GetValueOrDefault<float>();
            if (!float.IsFinite(v) || v < min || v > max || (maxExclusive && v == max))
                r.AddError($"{option.Name} must be in {min}..{max}{(maxExclusive ? " (exclusive)" : "")} (got {v})");
        });
        return option;
    }

    public static Option<double> Positive(this Option<double> option)
    {
        option.Validators.Add(r =>
        {
            double v = r.GetValueOrDefault<double>();
            if (!(v > 0) || !double.IsFinite(v))
                r.AddError($"{option.Name} must be a positive number (got {v})");
        });
        return option;
    }
}
