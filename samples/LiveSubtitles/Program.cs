// Reads a live stream with LipReader.TranscribeAsync and prints segments as they become final, then their subtitles.
//
//   dotnet run -c Release --project samples/LiveSubtitles -- [video-or-url | --camera N] [--realtime] [out.srt]
//   (default: a 30 s synthetic monologue written first, delivered at its frame rate like a camera)
return await LipNet.Samples.LiveSubtitlesSample.RunAsync(args, Console.Out);
