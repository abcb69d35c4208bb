using System.Collections.Concurrent;

namespace Loyalty.Testing;

/// <summary>The faults a <see cref="FaultInjectionPolicy"/> can inject into a write.</summary>
public enum Fault
{
    /// <summary>No fault.</summary>
    None,
    /// <summary>The service answers 503 before anything is written.</summary>
    UnavailableBeforeCommit,
    /// <summary>The service answers 412 before anything is written (as if another writer won).</summary>
    ConflictBeforeCommit,
    /// <summary>The write commits, then the response is lost and the caller sees a 503.</summary>
    UnavailableAfterCommit,
    /// <summary>The write commits, then the caller's network timeout fires.</summary>
    TimeoutAfterCommit,
}

/// <summary>Decides which fault each write gets; thread-safe, deterministic per seed.</summary>
public sealed class FaultPlan
{
    private readonly Lock _gate = new();
    private Random _random = new(0);
    private Fault? _forced;
    private string? _forcedWhen;

    /// <summary>Whether faults are injected at all.</summary>
    public bool Enabled { get; set; }

    /// <summary>Chance that a write gets a fault.</summary>
    public double Rate { get; set; } = 0.25;

    /// <summary>Faults injected so far, by kind.</summary>
    public ConcurrentDictionary<Fault, int> Injected { get; } = new();

    /// <summary>
    /// Gives the next write exactly this fault, whatever the plan says; with <paramref name="when"/>, the next write whose
    /// request contains that text (so background writes of the app, such as an outbox row's delete, pass untouched).
    /// </summary>
    public void ForceNext(Fault fault, string? when = null)
    {
        lock (_gate)
        {
            _forced = fault;
            _forcedWhen = when;
        }
    }

    /// <summary>Reseeds the plan.</summary>
    public void Reseed(int seed)
    {
        lock (_gate)
        {
            _random = new Random(seed);
        }
    }

    /// <summary>The fault for the next write.</summary>
    public Fault Next(string? request = null)
    {
        Fault fault;
        lock (_gate)
        {
            if (_forced is { } forced && (_forcedWhen is null || request?.Contains(_forcedWhen, StringComparison.Ordinal) == true))
            {
                _forced = null;
                _forcedWhen = null;
                Injected.AddOrUpdate(forced, 1, (_, n) => n + 1);
                return forced;
            }

            if (!Enabled)
            {
                return Fault.None;
            }

            fault = _random.NextDouble() >= Rate ? Fault.None : (Fault)_random.Next(1, 5);
        }

        Injected.AddOrUpdate(fault, 1, (_, n) => n + 1);
        return fault;
    }
}
