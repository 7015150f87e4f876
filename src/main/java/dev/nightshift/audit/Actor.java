package dev.nightshift.audit;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Who acts: the name recorded on the runs and in the audit table, and the role that bounds what
 * the name may do. Made by the HTTP port from a named token or a trusted proxy's header, by the CLI
 * from the operating system's user ({@link #cli}), and passed down to whatever records the action.
 * Immutable.
 *
 * @param name   as recorded: a token's name, a proxy's user, {@code cli:<os user>}
 * @param role   what the name may do
 */
public record Actor(String name, Role role) {
    /** Letters, digits and {@code . _ @ : + -}, up to 128 characters: fit for a log line and a column. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}");

    /** The actor of the single admin token (NIGHTSHIFT_ADMIN_TOKEN). */
    public static final Actor ADMIN_TOKEN = new Actor("admin", Role.ADMIN);
    /** The actor of the single read token (NIGHTSHIFT_READ_TOKEN). */
    public static final Actor READ_TOKEN = new Actor("read", Role.READ);
    /** Whoever reaches the port when no read token is configured: reads only. */
    public static final Actor ANONYMOUS = new Actor("anonymous", Role.READ);

    public Actor {
        Objects.requireNonNull(role, "role");
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("an actor's name is 1-128 letters, digits and . _ @ : + -, starting with a"
                    + " letter or digit; got '" + name + "'");
        }
    }

    /**
     * The command line's actor: {@code cli:<os user>}. The CLI connects with the database's own
     * credentials, which can do anything an admin can; the operating system vouches for the user.
     */
    public static Actor cli() {
        String user = System.getProperty("user.name", "unknown").replaceAll("[^A-Za-z0-9._@+-]", "_");
        return new Actor("cli:" + (user.isEmpty() ? "unknown" : user), Role.ADMIN);
    }

    /** Whether this actor may do {@code action}. */
    public boolean may(Action action) {
        return role.atLeast(action.needs());
    }

    /** Returns normally when this actor may do {@code action}; throws {@link NotAllowedException} otherwise. */
    public void require(Action action) {
        if (!may(action)) {
            throw new NotAllowedException(this, action);
        }
    }

    /** An action beyond the actor's role. */
    public static final class NotAllowedException extends RuntimeException {
        public NotAllowedException(Actor actor, Action action) {
            super("'" + actor.name() + "' has the role " + actor.role().dbName() + "; " + action.dbName() + " needs "
                    + action.needs().dbName() + (action.needs() == Role.ADMIN ? "" : " or admin"));
        }
    }
}
