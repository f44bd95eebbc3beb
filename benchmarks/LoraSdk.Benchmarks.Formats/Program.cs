using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using LoraSdk.Core;

namespace LoraSdk.Benchmarks.Formats;

/// <summary>
/// Bench command (not a test): times, in one run, (1) parsing + validating an SDXL-sized safetensors LoRA header,
/// (2) building the LoRA file model from it, (3) <see cref="LoraFileModel.Read(string, LoraFileModelOptions?)"/> of the
/// whole file vs <see cref="File.ReadAllBytes"/> of the same file and vs a raw read of just its header bytes, and
/// prints medians and ratios. Usage: <c>dotnet run -c Release --project benchmarks/LoraSdk.Benchmarks.Formats [-- --iterations N] [--rank R]</c>
/// (default 200 iterations, rank 8).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        int iterations = 200;
        int rank = 8;
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == "--iterations") iterations = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            if (args[i] == "--rank") rank = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
        }

        string dir = Path.Combine(Path.GetTempPath(), "lorasdk-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "sdxl_lora.safetensors");
            var (headerBytes, tensorCount) = SdxlLoraFile.Write(path, rank);
            long fileLength = new FileInfo(path).Length;
            var json = new byte[headerBytes.Length - 8];
            Array.Copy(headerBytes, 8, json, 0, json.Length);
            var fileBytes = File.ReadAllBytes(path);

            // Sanity: the model must see every module, or the timings mean nothing.
            var check = LoraFileModel.Read(path);
            if (check.ModuleCount != tensorCount / 3 || check.Unmapped.Count != 0 || check.Format != LoraKeyFormats.KohyaSgm)
                throw new InvalidOperationException($"unexpected model: {check.ModuleCount} modules, {check.Unmapped.Count} unmapped, {check.Format}");

            Console.WriteLine($"file: rank {rank}, {tensorCount} tensors, {check.ModuleCount} modules, header {json.Length:N0} bytes, file {fileLength:N0} bytes; {iterations} iterations each, medians");
            Console.WriteLine($"runtime: {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, {Environment.ProcessorCount} logical CPUs");

            double parse = Measure(iterations, () => SafetensorsHeader.Parse(json, fileLength, "bench"));
            var header = SafetensorsHeader.Parse(json, fileLength, "bench");
            double build = Measure(iterations, () => LoraFileModel.FromHeader(header,
                t => ScalarDecoder.ToDouble(fileBytes, (int)(header.DataOffset + t.Begin), t.DType)));
            double readHeaderRaw = Measure(iterations, () => ReadPrefix(path, headerBytes.Length));
            double readModel = Measure(iterations, () => LoraFileModel.Read(path));
            double readAll = Measure(iterations, () => File.ReadAllBytes(path));

            Console.WriteLine();
            Row("SafetensorsHeader.Parse (header JSON in memory)", parse);
            Row("LoraFileModel.FromHeader (canonicalize + validate)", build);
            Row("raw read of the 8+N header bytes", readHeaderRaw);
            Row("LoraFileModel.Read (header + alpha scalars)", readModel);
            Row("File.ReadAllBytes (whole file)", readAll);
            Console.WriteLine();
            Console.WriteLine($"header parse throughput: {json.Length / parse / 1e6 * 1e3:F1} MB/s, {tensorCount / parse * 1e3:N0} tensors/s");
            Console.WriteLine($"ratio LoraFileModel.Read / File.ReadAllBytes      = {readModel / readAll:F4}");
            Console.WriteLine($"ratio LoraFileModel.Read / raw header-bytes read = {readModel / readHeaderRaw:F2}");
            Console.WriteLine($"ratio FromHeader / header parse                  = {build / parse:F2}");
            return 0;
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    private static byte[] ReadPrefix(string path, int count)
    {
        var buffer = new byte[count];
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.None);
        int read = 0;
        while (read < count)
        {
            int n = f.Read(buffer, read, count - read);
            if (n <= 0) throw new EndOfStreamException();
            read += n;
        }
        return buffer;
    }

    /// <summary>Median milliseconds of <paramref name="iterations"/> calls after a warm-up of a tenth as many.</summary>
    private static double Measure(int iterations, Func<object> action)
    {
        object? sink = null;
        for (int i = 0; i < Math.Max(3, iterations / 10); i++) sink = action();
        var times = new List<double>(iterations);
        var sw = new Stopwatch();
        for (int i = 0; i < iterations; i++)
        {
            sw.Restart();
            sink = action();
            sw.Stop();
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        GC.KeepAlive(sink);
        times.Sort();
        return times[times.Count / 2];
    }

    private static void Row(string name, double ms) => Console.WriteLine($"  {name,-52} {ms,10:F3} ms");
}
