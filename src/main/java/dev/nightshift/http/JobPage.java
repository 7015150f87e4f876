package dev.nightshift.http;

import static dev.nightshift.http.Html.esc;
import static dev.nightshift.http.Html.when;

import dev.nightshift.config.Durations;
import dev.nightshift.config.Guards;
import dev.nightshift.config.ImportParams;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.config.NotifyTarget;
import dev.nightshift.config.SummaryParams;
import dev.nightshift.queue.RunView;
import dev.nightshift.runlog.RunLogStore;
import dev.nightshift.schedule.JobView;
import dev.nightshift.schedule.PeriodGrid;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The dashboard's page of one job: its settings (schedule, overlap, guards, notify targets), its
 * period grid and run times, its runs with a state filter and pages, and the tail of its last
 * run's log. Stateless.
 */
final class JobPage {
    private JobPage() {
    }

    /**
     * @param definition the job as this node's catalog has it, or null (a job of another node's catalog)
     * @param grid       the job's row of the period grid, or null (a job without a schedule)
     * @param runs       the page of runs, newest first; {@code more} when an older page exists
     */
    static String render(JobView job, JobDefinition definition, PeriodGrid.Row grid, RunsPage.Page runs, RunView lastRun,
                         List<RunLogStore.Line> lastLog, Instant now) {
        StringBuilder b = new StringBuilder();
        b.append("<nav class=\"crumbs\"><a href=\"/\">Overview</a> › job ").append(esc(job.name())).append("</nav>")
                .append("<section class=\"run-head\"><h2>Job <span class=\"job-name\" id=\"job-name\">").append(esc(job.name()))
                .append("</span> <span class=\"type\">").append(esc(job.type())).append("</span>")
                .append(job.paused() ? " <span class=\"badge paused\">paused</span>" : "")
                .append(job.removed() ? " <span class=\"badge\">removed from the catalog</span>" : "")
                .append("</h2><div class=\"actions\">")
                .append("<button type=\"button\" class=\"btn primary\" data-trigger=\"").append(esc(job.name())).append("\">Trigger</button>")
                .append(job.paused() ? Html.action("Resume", "/api/jobs/" + job.name() + "/resume", "", null)
                        : Html.action("Pause", "/api/jobs/" + job.name() + "/pause", "", "Pause the schedule of " + job.name() + "?"))
                .append("</div></section>");
        if (job.description() != null) {
            b.append("<p class=\"muted\">").append(esc(job.description())).append("</p>");
        }
        settings(b, job, definition, now);
        if (grid != null) {
            b.append("<section><h3>Periods</h3><table class=\"grid periods\" id=\"job-periods\"><tbody>");
            GridSection.row(b, grid);
            b.append("</tbody></table></section>");
        }
        b.append("<section><h3>Runs</h3>");
        RunsPage.filters(b, "/jobs/" + job.name(), null, runs.state(), false);
        RunsPage.table(b, runs, now, false);
        RunsPage.pager(b, "/jobs/" + job.name(), runs);
        b.append("</section>");
        if (lastRun != null) {
            b.append("<section id=\"job-last-log\"><h3>Log of the last run, <a href=\"/runs/").append(lastRun.id()).append("\">#")
                    .append(lastRun.id()).append("</a> ").append(Html.state(lastRun.state()))
                    .append(" <span class=\"muted small\">its last ").append(Dashboard.TAIL_LINES).append(" lines</span></h3>")
                    .append("<pre class=\"run-log\" id=\"job-log-tail\">");
            for (RunLogStore.Line l : lastLog) {
                RunPage.line(b, l);
            }
            if (lastLog.isEmpty()) {
                b.append("<span class=\"muted\">no lines</span>");
            }
            b.append("</pre></section>");
        }
        return b.toString();
    }

    private static void settings(StringBuilder b, JobView job, JobDefinition d, Instant now) {
        b.append("<section><h3>Settings</h3><dl class=\"settings\" id=\"job-settings\">");
        dt(b, "Schedule", job.schedule() == null ? "<span class=\"muted\">on trigger only</span>"
                : "<code>" + esc(job.schedule().get("cron")) + "</code> " + esc(job.schedule().get("timezone"))
                + " <span class=\"muted small\">misfire " + esc(job.schedule().get("misfire")) + "</span>");
        if (job.schedule() != null) {
            dt(b, "Next fire", job.paused() ? "<span class=\"muted\">paused</span>" : when(job.nextFireAt(), now));
        }
        if (d != null && d.schedule() != null) {
            dt(b, "Overlap", "<span id=\"job-overlap\">" + esc(d.schedule().overlap().yamlName()) + "</span>");
        }
        dt(b, "Concurrency", job.concurrency() == JobDefinition.UNLIMITED ? "unlimited" : Integer.toString(job.concurrency()));
        dt(b, "Attempts", job.maxAttempts() + (d == null ? "" : ", backoff " + esc(Durations.format(d.backoff()))));
        if (d != null && d.timeout() != null) {
            dt(b, "Timeout", esc(Durations.format(d.timeout())));
        }
        dt(b, "Deadline", job.deadline() == null ? "<span class=\"muted\">none</span>" : esc(job.deadline())
                + (job.lateSlots().isEmpty() ? "" : " <span class=\"badge late\">late · " + job.lateSlots().size() + "</span>"));
        if (!job.after().isEmpty() || !job.afterAll().isEmpty()) {
            dt(b, "After", esc(String.join(", ", job.after())) + (job.afterAll().isEmpty() ? "" : " all of " + esc(String.join(", ", job.afterAll()))));
        }
        if (d != null) {
            dt(b, "Guards", "<span id=\"job-guards\">" + guards(d) + "</span>");
            List<String> targets = d.notifyTargets().stream().map(t -> t.shown() + (t.format() == NotifyTarget.Format.SLACK ? " (slack)" : "")).toList();
            dt(b, "Notify", "<span id=\"job-notify\">" + (targets.isEmpty() ? "<span class=\"muted\">the settings' default targets, if any</span>"
                    : esc(String.join(", ", targets))) + "</span>");
        }
        b.append("</dl></section>");
    }

    private static String guards(JobDefinition d) {
        Guards g = d.params() instanceof ImportParams p ? p.guards() : d.params() instanceof SummaryParams p ? p.guards() : null;
        if (g == null) {
            return "<span class=\"muted\">not for this job type</span>";
        }
        if (g.none()) {
            return "<span class=\"muted\">none</span>";
        }
        List<String> parts = new ArrayList<>();
        if (g.minRows() != null) {
            parts.add("min_rows " + g.minRows());
        }
        if (g.maxDelete() != null) {
            parts.add("max_delete " + g.maxDelete() + (g.maxDelete() == Guards.MIRROR_DEFAULT ? " (the default of mode: mirror)" : ""));
        }
        if (g.maxChange() != null) {
            parts.add("max_change " + g.maxChange());
        }
        if (g.assertSql() != null) {
            parts.add("assert " + g.assertSql());
        }
        return esc(String.join(" · ", parts));
    }

    private static void dt(StringBuilder b, String name, String html) {
        b.append("<dt>").append(esc(name)).append("</dt><dd>").append(html).append("</dd>");
    }
}
