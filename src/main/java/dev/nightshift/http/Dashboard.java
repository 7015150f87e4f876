package dev.nightshift.http;

import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunView;
import dev.nightshift.runlog.RunLogStore;
import dev.nightshift.schedule.Backfills;
import dev.nightshift.schedule.JobListing;
import dev.nightshift.schedule.Lateness;
import dev.nightshift.schedule.PeriodGrid;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The dashboard at /: server-rendered pages, a stylesheet and a small script from the jar (no build
 * step, nothing from a CDN). Pages only read; the script sends actions to the JSON API with the
 * admin token, which the browser keeps in sessionStorage. Thread-safe.
 */
final class Dashboard {
    /** Nothing inline and nothing from elsewhere: an injected tag could neither run nor load anything. */
    static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    private static final Map<String, String> ASSETS = Map.of(
            "dashboard.css", "text/css; charset=utf-8",
            "dashboard.js", "text/javascript; charset=utf-8");

    private final JobListing jobs;
    private final RunQueries runs;
    private final String node;
    private final Backfills backfills;
    private final Lateness lateness;
    private final PeriodGrid grid;
    /** Slots per job in the period grid. */
    static final int GRID_SLOTS = 14;
    /** Lines of a run's log its page shows (the newest); the CLI and the API give them all. */
    static final int LOG_LINES = 2_000;
    private final RunLogStore logs;

    Dashboard(DataSource ds, String node, Backfills backfills, java.time.Clock clock) {
        this.lateness = new Lateness(ds, clock);
        this.grid = new PeriodGrid(ds, clock);
        this.backfills = backfills;
        this.jobs = new JobListing(ds, clock);
        this.runs = new RunQueries(ds);
        this.logs = new RunLogStore(ds);
        this.node = node;
    }

    void routes(Router r) {
        r.get("/", this::overview);
        r.get("/runs/(?<id>[0-9]{1,18})", this::run);
        r.get("/static/(?<name>[a-z.]+)", this::asset);
    }

    private Response overview(Request r) throws Exception {
        Instant now = runs.databaseNow();
        String main = OverviewPage.render(jobs.all(), runs.list(null, "running", null, 100), runs.recentFailures(15),
                runs.list(null, null, null, 25), now)
                + GridSection.render(grid.rows(GRID_SLOTS, 20))
                + BackfillSection.render(backfills.list(10), now);
        return page(Html.page("Overview", node, main));
    }

    private Response run(Request r) throws Exception {
        long id = Long.parseLong(r.param("id"));
        RunView v = runs.find(id).orElseThrow(() -> new HttpError(404, "no run " + id));
        Lateness.Late late = v.scheduledAt() == null ? null : lateness.all().get(v.job());
        boolean pastDeadline = late != null && late.slots().contains(v.scheduledAt());
        return page(Html.page("Run " + id, node, RunPage.render(v, runs.databaseNow(), pastDeadline ? late.deadline() : null,
                logs.tail(id, LOG_LINES))));
    }

    private static Response page(String html) {
        return Response.html(html).withHeader("Content-Security-Policy", CSP).withHeader("X-Frame-Options", "DENY")
                .withHeader("Referrer-Policy", "no-referrer");
    }

    private Response asset(Request r) {
        String name = r.param("name");
        String type = ASSETS.get(name);
        if (type == null) {
            throw new HttpError(404, "no such asset");
        }
        try (InputStream in = Dashboard.class.getResourceAsStream("dashboard/" + name)) {
            if (in == null) {
                throw new HttpError(404, "no such asset");
            }
            return new Response(200, type, in.readAllBytes(), Map.of());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
