package dev.nightshift.http;

import dev.nightshift.loop.Loops;
import dev.nightshift.worker.Node;
import java.util.function.BooleanSupplier;

/**
 * Whether this node should receive traffic and count as up: started, its scheduler started, not
 * draining, every loop of the node running (the node's own and those of {@link Loops}), and the database answering. The database part is the node's
 * own measure: its LISTEN connection runs a one-statement check every rescue interval (2 s by
 * default) that must answer within 2 s, and a claim that loses its connection counts too; so a
 * probe costs no connection and cannot pile up while PostgreSQL is slow. Thread-safe.
 */
final class Readiness {

    /** The answer of /readyz. */
    record State(boolean ready, String reason) {
    }

    private final Node node;
    private final BooleanSupplier schedulerStarted;
    private final Loops loops;

    Readiness(Node node, BooleanSupplier schedulerStarted, Loops loops) {
        this.node = node;
        this.schedulerStarted = schedulerStarted;
        this.loops = loops;
    }

    State state() {
        String nodeState = node.readiness();
        if (nodeState.equals("starting") || nodeState.equals("draining")) {
            return new State(false, nodeState);
        }
        if (!schedulerStarted.getAsBoolean()) {
            return new State(false, "scheduler not started");
        }
        String dead = loops.dead();
        if (dead != null) {
            return new State(false, "loop " + dead + " ended");
        }
        return new State(node.ready(), nodeState);
    }
}
