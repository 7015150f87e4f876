package dev.nightshift.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Identifiers from job definitions: what passes, what is refused and why, and how they are quoted. */
class IdentifiersTest {
    @Test
    void lower_case_names_up_to_63_characters_pass() {
        assertThat(Identifiers.checkName("artist")).isNull();
        assertThat(Identifiers.checkName("_x1$")).isNull();
        assertThat(Identifiers.checkName("a".repeat(63))).isNull();
    }

    @Test
    void anything_else_is_refused_with_the_rule() {
        for (String bad : new String[] {"Artist", "1st", "a b", "a;drop", "x\"y", "", "a".repeat(64)}) {
            assertThat(Identifiers.checkName(bad)).as(bad)
                    .isEqualTo("'" + bad + "' is not a valid identifier (lower-case letters, digits, _ and $, "
                            + "starting with a letter or _, at most 63 characters)");
        }
        assertThat(Identifiers.checkName(null)).startsWith("'null' is not a valid identifier");
    }

    @Test
    void a_qualified_name_has_exactly_two_valid_parts() {
        assertThat(Identifiers.checkQualified("moma.artist")).isNull();
        assertThat(Identifiers.checkQualified("artist")).isEqualTo("'artist' must be schema-qualified, as schema.table");
        assertThat(Identifiers.checkQualified("a.b.c")).isEqualTo("'a.b.c' must be schema-qualified, as schema.table");
        assertThat(Identifiers.checkQualified("moma.Artist")).startsWith("'Artist' in 'moma.Artist' is not a valid identifier");
        assertThat(Identifiers.checkQualified(null)).isEqualTo("a schema-qualified name (schema.table) is required");
    }

    @Test
    void quoting_wraps_each_part_in_double_quotes() {
        assertThat(Identifiers.quote("artist")).isEqualTo("\"artist\"");
        assertThat(Identifiers.quote("moma.artist")).isEqualTo("\"moma\".\"artist\"");
    }

    @Test
    void quoting_refuses_a_name_that_was_not_validated() {
        assertThatThrownBy(() -> Identifiers.quote("moma.\"x\"; drop table t"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a validated identifier");
    }
}
