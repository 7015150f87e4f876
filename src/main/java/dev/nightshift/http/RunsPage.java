package dev.nightshift.http;

import static dev.nightshift.http.Html.esc;
import static dev.nightshift.http.Html.when;

import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunView;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;

/**
 * The dashboard's list of runs, filtered by job and state, newest first, a page at a time (also the
 * runs section of the job page). Query parameters are checked: a bad one is a 400 saying what is
 * wrong. Stateless.
 */
final class RunsPage {
    static final int PAGE = 50;
    static final int MAX_PAGE = 500;

    private RunsPage() {
    }

    /** One page of runs, the filters that chose it, and whether an older page follows. */
    record Page(List<RunView> runs, String job, String state, int limit, boolean more) {
        Long nextBefore() {
            return more ? runs.get(runs.size() - 1).id() : null;
        }
    }

    /** The filters of {@code r}'s query: {@code job}, {@code state}, {@code before}, {@code limit}. */
    record Query(String job, String state, Long before, int limit) {
        static Query of(Request r) {
            String job = r.query("job");
            if (job != null && !dev.nightshift.config.JobDefinition.NAME.matcher(job).matches()) {
                throw new HttpError(400, "job must be a job name (lower-case letters, digits and -), got '" + job + "'");
            }
            String state = r.query("state");
            if (state != null && !RunQueries.STATES.contains(state)) {
                throw new HttpError(400, "state must be one of available, running, succeeded, dead, cancelled; got '" + state + "'");
            }
            Long before = r.query("before") == null ? null : HttpError.wholeNumber("before", r.query("before"), Long.MAX_VALUE);
            int limit = r.query("limit") == null ? PAGE : (int) HttpError.wholeNumber("limit", r.query("limit"), MAX_PAGE);
            return new Query(job, state, before, limit);
        }

        Page read(RunQueries runs, String jobName) throws java.sql.SQLException {
            String j = jobName != null ? jobName : job;
            // one more than the page tells whether an older page exists
            List<RunView> found = runs.list(j, state, before, limit + 1);
            boolean more = found.size() > limit;
            return new Page(more ? found.subList(0, limit) : found, j, state, limit, more);
        }
    }

    static String render(Page p, List<String> jobs, Instant now) {
        StringBuilder b = new StringBuilder();
        b.append("<nav class=\"crumbs\"><a href=\"/\">Overview</a> › runs</nav><section><h2>Runs</h2>");
        filters(b, "/runs", jobs, p.state(), true, p.job());
        table(b, p, now, true);
        pager(b, "/runs", p);
        return b.append("</section>").toString();
    }

    static void filters(StringBuilder b, String action, List<String> jobs, String state, boolean byJob) {
        filters(b, action, jobs, state, byJob, null);
    }

    /** A GET form: the page reloads with the chosen filters in its address, so it can be bookmarked and shared. */
    static void filters(StringBuilder b, String action, List<String> jobs, String state, boolean byJob, String job) {
        b.append("<form class=\"filters\" method=\"get\" action=\"").append(esc(action)).append("\" id=\"run-filters\">");
        if (byJob) {
            b.append("<label>Job <select name=\"job\" id=\"filter-job\"><option value=\"\">all jobs</option>");
            for (String j : jobs) {
                b.append("<option").append(j.equals(job) ? " selected" : "").append(">").append(esc(j)).append("</option>");
            }
            b.append("</select></label>");
        }
        b.append("<label>State <select name=\"state\" id=\"filter-state\"><option value=\"\">any state</option>");
        for (String s : List.of("available", "running", "succeeded", "dead", "cancelled")) {
            b.append("<option").append(s.equals(state) ? " selected" : "").append(">").append(s).append("</option>");
        }
        b.append("</select></label><button type=\"submit\" class=\"btn\">Show</button></form>");
    }

    static void table(StringBuilder b, Page p, Instant now, boolean jobColumn) {
        b.append("<table class=\"grid\" id=\"runs\"><thead><tr><th>Run</th>").append(jobColumn ? "<th>Job</th>" : "")
                .append("<th>State</th><th>Trigger</th><th>Period</th><th>Attempt</th><th>Created</th><th>Duration</th><th>Result</th></tr></thead><tbody>");
        for (RunView r : p.runs()) {
            b.append("<tr data-run=\"").append(r.id()).append("\"><td><a href=\"/runs/").append(r.id()).append("\">#").append(r.id())
                    .append("</a></td>");
            if (jobColumn) {
                b.append("<td><a href=\"/jobs/").append(esc(r.job())).append("\">").append(esc(r.job())).append("</a></td>");
            }
            b.append("<td>").append(Html.state(r.state())).append("</td><td>").append(esc(r.trigger()))
                    .append("</td><td class=\"small period\">").append(esc(r.periodLabel())).append("</td><td>").append(r.attempt())
                    .append('/').append(r.maxAttempts()).append("</td><td>").append(when(r.createdAt(), now))
                    .append(" <span class=\"muted small\">").append(esc(Html.absolute(r.createdAt()))).append("</span></td><td>")
                    .append(esc(OverviewPage.duration(r, now))).append("</td><td class=\"small\">")
                    .append(r.state().equals("succeeded") ? OverviewPage.counts(r.counts()) : OverviewPage.error(r)).append("</td></tr>");
        }
        if (p.runs().isEmpty()) {
            b.append("<tr><td colspan=\"").append(jobColumn ? 9 : 8).append("\" class=\"empty\">No runs match.</td></tr>");
        }
        b.append("</tbody></table>");
    }

    static void pager(StringBuilder b, String path, Page p) {
        if (!p.more()) {
            return;
        }
        StringBuilder q = new StringBuilder("?before=").append(p.nextBefore());
        if (p.job() != null && path.equals("/runs")) {
            q.append("&job=").append(URLEncoder.encode(p.job(), StandardCharsets.UTF_8));
        }
        if (p.state() != null) {
            q.append("&state=").append(p.state());
        }
        if (p.limit() != PAGE) {
            q.append("&limit=").append(p.limit());
        }
        b.append("<p class=\"pager\"><a id=\"older\" href=\"").append(esc(path + q)).append("\">Older runs ›</a></p>");
    }
}
