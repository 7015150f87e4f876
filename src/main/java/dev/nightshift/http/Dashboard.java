package dev.nightshift.http;

import dev.nightshift.config.JobCatalog;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.schedule.JobView;
import java.util.List;
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
    private final JobCatalog catalog;
    /** Lines of the last run's log on a job's page. */
    static final int TAIL_LINES = 40;

    Dashboard(DataSource ds, String node, Backfills backfills, java.time.Clock clock, JobCatalog catalog) {
        this.catalog = catalog;
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
        r.get("/runs", this::runs);
        r.get("/jobs/(?<name>[^/]+)", this::job);
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

    /** Runs filtered by job and state, a page at a time. */
    private Response runs(Request r) throws Exception {
        RunsPage.Page p = RunsPage.Query.of(r).read(runs, null);
        List<String> names = jobs.list(true).stream().map(JobView::name).toList();
        return page(Html.page("Runs", node, RunsPage.render(p, names, runs.databaseNow())));
    }

    private Response job(Request r) throws Exception {
        String name = r.param("name");
        JobView job = jobs.find(name).orElseThrow(() -> new HttpError(404, "no job '" + name + "'"));
        RunsPage.Query q = RunsPage.Query.of(r);
        if (q.job() != null) {
            throw new HttpError(400, "job is this page's own: /jobs/" + name + " takes state, before and limit");
        }
        RunsPage.Page p = q.read(runs, name);
        PeriodGrid.Row row = grid.rows(GRID_SLOTS, 20).stream().filter(g -> g.job().equals(name)).findFirst().orElse(null);
        RunView last = job.lastRun() == null ? null : runs.find(job.lastRun().id()).orElse(null);
        List<RunLogStore.Line> tail = last == null ? List.of() : logs.tail(last.id(), TAIL_LINES);
        return page(Html.page("Job " + name, node, JobPage.render(job, catalog.find(name).orElse(null), row, p, last, tail,
                runs.databaseNow())));
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
