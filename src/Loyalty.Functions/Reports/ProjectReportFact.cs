using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Config;
using Loyalty.Storage.Reports;
using Loyalty.Storage.Schema;

namespace Loyalty.Functions.Reports;

/// <summary>
/// Queue-triggered (report-facts): counts a committed member operation into its store's day. The message is sent
/// before the operation commits, so it can arrive first: a fact row not there yet is looked for again with a growing
/// delay, and given up once <see cref="PendingCommit.Grace"/> has passed (its transaction failed or was retried under another fact).
/// Counting is exactly once per fact (see <see cref="ReportProjector"/>), so redeliveries and replays change nothing.
/// A message that names the transaction's outbox row (<see cref="ReportFactMessage.Events"/>) then has the member's
/// events dispatched: the sale path tells the dispatcher without a message of its own.
/// </summary>
internal sealed class ProjectReportFact(ReportProjector projector, Events.EventDispatcher dispatcher, TableStore store, TimeProvider time, ILogger<ProjectReportFact> logger) : IQueueFunction
{
    public async Task RunAsync(QueueInvocation invocation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var message = JsonSerializer.Deserialize<ReportFactMessage>(invocation.Body, ConfigJson.Options);
        if (message is null || string.IsNullOrEmpty(message.MemberId) || string.IsNullOrEmpty(message.RowKey) || !message.RowKey.StartsWith(ReportFactRows.Prefix, StringComparison.Ordinal))
        {
            throw new InvalidDataException("A report-facts message names a member and a fact row.");
        }

        var result = await projector.ProjectAsync(message.MemberId, message.RowKey, cancellationToken);
        if (result == ProjectionResult.Expired)
        {
            logger.LogWarning("Report fact {RowKey} of {MemberId} is older than {Horizon} days; not counted", message.RowKey, message.MemberId, ReportProjector.FactHorizon.TotalDays);
        }

        if (result != ProjectionResult.Missing)
        {
            // The fact row is there, so its transaction committed, and with it the outbox row it names.
            if (message.Events is not null)
            {
                await dispatcher.DispatchMemberAsync(message.MemberId, message.Events, cancellationToken);
            }

            return;
        }

        if (!await PendingCommit.LookAgainLaterAsync(store.Queue(store.Names.ReportFactsQueue), message with { Tries = message.Tries + 1 }, message.Tries, message.FirstSent, time, cancellationToken))
        {
            logger.LogInformation("Report fact {RowKey} of {MemberId} never committed; dropped", message.RowKey, message.MemberId);
        }
    }
}
