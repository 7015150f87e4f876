package dev.nightshift.http;

import static dev.nightshift.http.Html.esc;
import static dev.nightshift.http.Html.when;

import dev.nightshift.queue.RunView;
import dev.nightshift.schedule.FanIn;
import dev.nightshift.schedule.JobView;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** The dashboard's front page: totals, jobs, running runs, recent failures, recent runs. Stateless. */
final class OverviewPage {
    private OverviewPage() {
    }

    static String render(List<JobView> jobs, List<RunView> running, List<RunView> failures, List<RunView> recent, Instant now) {
        StringBuilder b = new StringBuilder();
        summary(b, jobs, running, failures);
        jobs(b, jobs, now);
        running(b, running, now);
        failures(b, failures, now);
        recent(b, recent, now);
        return b.toString();
    }

    private static void summary(StringBuilder b, List<JobView> jobs, List<RunView> running, List<RunView> failures) {
        long paused = jobs.stream().filter(JobView::paused).count();
        long waiting = jobs.stream().mapToLong(JobView::waiting).sum();
        long dead = failures.stream().filter(r -> r.state().equals("dead")).count();
        b.append("<section class=\"cards\">")
                .append(card("Jobs", jobs.size(), paused == 0 ? "none paused" : paused + " paused", ""))
                .append(card("Running", running.size(), "right now", running.isEmpty() ? "" : "info"))
                .append(card("Waiting", waiting, "due or in backoff", waiting == 0 ? "" : "warn"))
                .append(card("Dead", dead, "among recent failures", dead == 0 ? "ok" : "bad"))
                .append("</section>");
    }

    private static String card(String title, long value, String note, String tone) {
        return "<div class=\"card " + tone + "\"><div class=\"card-title\">" + esc(title) + "</div><div class=\"card-value\">"
                + value + "</div><div class=\"card-note\">" + esc(note) + "</div></div>";
    }

    private static void jobs(StringBuilder b, List<JobView> jobs, Instant now) {
        b.append("<section><h2>Jobs</h2><table class=\"grid\" id=\"jobs\"><thead><tr><th>Job</th><th>Schedule</th>"
                + "<th>Next fire</th><th>Last run</th><th>Last success</th><th class=\"actions\"></th></tr></thead><tbody>");
        for (JobView j : jobs) {
            b.append("<tr data-job=\"").append(esc(j.name())).append("\"><td><div class=\"job-name\"><a href=\"/jobs/")
                    .append(esc(j.name())).append("\">").append(esc(j.name())).append("</a>")
                    .append(j.paused() ? " <span class=\"badge paused\">paused</span>" : "")
                    .append(j.lateSlots().isEmpty() ? "" : " <span class=\"badge late\" title=\"deadline " + esc(j.deadline())
                            + "; oldest late slot " + esc(Html.absolute(j.lateSlots().get(0))) + "\">late · " + j.lateSlots().size()
                            + (j.lateSlots().size() == 1 ? " slot" : " slots") + "</span>")
                    .append(" <span class=\"type\">").append(esc(j.type())).append("</span></div>")
                    .append(j.description() == null ? "" : "<div class=\"muted small\">" + esc(j.description()) + "</div>")
                    .append("</td><td>").append(schedule(j)).append("</td><td>")
                    .append(j.paused() && j.schedule() != null ? "<span class=\"muted\">paused</span>" : when(j.nextFireAt(), now))
                    .append("</td><td class=\"last-run\">").append(lastRun(j.lastRun(), now)).append("</td><td>")
                    .append(when(j.lastSuccessAt(), now)).append("</td><td class=\"actions\">")
                    .append("<button type=\"button\" class=\"btn primary\" data-trigger=\"").append(esc(j.name())).append("\">Trigger</button>")
                    .append(j.schedule() == null ? "" : "<button type=\"button\" class=\"btn\" data-backfill=\"" + esc(j.name()) + "\">Backfill</button>")
                    .append(j.paused() ? Html.action("Resume", "/api/jobs/" + j.name() + "/resume", "", null)
                            : Html.action("Pause", "/api/jobs/" + j.name() + "/pause", "", "Pause the schedule of " + j.name() + "?"))
                    .append("</td></tr>");
        }
        if (jobs.isEmpty()) {
            b.append("<tr><td colspan=\"6\" class=\"empty\">No jobs in the catalog.</td></tr>");
        }
        b.append("</tbody></table></section>");
    }

    private static String schedule(JobView j) {
        if (!j.afterAll().isEmpty()) {
            FanIn.Waiting w = j.waitingFor();
            return "<span class=\"muted\">after all of</span> " + esc(String.join(", ", j.afterAll()))
                    + (w == null || w.missing().isEmpty() ? "" : "<div class=\"small waits\">waits for " + esc(String.join(", ", w.missing()))
                            + " (period ending " + esc(Html.absolute(w.periodEnd())) + ")</div>");
        }
        return schedule(j.schedule());
    }

    private static String schedule(Map<String, String> s) {
        if (s == null) {
            return "<span class=\"muted\">on trigger only</span>";
        }
        return "<code>" + esc(s.get("cron")) + "</code> <span class=\"muted small\">" + esc(s.get("timezone")) + "</span>";
    }

    private static String lastRun(JobView.LastRun r, Instant now) {
        if (r == null) {
            return "<span class=\"muted\">never ran</span>";
        }
        return "<a href=\"/runs/" + r.id() + "\">#" + r.id() + "</a> " + Html.state(r.state())
                + (r.finishedAt() == null ? "" : " <span class=\"small\">" + when(r.finishedAt(), now) + "</span>");
    }

    private static void running(StringBuilder b, List<RunView> running, Instant now) {
        b.append("<section><h2>Running now</h2><table class=\"grid\" id=\"running\"><thead><tr><th>Run</th><th>Job</th>"
                + "<th>Node</th><th>Attempt</th><th>Started</th><th>Elapsed</th><th class=\"actions\"></th></tr></thead><tbody>");
        for (RunView r : running) {
            // now and started_at both come from the database's clock; the page ticks on from this
            // value with the browser's monotonic clock, never comparing the two hosts' clocks
            Instant started = r.startedAt() == null ? now : r.startedAt();
            Duration elapsed = started.isAfter(now) ? Duration.ZERO : Duration.between(started, now);
            b.append("<tr><td><a href=\"/runs/").append(r.id()).append("\">#").append(r.id()).append("</a></td><td>")
                    .append(esc(r.job())).append("</td><td>").append(esc(r.node())).append("</td><td>").append(r.attempt())
                    .append('/').append(r.maxAttempts()).append("</td><td>").append(when(r.startedAt(), now))
                    .append("</td><td><span class=\"elapsed\" data-elapsed-ms=\"").append(elapsed.toMillis()).append("\">")
                    .append(esc(Html.span(elapsed))).append("</span></td><td class=\"actions\">")
                    .append(Html.action("Cancel", "/api/runs/" + r.id() + "/cancel", "danger", "Cancel run " + r.id() + "?"))
                    .append("</td></tr>");
        }
        if (running.isEmpty()) {
            b.append("<tr><td colspan=\"7\" class=\"empty\">Nothing running.</td></tr>");
        }
        b.append("</tbody></table></section>");
    }

    private static void failures(StringBuilder b, List<RunView> failures, Instant now) {
        b.append("<section><h2>Recent failures</h2><table class=\"grid\" id=\"failures\"><thead><tr><th>Run</th><th>Job</th>"
                + "<th>State</th><th>Attempt</th><th>When</th><th>Error</th><th class=\"actions\"></th></tr></thead><tbody>");
        for (RunView r : failures) {
            Instant at = r.finishedAt() != null ? r.finishedAt() : r.startedAt();
            b.append("<tr><td><a href=\"/runs/").append(r.id()).append("\">#").append(r.id()).append("</a></td><td>")
                    .append(esc(r.job())).append("</td><td>").append(Html.state(r.state().equals("available") ? "retrying" : r.state()))
                    .append("</td><td>").append(r.attempt()).append('/').append(r.maxAttempts()).append("</td><td>").append(when(at, now))
                    .append("</td><td class=\"error\">").append(error(r)).append("</td><td class=\"actions\">")
                    .append(r.state().equals("dead") ? Html.action("Retry", "/api/runs/" + r.id() + "/retry", "", null) : "")
                    .append("</td></tr>");
        }
        if (failures.isEmpty()) {
            b.append("<tr><td colspan=\"7\" class=\"empty\">No failures.</td></tr>");
        }
        b.append("</tbody></table></section>");
    }

    static String error(RunView r) {
        if (r.lastError() == null) {
            return "";
        }
        String firstLine = r.lastError().strip().lines().findFirst().orElse("");
        String shown = firstLine.length() > 160 ? firstLine.substring(0, 157) + "…" : firstLine;
        return (r.lastErrorSqlstate() == null ? "" : "<span class=\"sqlstate\">" + esc(r.lastErrorSqlstate()) + "</span> ")
                + "<span title=\"" + esc(r.lastError()) + "\">" + esc(shown) + "</span>";
    }

    private static void recent(StringBuilder b, List<RunView> recent, Instant now) {
        b.append("<section><h2>Recent runs <a class=\"small\" href=\"/runs\" id=\"all-runs\">all runs, by job and state ›</a></h2><table class=\"grid\" id=\"recent\"><thead><tr><th>Run</th><th>Job</th>"
                + "<th>State</th><th>Trigger</th><th>Period</th><th>Created</th><th>Duration</th><th>Result</th></tr></thead><tbody>");
        for (RunView r : recent) {
            b.append("<tr><td><a href=\"/runs/").append(r.id()).append("\">#").append(r.id()).append("</a></td><td>")
                    .append(esc(r.job())).append("</td><td>").append(Html.state(r.state())).append("</td><td>")
                    .append(esc(r.trigger())).append("</td><td class=\"small period\">").append(esc(r.periodLabel()))
                    .append("</td><td>").append(when(r.createdAt(), now)).append("</td><td>")
                    .append(esc(duration(r, now))).append("</td><td class=\"small\">")
                    .append(r.state().equals("succeeded") ? counts(r.counts()) : error(r)).append("</td></tr>");
        }
        if (recent.isEmpty()) {
            b.append("<tr><td colspan=\"8\" class=\"empty\">No runs yet: trigger a job above.</td></tr>");
        }
        b.append("</tbody></table></section>");
    }

    static String duration(RunView r, Instant now) {
        if (r.startedAt() == null) {
            return "–";
        }
        Instant end = r.finishedAt() != null ? r.finishedAt() : r.state().equals("running") ? now : null;
        return end == null ? "–" : Html.span(Duration.between(r.startedAt(), end));
    }

    static String counts(Map<String, ?> counts) {
        if (counts == null || counts.isEmpty()) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        counts.forEach((k, v) -> b.append("<span class=\"count\">").append(esc(k)).append(" <b>").append(v).append("</b></span> "));
        return b.toString().trim();
    }
}
