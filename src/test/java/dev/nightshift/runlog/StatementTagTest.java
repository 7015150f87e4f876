package dev.nightshift.runlog;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The tag a run's log shows for each statement, as PostgreSQL names the command. */
class StatementTagTest {
    @Test
    void the_tag_is_the_commands_name_without_its_modifiers() {
        assertThat(StatementTag.of("insert into t values (1)")).isEqualTo("INSERT");
        assertThat(StatementTag.of("-- load\n/* twice */ UPDATE t SET a = 1")).isEqualTo("UPDATE");
        assertThat(StatementTag.of("CREATE OR REPLACE FUNCTION f() ...")).isEqualTo("CREATE FUNCTION");
        assertThat(StatementTag.of("create unique index concurrently i on t (a)")).isEqualTo("CREATE INDEX");
        assertThat(StatementTag.of("CREATE TEMP TABLE x AS SELECT 1")).isEqualTo("CREATE TABLE");
        assertThat(StatementTag.of("DROP TABLE IF EXISTS x")).isEqualTo("DROP TABLE");
        assertThat(StatementTag.of("REFRESH MATERIALIZED VIEW CONCURRENTLY v")).isEqualTo("REFRESH MATERIALIZED VIEW");
        assertThat(StatementTag.of("GRANT SELECT ON t TO r")).isEqualTo("GRANT");
        assertThat(StatementTag.of("DO $$ BEGIN END $$")).isEqualTo("DO");
        assertThat(StatementTag.of("(SELECT 1)")).isEqualTo("SELECT");
    }
}
