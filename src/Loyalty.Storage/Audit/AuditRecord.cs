namespace Loyalty.Storage.Audit;

/// <summary>Who changed what, where, when, and how it looked before and after.</summary>
/// <param name="Actor">Principal id of the caller.</param>
/// <param name="Action">What was done, e.g. <c>org.replace</c>.</param>
/// <param name="ScopeId">Org node the action concerned.</param>
/// <param name="Target">What was changed (an id).</param>
/// <param name="Before">State before, as JSON (truncated), or null.</param>
/// <param name="After">State after, as JSON (truncated), or null.</param>
/// <param name="At">When.</param>
public sealed record AuditRecord(string Actor, string Action, string ScopeId, string Target, string? Before, string? After, DateTimeOffset At);
