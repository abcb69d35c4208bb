using System.Text.Json;
using Loyalty.Durable.Model;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Durable;

/// <summary>
/// The management API, shaped like Durable Functions' (ops and HQ admins): start (202 with the status, event,
/// terminate and purge URIs), status (202 while pending or running, 200 when finished), events, terminate (410 when
/// finished), purge, and list by name and status.
/// </summary>
internal static class OrchestrationsApi
{
    public static async Task<IResult> StartAsync(HttpContext http, string name, IOrchestrationClient client, OrchestrationRegistry registry, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        if (!registry.HasOrchestrator(name))
        {
            return Problems.Create(StatusCodes.Status404NotFound, "orchestration_unknown", $"No orchestration '{name}'.");
        }

        var (input, problem) = await ReadOptionalJsonAsync(http, options.Value.MaxRequestBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var requested = http.Request.Query["instanceId"].ToString();
        if (requested.Length > 100 || requested.Any(c => c is '/' or '\\' or '#' or '?' || char.IsControl(c)))
        {
            return Problems.Create(StatusCodes.Status400BadRequest, "instance_id_invalid", "instanceId is up to 100 characters without / \\ # ?.", "instanceId");
        }

        object? start = input;
        if (CheckInput(name, input) is { } badInput)
        {
            return badInput;
        }

        if (name == Campaigns.Reactivation.Name)
        {
            // Checked here so a bad campaign is a 400, and stamped with its requester (who asks for the budget's approval).
            var (campaign, invalid) = ReadCampaign(input, http.Caller());
            if (invalid is not null)
            {
                return invalid;
            }

            start = campaign;
            requested = string.IsNullOrEmpty(requested) ? Campaigns.Reactivation.InstanceId(campaign!.CampaignId) : requested;
        }

        var id = await client.StartAsync(name, start, string.IsNullOrEmpty(requested) ? null : requested, http.RequestAborted);
        var links = Links(http, id);
        http.Response.Headers.Location = links.StatusQueryGetUri;
        return TypedResults.Accepted(links.StatusQueryGetUri, links);
    }

    public static async Task<IResult> GetAsync(HttpContext http, string instanceId, IOrchestrationClient client)
    {
        ArgumentNullException.ThrowIfNull(http);
        var state = await client.GetAsync(instanceId, http.RequestAborted);
        if (state is null)
        {
            return NotFound(instanceId);
        }

        var view = View(state);
        return state.Status is RuntimeStatus.Pending or RuntimeStatus.Running
            ? TypedResults.Accepted(Links(http, instanceId).StatusQueryGetUri, view)
            : TypedResults.Ok(view);
    }

    public static async Task<IResult> ListAsync(HttpContext http, IOrchestrationClient client)
    {
        ArgumentNullException.ThrowIfNull(http);
        RuntimeStatus? status = null;
        if (http.Request.Query["status"].ToString() is { Length: > 0 } text)
        {
            if (!Enum.TryParse<RuntimeStatus>(text, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || char.IsAsciiDigit(text[0]))
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "status_invalid", "status is pending, running, completed, failed or terminated.", "status");
            }

            status = parsed;
        }

        var name = http.Request.Query["name"].ToString();
        var items = await client.ListAsync(string.IsNullOrEmpty(name) ? null : name, status, http.RequestAborted);
        return TypedResults.Ok(new { items = items.Select(View) });
    }

    public static async Task<IResult> RaiseEventAsync(HttpContext http, string instanceId, string eventName, IOrchestrationClient client, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        var state = await client.GetAsync(instanceId, http.RequestAborted);
        if (state is null)
        {
            return NotFound(instanceId);
        }

        if (state.Status is not (RuntimeStatus.Pending or RuntimeStatus.Running))
        {
            return Gone(instanceId, state.Status);
        }

        var (payload, problem) = await ReadOptionalJsonAsync(http, options.Value.MaxRequestBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var eventId = http.Request.Headers["Idempotency-Key"].ToString();
        await client.RaiseEventAsync(instanceId, eventName, payload, string.IsNullOrEmpty(eventId) ? null : eventId, http.RequestAborted);
        return TypedResults.Accepted((string?)null);
    }

    public static async Task<IResult> TerminateAsync(HttpContext http, string instanceId, IOrchestrationClient client)
    {
        ArgumentNullException.ThrowIfNull(http);
        var state = await client.GetAsync(instanceId, http.RequestAborted);
        if (state is null)
        {
            return NotFound(instanceId);
        }

        var reason = http.Request.Query["reason"].ToString();
        return await client.TerminateAsync(instanceId, string.IsNullOrEmpty(reason) ? $"terminated by {http.Caller().Id}" : reason, http.RequestAborted)
            ? TypedResults.Accepted((string?)null)
            : Gone(instanceId, state.Status);
    }

    public static async Task<IResult> PurgeAsync(HttpContext http, string instanceId, IOrchestrationClient client)
    {
        ArgumentNullException.ThrowIfNull(http);
        return await client.PurgeAsync(instanceId, http.RequestAborted)
            ? TypedResults.Ok(new { instancesDeleted = 1 })
            : NotFound(instanceId);
    }

    /// <summary>
    /// The input of an orchestration started through the API, checked before it starts (a bad one is a 400 now, not an
    /// instance that fails later). Reactivation campaigns are read and checked by <see cref="ReadCampaign"/>.
    /// </summary>
    internal static IResult? CheckInput(string name, JsonElement? input)
    {
        static IResult Invalid(string detail, string field) => Problems.Create(StatusCodes.Status400BadRequest, "input_invalid", detail, field);
        try
        {
            switch (name)
            {
                case Campaigns.BirthdayGifts.Name:
                    var birthday = input?.Deserialize<Campaigns.BirthdayInput>(JsonDefaults.Options);
                    return DateOnly.TryParseExact(birthday?.Date, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out _)
                        ? null
                        : Invalid("Send {\"date\":\"yyyy-MM-dd\"}: the day whose birthdays are celebrated.", "date");
                case Campaigns.GiftPackCampaign.Name:
                    var campaign = input?.Deserialize<Campaigns.GiftPackCampaignInput>(JsonDefaults.Options);
                    return campaign is null || string.IsNullOrWhiteSpace(campaign.CampaignId) || campaign.CampaignId.Length > 64 || string.IsNullOrWhiteSpace(campaign.GiftPackId)
                        || campaign.MemberIds is null || campaign.MemberIds.Count > Campaigns.GiftPackCampaign.MaxMembers || campaign.BatchSize is < 1 or > 100
                        ? Invalid($"Send campaignId (up to 64 characters), giftPackId, memberIds (up to {Campaigns.GiftPackCampaign.MaxMembers}) and optionally batchSize (1-100).", "campaignId")
                        : null;
                case Approvals.ApprovalWorkflow.Name:
                    // Approvals start from the request that needs one (a refund, an adjustment, a campaign budget).
                    return Problems.Create(StatusCodes.Status400BadRequest, "orchestration_not_startable", "Approvals are started by the requests that need them, not through this API.");
                default:
                    return null;
            }
        }
        catch (JsonException ex)
        {
            return Invalid("The input does not have the expected shape: " + ex.Message, "input");
        }
    }

    private static (Campaigns.ReactivationInput? Input, IResult? Problem) ReadCampaign(JsonElement? body, Domain.Auth.Principal caller)
    {
        Campaigns.ReactivationInput? campaign = null;
        try
        {
            campaign = body?.Deserialize<Campaigns.ReactivationInput>(JsonDefaults.Options);
        }
        catch (JsonException ex)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, "campaign_invalid", "The campaign does not have the expected shape: " + ex.Message));
        }

        if (campaign is null)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, "campaign_invalid", "Send the campaign's parameters."));
        }

        return campaign.Check() is { } error
            ? (null, Problems.From(error))
            : (campaign with { RequestedBy = caller.Id, RequesterRole = caller.Role }, null);
    }

    private static async Task<(JsonElement? Input, IResult? Problem)> ReadOptionalJsonAsync(HttpContext http, int maxBytes)
    {
        if (http.Request.ContentLength is 0 || (http.Request.ContentLength is null && http.Request.ContentType is null))
        {
            return (null, null);
        }

        var (raw, problem) = await JsonBody.ReadRawAsync(http.Request, maxBytes, http.RequestAborted);
        if (problem is not null)
        {
            return (null, problem);
        }

        if (raw!.Length == 0)
        {
            return (null, null);
        }

        try
        {
            using var doc = JsonDocument.Parse(raw);
            return (doc.RootElement.Clone(), null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.Create(StatusCodes.Status400BadRequest, "malformed_json", $"The body is not valid JSON: {ex.Message}"));
        }
    }

    private static object View(OrchestrationState s) => new
    {
        instanceId = s.InstanceId,
        name = s.Name,
        runtimeStatus = s.Status.ToString(),
        input = Parse(s.Input),
        output = Parse(s.Output),
        customStatus = Parse(s.CustomStatus),
        createdTime = s.CreatedAt,
        lastUpdatedTime = s.LastUpdatedAt,
    };

    private static JsonElement? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    private static ManagementLinks Links(HttpContext http, string id)
    {
        var root = $"{http.Request.Scheme}://{http.Request.Host}/api/orchestrations/{Uri.EscapeDataString(id)}";
        return new ManagementLinks(id, root, root + "/events/{eventName}", root + "/terminate?reason={text}", root);
    }

    private static IResult NotFound(string id) => Problems.Create(StatusCodes.Status404NotFound, "instance_not_found", $"No orchestration instance '{id}'.");

    private static IResult Gone(string id, RuntimeStatus status) => Problems.Create(StatusCodes.Status410Gone, "instance_finished", $"Instance '{id}' has already finished ({status}).");
}

/// <summary>The Durable-shaped answer of a start.</summary>
internal sealed record ManagementLinks(string Id, string StatusQueryGetUri, string SendEventPostUri, string TerminatePostUri, string PurgeHistoryDeleteUri);
