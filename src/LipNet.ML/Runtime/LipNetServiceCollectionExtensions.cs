using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace LipNet.ML.Runtime;

/// <summary>Registration of LipNet.ML in a dependency-injection container (Microsoft.Extensions.DependencyInjection).</summary>
public static class LipNetServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="LipReader"/> as a singleton (it is thread-safe; each stream gets its own
    /// <see cref="LipReadingSession"/> from it), over the embedded default model or <paramref name="modelPath"/>. The
    /// container disposes it. The model loads on first use, so a missing native library or model file fails there, typed.
    /// </summary>
    /// <param name="services">The container's service collection.</param>
    /// <param name="configure">Adjusts the default <see cref="LipReaderOptions"/> (e.g. <c>o =&gt; o with { BeamWidth = 50, GridGrammar = true }</c>).</param>
    /// <param name="modelPath">An ONNX model with a model card; null = the embedded default model.</param>
    /// <returns><paramref name="services"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="services"/> is null.</exception>
    public static IServiceCollection AddLipNet(this IServiceCollection services, Func<LipReaderOptions, LipReaderOptions>? configure = null, string? modelPath = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = configure?.Invoke(new LipReaderOptions()) ?? new LipReaderOptions();
        services.TryAddSingleton(options);
        services.TryAddSingleton(provider =>
        {
            var o = provider.GetRequiredService<LipReaderOptions>();
            return modelPath is null ? LipReader.Default(o) : new LipReader(modelPath, o);
        });
        return services;
    }
}
