using Azure.Storage.Queues;
using Azure.Data.Tables;
using Loyalty.Functions.Admin;
using Loyalty.Functions.Http;
using Loyalty.Functions.Members;
using Loyalty.Functions.Notifications;
using Loyalty.Storage.Audit;
using Loyalty.Storage.Azure;
using Loyalty.Storage.Idempotency;
using Loyalty.Storage.Members;
using Loyalty.Storage.Notifications;
using Loyalty.Storage.Org;
using Loyalty.Storage.Principals;
using Loyalty.Storage.Queues;
using Loyalty.Storage.Schema;
using Loyalty.Storage.Tables;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Hosting;

/// <summary>The app's services, in the order Program.cs reads them.</summary>
internal static class ServiceRegistration
{
    /// <summary>Settings: options with start-up validation, and the hosting mode from the environment.</summary>
    public static IServiceCollection AddLoyaltyOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<LoyaltyOptions>()
            .Bind(configuration.GetSection(LoyaltyOptions.Section))
            .PostConfigure(o =>
            {
                if (!string.IsNullOrEmpty(configuration["WEBSITE_SITE_NAME"]) && configuration[$"{LoyaltyOptions.Section}:HostingMode"] is null)
                {
                    o.HostingMode = HostingMode.Azure;
                }

                if (string.IsNullOrEmpty(o.AdminApiKey))
                {
                    o.AdminApiKey = configuration["LOYALTY_ADMIN_KEY"];
                }
            })
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LoyaltyOptions>, LoyaltyOptionsValidator>();
        return services;
    }

    /// <summary>Loyalty:StorageRetries: how often the SDK retries a failed storage request (0-10, default 3).</summary>
    private static int StorageRetries(IConfiguration configuration) =>
        configuration[$"{LoyaltyOptions.Section}:StorageRetries"] is not { Length: > 0 } text ? StorageClients.DefaultMaxRetries
        : int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 0 and <= 10 ? n
        : throw new StorageSettingsException("Loyalty__StorageRetries must be a whole number from 0 to 10.");

    /// <summary>The Azure SDK storage clients and the stores over them, all singletons.</summary>
    public static IServiceCollection AddLoyaltyStorage(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(TimeProvider.System);
        services.AddStorageClients(
            StorageSettings.FromSettings(name => configuration[name.Replace("__", ":", StringComparison.Ordinal)], LoyaltyOptions.StorageConnection),
            StorageRetries(configuration));

        // The SDK's request events (Information) carry each request's path, and index rows are keyed by card number
        // and coupon code: only its warnings and errors (status and request id, no path) reach the log.
        services.AddLogging(logging => logging.AddFilter("Azure", LogLevel.Warning));
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LoyaltyOptions>>().Value;
            var tables = sp.GetRequiredService<TableServiceClient>();
            var queues = sp.GetRequiredService<QueueServiceClient>();
            return new TableStore(new StorageNames(o.TablePrefix, o.QueuePrefix), tables, queues);
        });
        services.AddSingleton<OrgStore>();
        services.AddSingleton<PrincipalStore>();
        services.AddSingleton<MemberStore>();
        services.AddSingleton<IdempotencyStore>();
        services.AddSingleton<AuditLog>();
        services.AddSingleton<NotificationStore>();
        services.AddSingleton<NotificationOutbox>();
        services.AddSingleton<Storage.Coupons.CouponStore>();
        services.AddSingleton<Coupons.CouponIssuer>();
        services.AddSingleton<Programme.TierUpgrades>();
        services.AddSingleton<Batches.BatchStore>();
        services.AddSingleton<Batches.BatchApply>();
        services.AddSingleton<Tags.MemberTagging>();
        services.AddSingleton<Tags.TagsApi>();
        services.AddSingleton<Tags.TagRecompute>();
        services.AddScoped<Tags.RecomputeTags>();
        services.AddSingleton<Programme.TierEvaluation>();
        services.AddSingleton<Programme.SetTier>();
        services.AddSingleton<Programme.ScopeRatesApi>();
        services.AddSingleton<Programme.BuyMembership>();
        services.AddSingleton<Members.MemberViews>();
        services.AddScoped<Programme.EvaluateTiers>();
        services.AddSingleton<Coupons.CouponsApi>();
        services.AddSingleton<Coupons.CouponSchedule>();
        services.AddScoped<Coupons.ExpireCoupons>();
        services.AddSingleton<Storage.Config.ConfigStore>();
        services.AddSingleton(sp => new Storage.Ledger.MemberTransactions(sp.GetRequiredService<TableStore>(), sp.GetRequiredService<TimeProvider>())
        {
            Zone = sp.GetRequiredService<IOptions<LoyaltyOptions>>().Value.ChainTimeZone,
        });
        services.AddSingleton<Storage.Ledger.LedgerQuery>();
        services.AddSingleton<Storage.Ledger.SaleIndex>();
        services.AddSingleton<Storage.Ledger.Reconciler>();
        services.AddSingleton<Storage.Reports.ReportProjector>();
        services.AddSingleton<Storage.Webhooks.ShopSecretStore>();
        services.AddSingleton<Storage.Webhooks.WebhookEndpointStore>();
        services.AddSingleton<Storage.Webhooks.WebhookDeliveryStore>();
        return services;
    }

    /// <summary>
    /// Integration events: the dispatcher, its transport (<c>Loyalty__EventTransport</c>), webhook delivery with the
    /// SSRF guard on every connection, and the API over endpoints and deliveries.
    /// </summary>
    public static IServiceCollection AddLoyaltyEvents(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LoyaltyOptions>>().Value;
            return new Events.WebhookUrlGuard(requireHttps: o.HostingMode == HostingMode.Azure, allowLoopback: o.WebhookAllowLoopback);
        });
        services.AddHttpClient(Events.WebhookDeliverer.ClientName, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                ConnectCallback = sp.GetRequiredService<Events.WebhookUrlGuard>().ConnectAsync,
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });
        services.AddSingleton<Events.IEventTransport>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<LoyaltyOptions>>().Value;
            var store = sp.GetRequiredService<TableStore>();
            return o.EventTransport switch
            {
                EventTransportKind.ServiceBus => new Events.ServiceBusEventTransport(
                    Events.ServiceBusConnection.CreateClient(sp.GetRequiredService<IConfiguration>()).CreateSender(o.EventTopic)),
                EventTransportKind.None => new Events.NoEventTransport(),
                _ => new Events.QueueEventTransport(store.Queue(store.Names.IntegrationEventsQueue)),
            };
        });
        services.AddSingleton<Events.WebhookDeliverer>();
        services.AddSingleton<Events.EventDispatcher>();
        services.AddSingleton<Events.SystemEvents>();
        services.AddScoped<Events.SweepOutbox>();
        services.AddScoped<Events.PurgeWebhookDeliveries>();
        services.AddSingleton<Events.WebhookEndpointsApi>();
        services.AddScoped<Events.DispatchMemberEvents>();
        services.AddScoped<Events.RetryWebhookDelivery>();
        return services;
    }

    /// <summary>The handlers the functions call, and start-up.</summary>
    public static IServiceCollection AddLoyaltyFunctions(this IServiceCollection services)
    {
        services.AddSingleton<EnrolMember>();
        services.AddSingleton<Programme.ProgrammeConfig>();
        services.AddSingleton<StoredValue.TopUp>();
        services.AddSingleton<Sales.SaleService>();
        services.AddSingleton<Sales.RefundService>();
        services.AddSingleton<Sales.RecordSale>();
        services.AddSingleton<Sales.QuoteSale>();
        services.AddSingleton<Sales.RefundSale>();
        services.AddSingleton<Ledger.Redeem>();
        services.AddSingleton<Ledger.Adjust>();
        services.AddSingleton<Ledger.CheckIn>();
        services.AddSingleton<Ledger.PointsExpiry>();
        services.AddScoped<Ledger.ExpirePoints>();
        services.AddSingleton<Cards.IssueCard>();
        services.AddSingleton<Cards.CardOperations>();
        services.AddScoped<WelcomeNewMember>();
        services.AddSingleton<Webhooks.OrderEventProcessor>();
        services.AddSingleton<StoredValue.RefundStoredValue>();
        services.AddSingleton<Storage.Approvals.ApprovalStore>();
        services.AddSingleton<Storage.Approvals.AuthorityUsageStore>();
        services.AddSingleton<Approvals.ApprovalRequests>();
        services.AddSingleton<Approvals.ApprovalsApi>();
        services.AddSingleton<Approvals.IApprovedAction, Approvals.ApproveAdjustment>();
        services.AddSingleton<Approvals.IApprovedAction, StoredValue.ApproveStoredValueRefund>();
        services.AddSingleton<Approvals.IApprovedAction, Cards.ApproveUnfreeze>();
        services.AddSingleton<Approvals.IApprovedAction, Approvals.ApproveCampaignBudget>();
        services.AddScoped<Campaigns.StartBirthdayGifts>();
        services.AddSingleton<Durable.DurableClients>();
        services.AddSingleton<Webhooks.ShopWebhook>();
        services.AddScoped<Webhooks.ProcessOrderEvent>();
        services.AddScoped<Webhooks.ProcessPosSaleEvent>();
        services.AddScoped<SendNotification>();
        services.AddScoped<Reports.ProjectReportFact>();
        services.AddSingleton<Storage.Reports.ReportStore>();
        services.AddSingleton<Reports.HealthSnapshot>();
        services.AddScoped<Reports.TakeHealthSnapshot>();
        services.AddScoped<Reports.PurgeReportMarkers>();
        services.AddScoped<Maintenance.PurgeIdempotencyRecords>();
        services.AddSingleton<INotificationSender, RecordingNotificationSender>();
        services.AddLoyaltyEvents();
        services.AddSingleton<BootstrapGate>();
        services.AddHostedService<Bootstrap>();
        services.ConfigureHttpJsonOptions(o => JsonDefaults.Configure(o.SerializerOptions));
        services.AddProblemDetails();
        return services;
    }
}
