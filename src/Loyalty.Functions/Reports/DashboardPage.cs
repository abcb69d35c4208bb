using System.Security.Cryptography;
using System.Text;

namespace Loyalty.Functions.Reports;

/// <summary>
/// <c>GET /api/dashboard</c>: a self-contained page (no external scripts, styles or fonts)
/// that asks for an API key, then reads the reports for the key's scope and draws them as SVG bar charts. The key is
/// kept in the tab's session storage only (or given in the URL fragment, <c>#key=...</c>, which never reaches the
/// server). A Content-Security-Policy allows exactly the page's own script and style (by hash) and requests to this origin.
/// </summary>
internal static class DashboardPage
{
    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
        header{background:#1d2330;color:#fff;padding:12px 20px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
        header h1{font-size:18px;margin:0 12px 0 0}
        header input{padding:6px 8px;border-radius:4px;border:1px solid #889}
        header button{padding:6px 12px;border:0;border-radius:4px;background:#3a7bd5;color:#fff;cursor:pointer}
        main{padding:16px 20px;display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:16px}
        section{background:#fff;border-radius:6px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
        section h2{font-size:15px;margin:0 0 8px}
        .cards{display:flex;gap:12px;flex-wrap:wrap}
        .card{flex:1 1 140px;background:#eef3fb;border-radius:6px;padding:8px 10px}
        .card b{display:block;font-size:20px}
        .muted{color:#667;font-size:12px}
        .error{color:#b00020}
        svg text{font-size:12px;fill:#1d2330}
        svg rect{fill:#3a7bd5}
        """;

    private const string Script = """
        "use strict";
        const $ = (id) => document.getElementById(id);
        const fragment = new URLSearchParams(location.hash.slice(1));
        let key = fragment.get("key") || sessionStorage.getItem("loyaltyKey") || "";
        let scope = fragment.get("scopeId") || "";
        const yuan = (fen) => (fen / 100).toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
        const pct = (r) => (r * 100).toFixed(1) + "%";
        const svgNs = "http://www.w3.org/2000/svg";

        function el(tag, attrs, text) {
          const node = tag.startsWith("svg:") ? document.createElementNS(svgNs, tag.slice(4)) : document.createElement(tag);
          for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
          if (text !== undefined) node.textContent = text;
          return node;
        }

        // A horizontal bar chart; every bar carries its label and value for checks and screen readers.
        function bars(id, title, items, format) {
          const box = $(id);
          box.replaceChildren(el("h2", {}, title));
          if (!items.length) { box.append(el("p", { class: "muted" }, "No figures for this scope and period.")); return; }
          const rowH = 22, labelW = 150, valueW = 110, width = 500;
          const max = Math.max(...items.map((i) => Math.abs(i.value)), 1);
          const svg = el("svg:svg", { "data-chart": id, width, height: items.length * rowH + 4, role: "img", "aria-label": title });
          items.forEach((item, n) => {
            const y = n * rowH + 2;
            const w = Math.max(1, Math.round((width - labelW - valueW) * Math.abs(item.value) / max));
            svg.append(el("svg:text", { x: 0, y: y + 15 }, item.label));
            const rect = el("svg:rect", { x: labelW, y, width: w, height: rowH - 6, "data-label": item.label, "data-value": String(item.value) });
            rect.append(el("svg:title", {}, item.label + ": " + format(item.value)));
            svg.append(rect);
            svg.append(el("svg:text", { x: labelW + w + 6, y: y + 15, "data-value-text": item.label }, format(item.value)));
          });
          box.append(svg);
        }

        function cards(items) {
          const box = $("summary");
          box.replaceChildren(el("h2", {}, "Summary"));
          const row = el("div", { class: "cards" });
          for (const [label, value, id] of items) {
            const card = el("div", { class: "card", "data-card": id });
            card.append(el("b", {}, value), el("span", { class: "muted" }, label));
            row.append(card);
          }
          box.append(row);
        }

        async function get(path) {
          const sep = path.includes("?") ? "&" : "?";
          const res = await fetch("/api/reports/" + path + (scope ? sep + "scopeId=" + encodeURIComponent(scope) : ""), { headers: { "X-Api-Key": key } });
          const body = await res.json().catch(() => ({}));
          if (!res.ok) throw Object.assign(new Error(body.detail || res.statusText), { status: res.status, code: body.code });
          return body;
        }

        async function load() {
          $("status").textContent = "Loading…";
          $("status").className = "muted";
          try {
            const [liability, sv, consumption, benefits] = await Promise.all([
              get("liability"), get("stored-value"), get("consumption?groupBy=day"), get("benefit-usage")]);
            let tiers = null;
            try { tiers = await get("tier-distribution"); } catch (e) { if (e.status !== 409) throw e; }
            const t = liability.total;
            const summary = [
              ["Stored value owed (¥)", yuan(t.storedValue), "storedValue"],
              ["of which principal (¥)", yuan(t.principal), "principal"],
              ["Points outstanding", t.points.toLocaleString("zh-CN"), "points"],
              ["Net sales, 30 days (¥)", yuan(consumption.total.netAfterRefunds), "net"],
            ];
            if (tiers) summary.push(
              ["Members", tiers.members.toLocaleString("zh-CN"), "members"],
              ["Reached first tier", pct(tiers.reachedFirstTier.share), "firstTier"],
              ["Dormant (" + tiers.dormant.days + " days)", pct(tiers.dormant.ratio), "dormant"],
              ["Repurchase rate", pct(tiers.repurchase.rate), "repurchase"]);
            cards(summary);
            bars("liability", "Stored-value liability by store (¥)", liability.byStore.map((s) => ({ label: s.name, value: s.liability.storedValue })), yuan);
            bars("points", "Points liability by store", liability.byStore.map((s) => ({ label: s.name, value: s.liability.points })), (v) => v.toLocaleString("zh-CN"));
            bars("topups", "Top-ups by channel, 30 days (¥ principal)", sv.total.topUps.byChannel.map((c) => ({ label: c.channel, value: c.principal })), yuan);
            bars("consumption", "Net sales by day (¥)", consumption.rows.map((r) => ({ label: r.key, value: r.netAfterRefunds })), yuan);
            bars("benefits", "Benefit usage rate", benefits.benefits.map((b) => ({ label: b.benefit, value: b.rate })), pct);
            if (tiers) {
              bars("tiers", "Members by tier", tiers.tiers.map((x) => ({ label: x.name, value: x.members })), (v) => v.toLocaleString("zh-CN"));
              bars("spend", "12-month spend (members per ¥ band)", tiers.spend.months12.buckets.map((b) => ({ label: "¥" + b.from / 100 + "–" + b.to / 100, value: b.members })), (v) => String(v));
            } else {
              for (const id of ["tiers", "spend"]) $(id).replaceChildren(el("h2", {}, id === "tiers" ? "Members by tier" : "12-month spend"), el("p", { class: "muted" }, "No health snapshot yet (taken daily)."));
            }
            $("status").textContent = "Scope " + liability.scopeId + " · as of " + new Date(liability.asOf).toLocaleString("zh-CN");
            $("status").setAttribute("data-loaded", "true");
          } catch (e) {
            $("status").textContent = (e.status === 401 ? "That API key was not accepted." : e.status === 403 ? "That scope is outside the key's scope." : "Could not load the reports: " + e.message);
            $("status").className = "error";
          }
        }

        $("keyform").addEventListener("submit", (ev) => {
          ev.preventDefault();
          key = $("key").value.trim();
          scope = $("scope").value.trim();
          sessionStorage.setItem("loyaltyKey", key);
          load();
        });
        $("scope").value = scope;
        if (key) load(); else $("status").textContent = "Enter an API key to see the reports of its scope.";
        """;

    private static readonly string Page = $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
        <title>LoyaltyFunctions · reports</title><style>{{Style}}</style></head>
        <body>
        <header><h1>LoyaltyFunctions reports</h1>
        <form id="keyform"><input id="key" type="password" placeholder="API key" autocomplete="off" aria-label="API key">
        <input id="scope" placeholder="scope (optional)" aria-label="scope"> <button type="submit">Show</button></form>
        <span id="status" class="muted"></span></header>
        <main>
        <section id="summary"></section><section id="liability"></section><section id="points"></section>
        <section id="topups"></section><section id="consumption"></section><section id="benefits"></section>
        <section id="tiers"></section><section id="spend"></section>
        </main>
        <script>{{Script}}</script>
        </body></html>
        """;

    private static readonly string Policy =
        $"default-src 'none'; script-src 'sha256-{Hash(Script)}'; style-src 'sha256-{Hash(Style)}'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    public static IResult Handle(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        http.Response.Headers.ContentSecurityPolicy = Policy;
        http.Response.Headers.XContentTypeOptions = "nosniff";
        http.Response.Headers.CacheControl = "no-store";
        return Results.Text(Page, "text/html; charset=utf-8");
    }

    private static string Hash(string text) => Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
