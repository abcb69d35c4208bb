using Loyalty.Functions.Batches;
using Loyalty.Functions.Hosting;
using Loyalty.Storage.Schema;
using Loyalty.Testing;
using Microsoft.Extensions.Options;
using Xunit;

namespace Loyalty.Functions.Tests.Batches;

/// <summary>
/// <see cref="MeasureBatchBacklog"/> on Azurite's real queues (queues of their own, which no trigger drains): a batch's
/// next wave waits while report facts and member events together hold more messages than the limit.
/// </summary>
public sealed class BatchBacklogTests(AzuriteFixture azurite) : IClassFixture<AzuriteFixture>
{
    [Fact]
    public async Task TheWaveWaits_OnlyWhileBothQueuesTogetherHoldMoreThanTheLimit()
    {
        var names = new StorageNames(queuePrefix: "bb" + Guid.NewGuid().ToString("N")[..8] + "-");
        var store = new TableStore(names, azurite.Tables, azurite.Queues);
        var facts = store.Queue(names.ReportFactsQueue);
        var events = store.Queue(names.MemberEventsQueue);
        await facts.CreateIfNotExistsAsync();
        await events.CreateIfNotExistsAsync();
        var measure = new MeasureBatchBacklog(store, Options.Create(new LoyaltyOptions { BatchBacklogLimit = 100 }));

        await Task.WhenAll(Enumerable.Range(0, 60).Select(i => facts.SendMessageAsync("{}")));
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => events.SendMessageAsync("{}")));
        Assert.False(await measure.RunAsync("b1"), "100 messages are not more than a limit of 100");

        await events.SendMessageAsync("{}");
        Assert.True(await measure.RunAsync("b1"), "101 messages over the two queues are more than 100");

        // 0 switches the pause off whatever is waiting.
        var never = new MeasureBatchBacklog(store, Options.Create(new LoyaltyOptions { BatchBacklogLimit = 0 }));
        Assert.False(await never.RunAsync("b1"));

        await facts.DeleteAsync();
        await events.DeleteAsync();
    }
}
