package dev.nightshift.cli;

import dev.nightshift.db.Database;
import dev.nightshift.db.Tx;
import dev.nightshift.json.Json;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Lists the rows a batch-import run skipped ({@code on_bad_row: skip}), with file, line, reason and raw text. */
@Command(name = "rejects", mixinStandardHelpOptions = true,
        description = "List the rows a batch-import run rejected (on_bad_row: skip), in file and line order.")
final class RejectsCommand extends BaseCommand {
    @Parameters(index = "0", paramLabel = "RUN", description = "run id")
    String run;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "1000", description = "at most N rows (default 1000)")
    int limit;

    @Option(names = "--json", description = "a JSON array of {file, line, reason, raw}")
    boolean json;

    @Override
    public Integer call() throws Exception {
        quietLogs();
        long id = runId(run);
        if (limit < 1) {
            throw new UsageException("--limit must be at least 1, got " + limit);
        }
        try (Database db = openMigrated(settings())) {
            List<Map<String, Object>> rows = Tx.call(db.dataSource(), c -> {
                String sql = """
                        SELECT file_name, line, reason, raw FROM nightshift.import_reject
                        WHERE run_id = ? ORDER BY file_name, line LIMIT ?
                        """;
                List<Map<String, Object>> out = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement(sql)) {
                    ps.setLong(1, id);       // run_id
                    ps.setInt(2, limit);     // limit
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            Map<String, Object> m = new LinkedHashMap<>();
                            m.put("file", rs.getString(1));
                            m.put("line", rs.getLong(2));
                            m.put("reason", rs.getString(3));
                            m.put("raw", rs.getString(4));
                            out.add(m);
                        }
                    }
                }
                return out;
            });
            if (json) {
                out().println(Json.write(rows));
                return Main.OK;
            }
            if (rows.isEmpty()) {
                out().println("(no rejected rows for run " + id + ")");
            }
            for (Map<String, Object> r : rows) {
                out().println(r.get("file") + ":" + r.get("line") + ": " + r.get("reason"));
                out().println("    " + r.get("raw"));
            }
        }
        return Main.OK;
    }
}
