using Loyalty.Storage.Queues;
using Azure.Storage.Queues;
using Azure.Data.Tables;
using Loyalty.Durable.Model;
using Loyalty.Durable.Storage;
using Loyalty.Functions.Durable;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Tests.Support;
using Loyalty.Testing;
using Xunit;

namespace Loyalty.Functions.Tests.Durable;

public sealed class DurableControlTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task LostCheckpointRace_RequeuesTheMessage_InsteadOfFailingTowardPoison()
    {
        var prefix = "c" + Guid.NewGuid().ToString("N")[..8];
        var table = azurite.Tables.GetTableClient(prefix + "Instances");
        await table.CreateIfNotExistsAsync();
        var control = Enumerable.Range(0, 4).Select(i => azurite.Queues.GetQueueClient($"{prefix}-control-{i:D2}")).ToList();
        var work = azurite.Queues.GetQueueClient($"{prefix}-work");
        await Task.WhenAll(control.Select(q => q.CreateIfNotExistsAsync()).Append(work.CreateIfNotExistsAsync()));
        var losing = new LosesFirstCheckpoint(new TableInstanceTable(table));
        var registry = new OrchestrationRegistry().AddOrchestrator("WaitThenGreet", () => new WaitThenGreet());
        var runtime = new StorageOrchestrationService(losing, [.. control.Select(q => new QueueChannel(q))], new QueueChannel(work), registry, TimeProvider.System);
        var id = await runtime.StartAsync("WaitThenGreet", "x");
        var queue = control[runtime.PartitionOf(id)];
        var start = (await queue.ReceiveAsync(1, TimeSpan.FromMinutes(1))).Single();
        await queue.DeleteMessageIfExistsAsync(start.MessageId, start.PopReceipt);

        losing.Armed = true;
        await new DurableControl(runtime).RunAsync(new QueueInvocation(start.Body.ToString(), start.MessageId, 1, null), CancellationToken.None);
        // It comes back after a random delay of up to a second.
        IReadOnlyList<Azure.Storage.Queues.Models.QueueMessage> back = [];
        await Api.EventuallyAsync(async () => (back = await queue.ReceiveAsync(32, TimeSpan.FromMinutes(1))).Count > 0, "the requeued start");
        var requeued = Assert.Single(back);
        await new DurableControl(runtime).RunAsync(new QueueInvocation(requeued.Body.ToString(), requeued.MessageId, 1, null), CancellationToken.None);

        Assert.Equal(start.Body.ToString(), requeued.Body.ToString());
        Assert.Equal(RuntimeStatus.Running, (await runtime.GetAsync(id))!.Status);
    }

    private sealed class LosesFirstCheckpoint(IInstanceTable inner) : IInstanceTable
    {
        public bool Armed { get; set; }

        public Task<DurableRow?> GetAsync(string instanceId, string rowKey, CancellationToken cancellationToken) => inner.GetAsync(instanceId, rowKey, cancellationToken);

        public Task<IReadOnlyList<DurableRow>> QueryAsync(string instanceId, string rowKeyPrefix, CancellationToken cancellationToken) => inner.QueryAsync(instanceId, rowKeyPrefix, cancellationToken);

        public Task<IReadOnlyList<(string InstanceId, DurableRow Row)>> QueryAllAsync(string rowKey, CancellationToken cancellationToken) => inner.QueryAllAsync(rowKey, cancellationToken);

        public Task<bool> TransactAsync(string instanceId, IReadOnlyList<DurableRow> upserts, IReadOnlyList<string> deletes, DurableRow? header, CancellationToken cancellationToken)
        {
            if (Armed && header is not null)
            {
                Armed = false;
                return Task.FromResult(false);
            }

            return inner.TransactAsync(instanceId, upserts, deletes, header, cancellationToken);
        }

        public Task DeletePartitionAsync(string instanceId, CancellationToken cancellationToken) => inner.DeletePartitionAsync(instanceId, cancellationToken);
    }

    /// <summary>An orchestration for this test: waits for "go", then asks an activity to greet.</summary>
    private sealed class WaitThenGreet : TaskOrchestrator<string, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
        {
            context.SetCustomStatus(new { phase = "waiting" });
            var (received, who) = await context.WaitForExternalEvent<string>("go", TimeSpan.FromHours(1), input);
            return await context.CallActivityAsync<string>("Greet", received ? who : input);
        }
    }
}
