package dev.nightshift.http;

import static dev.nightshift.http.Html.esc;

import dev.nightshift.schedule.PeriodGrid;
import java.time.Duration;
import java.util.List;

/**
 * The dashboard's period grid: scheduled jobs down the side, their recent slots across, each cell
 * coloured by its run's state (a click opens the run, or on an empty cell triggers the slot), and
 * per job an SVG chart of its recent runs' times from slot to finish with the deadline drawn in.
 * Server-rendered, no inline style or script (the page's CSP). Stateless.
 */
final class GridSection {
    static final int CHART_WIDTH = 160;
    static final int CHART_HEIGHT = 28;

    private GridSection() {
    }

    static String render(List<PeriodGrid.Row> rows) {
        StringBuilder b = new StringBuilder("<section><h2>Periods</h2><table class=\"grid periods\" id=\"periods\"><thead><tr>"
                + "<th>Job</th><th>Recent slots, oldest first</th><th>Slot to finish <span class=\"muted small\">(line: deadline)</span></th>"
                + "</tr></thead><tbody>");
        for (PeriodGrid.Row r : rows) {
            row(b, r);
        }
        if (rows.isEmpty()) {
            b.append("<tr><td colspan=\"3\" class=\"empty\">No scheduled jobs.</td></tr>");
        }
        return b.append("</tbody></table></section>").toString();
    }

    /** One job's row: its name (a link to its page), its slots, and its chart of times. */
    static void row(StringBuilder b, PeriodGrid.Row r) {
        b.append("<tr data-grid-job=\"").append(esc(r.job())).append("\"><td class=\"job-name\"><a href=\"/jobs/").append(esc(r.job()))
                .append("\">").append(esc(r.job())).append("</a>")
                .append(r.deadline() == null ? "" : " <span class=\"muted small\">by " + esc(r.deadline()) + "</span>")
                .append("</td><td class=\"cells\">");
        for (PeriodGrid.Cell c : r.cells()) {
            cell(b, r.job(), c);
        }
        b.append("</td><td>").append(chart(r)).append("</td></tr>");
    }

    private static void cell(StringBuilder b, String job, PeriodGrid.Cell c) {
        String state = c.late() && !c.state().equals("succeeded") ? "late" : c.state();
        String title = (c.periodStart() == null ? "" : Html.absolute(c.periodStart()) + " → ") + Html.absolute(c.slot()) + ": "
                + c.state() + (c.late() ? ", past its deadline" : "");
        String classes = "cell cell-" + state;
        if (c.runId() != null) {
            b.append("<a class=\"").append(classes).append("\" href=\"/runs/").append(c.runId()).append("\" title=\"")
                    .append(esc(title)).append("\" data-state=\"").append(esc(state)).append("\"></a>");
        } else {
            b.append("<button type=\"button\" class=\"").append(classes).append("\" title=\"").append(esc(title + "; click to run it"))
                    .append("\" data-state=\"").append(esc(state)).append("\" data-post=\"/api/jobs/").append(esc(job))
                    .append("/trigger\" data-at=\"").append(esc(c.slot())).append("\" data-confirm=\"")
                    .append(esc("Run " + job + " for the slot " + Html.absolute(c.slot()) + "?")).append("\"></button>");
        }
    }

    /** A polyline of the times, scaled to the largest of them and the deadline; the deadline as a dashed line. */
    static String chart(PeriodGrid.Row r) {
        if (r.points().isEmpty()) {
            return "<span class=\"muted small\">no finished runs</span>";
        }
        long max = Math.max(1, r.points().stream().mapToLong(p -> p.took().toMillis()).max().orElse(1));
        if (r.deadlineOffset() != null) {
            max = Math.max(max, r.deadlineOffset().toMillis());
        }
        StringBuilder b = new StringBuilder("<svg class=\"chart\" role=\"img\" width=\"" + CHART_WIDTH + "\" height=\"" + CHART_HEIGHT
                + "\" viewBox=\"0 0 " + CHART_WIDTH + " " + CHART_HEIGHT + "\"><title>" + esc(r.job()) + ": last "
                + r.points().size() + " runs, longest " + esc(Html.span(Duration.ofMillis(max))) + "</title>");
        if (r.deadlineOffset() != null) {
            int y = y(r.deadlineOffset().toMillis(), max);
            b.append("<line class=\"deadline\" x1=\"0\" x2=\"").append(CHART_WIDTH).append("\" y1=\"").append(y).append("\" y2=\"")
                    .append(y).append("\" stroke=\"#c0392b\" stroke-dasharray=\"3 2\"/>");
        }
        int n = r.points().size();
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < n; i++) {
            PeriodGrid.Point p = r.points().get(i);
            int x = n == 1 ? CHART_WIDTH / 2 : 2 + i * (CHART_WIDTH - 4) / (n - 1);
            int y = y(p.took().toMillis(), max);
            line.append(x).append(',').append(y).append(' ');
            b.append("<circle cx=\"").append(x).append("\" cy=\"").append(y).append("\" r=\"2\" fill=\"")
                    .append(p.state().equals("succeeded") ? "#2e7d32" : "#c0392b").append("\"><title>run #").append(p.runId())
                    .append(": ").append(esc(Html.span(p.took()))).append("</title></circle>");
        }
        b.append("<polyline points=\"").append(line.toString().trim()).append("\" fill=\"none\" stroke=\"#5561a8\" stroke-width=\"1.5\"/>");
        return b.append("</svg>").toString();
    }

    private static int y(long ms, long max) {
        return CHART_HEIGHT - 2 - (int) (ms * (CHART_HEIGHT - 4) / max);
    }
}
