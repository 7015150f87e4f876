package dev.nightshift.db;

import com.sun.security.auth.module.UnixSystem;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL refuses to run as root. When nightshift itself runs as root (containers, CI), the
 * embedded server's commands run as an unprivileged user instead ({@code postgres} if the system
 * has one, else {@code nobody}), through util-linux's setpriv, and its files are handed to that
 * user. Without root, nothing changes. Stateless; thread-safe.
 */
final class ServerUser {
    private static final Logger log = LoggerFactory.getLogger(ServerUser.class);
    private static final boolean ROOT = new UnixSystem().getUid() == 0;
    private static volatile String[] ids;

    private ServerUser() {
    }

    /** The command, run as the server user when we are root. */
    static List<String> wrap(List<String> cmd) {
        if (!ROOT) {
            return cmd;
        }
        String[] u = ids();
        List<String> out = new ArrayList<>(List.of("setpriv", "--reuid=" + u[0], "--regid=" + u[1], "--clear-groups", "--"));
        out.addAll(cmd);
        return out;
    }

    /** Gives {@code dir} and everything under it to the server user (root only). */
    static void handOver(Path dir) throws IOException {
        if (!ROOT) {
            return;
        }
        String[] u = ids();
        UserPrincipalLookupService lookup = dir.getFileSystem().getUserPrincipalLookupService();
        var owner = lookup.lookupPrincipalByName(u[2]);
        var group = lookup.lookupPrincipalByGroupName(u[3]);
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.toList()) {
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                PosixFileAttributeView v = Files.getFileAttributeView(p, PosixFileAttributeView.class);
                v.setOwner(owner);
                v.setGroup(group);
            }
        }
    }

    /**
     * Where the server's files go: under home, unless we are root and the server user cannot
     * reach home (e.g. under /root); then under /var/tmp, which survives reboots.
     */
    static Path placeRoot(Path wanted) {
        if (!ROOT || reachable(wanted)) {
            return wanted;
        }
        Path moved = Path.of("/var/tmp", "nightshift-" + Integer.toHexString(wanted.toString().hashCode()), "postgres");
        log.warn("running as root: the embedded PostgreSQL runs as user {} and cannot reach {}; its files are in {} instead",
                ids()[2], wanted, moved);
        return moved;
    }

    /** Every existing ancestor lets others pass (o+x). */
    private static boolean reachable(Path p) {
        for (Path a = p.getParent(); a != null; a = a.getParent()) {
            if (!Files.exists(a)) {
                continue;
            }
            try {
                if (!Files.getPosixFilePermissions(a).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                    return false;
                }
            } catch (IOException e) {
                // an ancestor we cannot inspect is one the server user cannot be trusted to traverse: place the data elsewhere
                return false;
            }
        }
        return true;
    }

    /** uid, gid, user name, group name of the server user. */
    private static String[] ids() {
        if (ids == null) {
            String user = exists("postgres") ? "postgres" : "nobody";
            ids = new String[] {id(user, "-u"), id(user, "-g"), user, id(user, "-gn")};
        }
        return ids;
    }

    private static boolean exists(String user) {
        try {
            Process p = new ProcessBuilder("id", "-u", user).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            // no `id` command to ask: treat the user as absent and fall back to the next candidate
            return false;
        } catch (InterruptedException e) {
            // stopping: keep the interrupt for the caller and answer conservatively
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static String id(String user, String flag) {
        try {
            Process p = new ProcessBuilder("id", flag, user).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("id " + flag + " " + user + " failed");
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
