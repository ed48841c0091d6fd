using System.Runtime.InteropServices;

namespace LipNet.Cli;

internal static partial class Program
{
    private static int Main(string[] args)
    {
        if (Environment.GetEnvironmentVariable("LIPNET_NATIVE_LOGS") != "1")
            QuietNativeLogs();
        return CliApp.Run(args, Console.Out, Console.Error);
    }

    /// <summary>
    /// OpenCV's and FFmpeg's own log lines would precede the CLI's one-line errors (e.g. "can't open camera by index",
    /// "moov atom not found"): the CLI reports every failure itself, so they are silenced (LIPNET_NATIVE_LOGS=1 keeps them).
    /// FFmpeg's level is read from the process environment when OpenCV first opens a capture, so it is set natively.
    /// </summary>
    private static void QuietNativeLogs()
    {
        try
        {
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS())
            {
                SetEnv("OPENCV_FFMPEG_LOGLEVEL", "-8", 0); // AV_LOG_QUIET, unless the user set one
                SetEnv("OPENCV_LOG_LEVEL", "SILENT", 0);
            }
            OpenCvSharp.Cv2.SetLogLevel(OpenCvSharp.LogLevel.SILENT);
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            // No OpenCV native library: the command that needs it reports that itself.
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
