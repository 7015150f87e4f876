package dev.nightshift.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes job definition files into a fresh directory for a test. */
public final class JobsDir {
    private final Path dir;

    public JobsDir(Path parent, String name) {
        try {
            this.dir = Files.createDirectories(parent.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path path() {
        return dir;
    }

    /** Writes {@code <name>.yaml} with exactly this text. */
    public JobsDir file(String fileName, String text) {
        try {
            Files.writeString(dir.resolve(fileName), text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** A transactional sql job; {@code extra} is more top-level YAML (e.g. "concurrency: 4\n"). */
    public JobsDir sql(String name, String sql, String extra) {
        StringBuilder b = new StringBuilder();
        b.append("name: ").append(name).append('\n');
        b.append("type: sql\n");
        b.append(extra == null ? "" : extra);
        b.append("params:\n  sql: |\n");
        for (String line : sql.split("\n")) {
            b.append("    ").append(line).append('\n');
        }
        return file(name + ".yaml", b.toString());
    }
}
