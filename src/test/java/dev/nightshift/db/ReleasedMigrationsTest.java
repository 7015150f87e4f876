package dev.nightshift.db;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Released versioned migrations are never edited, and versions go up by one: the scripts of
 * db/migration against src/test/resources/db/released-migrations.txt, which each new migration
 * appends its line to (version, description, Flyway checksum).
 */
class ReleasedMigrationsTest {

    /** The released list's lines, "version description checksum", in file order. */
    private static List<String> released() throws Exception {
        List<String> lines = new ArrayList<>();
        try (InputStream in = ReleasedMigrationsTest.class.getResourceAsStream("/db/released-migrations.txt")) {
            assertThat(in).as("db/released-migrations.txt").isNotNull();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank() && !line.startsWith("#")) {
                    lines.add(line.trim());
                }
            }
        }
        return lines;
    }

    /** The versioned scripts of this build, as the same lines, by version. */
    private static List<String> scripts() throws Exception {
        List<SchemaVersion.Script> scripts = SchemaVersion.scripts();
        assertThat(scripts).as("every script of db/migration has a name Flyway reads").isNotNull();
        return scripts.stream().filter(s -> s.version() != null)
                .sorted((a, b) -> Integer.compare(Integer.parseInt(a.version()), Integer.parseInt(b.version())))
                .map(s -> s.version() + " " + s.description() + " " + s.checksum()).toList();
    }

    @Test
    void every_released_migration_is_as_released_and_every_versioned_script_is_listed() throws Exception {
        assertThat(scripts())
                .as("a released migration was edited (its checksum changed), removed or renamed, or a new one"
                        + " has no line in db/released-migrations.txt: add a new V<highest + 1> file instead")
                .containsExactlyElementsOf(released());
    }

    @Test
    void versions_are_whole_numbers_from_1_each_the_one_before_plus_one() throws Exception {
        List<String> scripts = SchemaVersion.scripts().stream().filter(s -> s.version() != null)
                .map(SchemaVersion.Script::version).toList();
        assertThat(scripts).allMatch(v -> v.matches("[1-9][0-9]*"), "a whole number");
        List<Integer> versions = scripts.stream().map(Integer::parseInt).sorted().toList();
        for (int i = 0; i < versions.size(); i++) {
            assertThat(versions.get(i)).as("version %d of %s", i + 1, versions).isEqualTo(i + 1);
        }
        List<Integer> listed = released().stream().map(l -> Integer.parseInt(l.split(" ")[0])).toList();
        for (int i = 0; i < listed.size(); i++) {
            assertThat(listed.get(i)).as("line %d of db/released-migrations.txt", i + 1).isEqualTo(i + 1);
        }
    }
}
