package dev.nightshift.queue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The rules for a manual run's parameters and idempotency key, shared by the CLI and the HTTP API. */
public final class RunParams {
    /** A name that is also valid in {@code current_setting('nightshift.param.NAME')}. */
    public static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    public static final int MAX_VALUE = 8192;
    public static final int MAX_KEY = 200;
    /**
     * The parameter that lets a run pass its job's guards, its value naming who allowed it ("admin"
     * for the admin token). Set only by {@code trigger --override-guards} (HTTP: {@code "override_guards": true}),
     * never given as a parameter, so that the actor it records is the caller's.
     */
    public static final String OVERRIDE_GUARDS = "override_guards";

    private RunParams() {
    }

    /** Every problem with these parameters and key, in words fit for an operator; empty when valid. */
    public static List<String> problems(Map<String, String> params, String key) {
        List<String> problems = new ArrayList<>();
        params.forEach((k, v) -> {
            if (k.equals(OVERRIDE_GUARDS)) {
                problems.add("param " + k + ": reserved; use trigger --override-guards (HTTP: \"override_guards\": true)");
            }
            if (!NAME.matcher(k).matches()) {
                problems.add("param " + k + ": names are lower-case letters, digits and _, starting with a letter or _");
            }
            if (v == null) {
                problems.add("param " + k + ": value missing");
            } else if (v.length() > MAX_VALUE) {
                problems.add("param " + k + ": value longer than " + MAX_VALUE + " characters");
            } else if (v.indexOf('\0') >= 0) {
                problems.add("param " + k + ": value contains a NUL character");
            }
        });
        if (key != null && (key.isBlank() || key.length() > MAX_KEY)) {
            problems.add("key must be 1 to " + MAX_KEY + " characters");
        } else if (key != null && key.indexOf('\0') >= 0) {
            problems.add("key contains a NUL character");
        }
        return problems;
    }

    /** {@code params} with the guards overridden by {@code actor}. */
    public static Map<String, String> overridingGuards(Map<String, String> params, String actor) {
        Map<String, String> out = new java.util.LinkedHashMap<>(params);
        out.put(OVERRIDE_GUARDS, actor);
        return out;
    }
}
