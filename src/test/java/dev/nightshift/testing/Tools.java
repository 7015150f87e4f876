package dev.nightshift.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The external tools some tests use, where {@code .ci/ops-setup} puts them or on the PATH. A test
 * whose tool is missing skips (by assumption), so that a plain {@code mvn verify} passes on a
 * laptop; with {@code CI=true} it fails instead, so that a failed tool install cannot turn CI green
 * with the test skipped.
 */
public final class Tools {
    /** Where .ci/ops-setup extracts promtool from Debian's prometheus package. */
    public static final Path OPS_TOOLS = Path.of("/opt/nightshift-tools/bin");

    private Tools() {
    }

    /** The first executable {@code name} in {@link #OPS_TOOLS}, then on the PATH. */
    public static Optional<Path> find(String name) {
        Stream<Path> dirs = Stream.concat(Stream.of(OPS_TOOLS),
                Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                        .filter(s -> !s.isEmpty()).map(Path::of));
        return dirs.map(d -> d.resolve(name)).filter(Files::isExecutable).findFirst();
    }

    /** Skips the calling test when {@code present} is false, or fails it when the environment says CI=true. */
    public static void require(boolean present, String what) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            org.assertj.core.api.Assertions.assertThat(present).as(what + " is required when CI=true").isTrue();
        } else {
            org.assertj.core.api.Assumptions.assumeThat(present).as(what).isTrue();
        }
    }

    /** The tool {@code name} ({@link #find}), required as {@link #require} says. */
    public static Path required(String name, String hint) {
        Optional<Path> p = find(name);
        require(p.isPresent(), name + " (" + hint + ")");
        return p.get();
    }

    /** What a finished process printed (stdout and stderr merged) and its exit code. */
    public record Result(int exitCode, String output) {
    }

    /** Runs a command with {@code stdin} as its input; fails after two minutes. */
    public static Result run(List<String> command, Path dir, String stdin) {
        try {
            Process p = new ProcessBuilder(command).directory(dir == null ? null : dir.toFile()).redirectErrorStream(true).start();
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(2, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("timed out: " + command);
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
