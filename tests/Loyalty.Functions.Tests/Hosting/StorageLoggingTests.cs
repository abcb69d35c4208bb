using System.Collections.Concurrent;
using Loyalty.Functions.Tests.Support;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Loyalty.Functions.Tests.Hosting;

/// <summary>
/// The Azure SDK logs every request with its path at Information, and index rows are keyed by card number: the app
/// must keep those events out of its log.
/// </summary>
public sealed class StorageLoggingTests(StorageLoggingTests.LoggedApp app) : IClassFixture<StorageLoggingTests.LoggedApp>
{
    [Fact]
    public async Task CardLookup_NoSdkRequestEventOrCardNumberReachesTheLog()
    {
        var (memberId, card) = await app.EnrolAsync();
        using var admin = app.Client(LoyaltyApp.AdminKey);

        var found = await admin.GetJsonAsync($"/api/members?cardNumber={card}");

        Assert.Equal(memberId, found.GetProperty("memberId").GetString());
        Assert.NotEmpty(app.Lines);
        Assert.DoesNotContain(app.Lines, l => l.Category.StartsWith("Azure", StringComparison.Ordinal) && l.Level < LogLevel.Warning);
        Assert.DoesNotContain(app.Lines, l => l.Text.Contains(card, StringComparison.Ordinal));
    }

    /// <summary>The test app with every log line of the worker (and of the host) kept in memory.</summary>
    public sealed class LoggedApp : LoyaltyApp
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Text)> Lines => LogLines;
    }
}
