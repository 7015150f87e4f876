package dev.nightshift.http;

import static dev.nightshift.http.Html.esc;
import static dev.nightshift.http.Html.when;

import dev.nightshift.schedule.BackfillView;
import java.time.Instant;
import java.util.List;

/** The dashboard's backfills: each one's range, state and progress bar, and a button to cancel it. Stateless. */
final class BackfillSection {
    private BackfillSection() {
    }

    static String render(List<BackfillView> backfills, Instant now) {
        StringBuilder b = new StringBuilder("<section><h2>Backfills</h2><table class=\"grid\" id=\"backfills\"><thead><tr>"
                + "<th>Backfill</th><th>Job</th><th>Slots in</th><th>State</th><th>Progress</th><th>Started</th>"
                + "<th class=\"actions\"></th></tr></thead><tbody>");
        for (BackfillView v : backfills) {
            b.append("<tr data-backfill-id=\"").append(v.id()).append("\"><td>#").append(v.id()).append("</td><td>")
                    .append(esc(v.job())).append("</td><td class=\"small\">").append(esc(Html.absolute(v.from()))).append(" – ")
                    .append(esc(Html.absolute(v.to()))).append("</td><td>").append(Html.state(v.state()))
                    .append("</td><td><progress max=\"").append(Math.max(1, v.slots())).append("\" value=\"").append(v.settled())
                    .append("\"></progress> <span class=\"small\">").append(v.settled()).append('/').append(v.slots())
                    .append(": ").append(v.succeeded()).append(" succeeded, ").append(v.failed()).append(" failed, ")
                    .append(v.waiting() + v.pending()).append(" waiting, ").append(v.running()).append(" running")
                    .append(v.skipped() == 0 ? "" : ", " + v.skipped() + " left alone").append("</span></td><td>")
                    .append(when(v.createdAt(), now)).append("</td><td class=\"actions\">")
                    .append(v.state().equals("active") ? Html.action("Cancel", "/api/backfills/" + v.id() + "/cancel", "danger",
                            "Cancel backfill " + v.id() + " and its waiting runs?") : "")
                    .append("</td></tr>");
        }
        if (backfills.isEmpty()) {
            b.append("<tr><td colspan=\"7\" class=\"empty\">No backfills: start one from a scheduled job's Backfill button.</td></tr>");
        }
        return b.append("</tbody></table></section>").toString();
    }
}
