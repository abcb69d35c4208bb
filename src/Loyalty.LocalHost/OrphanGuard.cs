using System.Diagnostics;
using System.Globalization;

namespace Loyalty.LocalHost;

/// <summary>
/// Stops a child process when this process dies without stopping it (a kill -9, a crashed test host): a small shell
/// loop, started beside the child, waits for this process to disappear and then kills the child. A worker left behind
/// would keep its queues and ports; the Functions host has the same rule.
/// </summary>
internal static class OrphanGuard
{
    private const string Script = "while kill -0 \"$1\" 2>/dev/null; do sleep 1; done; kill -9 \"$2\" 2>/dev/null";

    /// <summary>Starts the guard for <paramref name="child"/>; null where there is no POSIX shell.</summary>
    public static Process? Watch(Process child)
    {
        ArgumentNullException.ThrowIfNull(child);
        if (OperatingSystem.IsWindows() || !File.Exists("/bin/sh"))
        {
            return null;
        }

        var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", Script, "orphan-guard", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), child.Id.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        return Process.Start(start);
    }

    /// <summary>Ends a guard whose child was stopped in an orderly way.</summary>
    public static void Release(Process? guard)
    {
        if (guard is null)
        {
            return;
        }

        try
        {
            if (!guard.HasExited)
            {
                guard.Kill();
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        guard.Dispose();
    }
}
