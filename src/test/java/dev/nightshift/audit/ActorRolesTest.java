package dev.nightshift.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** What each role may do, and what an actor's name may be. */
class ActorRolesTest {
    @Test
    void an_operator_triggers_cancels_retries_pauses_and_backfills_but_neither_overrides_guards_nor_changes_settings() {
        Actor op = new Actor("alice", Role.OPERATOR);
        for (Action a : new Action[] {Action.TRIGGER, Action.CANCEL, Action.RETRY, Action.PAUSE, Action.RESUME, Action.BACKFILL,
                Action.BACKFILL_CANCEL}) {
            assertThat(op.may(a)).as(a.dbName()).isTrue();
        }
        assertThat(op.may(Action.GUARD_OVERRIDE)).isFalse();
        assertThat(op.may(Action.SETTINGS)).isFalse();
        assertThatThrownBy(() -> op.require(Action.GUARD_OVERRIDE)).isInstanceOf(Actor.NotAllowedException.class)
                .hasMessage("'alice' has the role operator; guard-override needs admin");
        assertThat(new Actor("root", Role.ADMIN).may(Action.GUARD_OVERRIDE)).isTrue();
        assertThat(new Actor("viewer", Role.READ).may(Action.TRIGGER)).isFalse();
    }

    @Test
    void the_cli_acts_as_its_operating_system_user_with_the_admin_role() {
        Actor cli = Actor.cli();
        assertThat(cli.name()).startsWith("cli:").hasSizeGreaterThan(4);
        assertThat(cli.role()).isEqualTo(Role.ADMIN);
    }

    @Test
    void a_name_with_spaces_control_characters_or_markup_is_refused() {
        for (String bad : new String[] {"", " alice", "al ice", "<script>", "a\nb", "x".repeat(129), "-lead"}) {
            assertThatThrownBy(() -> new Actor(bad, Role.READ)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(new Actor("ops.alice@example.org", Role.READ).name()).isEqualTo("ops.alice@example.org");
    }
}
