package dev.nightshift.bench;

import dev.nightshift.cli.BaseCommand;
import dev.nightshift.cli.Main;
import dev.nightshift.cli.UsageException;
import dev.nightshift.config.CsvFormat;
import dev.nightshift.config.ImportParams;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.config.Settings;
import dev.nightshift.db.Database;
import dev.nightshift.jobs.DirectAttempt;
import dev.nightshift.metrics.Metrics;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.postgresql.PGConnection;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine;

/**
 * {@code nightshift bench import}: writes an artists-like CSV file of 9 columns, then measures in one
 * run raw COPY into an empty copy of the target (the floor) against nightshift's batch import: first
 * load, re-import with no change, re-import with 1% of the rows changed. Works in a schema of its
 * own, dropped at the end.
 */
@Command(name = "import", mixinStandardHelpOptions = true,
        description = "Measure batch-import against raw COPY (first load, no change, 1%% changed).")
final class BenchImportCommand extends BenchSubcommand {
    /** The benchmark's meters go nowhere. */
    private static final Metrics METRICS = Metrics.prometheus();
    private static final String SCHEMA = "nightshift_bench";
    private static final String JOB = "bench-import";

    @Option(names = "--rows", paramLabel = "N", defaultValue = "1000000", description = "rows in the file (default 1000000)")
    int rows;

    @Option(names = "--repeat", paramLabel = "N", defaultValue = "1", description = "rounds; each phase reports its best (default 1)")
    int repeat;

    @Option(names = "--dir", paramLabel = "DIR", description = "where to write the CSV files (default: a temporary directory)")
    Path dir;

    @Override
    public Integer call() throws Exception {
        BaseCommand.quietLogs();
        if (repeat < 1) {
            throw new UsageException("--repeat must be at least 1, got " + repeat);
        }
        if (rows < 100) {
            throw new UsageException("--rows must be at least 100, got " + rows);
        }
        Path work = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("nightshift-bench");
        Path base = work.resolve("artists-base.csv");
        Path changed = work.resolve("artists-changed.csv");
        var out = out();
        out.printf("writing %,d rows (9 columns) to %s%n", rows, work);
        write(base, false);
        write(changed, true);
        out.printf("file size %,d bytes; heap limit %,d MB%n", Files.size(base), Runtime.getRuntime().maxMemory() >> 20);
        Settings settings = settings();
        try (ScratchDatabase scratch = new ScratchDatabase(settings, "import");
             Database db = BaseCommand.openMigrated(scratch.settings(settings, Map.of()))) {
            run(db, base, changed, out);
        } finally {
            Files.deleteIfExists(base);
            Files.deleteIfExists(changed);
        }
        return Main.OK;
    }

    private void run(Database db, Path base, Path changed, java.io.PrintWriter out) throws Exception {
        exec(db, "DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE", "CREATE SCHEMA " + SCHEMA,
                "CREATE TABLE " + SCHEMA + ".artist (constituent_id integer PRIMARY KEY, name text NOT NULL, bio text,"
                        + " nationality text, gender text, begin_year integer, end_year integer, wiki_qid text, ulan text)",
                "CREATE TABLE " + SCHEMA + ".artist_copy (LIKE " + SCHEMA + ".artist INCLUDING ALL)");
        String[] phases = {"raw COPY (floor)", "nightshift first load", "nightshift no change", "nightshift 1% changed"};
        long[] best = {Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE};
        List<Map<String, Long>> counts = new java.util.ArrayList<>(java.util.Collections.nCopies(4, Map.<String, Long>of()));
        for (int round = 1; round <= repeat; round++) {
            exec(db, "TRUNCATE " + SCHEMA + ".artist_copy", "TRUNCATE " + SCHEMA + ".artist", "DELETE FROM nightshift.import_file WHERE job_name = '" + JOB + "'");
            long[] t = new long[4];
            t[0] = timed(db, () -> rawCopy(db, base));
            t[1] = timed(db, () -> counts.set(1, importOnce(db, definition(base))));
            // A re-import comes a month after the load, when autovacuum has long set the rows' hint bits
            // and statistics; without this the first reader after a bulk load pays for writing them.
            exec(db, "DELETE FROM nightshift.import_file WHERE job_name = '" + JOB + "'", "VACUUM ANALYZE " + SCHEMA + ".artist");
            t[2] = timed(db, () -> counts.set(2, importOnce(db, definition(base))));
            exec(db, "VACUUM ANALYZE " + SCHEMA + ".artist");
            t[3] = timed(db, () -> counts.set(3, importOnce(db, definition(changed))));
            out.printf("round %d: %s%n", round, java.util.Arrays.stream(t).mapToObj(x -> String.format("%.2fs", x / 1e9))
                    .collect(java.util.stream.Collectors.joining(" ")));
            for (int i = 0; i < 4; i++) {
                best[i] = Math.min(best[i], t[i]);
            }
        }
        out.printf("%nbest of %d round(s)%n%-28s %8s %7s  %s%n", repeat, "phase", "seconds", "x COPY", "counts");
        for (int i = 0; i < 4; i++) {
            out.printf("%-28s %8.2f %7.2f  %s%n", phases[i], best[i] / 1e9, (double) best[i] / best[0], i == 0 ? "" : counts.get(i));
        }
        out.printf("peak heap used: %,d MB (limit %,d MB)%n", peakHeap() >> 20, Runtime.getRuntime().maxMemory() >> 20);
    }

    private long timed(Database db, SqlAction a) throws Exception {
        checkpoint(db);
        long start = System.nanoTime();
        a.run();
        return System.nanoTime() - start;
    }

    private interface SqlAction {
        void run() throws Exception;
    }

    private static void rawCopy(Database db, Path file) throws SQLException, IOException {
        try (Connection c = db.dataSource().getConnection(); InputStream in = Files.newInputStream(file)) {
            c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + SCHEMA + ".artist_copy FROM STDIN WITH (FORMAT csv, HEADER true)", in, 1 << 16);
        }
    }

    private static JobDefinition definition(Path file) {
        ImportParams p = new ImportParams(file, SCHEMA + ".artist", List.of("constituent_id"), Map.of(), CsvFormat.DEFAULT,
                ImportParams.Mode.UPSERT, false, false, List.of(), null, null);
        return JobDefinition.builder(JOB, p).description("benchmark").maxAttempts(1).backoff(Duration.ofSeconds(1)).file(file)
                .build();
    }

    /** One attempt of the import on its own connection, committed, as the worker runs it. */
    private static Map<String, Long> importOnce(Database db, JobDefinition def) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            return new DirectAttempt(0, def, c, METRICS, null).run();
        }
    }

    /** A deterministic artists-like file; {@code changed} alters the bio and end year of 1 row in 100. */
    private void write(Path file, boolean changed) throws IOException {
        String[] nationalities = {"American", "French", "German", "Japanese", "Mexican", "Nigerian", "Polish", "Swedish"};
        try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            w.write("constituent_id,name,bio,nationality,gender,begin_year,end_year,wiki_qid,ulan\n");
            StringBuilder b = new StringBuilder(256);
            for (int i = 1; i <= rows; i++) {
                boolean alter = changed && i % 100 == 0;
                int born = 1850 + i % 150;
                String nat = nationalities[i % nationalities.length];
                Integer died = i % 3 == 0 ? null : born + 40 + i % 50 + (alter ? 1 : 0);
                b.setLength(0);
                b.append(i).append(",Artist ").append(i).append(",\"").append(nat).append(", ").append(born)
                        .append(died == null ? "" : "–" + died).append(alter ? " (revised)" : "").append("\",").append(nat).append(',')
                        .append(i % 2 == 0 ? "Female" : "Male").append(',').append(born).append(',')
                        .append(died == null ? "" : died.toString()).append(",Q").append(1_000_000 + i).append(',')
                        .append(500_000_000 + i).append('\n');
                w.append(b);
            }
        }
    }

    private static void exec(Database db, String... sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
            for (String s : sql) {
                st.execute(s);
            }
        }
    }

    /** Starts each phase without the previous one's dirty pages; needs pg_checkpoint or superuser, else skipped. */
    private static void checkpoint(Database db) {
        try {
            exec(db, "CHECKPOINT");
        } catch (SQLException ignored) {
            // without the privilege the phases still run, with a little more noise
        }
    }

    private static long peakHeap() {
        return ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP)
                .mapToLong(p -> p.getPeakUsage().getUsed()).sum();
    }
}
