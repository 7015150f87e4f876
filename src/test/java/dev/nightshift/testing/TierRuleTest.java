package dev.nightshift.testing;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The database extension refuses a class outside the tiers that have a server (unit tier: no database touched). */
class TierRuleTest {
    static class Untagged {
    }

    @Tag("database")
    static class Database {
    }

    @Tag("process")
    static class Process {
    }

    static class InheritsTheTag extends Database {
    }

    @Tag("slow")
    static class OtherTagOnly {
    }

    @Test
    void an_untagged_class_is_refused_with_a_message_naming_it_and_the_tags() {
        assertThatThrownBy(() -> TestDatabase.requireTier(Untagged.class))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("TierRuleTest$Untagged uses a database but has neither @Tag(\"database\") nor @Tag(\"process\")");
        assertThatThrownBy(() -> TestDatabase.requireTier(OtherTagOnly.class)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void a_class_of_the_database_or_process_tier_is_accepted_also_by_inheritance() {
        assertThatCode(() -> TestDatabase.requireTier(Database.class)).doesNotThrowAnyException();
        assertThatCode(() -> TestDatabase.requireTier(Process.class)).doesNotThrowAnyException();
        assertThatCode(() -> TestDatabase.requireTier(InheritsTheTag.class)).doesNotThrowAnyException();
    }
}
