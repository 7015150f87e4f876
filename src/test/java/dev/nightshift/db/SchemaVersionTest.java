package dev.nightshift.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.nightshift.testing.TestDatabase;
import java.util.List;
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The short commands' check that Flyway has nothing to do; every doubt must answer "let Flyway look". */
@Tag("database")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SchemaVersionTest {
    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    @Order(1)
    void a_database_without_the_schema_is_behind() {
        assertThat(SchemaVersion.upToDate(db.dataSource())).isFalse();
    }

    @Test
    @Order(2)
    void after_flyway_migrated_the_schema_is_up_to_date_and_every_checksum_is_flyways() throws Exception {
        Flyway.configure().dataSource(db.dataSource()).schemas(Database.SCHEMA).createSchemas(true)
                .locations("classpath:" + SchemaVersion.LOCATION).load().migrate();
        assertThat(SchemaVersion.upToDate(db.dataSource())).isTrue();
        List<SchemaVersion.Script> scripts = SchemaVersion.scripts();
        assertThat(scripts).isNotEmpty();
        for (SchemaVersion.Script s : scripts) {
            assertThat(db.queryLong("SELECT checksum FROM nightshift.flyway_schema_history WHERE script = '" + s.file()
                    + "' ORDER BY installed_rank DESC LIMIT 1")).as(s.file()).isEqualTo(s.checksum());
        }
    }

    @Test
    @Order(3)
    void an_edited_repeatable_script_a_failed_migration_or_an_unknown_version_send_it_back_to_flyway() throws Exception {
        String repeatable = "type = 'SQL' AND version IS NULL";
        db.execute("UPDATE nightshift.flyway_schema_history SET checksum = checksum + 1 WHERE " + repeatable);
        assertThat(SchemaVersion.upToDate(db.dataSource())).isFalse();
        db.execute("UPDATE nightshift.flyway_schema_history SET checksum = checksum - 1 WHERE " + repeatable);
        assertThat(SchemaVersion.upToDate(db.dataSource())).isTrue();

        db.execute("UPDATE nightshift.flyway_schema_history SET success = false WHERE version = '1'");
        assertThat(SchemaVersion.upToDate(db.dataSource())).isFalse();
        db.execute("UPDATE nightshift.flyway_schema_history SET success = true WHERE version = '1'");

        db.execute("""
                INSERT INTO nightshift.flyway_schema_history
                    (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
                VALUES (1000, '999', 'from a newer build', 'SQL', 'V999__from_a_newer_build.sql', 1, 'test', 0, true)""");
        assertThat(SchemaVersion.upToDate(db.dataSource())).isFalse();
        db.execute("DELETE FROM nightshift.flyway_schema_history WHERE version = '999'");
        assertThat(SchemaVersion.upToDate(db.dataSource())).isTrue();
    }
}
