package dev.nightshift.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TCP proxy on 127.0.0.1 between clients and a PostgreSQL server, for injecting network faults
 * into real connections: {@link #loseCommitReply} lets the server commit a transaction and then
 * cuts the connection before the client reads the reply, as a network failure at that instant
 * would. Two threads per connection; thread-safe.
 */
public final class FaultProxy implements AutoCloseable {
    /** A Parse message naming a prepared COMMIT: 'P', its length, the statement's name, the text. */
    private static final Pattern NAMED_COMMIT = Pattern.compile("P.{4}(S_\\d+)\u0000COMMIT\u0000", Pattern.DOTALL);
    /** A Bind message of a named statement to the unnamed portal. */
    private static final Pattern BIND = Pattern.compile("B.{4}\u0000(S_\\d+)\u0000", Pattern.DOTALL);
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    /** Text that arms the fault when a client sends it; the next COMMIT after it loses its reply. */
    private final AtomicReference<String> commitAfter = new AtomicReference<>();
    private final java.util.concurrent.atomic.AtomicInteger lostReplies = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closed;

    public FaultProxy(String targetHost, int targetPort) throws IOException {
        this.target = new InetSocketAddress(targetHost, targetPort);
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(this::accept, "fault-proxy-accept");
        t.setDaemon(true);
        t.start();
    }

    /** The proxy's port on 127.0.0.1. */
    public int port() {
        return server.getLocalPort();
    }

    /** {@code jdbcUrl} (a URL of the target server) rewritten to go through this proxy. */
    public String url(String jdbcUrl) {
        return jdbcUrl.replaceFirst("//[^/]+/", "//127.0.0.1:" + port() + "/");
    }

    /**
     * Once a client sends {@code marker} (e.g. the text of an INSERT), the reply to its next COMMIT
     * is dropped and that connection is cut: the server has committed, the client sees a broken
     * connection. Fires once.
     */
    public void loseCommitReply(String marker) {
        commitAfter.set(marker);
    }

    /** How many COMMIT replies the proxy has dropped. */
    public int lostReplies() {
        return lostReplies.get();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket upstream = new Socket();
                upstream.connect(target, 5_000);
                sockets.add(client);
                sockets.add(upstream);
                Link link = new Link(client, upstream);
                start("fault-proxy-up", () -> link.clientToServer());
                start("fault-proxy-down", () -> link.serverToClient());
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("fault proxy: " + e);
                }
            }
        }
    }

    private static void start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    /** One proxied connection. */
    private final class Link {
        private final Socket client;
        private final Socket upstream;
        private volatile boolean marked;
        private volatile boolean commitSent;
        private final java.util.Set<String> commitStatements = java.util.concurrent.ConcurrentHashMap.newKeySet();

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void clientToServer() {
            pump(client, upstream, true);
        }

        void serverToClient() {
            pump(upstream, client, false);
        }

        private void pump(Socket from, Socket to, boolean up) {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    if (up) {
                        watch(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                    } else if (commitSent) {
                        // the server's answer to COMMIT: it has committed; the client never hears it
                        lostReplies.incrementAndGet();
                        cut();
                        return;
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // the other side closed or the link was cut: close both
            }
            cut();
        }

        /**
         * Follows the client's messages closely enough to see a COMMIT: sent as text, or (pgjdbc
         * prepares a statement it runs often) as a Bind of the named statement it was parsed as.
         */
        private void watch(String sent) {
            Matcher parsed = NAMED_COMMIT.matcher(sent);
            while (parsed.find()) {
                commitStatements.add(parsed.group(1));
            }
            String marker = commitAfter.get();
            if (!marked && marker != null && sent.contains(marker) && commitAfter.compareAndSet(marker, null)) {
                marked = true;
            } else if (marked && isCommit(sent)) {
                commitSent = true;
            }
        }

        private boolean isCommit(String sent) {
            if (sent.contains("COMMIT\0")) {
                return true;
            }
            Matcher bind = BIND.matcher(sent);
            while (bind.find()) {
                if (commitStatements.contains(bind.group(1))) {
                    return true;
                }
            }
            return false;
        }

        private void cut() {
            closeQuietly(client);
            closeQuietly(upstream);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already closed: nothing more to release
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        sockets.forEach(FaultProxy::closeQuietly);
    }
}
