package dev.nightshift.jobs;

import dev.nightshift.config.JobDefinition;
import dev.nightshift.testing.JobsDir;
import dev.nightshift.testing.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;

/** An artists table, its import job and CSV files, one set per test (tables and directories named after it). */
final class ImportFixture {
    static final String HEADER = "ConstituentID,DisplayName,Nationality,Gender,BeginDate,EndDate\n";

    final TestDatabase db;
    final String name;
    final String table;
    final Path dir;

    ImportFixture(TestDatabase db, String name) throws SQLException, IOException {
        this.db = db;
        this.name = name;
        this.table = "imp." + name.replace('-', '_');
        this.dir = Files.createDirectories(db.tempDir().resolve("data-" + name));
        db.execute("CREATE SCHEMA IF NOT EXISTS imp");
        db.execute("CREATE TABLE " + table + " (constituent_id integer PRIMARY KEY, name text NOT NULL, nationality text,"
                + " gender text, begin_year integer, end_year integer)");
    }

    Path file(String fileName, String content) throws IOException {
        return Files.writeString(dir.resolve(fileName), content, StandardCharsets.UTF_8);
    }

    Path bytes(String fileName, byte[] content) throws IOException {
        return Files.write(dir.resolve(fileName), content);
    }

    /** The import job reading {@code source}; {@code params} adds indented params lines (e.g. "  mode: mirror\n"). */
    JobDefinition job(Path source, String params) {
        JobsDir jobs = new JobsDir(db.tempDir(), "jobs-" + name + "-" + Math.abs(params.hashCode()));
        jobs.file(name + ".yaml", "name: " + name + "\ntype: batch-import\nparams:\n"
                + "  source: " + source + "\n"
                + "  target: " + table + "\n"
                + "  key: [constituent_id]\n"
                + "  columns:\n"
                + "    ConstituentID: constituent_id\n"
                + "    DisplayName: name\n"
                + "    Nationality: nationality\n"
                + "    Gender: gender\n"
                + "    BeginDate: begin_year\n"
                + "    EndDate: end_year\n"
                + params);
        return DirectRun.definition(jobs.path(), name);
    }

    /** The whole table, ordered, one "a|b|c" string per row: compared before and after to prove nothing changed. */
    List<String> dump() throws SQLException {
        return db.rows("SELECT constituent_id, name, nationality, gender, begin_year, end_year, xmin FROM " + table
                + " ORDER BY constituent_id");
    }
}
