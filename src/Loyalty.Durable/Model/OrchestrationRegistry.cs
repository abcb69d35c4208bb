namespace Loyalty.Durable.Model;

/// <summary>Orchestrators and activities by name.</summary>
public sealed class OrchestrationRegistry
{
    private readonly Dictionary<string, Func<IOrchestrator>> _orchestrators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Func<IActivity>> _activities = new(StringComparer.Ordinal);

    /// <summary>Registers an orchestrator under a name (a later registration replaces an earlier one).</summary>
    public OrchestrationRegistry AddOrchestrator(string name, Func<IOrchestrator> factory)
    {
        _orchestrators[name] = factory;
        return this;
    }

    /// <summary>Registers an activity under a name.</summary>
    public OrchestrationRegistry AddActivity(string name, Func<IActivity> factory)
    {
        _activities[name] = factory;
        return this;
    }

    /// <summary>Creates the orchestrator of a name.</summary>
    public IOrchestrator Orchestrator(string name) =>
        _orchestrators.TryGetValue(name, out var f) ? f() : throw new InvalidOperationException($"No orchestrator '{name}' is registered.");

    /// <summary>Creates the activity of a name, or null.</summary>
    public IActivity? Activity(string name) => _activities.TryGetValue(name, out var f) ? f() : null;

    /// <summary>True when an orchestrator of the name is registered.</summary>
    public bool HasOrchestrator(string name) => _orchestrators.ContainsKey(name);
}
