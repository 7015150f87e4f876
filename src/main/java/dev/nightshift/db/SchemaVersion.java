package dev.nightshift.db;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the schema already holds every migration of this build, answered by one query of
 * Flyway's history table, so that a short command skips Flyway (some 400 classes and a dozen
 * statements, half of a {@code nightshift runs}) when Flyway would have nothing to do. Only the
 * plain case answers true: each script of {@code db/migration} applied with success, under the
 * same description and checksum (Flyway's own: CRC32 of the lines without their line breaks),
 * and no applied version unknown to this build. Anything else (no history yet, a failed or newer
 * migration, an edited script, a script name it does not parse) answers false, and Flyway then
 * migrates, validates and fails exactly as before. Stateless.
 */
public final class SchemaVersion {
    static final String LOCATION = "db/migration";
    private static final Pattern NAME = Pattern.compile("(V|R)(\\d+(?:[._]\\d+)*)?__(.+)\\.sql");
    private static final Logger log = LoggerFactory.getLogger(SchemaVersion.class);

    /** A migration script as Flyway names it: version (null for a repeatable one), description, checksum. */
    record Script(String file, String version, String description, int checksum) {
    }

    private SchemaVersion() {
    }

    /** True when every migration of this build is applied as is; false when Flyway has to look. */
    public static boolean upToDate(DataSource ds) {
        List<Script> scripts;
        try {
            scripts = scripts();
        } catch (IOException | URISyntaxException e) {
            log.debug("migration scripts could not be listed, Flyway will: {}", e.toString());
            return false;
        }
        if (scripts == null || scripts.isEmpty()) {
            return false;
        }
        Map<String, String[]> versioned = new HashMap<>();
        Map<String, Integer> repeatable = new HashMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("""
                     SELECT version, description, type, checksum, success
                     FROM nightshift.flyway_schema_history
                     ORDER BY installed_rank""")) {
            while (r.next()) {
                if (!r.getBoolean("success")) {
                    return false;
                }
                if (!"SQL".equals(r.getString("type"))) {
                    continue;   // the schema-creation marker row
                }
                String version = r.getString("version");
                String description = r.getString("description");
                int checksum = r.getInt("checksum");
                if (version != null) {
                    versioned.put(version, new String[] {description, Integer.toString(checksum)});
                } else {
                    repeatable.put(description, checksum);   // the latest application wins, as in Flyway
                }
            }
        } catch (SQLException e) {
            // Why false and not an error: no history table yet (a new database) or no access; Flyway says which.
            log.debug("schema history not readable, Flyway will look: {}", e.getMessage());
            return false;
        }
        int versions = 0;
        for (Script sc : scripts) {
            if (sc.version() != null) {
                versions++;
                String[] applied = versioned.get(sc.version());
                if (applied == null || !applied[0].equals(sc.description()) || Integer.parseInt(applied[1]) != sc.checksum()) {
                    return false;
                }
            } else {
                Integer applied = repeatable.get(sc.description());
                if (applied == null || applied != sc.checksum()) {
                    return false;
                }
            }
        }
        return versions == versioned.size();
    }

    /**
     * Refuses a schema made by a pre-release build (before V1..V21 were squashed into the baseline):
     * its history holds a version 1 that is not this build's baseline (another description or
     * checksum). Nothing is changed. A schema with no history yet, or one this build cannot read,
     * passes: Flyway then creates it or says what is wrong.
     */
    static void refusePreRelease(DataSource ds, String where) {
        Script baseline;
        try {
            List<Script> scripts = scripts();
            baseline = scripts == null ? null
                    : scripts.stream().filter(sc -> "1".equals(sc.version())).findFirst().orElse(null);
        } catch (IOException | URISyntaxException e) {
            return;
        }
        if (baseline == null) {
            return;
        }
        String description;
        int checksum;
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("""
                     SELECT description, checksum FROM nightshift.flyway_schema_history
                     WHERE version = '1' AND type = 'SQL' ORDER BY installed_rank LIMIT 1""")) {
            if (!r.next()) {
                return;
            }
            description = r.getString(1);
            checksum = r.getInt(2);
        } catch (SQLException e) {
            return;   // no history table yet: a new database
        }
        if (description.equals(baseline.description()) && checksum == baseline.checksum()) {
            return;
        }
        throw new PreReleaseSchemaException(("the schema " + Database.SCHEMA + " on %s was made by a pre-release"
                + " build of nightshift (its migration history starts with V1 \"%s\", checksum %d; this release's"
                + " V1 is \"%s\", checksum %d): it cannot be upgraded, and nothing was changed. Recreate it:"
                + " stop every node; keep a copy of its runs, history and audit if you want them"
                + " (pg_dump --schema=nightshift -f nightshift-prerelease.sql); then, as the schema's owner,"
                + " DROP SCHEMA nightshift CASCADE; (it also drops the change-tracking triggers nightshift put"
                + " on the tables that skip_if_unchanged jobs read: their next runs put them back), and run"
                + " nightshift migrate (or start a node), which creates the schema anew")
                .formatted(where, description, checksum, baseline.description(), baseline.checksum()));
    }

    /** The scripts of {@code db/migration} on the class path; null when one has a name Flyway would read otherwise. */
    static List<Script> scripts() throws IOException, URISyntaxException {
        ClassLoader loader = SchemaVersion.class.getClassLoader();
        List<Script> scripts = new ArrayList<>();
        for (String file : files(loader)) {
            Matcher m = NAME.matcher(file);
            if (!m.matches() || (m.group(1).equals("V") == (m.group(2) == null))) {
                return null;
            }
            String version = m.group(2) == null ? null : m.group(2).replace('_', '.');
            try (InputStream in = loader.getResourceAsStream(LOCATION + "/" + file)) {
                if (in == null) {
                    return null;
                }
                scripts.add(new Script(file, version, m.group(3).replace('_', ' '), checksum(in)));
            }
        }
        return scripts;
    }

    private static List<String> files(ClassLoader loader) throws IOException, URISyntaxException {
        URL url = loader.getResource(LOCATION);
        List<String> names = new ArrayList<>();
        if (url == null) {
            return names;
        }
        if (url.getProtocol().equals("file")) {
            try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
                files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sql")).forEach(names::add);
            }
        } else if (url.getProtocol().equals("jar")) {
            String prefix = LOCATION + "/";
            Enumeration<JarEntry> entries = ((JarURLConnection) url.openConnection()).getJarFile().entries();
            while (entries.hasMoreElements()) {
                String n = entries.nextElement().getName();
                if (n.startsWith(prefix) && n.endsWith(".sql") && n.indexOf('/', prefix.length()) < 0) {
                    names.add(n.substring(prefix.length()));
                }
            }
        }
        return names;
    }

    /** Flyway's checksum of a script: CRC32 over its lines in UTF-8, without line breaks or a byte order mark. */
    static int checksum(InputStream in) throws IOException {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8), 4096)) {
            String line = r.readLine();
            if (line != null && line.startsWith("\uFEFF")) {
                line = line.substring(1);
            }
            for (; line != null; line = r.readLine()) {
                crc.update(line.getBytes(StandardCharsets.UTF_8));
            }
        }
        return (int) crc.getValue();
    }
}
