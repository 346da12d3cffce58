namespace ManagedKv.Cli.Infrastructure;

/// <summary>Resident-memory readings of this process.</summary>
public static class ProcessMemory
{
    /// <summary>
    /// Peak resident set size in bytes: VmHWM from /proc/self/status on Linux (the kernel's high-water mark,
    /// which counts mapped model pages once touched), otherwise the runtime's peak working set.
    /// </summary>
    public static long PeakResidentBytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
        {
            foreach (string line in File.ReadLines(status))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && long.TryParse(parts[1], out long kib)) return kib * 1024;
            }
        }
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.PeakWorkingSet64;
    }
}
