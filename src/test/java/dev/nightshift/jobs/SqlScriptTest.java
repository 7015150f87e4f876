package dev.nightshift.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SqlScriptTest {
    @Test
    void splits_at_top_level_semicolons_only_and_keeps_start_lines() {
        String script = """
                -- a comment; with a semicolon
                CREATE TABLE t (a text DEFAULT 'x;y', "we;ird" int);

                /* block ; /* nested ; */ still comment */
                INSERT INTO t VALUES (E'it\\'s;', 1);
                CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$
                BEGIN
                  RETURN 1; -- inside
                END $body$;
                DO $$ BEGIN PERFORM 1; END $$
                """;
        List<SqlScript.Statement> s = SqlScript.split(script);
        assertThat(s).extracting(SqlScript.Statement::line).containsExactly(2, 5, 6, 10);
        assertThat(s.get(0).sql()).isEqualTo("CREATE TABLE t (a text DEFAULT 'x;y', \"we;ird\" int)");
        assertThat(s.get(1).sql()).isEqualTo("INSERT INTO t VALUES (E'it\\'s;', 1)");
        assertThat(s.get(2).sql()).startsWith("CREATE FUNCTION f()").endsWith("END $body$");
        assertThat(s.get(3).sql()).isEqualTo("DO $$ BEGIN PERFORM 1; END $$");
    }

    @Test
    void an_empty_or_comment_only_script_has_no_statements() {
        assertThat(SqlScript.split("  -- nothing\n /* at all */ ; ;")).isEmpty();
    }

    @Test
    void positional_parameters_are_not_dollar_quotes() {
        assertThat(SqlScript.split("PREPARE p AS SELECT $1; EXECUTE p(1)")).hasSize(2);
    }
}
