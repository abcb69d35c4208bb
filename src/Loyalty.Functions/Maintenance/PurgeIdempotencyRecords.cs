using Loyalty.Functions.Hosting;
using Loyalty.Storage.Idempotency;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Maintenance;

/// <summary>Timer-triggered, daily: deletes enrolment idempotency records older than the retention setting.</summary>
internal sealed class PurgeIdempotencyRecords(IdempotencyStore idempotency, TimeProvider time, IOptions<LoyaltyOptions> options, ILogger<PurgeIdempotencyRecords> logger) : ITimerFunction
{
    public const string Schedule = "0 30 3 * * *";

    public async Task RunAsync(TimerInvocation invocation, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow().AddDays(-options.Value.IdempotencyRetentionDays);
        var deleted = await idempotency.PurgeAsync(cutoff, cancellationToken);
        logger.LogInformation("Purged {Count} idempotency records older than {Cutoff}", deleted, cutoff);
    }
}
