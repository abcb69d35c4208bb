using Loyalty.Domain.Auth;
using Loyalty.Domain.Org;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Org;
using Loyalty.Storage.Principals;
using Loyalty.Storage.Schema;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Admin;

/// <summary>
/// Start-up: creates the tables and queues, checks the stored data's row layout (<see cref="StorageLayout"/>), writes a minimal org tree (just HQ) when none exists, and registers the
/// admin key from LOYALTY_ADMIN_KEY as an HQ administrator. Every step is idempotent, so many instances may run it.
/// It runs in the background so that the worker is ready for the host at once;
/// <see cref="BootstrapGate"/> holds other requests until it has finished.
/// </summary>
internal sealed class Bootstrap(
    BootstrapGate gate,
    TableStore store,
    OrgStore org,
    PrincipalStore principals,
    IOptions<LoyaltyOptions> options,
    ILogger<Bootstrap> logger) : BackgroundService
{
    public const string DefaultHqId = "hq";
    public const string AdminPrincipalId = "admin";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunAsync(stoppingToken);
            gate.Open();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.LogCritical(ex, "Start-up failed: storage could not be prepared");
            gate.Fail(ex);
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        await store.EnsureCreatedAsync(store.Names.AllQueues, cancellationToken);
        await new StorageLayout(store).EnsureAsync(cancellationToken);

        if (await org.GetAsync(cancellationToken) is null)
        {
            var tree = OrgTree.Create([new OrgNode(DefaultHqId, OrgNodeKind.Hq, "HQ", null)]);
            await org.ReplaceAsync(tree.Value!, 0, cancellationToken);
        }

        var adminKey = options.Value.AdminApiKey;
        if (!string.IsNullOrEmpty(adminKey))
        {
            var hq = (await org.GetRequiredAsync(cancellationToken)).Hq.Id;
            var created = await principals.CreateAsync(new Principal(AdminPrincipalId, Role.HqAdmin, hq, "admin (LOYALTY_ADMIN_KEY)"), adminKey, "bootstrap", cancellationToken: cancellationToken);
            if (created)
            {
                logger.LogInformation("Registered the admin key as an HQ administrator");
            }

            // LOYALTY_ADMIN_KEY is the one admin key: keys it held before (an earlier run's) stop working.
            var retired = await principals.RevokeAsync(AdminPrincipalId, "bootstrap", Storage.Schema.Hashing.Sha256Hex(adminKey), cancellationToken);
            if (retired > 0)
            {
                logger.LogInformation("Revoked {Count} earlier admin keys", retired);
            }
        }
    }
}
