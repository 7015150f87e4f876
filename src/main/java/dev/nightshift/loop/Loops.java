package dev.nightshift.loop;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The node's background loops, for /readyz: a loop whose thread has ended while the node runs makes
 * the node not ready, by name. Each part of the node registers the loops it starts. Thread-safe.
 */
public final class Loops {
    private final List<Loop> loops = new CopyOnWriteArrayList<>();

    /** Registers {@code loop} and returns it. */
    public Loop add(Loop loop) {
        loops.add(loop);
        return loop;
    }

    /** The name of a loop that has died (see {@link Loop#dead()}), or null when every one runs. */
    public String dead() {
        return loops.stream().filter(Loop::dead).map(Loop::name).findFirst().orElse(null);
    }

    public List<String> names() {
        return loops.stream().map(Loop::name).toList();
    }

    /** The loop named {@code name}, or null. */
    Loop named(String name) {
        return loops.stream().filter(l -> l.name().equals(name)).findFirst().orElse(null);
    }

    /** Test hook: ends the thread of the loop named {@code name} as a bug would. */
    void killForTest(String name) {
        Loop l = named(name);
        if (l == null) {
            throw new IllegalArgumentException("no loop named " + name + "; loops: " + names());
        }
        l.killForTest();
    }
}
