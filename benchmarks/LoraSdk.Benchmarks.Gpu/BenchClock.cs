using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using TorchSharp;
using static TorchSharp.torch;

/// <summary>How every bench command times a step: wall-clock ms, the device synchronized before and after each call.</summary>
internal static class BenchClock
{
    /// <summary>Waits for <paramref name="device"/>'s queued work (nothing to wait for on the CPU).</summary>
    public static void Sync(Device device)
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize(device);
    }

    /// <summary>The ms of <paramref name="iterations"/> calls of <paramref name="step"/>, one by one.</summary>
    public static List<double> Time(Action step, int iterations, Device device)
    {
        var times = new List<double>(iterations);
        for (int i = 0; i < iterations; i++)
        {
            Sync(device);
            var sw = Stopwatch.StartNew();
            step();
            Sync(device);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        return times;
    }

    /// <summary>The median (the mean of the middle two for an even count).</summary>
    public static double Median(List<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        int n = sorted.Count;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Bytes in MiB.</summary>
    public static double Mib(long bytes) => bytes / (1024.0 * 1024.0);
}
