package dev.nightshift.jobs;

import dev.nightshift.config.ImportParams;
import dev.nightshift.config.JobDefinition;
import dev.nightshift.config.JobKind;
import dev.nightshift.config.PeriodTemplate;
import dev.nightshift.config.RemoteSource;
import java.net.URI;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The {@code source} parameter of a batch-import run ("the partner re-sent the March file"): one
 * file to import instead of the configured source. Only a regular file inside the job's source
 * directory (the directory itself, the one holding the file, or the one of the glob), or inside a
 * directory of {@code allowed_sources}, subdirectories included, is accepted, judged on the real
 * path (symbolic links followed), and the file is never opened to decide. Checked when the run is
 * triggered (CLI, HTTP) and again by the worker that executes it, which is the authority. Stateless.
 */
public final class AimedSource {
    /** The run parameter that aims a batch-import at one file. */
    public static final String PARAM = "source";

    private AimedSource() {
    }

    /** Why a path is refused. */
    public static final class RefusedException extends Exception {
        RefusedException(String message) {
            super(message);
        }
    }

    /** Whether runs of this job read {@code source} as a file to import (other types only see it as a setting). */
    public static boolean applies(JobDefinition d) {
        return d.kind() == JobKind.BATCH_IMPORT;
    }

    /**
     * The real path of the file {@code requested} names, if the job may read it. A relative path is
     * taken from the job's source directory.
     */
    public static Path check(JobDefinition d, String requested) throws RefusedException {
        if (!(d.params() instanceof ImportParams p)) {
            throw new RefusedException("param source: job " + d.name() + " is not a batch-import; it reads no file");
        }
        if (RemoteSource.isUrl(requested)) {
            checkUrl(p, requested.strip());
            return null;
        }
        if (p.remoteSource()) {
            throw new RefusedException("param source: this job's source is a URL; give a URL inside its directory or allowed_sources");
        }
        List<Path> dirs = allowedDirectories(p);
        if (requested == null || requested.isBlank()) {
            throw new RefusedException("param source: empty; give a file inside " + list(dirs));
        }
        Path asked;
        try {
            asked = dirs.get(0).resolve(requested).normalize();
        } catch (InvalidPathException e) {
            throw new RefusedException("param source: not a valid path: " + e.getMessage());
        }
        if (dirs.stream().noneMatch(asked::startsWith)) {
            throw new RefusedException("param source: " + requested + " is outside " + list(dirs)
                    + "; only files there (or in allowed_sources) can be imported: refused, nothing read");
        }
        Path real;
        try {
            real = asked.toRealPath();
        } catch (NoSuchFileException e) {
            throw new RefusedException("param source: " + asked + ": file not found");
        } catch (IOException e) {
            throw new RefusedException("param source: " + asked + ": " + e.getMessage());
        }
        List<Path> realDirs = new ArrayList<>();
        for (Path dir : dirs) {
            try {
                realDirs.add(dir.toRealPath());
            } catch (IOException e) {
                // a directory that does not exist holds no file
            }
        }
        if (realDirs.stream().noneMatch(real::startsWith)) {
            throw new RefusedException("param source: " + requested + " leads through a symbolic link to " + real
                    + ", outside " + list(dirs) + ": refused, nothing read");
        }
        if (!Files.isRegularFile(real)) {
            throw new RefusedException("param source: " + requested + " is not a regular file ("
                    + (Files.isDirectory(real) ? "a directory" : "a device, FIFO or socket")
                    + "); give one file: refused, nothing read");
        }
        return real;
    }

    /**
     * A URL a run asks for: only one inside the job's source URL's directory (https) or an
     * allowed_sources prefix, so that a trigger cannot make a node fetch an internal address.
     * Nothing is fetched to decide.
     */
    private static void checkUrl(ImportParams p, String requested) throws RefusedException {
        if (p.remote() == null) {
            throw new RefusedException("param source: " + requested + " is a URL, and allowed_sources names no URL prefix:"
                    + " refused, nothing fetched");
        }
        URI u;
        try {
            u = RemoteSource.url(requested);
        } catch (IllegalArgumentException e) {
            throw new RefusedException("param source: " + e.getMessage());
        }
        URI own = null;
        if (p.remote().url() != null && !PeriodTemplate.uses(p.remote().url())) {
            own = RemoteSource.url(p.remote().url());
        }
        String refusal = p.remote().refusal(own, u);
        if (refusal != null) {
            throw new RefusedException("param source: " + refusal + ": refused, nothing fetched");
        }
    }

    /** The job's source directory, then each of allowed_sources; absolute and normalized. */
    static List<Path> allowedDirectories(ImportParams p) {
        List<Path> dirs = new ArrayList<>();
        Path source = p.source().toAbsolutePath().normalize();
        boolean glob = source.getFileName() != null && source.getFileName().toString().chars().anyMatch(ch -> "*?[{".indexOf(ch) >= 0);
        dirs.add(!glob && Files.isDirectory(source) ? source : source.getParent());
        p.allowedSources().forEach(a -> dirs.add(a.toAbsolutePath().normalize()));
        return dirs;
    }

    private static String list(List<Path> dirs) {
        return dirs.size() == 1 ? "the job's source directory " + dirs.get(0)
                : "the job's source directories " + dirs.stream().map(Path::toString).collect(Collectors.joining(", "));
    }
}
