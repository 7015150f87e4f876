package dev.nightshift.cli;

import dev.nightshift.db.Database;
import dev.nightshift.json.Json;
import dev.nightshift.queue.RunQueries;
import dev.nightshift.queue.RunView;
import dev.nightshift.runlog.RunLogStore;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "logs", mixinStandardHelpOptions = true, description = {
        "Print a run's log: server notices, statements with their rows and durations, import phases, retries,",
        "and the daemon's lines about the run, over all its attempts.",
        "With --follow, print new lines as they come until the run ends; the exit code then says how it ended",
        "(0 succeeded, 1 dead or cancelled)."})
final class LogsCommand extends BaseCommand {
    private static final Set<String> ENDED = Set.of("succeeded", "dead", "cancelled");
    private static final int PAGE = 1_000;
    private static final Duration POLL = Duration.ofMillis(300);
    /**
     * How long a follower keeps reading once the run has ended: a node writes a run's last lines up to
     * a flush interval (0.2 s) after the end commits, so an ended run with a quiet second has said all.
     */
    private static final Duration AFTER_END = Duration.ofSeconds(1);

    @Parameters(index = "0", paramLabel = "RUN", description = "run id")
    String run;

    @Option(names = {"-f", "--follow"}, description = "keep printing new lines until the run ends")
    boolean follow;

    @Option(names = "--json", description = "one JSON object per line: seq, time, level, attempt, text")
    boolean json;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        long id = runId(run);
        try (Database db = openMigrated(settings())) {
            RunQueries runs = new RunQueries(db.dataSource());
            RunLogStore store = new RunLogStore(db.dataSource());
            RunView r = runs.find(id).orElseThrow(() -> new UsageException("no run " + id));
            long after = print(store, id, 0);
            if (!follow) {
                return Main.OK;
            }
            long endedAt = ENDED.contains(r.state()) ? System.nanoTime() : 0;
            while (true) {
                long before = after;
                after = print(store, id, after);
                if (endedAt != 0 && after == before && System.nanoTime() - endedAt >= AFTER_END.toNanos()) {
                    return r.state().equals("succeeded") ? Main.OK : Main.FAILED;
                }
                if (endedAt == 0) {
                    r = runs.find(id).orElseThrow(() -> new UsageException("run " + id + " was deleted while it was followed"));
                    if (ENDED.contains(r.state())) {
                        endedAt = System.nanoTime();
                    }
                }
                Thread.sleep(POLL.toMillis());
            }
        }
    }

    /** Prints every line after {@code after}; returns the last seq printed (or {@code after}). */
    private long print(RunLogStore store, long id, long after) throws Exception {
        while (true) {
            List<RunLogStore.Line> lines = store.after(id, after, PAGE);
            for (RunLogStore.Line l : lines) {
                if (json) {
                    out().println(Json.write(l));
                } else {
                    out().printf("%s %-7s [%d] %s%n", l.time(), l.level(), l.attempt(), l.text());
                }
                after = l.seq();
            }
            out().flush();
            if (lines.size() < PAGE) {
                return after;
            }
        }
    }
}
