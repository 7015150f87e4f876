package dev.nightshift.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Loads a jobs directory: every {@code *.yaml} / {@code *.yml} file read by a {@link DefinitionReader},
 * then the checks across files (names unique, {@code after:} names known and free of cycles). Every
 * problem of every file is collected before one {@link ConfigException} reports them all.
 */
final class CatalogLoader {
    private final List<String> problems = new ArrayList<>();
    private final Map<String, JobDefinition> byName = new LinkedHashMap<>();
    private final Map<String, Integer> afterLines = new HashMap<>();

    private CatalogLoader() {
    }

    /** The definitions of {@code dir} by name, in file name order; throws {@link ConfigException} listing every problem. */
    static Map<String, JobDefinition> load(Path dir) {
        CatalogLoader loader = new CatalogLoader();
        ScheduleReader schedules = new ScheduleReader(new CalendarFiles(dir, loader.problems));
        for (Path f : files(dir)) {
            loader.add(f, schedules);
        }
        loader.checkAfter();
        if (!loader.problems.isEmpty()) {
            throw new ConfigException(loader.problems);
        }
        return loader.byName;
    }

    private static List<Path> files(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new ConfigException(dir + ": jobs directory not found (set NIGHTSHIFT_JOBS_DIR or --jobs-dir)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches(".*\\.ya?ml"))
                    .filter(Files::isRegularFile)
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new ConfigException(dir + ": cannot list jobs directory: " + e.getMessage());
        }
    }

    private void add(Path f, ScheduleReader schedules) {
        DefinitionReader reader = new DefinitionReader(f, problems, schedules);
        JobDefinition d = reader.read();
        if (d == null) {
            return;
        }
        JobDefinition earlier = byName.putIfAbsent(d.name(), d);
        if (earlier != null) {
            problems.add(f + ":" + reader.nameLine + ": job name '" + d.name() + "' is already used by " + earlier.file());
        }
        afterLines.put(d.name(), reader.afterLine);
    }

    /** Every after: name is a job of the catalog, and the after: edges have no cycle (the first one found is reported). */
    private void checkAfter() {
        for (JobDefinition d : byName.values()) {
            for (String a : upstream(d)) {
                if (!byName.containsKey(a)) {
                    problems.add(d.file() + ":" + afterLines.get(d.name()) + ": after: unknown job '" + a + "'");
                }
            }
        }
        Map<String, Integer> state = new HashMap<>();
        for (String name : byName.keySet()) {
            List<String> path = new ArrayList<>();
            if (cycle(name, state, path)) {
                JobDefinition d = byName.get(path.get(0));
                problems.add(d.file() + ":" + afterLines.get(d.name()) + ": after: cycle " + String.join(" -> ", path));
                return;
            }
        }
    }

    private static List<String> upstream(JobDefinition d) {
        List<String> all = new ArrayList<>(d.after());
        all.addAll(d.afterAll());
        return all;
    }

    /** Depth-first search over after: edges; 1 = on the current path, 2 = done. */
    private boolean cycle(String name, Map<String, Integer> state, List<String> path) {
        Integer s = state.get(name);
        if (s != null && s == 2) {
            return false;
        }
        if (s != null && s == 1) {
            int from = path.indexOf(name);
            List<String> loop = new ArrayList<>(path.subList(from, path.size()));
            loop.add(name);
            path.clear();
            path.addAll(loop);
            return true;
        }
        JobDefinition d = byName.get(name);
        if (d == null) {
            return false;
        }
        state.put(name, 1);
        path.add(name);
        for (String a : upstream(d)) {
            if (cycle(a, state, path)) {
                return true;
            }
        }
        path.remove(path.size() - 1);
        state.put(name, 2);
        return false;
    }
}
