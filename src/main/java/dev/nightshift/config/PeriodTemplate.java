package dev.nightshift.config;

import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A text naming a run's logical time, such as a batch-import source
 * {@code data/artists-{period_start:yyyy-MM}.csv}: each {@code {NAME:PATTERN}} (NAME one of
 * scheduled_at, period_start, period_end; PATTERN a java.time pattern) is replaced by that time in
 * the period's zone. Stateless.
 */
public final class PeriodTemplate {
    public static final Set<String> NAMES = Set.of("scheduled_at", "period_start", "period_end");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([a-z_]+):([^{}]+)}");

    private PeriodTemplate() {
    }

    /** Whether the text names any logical time. */
    public static boolean uses(String text) {
        return PLACEHOLDER.matcher(text).find();
    }

    /** What is wrong with the text's placeholders; empty when each can be expanded. */
    public static List<String> problems(String text) {
        List<String> problems = new ArrayList<>();
        Matcher m = PLACEHOLDER.matcher(text);
        while (m.find()) {
            if (!NAMES.contains(m.group(1))) {
                problems.add("{" + m.group(1) + ":…} names no logical time; use scheduled_at, period_start or period_end");
                continue;
            }
            try {
                DateTimeFormatter.ofPattern(m.group(2));
            } catch (IllegalArgumentException e) {
                problems.add("{" + m.group(1) + ":" + m.group(2) + "}: not a date pattern (" + e.getMessage() + ")");
            }
        }
        return problems;
    }

    /**
     * The text with each placeholder replaced.
     *
     * @param times the run's logical times by name, each with the period zone's offset
     * @throws IllegalArgumentException a placeholder names a time the run does not have
     */
    public static String expand(String text, Map<String, OffsetDateTime> times) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            OffsetDateTime t = times.get(m.group(1));
            if (t == null) {
                throw new IllegalArgumentException("'" + text + "' names {" + m.group(1) + "}, but the run has no period "
                        + "(a scheduled run has one; trigger with --at to name a slot)");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(DateTimeFormatter.ofPattern(m.group(2)).format(t)));
        }
        m.appendTail(out);
        return out.toString();
    }
}
