package dev.nightshift.jobs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** The files a batch-import {@code source} names: one file, a directory's files, or a glob; in name order. */
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
