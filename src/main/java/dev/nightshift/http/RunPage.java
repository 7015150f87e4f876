package dev.nightshift.http;

import static dev.nightshift.http.Html.esc;

import dev.nightshift.queue.RunView;
import dev.nightshift.runlog.RunLogStore;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The dashboard's page of one run: every field, parameters, counts, the error, and its actions. Stateless. */
final class RunPage {
    /** A log line's time, in UTC to the millisecond (dashboard.js writes the lines it appends the same way). */
    private static final java.time.format.DateTimeFormatter LOG_TIME =
            java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(java.time.ZoneOffset.UTC);
    private RunPage() {
    }

    /** @param missedDeadline the job's deadline when this run's slot is past it without a success, else null */
    static String render(RunView r, Instant now, String missedDeadline, List<RunLogStore.Line> log) {
        StringBuilder b = new StringBuilder();
        b.append("<nav class=\"crumbs\"><a href=\"/\">Overview</a> › <a href=\"/jobs/").append(esc(r.job())).append("\">")
                .append(esc(r.job())).append("</a> › run #").append(r.id()).append("</nav>")
                .append("<section class=\"run-head\"><h2>Run #").append(r.id()).append(" of <span class=\"job-name\">")
                .append(esc(r.job())).append("</span> ").append(Html.state(r.state()))
                .append(missedDeadline == null ? "" : " <span class=\"badge late\" id=\"run-late\">late: past its deadline ("
                        + esc(missedDeadline) + ")</span>")
                .append("</h2><div class=\"actions\">");
        if (r.state().equals("running") || r.state().equals("available")) {
            b.append(Html.action("Cancel", "/api/runs/" + r.id() + "/cancel", "danger", "Cancel run " + r.id() + "?"));
        }
        if (r.state().equals("dead") || r.state().equals("cancelled") || r.state().equals("available")) {
            b.append(Html.action("Retry", "/api/runs/" + r.id() + "/retry", "", null));
        }
        if (r.state().equals("dead") && r.counts() != null && r.counts().containsKey("guard")) {
            b.append(Html.action("Run again, overriding guards", "/api/runs/" + r.id() + "/override-guards", "danger",
                    "Apply this delivery although guard " + r.counts().get("guard") + " refused it?"));
        }
        b.append("</div></section><section class=\"detail\"><dl id=\"run-fields\">");
        field(b, "Trigger", esc(r.trigger()));
        field(b, "Actor", r.actor() == null ? "<span class=\"muted\">–</span>"
                : "<a id=\"run-actor\" href=\"/audit?run=" + r.id() + "\">" + esc(r.actor()) + "</a>");
        field(b, "Attempt", r.attempt() + " of " + r.maxAttempts());
        field(b, "Node", esc(r.node()));
        field(b, "Created", Html.when(r.createdAt(), now) + " <span class=\"muted small\">" + esc(Html.absolute(r.createdAt())) + "</span>");
        field(b, "Due", Html.when(r.runAt(), now));
        field(b, "Scheduled for", r.scheduledAt() == null ? "<span class=\"muted\">–</span>" : esc(Html.absolute(r.scheduledAt())));
        field(b, "Period", r.periodStart() == null ? "<span class=\"muted\">–</span>"
                : "<span id=\"run-period\">" + esc(r.periodLabel()) + "</span> <span class=\"muted small\">" + esc(r.periodZone()) + "</span>");
        field(b, "Started", Html.when(r.startedAt(), now));
        field(b, "Finished", Html.when(r.finishedAt(), now));
        field(b, "Duration", esc(OverviewPage.duration(r, now)));
        field(b, "After run", r.parentRunId() == null ? "<span class=\"muted\">–</span>"
                : "<a href=\"/runs/" + r.parentRunId() + "\">#" + r.parentRunId() + "</a>");
        field(b, "Idempotency key", r.dedupeKey() == null ? "<span class=\"muted\">–</span>" : "<code>" + esc(r.dedupeKey()) + "</code>");
        b.append("</dl></section>");
        table(b, "Parameters", "params", r.params());
        if (r.counts() != null && r.counts().containsKey("guard")) {
            b.append("<section><h3>Guard</h3><p id=\"run-guard\" class=\"error-block\">refused by guard <code>")
                    .append(esc(r.counts().get("guard"))).append("</code> (limit <code>").append(esc(r.counts().get("guard_limit")))
                    .append("</code>); the target was left unchanged</p></section>");
        }
        if (r.params().containsKey(dev.nightshift.queue.RunParams.OVERRIDE_GUARDS)) {
            b.append("<section><p id=\"run-override\">Guards overridden by <b>")
                    .append(esc(r.params().get(dev.nightshift.queue.RunParams.OVERRIDE_GUARDS))).append("</b></p></section>");
        }
        table(b, "Counts", "counts", r.counts());
        if (r.lastError() != null) {
            b.append("<section><h3>Last error").append(r.lastErrorSqlstate() == null ? ""
                    : " <span class=\"sqlstate\">SQLSTATE " + esc(r.lastErrorSqlstate()) + "</span>")
                    .append("</h3><pre class=\"error-block\" id=\"run-error\">").append(esc(r.lastError())).append("</pre></section>");
        }
        log(b, r, log);
        return b.toString();
    }

    /**
     * The run's log, its last {@link Dashboard#LOG_LINES} lines; while the run has not ended, the
     * page's script asks {@code /api/runs/N/log?after=} for new lines and appends them.
     */
    static void log(StringBuilder b, RunView r, List<RunLogStore.Line> log) {
        boolean live = r.state().equals("running") || r.state().equals("available");
        long last = log.isEmpty() ? 0 : log.get(log.size() - 1).seq();
        b.append("<section id=\"run-log-section\"><h3>Log <span class=\"muted small\">");
        if (log.size() >= Dashboard.LOG_LINES) {
            b.append("the last ").append(Dashboard.LOG_LINES).append(" lines; <code>nightshift logs ").append(r.id())
                    .append("</code> prints them all; ");
        }
        b.append(live ? "live while the run runs" : "the run has ended").append("</span></h3><pre class=\"run-log\" id=\"run-log\" data-run=\"")
                .append(r.id()).append("\" data-after=\"").append(last).append("\" data-live=\"").append(live).append("\">");
        for (RunLogStore.Line l : log) {
            line(b, l);
        }
        if (log.isEmpty()) {
            b.append("<span class=\"muted log-empty\">").append(live ? "no lines yet" : "no lines").append("</span>");
        }
        b.append("</pre></section>");
    }

    static void line(StringBuilder b, RunLogStore.Line l) {
        b.append("<span class=\"log-line level-").append(esc(l.level())).append("\" data-seq=\"").append(l.seq()).append("\">")
                .append(LOG_TIME.format(l.time())).append(' ').append(esc(String.format("%-7s", l.level()))).append(" [")
                .append(l.attempt()).append("] ").append(esc(l.text())).append("</span>\n");
    }

    private static void field(StringBuilder b, String name, String html) {
        b.append("<div><dt>").append(esc(name)).append("</dt><dd>").append(html).append("</dd></div>");
    }

    private static void table(StringBuilder b, String title, String id, Map<String, ?> values) {
        if (values == null || values.isEmpty()) {
            return;
        }
        b.append("<section><h3>").append(esc(title)).append("</h3><table class=\"grid narrow\" id=\"").append(esc(id)).append("\"><tbody>");
        values.forEach((k, v) -> b.append("<tr><th>").append(esc(k)).append("</th><td><code>").append(esc(v)).append("</code></td></tr>"));
        b.append("</tbody></table></section>");
    }
}
