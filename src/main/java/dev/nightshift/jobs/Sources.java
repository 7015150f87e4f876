package dev.nightshift.jobs;

import dev.nightshift.config.ImportParams;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The files a batch-import {@code source} names: one file, a directory's files, or a glob; in name
 * order. With {@code on_arrival} and a marker suffix, marker files are never data, and a file is
 * ready only when its marker exists and is not older than it.
 */
final class Sources {
    private Sources() {
    }

    static List<Path> files(Path source) throws IOException, JobFailedException {
        String last = source.getFileName() == null ? "" : source.getFileName().toString();
        if (last.chars().anyMatch(ch -> "*?[{".indexOf(ch) >= 0)) {
            Path dir = source.getParent();
            if (dir == null || !Files.isDirectory(dir)) {
                throw new JobFailedException("source directory not found: " + dir);
            }
            PathMatcher m = dir.getFileSystem().getPathMatcher("glob:" + last);
            return list(dir, p -> m.matches(p.getFileName()));
        }
        if (Files.isDirectory(source)) {
            return list(source, p -> !p.getFileName().toString().startsWith("."));
        }
        if (!Files.isRegularFile(source)) {
            throw new JobFailedException("source file not found: " + source);
        }
        return List.of(source);
    }

    /** The source's files without marker files (with on_arrival and a marker). */
    static List<Path> candidates(ImportParams p) throws IOException, JobFailedException {
        String marker = p.arrival() == null ? null : p.arrival().marker();
        List<Path> all = files(p.source());
        return marker == null ? all : all.stream().filter(f -> !f.getFileName().toString().endsWith(marker)).toList();
    }

    /** The files a run of the whole source imports: with a marker suffix, only those whose marker is current. */
    static List<Path> importable(ImportParams p) throws IOException, JobFailedException {
        String marker = p.arrival() == null ? null : p.arrival().marker();
        List<Path> c = candidates(p);
        return marker == null ? c : c.stream().filter(f -> markerCurrent(f, marker)).toList();
    }

    /** {@code data.csv.done} exists beside {@code data.csv} and was written after it (a rewritten file needs a new marker). */
    static boolean markerCurrent(Path file, String suffix) {
        Path marker = file.resolveSibling(file.getFileName() + suffix);
        try {
            return Files.getLastModifiedTime(marker).compareTo(Files.getLastModifiedTime(file)) >= 0;
        } catch (IOException e) {
            // no marker (or one we cannot read): the file is not ready yet, the next look will tell
            return false;
        }
    }

    /** Moves the file's marker beside the moved file, when there is one. */
    static void moveMarker(Path file, String suffix, String folder) throws IOException {
        Path marker = file.resolveSibling(file.getFileName() + suffix);
        if (Files.exists(marker)) {
            move(marker, folder);
        }
    }

    private static List<Path> list(Path dir, java.util.function.Predicate<Path> accept) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).filter(accept)
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    /** Moves a file into {@code processed/} or {@code failed/} beside it, replacing an older one of the same name. */
    static Path move(Path file, String folder) throws IOException {
        Path dir = Files.createDirectories(file.getParent().resolve(folder));
        return Files.move(file, dir.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
