package dev.nightshift.http;

import dev.nightshift.audit.Action;
import dev.nightshift.audit.AuditEntry;
import dev.nightshift.audit.AuditLog;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.sql.DataSource;

/**
 * Who did what: {@code GET /api/audit} (filters {@code job}, {@code actor}, {@code action},
 * {@code run}; paging with {@code before}) and the dashboard's page {@code /audit}. Reads only;
 * the read token suffices. Thread-safe.
 */
final class AuditApi {
    static final int DEFAULT_LIMIT = 100;

    private final AuditLog log;
    private final String node;

    AuditApi(DataSource ds, String node) {
        this.log = new AuditLog(ds);
        this.node = node;
    }

    void routes(Router r) {
        r.get("/api/audit", this::list);
        r.get("/audit", this::page);
    }

    private List<AuditEntry> entries(Request r) throws Exception {
        Action action = null;
        if (r.query("action") != null) {
            action = Action.parse(r.query("action"));
            if (action == null) {
                throw new HttpError(400, "action must be one of " + Arrays.stream(Action.values()).map(Action::dbName)
                        .collect(Collectors.joining(", ")) + "; got '" + r.query("action") + "'");
            }
        }
        Long run = r.query("run") == null ? null : HttpError.wholeNumber("run", r.query("run"), Long.MAX_VALUE);
        Long before = r.query("before") == null ? null : HttpError.wholeNumber("before", r.query("before"), Long.MAX_VALUE);
        int limit = r.query("limit") == null ? DEFAULT_LIMIT : (int) HttpError.wholeNumber("limit", r.query("limit"), AuditLog.MAX_LIMIT);
        return log.list(new AuditLog.Filter(r.query("job"), r.query("actor"), action, run), before, limit);
    }

    private Response list(Request r) throws Exception {
        List<AuditEntry> page = entries(r);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("entries", page);
        body.put("nextBefore", page.isEmpty() ? null : page.get(page.size() - 1).id());
        return Response.json(200, body);
    }

    private Response page(Request r) throws Exception {
        StringBuilder b = new StringBuilder("<section><h2>Audit</h2><p class=\"muted\">Every trigger, cancel, retry, pause, resume,"
                + " backfill and guard override, newest first, with who did it.</p><table id=\"audit\"><thead><tr><th>When (UTC)</th>"
                + "<th>Actor</th><th>Role</th><th>Action</th><th>Job</th><th>Run</th><th>Detail</th></tr></thead><tbody>");
        for (AuditEntry e : entries(r)) {
            b.append("<tr><td>").append(Html.esc(Html.absolute(e.at()))).append("</td><td class=\"actor\">").append(Html.esc(e.actor()))
                    .append("</td><td>").append(Html.esc(e.role())).append("</td><td>").append(Html.esc(e.action()))
                    .append("</td><td>").append(Html.esc(e.job() == null ? "" : e.job())).append("</td><td>")
                    .append(e.runId() == null ? "" : "<a href=\"/runs/" + e.runId() + "\">#" + e.runId() + "</a>")
                    .append("</td><td><code>").append(Html.esc(e.detail().isEmpty() ? "" : dev.nightshift.json.Json.write(e.detail())))
                    .append("</code></td></tr>");
        }
        b.append("</tbody></table></section>");
        return Response.html(Html.page("Audit", node, b.toString())).withHeader("Content-Security-Policy", Dashboard.CSP)
                .withHeader("X-Frame-Options", "DENY").withHeader("Referrer-Policy", "no-referrer");
    }
}
