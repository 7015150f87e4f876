package dev.nightshift.config;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The job catalog: the validated definitions of a jobs directory, looked up by name (read by
 * {@link CatalogLoader}: names unique, {@code after:} names known and free of cycles). Immutable.
 */
public final class JobCatalog {
    private final Map<String, JobDefinition> jobs;

    private JobCatalog(Map<String, JobDefinition> jobs) {
        this.jobs = Collections.unmodifiableMap(jobs);
    }

    public static JobCatalog of(List<JobDefinition> definitions) {
        Map<String, JobDefinition> m = new LinkedHashMap<>();
        definitions.forEach(d -> m.put(d.name(), d));
        return new JobCatalog(m);
    }

    /** Reads and validates the whole directory; throws {@link ConfigException} listing every problem. */
    public static JobCatalog load(Path dir) {
        return new JobCatalog(CatalogLoader.load(dir));
    }

    public List<JobDefinition> all() {
        return List.copyOf(jobs.values());
    }

    public Optional<JobDefinition> find(String name) {
        return Optional.ofNullable(jobs.get(name));
    }

    public int size() {
        return jobs.size();
    }
}
