using Loyalty.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;

namespace Loyalty.Functions;

/// <summary>
/// The queue-triggered functions, all on the <c>LoyaltyStorage</c> connection with host.json's queue settings
/// (retries, then <c>&lt;queue&gt;-poison</c>). Each hands the message to its handler, which is idempotent because
/// delivery is at least once.
/// </summary>
internal sealed class QueueFunctions(IServiceProvider services)
{
    private const string Connection = LoyaltyOptions.StorageConnection;

    [Function("WelcomeNewMember")]
    public Task WelcomeNewMember([QueueTrigger(QueueNames.MemberEnrolled, Connection = Connection)] string message, FunctionContext context) =>
        Run<Notifications.WelcomeNewMember>(message, context);

    [Function("SendNotification")]
    public Task SendNotification([QueueTrigger(QueueNames.Notifications, Connection = Connection)] string message, FunctionContext context) =>
        Run<Notifications.SendNotification>(message, context);

    [Function("ProcessOrderEvent")]
    public Task ProcessOrderEvent([QueueTrigger(QueueNames.OrderEvents, Connection = Connection)] string message, FunctionContext context) =>
        Run<Webhooks.ProcessOrderEvent>(message, context);

    /// <summary>POS sales events. A Storage queue while the feed has no isolated Service Bus trigger (decision 0007).</summary>
    [Function("ProcessPosSaleEvent")]
    public Task ProcessPosSaleEvent([QueueTrigger(QueueNames.PosSales, Connection = Connection)] string message, FunctionContext context) =>
        Run<Webhooks.ProcessPosSaleEvent>(message, context);

    [Function("ProjectReportFact")]
    public Task ProjectReportFact([QueueTrigger(QueueNames.ReportFacts, Connection = Connection)] string message, FunctionContext context) =>
        Run<Reports.ProjectReportFact>(message, context);

    [Function("DispatchMemberEvents")]
    public Task DispatchMemberEvents([QueueTrigger(QueueNames.MemberEvents, Connection = Connection)] string message, FunctionContext context) =>
        Run<Events.DispatchMemberEvents>(message, context);

    [Function("RetryWebhookDelivery")]
    public Task RetryWebhookDelivery([QueueTrigger(QueueNames.WebhookRetries, Connection = Connection)] string message, FunctionContext context) =>
        Run<Events.RetryWebhookDelivery>(message, context);

    private Task Run<T>(string message, FunctionContext context)
        where T : IQueueFunction =>
        services.GetRequiredService<T>().RunAsync(QueueInvocation.From(message, context), context.CancellationToken);
}
