using System.Globalization;
using System.Text.Json;
using Loyalty.Domain.Auth;
using Loyalty.Functions.Hosting;
using Loyalty.Functions.Http;
using Loyalty.Storage.Audit;
using Loyalty.Storage.Config;
using Loyalty.Storage.Org;
using Microsoft.Extensions.Options;

namespace Loyalty.Functions.Programme;

/// <summary>
/// <c>GET|PUT /api/config/{section}</c> for the programme sections (earning-rules, tiers, member-days, top-up-bonuses,
/// stored-value, rewards, adjustment-authority, coupon-templates, gift-packs). GET answers <c>{section, version, value}</c>; PUT takes the value
/// as <c>{value}</c> (HQ admins and ops), optionally with <c>If-Match</c>, and is audited.
/// </summary>
internal static class ConfigApi
{
    public static async Task<IResult> GetAsync(HttpContext http, string section, ConfigStore store)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (!ProgrammeConfig.Sections.TryGetValue(section, out var definition))
        {
            return UnknownSection(section);
        }

        var (value, version) = await definition.GetAsync(store, section, http.RequestAborted);
        http.Response.Headers.ETag = Quote(version);
        return TypedResults.Ok(new { section, version, value });
    }

    public static async Task<IResult> PutAsync(
        HttpContext http, string section, ConfigStore store, ProgrammeConfig programme, OrgStore org, AuditLog audit, TimeProvider time, IOptions<LoyaltyOptions> options)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(options);
        if (!ProgrammeConfig.Sections.TryGetValue(section, out var definition))
        {
            return UnknownSection(section);
        }

        var caller = http.Caller();
        if (!ConfigRoles.Writers.Contains(caller.Role))
        {
            return Problems.Create(StatusCodes.Status403Forbidden, "forbidden_role", $"A {caller.Role} may not change configuration.");
        }

        var (body, problem) = await JsonBody.ReadElementAsync(http.Request, options.Value.MaxRequestBodyBytes, http.RequestAborted);
        if (problem is not null)
        {
            return problem;
        }

        var element = body!.Value.Element;
        foreach (var property in element.EnumerateObject().Where(p => p.Name != "value"))
        {
            var extra = property.Name;
            return Problems.From(Loyalty.Domain.Common.DomainError.Invalid(extra is "version" or "section" ? "read_only_field" : "unknown_field", extra, "Send the section as {\"value\": ...}."));
        }

        if (!element.TryGetProperty("value", out var sent))
        {
            return Problems.From(Loyalty.Domain.Common.DomainError.Invalid("config_invalid", "value", "Send the section as {\"value\": ...}."));
        }

        var context = await programme.GetContextAsync(await org.GetRequiredAsync(http.RequestAborted), http.RequestAborted);
        var (value, error) = definition.Parse(sent, context);
        if (error is not null)
        {
            return Problems.From(error);
        }

        var (before, version) = await definition.GetAsync(store, section, http.RequestAborted);
        var ifMatch = http.Request.Headers.IfMatch.ToString();
        if (!string.IsNullOrEmpty(ifMatch) && ifMatch != "*" && ifMatch != Quote(version))
        {
            return Problems.Create(StatusCodes.Status412PreconditionFailed, "config_version_conflict", $"'{section}' changed since {ifMatch}; read it again.");
        }

        var next = await definition.PutAsync(store, section, value!, version, caller.Id, http.RequestAborted);
        if (next is null)
        {
            return Problems.Create(StatusCodes.Status409Conflict, "config_version_conflict", $"Another change to '{section}' landed first; read it again.");
        }

        await audit.WriteAsync(
            new AuditRecord(caller.Id, "config." + section, caller.ScopeId, section, JsonSerializer.Serialize(before, ConfigJson.Options), JsonSerializer.Serialize(value, ConfigJson.Options), time.GetUtcNow()),
            http.RequestAborted);
        http.Response.Headers.ETag = Quote(next.Value);
        return TypedResults.Ok(new { section, version = next.Value, value });
    }

    private static IResult UnknownSection(string section) =>
        Problems.Create(StatusCodes.Status404NotFound, "config_section_unknown", $"No configuration section '{section}'. Known: {string.Join(", ", ProgrammeConfig.Sections.Keys)}.");

    private static string Quote(long version) => "\"" + version.ToString(CultureInfo.InvariantCulture) + "\"";
}
