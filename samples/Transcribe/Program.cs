// Transcribes videos with the default model embedded in LipNet.ML and prints text, truth and CER.
//
//   dotnet run -c Release --project samples/Transcribe -- [video ...]   (default: the bundled synthetic clip)
return LipNet.Samples.TranscribeSample.Run(args, Console.Out);
