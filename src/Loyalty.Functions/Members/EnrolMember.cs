using Azure.Data.Tables;
using System.Text.Json;
using Loyalty.Domain.Auth;
using Loyalty.Domain.Members;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Idempotency;
using Loyalty.Storage.Members;
using Loyalty.Storage.Org;
using Loyalty.Storage.Schema;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Members;

/// <summary>Body of <c>POST /api/members</c>.</summary>
internal sealed record EnrolRequest(
    string? Phone,
    string? Name,
    string? Birthday,
    string? Gender,
    string? StoreId,
    string? Channel,
    string? CardType,
    bool? MarketingConsent);

/// <summary>What an enrolment chose before its first write, kept in its idempotency record so a retry reuses it.</summary>
internal sealed record EnrolState(string MemberId, string CardNumber, DateTimeOffset EnrolledAt);

/// <summary>Message on the member-enrolled queue.</summary>
internal sealed record MemberEnrolled(string MemberId);

/// <summary>
/// Enrolment (<c>POST /api/members</c>). Order of writes, each safe to repeat: idempotency claim (with the chosen
/// member id and card number), phone index claim, card index claim, member partition, member-enrolled message,
/// idempotency completion. A crash anywhere is finished by the client's retry with the same key.
/// </summary>
internal sealed class EnrolMember(
    IdempotencyStore idempotency,
    MemberStore members,
    OrgStore org,
    TableStore store,
    Programme.ProgrammeConfig programme,
    MemberViews views,
    TimeProvider time,
    IOptions<LoyaltyOptions> options,
    ILogger<EnrolMember> logger)
{
    private static readonly string[] ServerOwned = ["memberId", "balance", "balances", "points", "storedValue", "tier", "status", "cards", "enrolledAt"];
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    public async Task<IResult> HandleAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var ct = http.RequestAborted;
        var (key, keyProblem) = IdempotencyKey.Read(http.Request);
        if (keyProblem is not null)
        {
            return keyProblem;
        }

        var (body, bodyProblem) = await JsonBody.ReadAsync<EnrolRequest>(http.Request, options.Value.MaxRequestBodyBytes, ServerOwned, ct);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }

        var request = body!.Value;
        var tree = await org.GetRequiredAsync(ct);
        var today = options.Value.LocalDay(time.GetUtcNow());
        var enrolment = Enrolment.Create(
            request.Phone, request.Name, request.Birthday, request.Gender, request.StoreId, request.Channel, request.CardType, request.MarketingConsent, tree, today);
        if (!enrolment.IsSuccess)
        {
            return Problems.From(enrolment.Error);
        }

        var caller = http.Caller();
        if (!caller.InScope(tree, enrolment.Value.StoreId))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "forbidden_scope", $"Store '{enrolment.Value.StoreId}' is outside the caller's scope.");
        }

        var initial = new EnrolState(MemberId.New(), CardNumber.Generate(options.Value.CardPrefix).Value, time.GetUtcNow());
        var claim = await idempotency.ClaimAsync(
            caller.Id, key!, IdempotencyKey.RequestHash(http.Request, body.Raw), JsonSerializer.Serialize(initial, JsonDefaults.Options), Lease, ct);
        switch (claim.Outcome)
        {
            case ClaimOutcome.Replay:
                return Stored(claim.Record!);
            case ClaimOutcome.Mismatch:
                return IdempotencyKey.Mismatch();
            case ClaimOutcome.InFlight:
                return IdempotencyKey.InFlight();
            default:
                break;
        }

        var record = claim.Record!;
        var state = JsonSerializer.Deserialize<EnrolState>(record.State, JsonDefaults.Options)!;
        return await EnrolAsync(http, caller, enrolment.Value, record, state, ct);
    }

    private async Task<IResult> EnrolAsync(HttpContext http, Principal caller, Enrolment enrolment, IdempotencyRecord record, EnrolState state, CancellationToken ct)
    {
        var phoneHash = Hashing.KeyedHex(options.Value.PhoneHashKey, enrolment.Phone.Value);
        var phoneOwner = await members.ClaimIndexAsync(MemberStore.PhoneIndexKey(phoneHash), state.MemberId, ct);
        if (phoneOwner != state.MemberId)
        {
            var problem = Problems.Details(StatusCodes.Status409Conflict, "duplicate_phone", "A member with this phone number already exists.", "phone");
            await idempotency.CompleteAsync(record, problem.Status!.Value, JsonSerializer.Serialize(problem, JsonDefaults.Options), ct);
            return TypedResults.Problem(problem);
        }

        for (var attempt = 0; ; attempt++)
        {
            var cardOwner = await members.ClaimIndexAsync(MemberStore.CardIndexKey(state.CardNumber), state.MemberId, ct);
            if (cardOwner == state.MemberId)
            {
                break;
            }

            if (attempt >= 5)
            {
                throw new InvalidOperationException("Could not find a free card number in 6 attempts.");
            }

            // A random card number collided with an existing card: pick another and remember it before using it.
            state = state with { CardNumber = CardNumber.Generate(options.Value.CardPrefix).Value };
            record = await idempotency.SaveStateAsync(record, JsonSerializer.Serialize(state, JsonDefaults.Options), ct);
        }

        var profile = new MemberProfile(
            state.MemberId,
            enrolment.Phone.Value,
            enrolment.Name,
            enrolment.Birthday,
            enrolment.Gender,
            enrolment.StoreId,
            enrolment.Channel,
            enrolment.MarketingConsent,
            state.EnrolledAt);
        var card = new MemberCard(state.CardNumber, enrolment.CardType, CardStatus.Active, state.EnrolledAt);
        var account = await InitialAccountAsync(ct);
        // The birthday and anniversary work lists (before the member exists: a listed id without a member is skipped).
        var enrolledOn = options.Value.LocalDay(state.EnrolledAt);
        var lists = new List<Task>
        {
            store.Schedules.UpsertEntityAsync(new TableEntity(Campaigns.BirthdayCalendar.AnniversaryPartition(enrolledOn), profile.MemberId) { ["Year"] = enrolledOn.Year }, TableUpdateMode.Replace, cancellationToken: ct),
        };
        if (profile.Birthday is { } birthday)
        {
            lists.Add(store.Schedules.UpsertEntityAsync(new TableEntity(Campaigns.BirthdayCalendar.Partition(birthday), profile.MemberId), TableUpdateMode.Replace, cancellationToken: ct));
        }

        await Task.WhenAll(lists);

        await members.CreateAsync(profile, card, account, ct);
        await store.Queue(store.Names.MemberEnrolledQueue).SendMessageAsync(
            JsonSerializer.Serialize(new MemberEnrolled(state.MemberId), JsonDefaults.Options), cancellationToken: ct);

        var view = await views.BuildAsync(new MemberSnapshot(profile, account, [card]), caller.Role, ct);
        var json = JsonSerializer.Serialize(view, JsonDefaults.Options);
        await idempotency.CompleteAsync(record, StatusCodes.Status201Created, json, ct);
        logger.LogInformation("Enrolled {MemberId} at {StoreId} via {Channel}", state.MemberId, enrolment.StoreId, enrolment.Channel);
        http.Response.Headers.Location = $"/api/members/{state.MemberId}";
        return Results.Text(json, "application/json", statusCode: StatusCodes.Status201Created);
    }

    /// <summary>A new member's account under the tier policy: the entry tier now or at the first purchase, and any starting progress.</summary>
    private async Task<MemberAccount> InitialAccountAsync(CancellationToken ct)
    {
        var rules = await programme.GetRulesAsync(ct);
        var policy = rules.Policy;
        var today = options.Value.LocalDay(time.GetUtcNow());
        return MemberAccount.Empty with
        {
            Tier = policy.EntryOn == Domain.Programme.TierEntry.Enrolment ? rules.Tiers[0].Code : string.Empty,
            TierProgress = policy.StartingProgress > 0 ? Domain.Programme.TierProgress.Parse(null).Add(today, policy.StartingProgress).ToJson() : null,
        };
    }

    private static StoredResponse Stored(IdempotencyRecord record)
    {
        var status = record.Status!.Value;
        var body = record.Body ?? string.Empty;
        return new StoredResponse(status, body);
    }

    /// <summary>Replays a stored response byte for byte, with the Location of a created member.</summary>
    private sealed class StoredResponse(int status, string body) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = status >= 400 ? "application/problem+json" : "application/json";
            httpContext.Response.Headers["Idempotent-Replayed"] = "true";
            if (status == StatusCodes.Status201Created)
            {
                using var doc = JsonDocument.Parse(body);
                httpContext.Response.Headers.Location = $"/api/members/{doc.RootElement.GetProperty("memberId").GetString()}";
            }

            return httpContext.Response.WriteAsync(body);
        }
    }
}
