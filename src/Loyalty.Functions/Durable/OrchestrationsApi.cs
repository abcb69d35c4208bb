using System.Text.Json;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Idempotency;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Durable;

/// <summary>
/// The management API over the Durable Task client, shaped like Durable Functions' (ops and HQ admins): start (202
/// with the status, event, terminate and purge URIs), status (202 while pending or running, 200 when finished),
/// events, terminate (410 when finished), purge, and list by name and status.
/// </summary>
internal static class OrchestrationsApi
{
    /// <summary>The orchestrations this app defines: the API starts the first three; approvals start from their requests.</summary>
    public static IReadOnlySet<string> Known { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        Campaigns.GiftPackCampaign.Name, Campaigns.BirthdayGifts.Name, Campaigns.Reactivation.Name, Approvals.ApprovalWorkflow.Name,
    };

    private static readonly TimeSpan EventLease = TimeSpan.FromMinutes(1);

    public static async Task<IResult> StartAsync(HttpContext http, string name, DurableTaskClient client, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        if (!Known.Contains(name))
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

        if (CheckInput(name, input) is { } badInput)
        {
            return badInput;
        }

        // The orchestrator reads its input with the worker's serializer: hand it the typed, checked input.
        object? start;
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
        else
        {
            start = name == Campaigns.BirthdayGifts.Name
                ? input!.Value.Deserialize<Campaigns.BirthdayInput>(JsonDefaults.Options)
                : input!.Value.Deserialize<Campaigns.GiftPackCampaignInput>(JsonDefaults.Options);
        }

        var id = string.IsNullOrEmpty(requested) ? Guid.NewGuid().ToString("N") : requested;

        // Starting an id that is pending or running starts nothing: the answer points at the instance there is.
        await client.StartUnlessRunningAsync(name, start, id, http.RequestAborted);
        var links = Links(http, id);
        http.Response.Headers.Location = links.StatusQueryGetUri;
        return TypedResults.Accepted(links.StatusQueryGetUri, links);
    }

    public static async Task<IResult> GetAsync(HttpContext http, string instanceId, DurableTaskClient client)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(client);
        var state = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, http.RequestAborted);
        if (state is null)
        {
            return NotFound(instanceId);
        }

        var view = View(state);
        return IsActive(state)
            ? TypedResults.Accepted(Links(http, instanceId).StatusQueryGetUri, view)
            : TypedResults.Ok(view);
    }

    public static async Task<IResult> ListAsync(HttpContext http, DurableTaskClient client)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(client);
        string? status = null;
        if (http.Request.Query["status"].ToString() is { Length: > 0 } text)
        {
            status = Statuses.FirstOrDefault(s => string.Equals(s, text, StringComparison.OrdinalIgnoreCase));
            if (status is null)
            {
                return Problems.Create(StatusCodes.Status400BadRequest, "status_invalid", "status is pending, running, completed, failed or terminated.", "status");
            }
        }

        var name = http.Request.Query["name"].ToString();
        var items = new List<object>();
        await foreach (var state in client.GetAllInstancesAsync(new OrchestrationQuery { FetchInputsAndOutputs = true }).WithCancellation(http.RequestAborted))
        {
            if ((string.IsNullOrEmpty(name) || state.Name == name) && (status is null || StatusOf(state) == status))
            {
                items.Add(View(state));
            }
        }

        return TypedResults.Ok(new { items });
    }

    /// <summary>
    /// Raises an event. The engine delivers every event it is given, so an Idempotency-Key makes a retried POST deliver
    /// its event once: the key is claimed (per caller) before the event is raised and completed after.
    /// </summary>
    public static async Task<IResult> RaiseEventAsync(HttpContext http, string instanceId, string eventName, DurableTaskClient client, IdempotencyStore idempotency, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(idempotency);
        ArgumentNullException.ThrowIfNull(options);
        var state = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, http.RequestAborted);
        if (state is null)
        {
            return NotFound(instanceId);
        }

        if (!IsActive(state))
        {
            return Gone(instanceId, StatusOf(state));
        }

        var (raw, problem) = await ReadRawAsync(http, options.Value.MaxRequestBodyBytes);
        if (problem is not null)
        {
            return problem;
        }

        var (payload, invalid) = Parse(raw);
        if (invalid is not null)
        {
            return invalid;
        }

        var key = http.Request.Headers["Idempotency-Key"].ToString();
        IdempotencyRecord? record = null;
        if (!string.IsNullOrEmpty(key))
        {
            var claim = await idempotency.ClaimAsync(http.Caller().Id, key, IdempotencyKey.RequestHash(http.Request, raw ?? []), "{}", EventLease, http.RequestAborted);
            switch (claim.Outcome)
            {
                case ClaimOutcome.Replay:
                    return TypedResults.Accepted((string?)null);
                case ClaimOutcome.Mismatch:
                    return IdempotencyKey.Mismatch();
                case ClaimOutcome.InFlight:
                    return IdempotencyKey.InFlight();
                default:
                    record = claim.Record;
                    break;
            }
        }

        await client.RaiseAsync(instanceId, eventName, payload, http.RequestAborted);
        if (record is not null)
        {
            await idempotency.CompleteAsync(record, StatusCodes.Status202Accepted, string.Empty, http.RequestAborted);
        }

        return TypedResults.Accepted((string?)null);
    }

    public static async Task<IResult> TerminateAsync(HttpContext http, string instanceId, DurableTaskClient client)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(client);
        var state = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, http.RequestAborted);
        if (state is null)
        {
            return NotFound(instanceId);
        }

        if (!IsActive(state))
        {
            return Gone(instanceId, StatusOf(state));
        }

        var reason = http.Request.Query["reason"].ToString();
        await client.TerminateInstanceAsync(instanceId, string.IsNullOrEmpty(reason) ? $"terminated by {http.Caller().Id}" : reason, http.RequestAborted);
        return TypedResults.Accepted((string?)null);
    }

    public static async Task<IResult> PurgeAsync(HttpContext http, string instanceId, DurableTaskClient client)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(client);
        var purged = await client.PurgeInstanceAsync(instanceId, cancellation: http.RequestAborted);
        return purged.PurgedInstanceCount > 0
            ? TypedResults.Ok(new { instancesDeleted = purged.PurgedInstanceCount })
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
            : (campaign with { RequestedBy = caller.Id, RequesterRole = caller.Role, Progress = null }, null);
    }

    // The statuses the API shows, as Durable Functions names them (pending, running, completed, failed, terminated).
    private static readonly string[] Statuses = ["Pending", "Running", "Completed", "Failed", "Terminated"];

    private static bool IsActive(OrchestrationMetadata state) => StatusOf(state) is "Pending" or "Running";

    private static string StatusOf(OrchestrationMetadata state) => state.RuntimeStatus switch
    {
        OrchestrationRuntimeStatus.Pending => "Pending",
        OrchestrationRuntimeStatus.Completed => "Completed",
        OrchestrationRuntimeStatus.Failed => "Failed",
        OrchestrationRuntimeStatus.Terminated => "Terminated",
        _ => "Running", // Running, suspended, or between two executions of a ContinueAsNew.
    };

    private static async Task<(byte[]? Raw, IResult? Problem)> ReadRawAsync(HttpContext http, int maxBytes)
    {
        if (http.Request.ContentLength is 0 || (http.Request.ContentLength is null && http.Request.ContentType is null))
        {
            return (null, null);
        }

        return await JsonBody.ReadRawAsync(http.Request, maxBytes, http.RequestAborted);
    }

    private static (JsonElement? Value, IResult? Problem) Parse(byte[]? raw)
    {
        if (raw is null || raw.Length == 0)
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

    private static async Task<(JsonElement? Input, IResult? Problem)> ReadOptionalJsonAsync(HttpContext http, int maxBytes)
    {
        var (raw, problem) = await ReadRawAsync(http, maxBytes);
        return problem is not null ? (null, problem) : Parse(raw);
    }

    private static object View(OrchestrationMetadata s) => new
    {
        instanceId = s.InstanceId,
        name = s.Name,
        runtimeStatus = StatusOf(s),
        input = ParseJson(s.SerializedInput),
        output = s.RuntimeStatus == OrchestrationRuntimeStatus.Failed && s.FailureDetails is { } failure
            ? JsonSerializer.SerializeToElement($"{failure.ErrorType}: {failure.ErrorMessage}")
            : ParseJson(s.SerializedOutput),
        customStatus = ParseJson(s.SerializedCustomStatus),
        createdTime = s.CreatedAt,
        lastUpdatedTime = s.LastUpdatedAt,
    };

    private static JsonElement? ParseJson(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            // The engine keeps some outputs as plain text (a failure's message): shown as a string.
            return JsonSerializer.SerializeToElement(json);
        }
    }

    internal static ManagementLinks Links(HttpContext http, string id)
    {
        var root = $"{http.Request.Scheme}://{http.Request.Host}/api/orchestrations/{Uri.EscapeDataString(id)}";
        return new ManagementLinks(id, root, root + "/events/{eventName}", root + "/terminate?reason={text}", root);
    }

    private static IResult NotFound(string id) => Problems.Create(StatusCodes.Status404NotFound, "instance_not_found", $"No orchestration instance '{id}'.");

    private static IResult Gone(string id, string status) => Problems.Create(StatusCodes.Status410Gone, "instance_finished", $"Instance '{id}' has already finished ({status}).");
}

/// <summary>The Durable-shaped answer of a start.</summary>
internal sealed record ManagementLinks(string Id, string StatusQueryGetUri, string SendEventPostUri, string TerminatePostUri, string PurgeHistoryDeleteUri);
