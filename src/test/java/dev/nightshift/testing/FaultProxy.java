package dev.nightshift.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TCP proxy on 127.0.0.1 between clients and a PostgreSQL server, for injecting network faults
 * into real connections: {@link #loseCommitReply} lets the server commit a transaction and then
 * cuts the connection before the client reads the reply, as a network failure at that instant
 * would; {@link #blackhole} stops forwarding in both directions without closing anything, as a
 * network that drops every packet does (TCP keeps both ends' sockets open); {@link #degrade} adds
 * latency, delays as of lost and retransmitted packets, and random resets. Four threads per
 * connection (a reader and a sender each way); thread-safe.
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
    private final AtomicInteger lostReplies = new AtomicInteger();
    private volatile boolean closed;
    private volatile boolean blackholed;
    private volatile long latencyMs;
    private volatile double lossRate;
    private volatile double resetRate;
    private final AtomicInteger resets = new AtomicInteger();
    private final AtomicInteger losses = new AtomicInteger();

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

    /**
     * While on, nothing is forwarded either way and nothing is closed: bytes read stay in the proxy
     * (and then in the kernels' buffers) until it is off again, like TCP retransmitting after a
     * cut heals; a new connection is accepted but not connected onwards until then.
     */
    public void blackhole(boolean on) {
        blackholed = on;
        synchronized (this) {
            notifyAll();
        }
    }

    /**
     * Every chunk arrives {@code latencyMs} late; with probability {@code lossRate} a chunk is lost
     * once and arrives a retransmission timeout later (order kept, as TCP keeps it: the chunks
     * behind it wait); with probability {@code resetRate} a chunk instead resets its connection.
     * All zero: a plain proxy again.
     */
    public void degrade(long latencyMs, double lossRate, double resetRate) {
        this.latencyMs = latencyMs;
        this.lossRate = lossRate;
        this.resetRate = resetRate;
    }

    /** How many connections {@link #degrade} has reset. */
    public int resets() {
        return resets.get();
    }

    /** How many chunks {@link #degrade} has delayed as lost. */
    public int losses() {
        return losses.get();
    }

    /** Waits while the proxy is blackholed. */
    private void passBlackhole() throws InterruptedException {
        synchronized (this) {
            while (blackholed && !closed) {
                wait(100);
            }
        }
    }

    /** How many COMMIT replies the proxy has dropped. */
    public int lostReplies() {
        return lostReplies.get();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                start("fault-proxy-connect", () -> connect(client));
            } catch (IOException e) {
                if (!closed) {
                    System.err.println("fault proxy: " + e);
                }
            }
        }
    }

    private void connect(Socket client) {
        try {
            passBlackhole();
            Socket upstream = new Socket();
            sockets.add(upstream);
            upstream.connect(target, 5_000);
            Link link = new Link(client, upstream);
            start("fault-proxy-up", () -> link.clientToServer());
            start("fault-proxy-down", () -> link.serverToClient());
        } catch (IOException | InterruptedException e) {
            closeQuietly(client);
            if (!closed) {
                System.err.println("fault proxy: " + e);
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
        private final Set<String> commitStatements = ConcurrentHashMap.newKeySet();

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
            BlockingQueue<Chunk> queue = new LinkedBlockingQueue<>();
            start("fault-proxy-send", () -> send(queue, to));
            byte[] buf = new byte[16 * 1024];
            long lastDue = 0;
            try (InputStream in = from.getInputStream()) {
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
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    if (resetRate > 0 && random.nextDouble() < resetRate) {
                        resets.incrementAndGet();
                        reset();
                        return;
                    }
                    long delay = latencyMs;
                    if (lossRate > 0 && random.nextDouble() < lossRate) {
                        losses.incrementAndGet();
                        delay += Math.max(200, 2 * latencyMs);  // Linux's minimum retransmission timeout is 200 ms
                    }
                    lastDue = Math.max(lastDue, System.nanoTime() + delay * 1_000_000);
                    queue.add(new Chunk(Arrays.copyOf(buf, n), lastDue));
                }
            } catch (IOException e) {
                // the other side closed or the link was cut
            }
            queue.add(Chunk.END);
        }

        /** Writes each chunk when it is due and the proxy is not blackholed; closes both at the end. */
        private void send(BlockingQueue<Chunk> queue, Socket to) {
            try {
                OutputStream out = to.getOutputStream();
                for (Chunk c = queue.take(); c != Chunk.END; c = queue.take()) {
                    long wait = c.due() - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));   // the latency itself
                    }
                    passBlackhole();
                    out.write(c.bytes());
                    out.flush();
                }
                passBlackhole();
            } catch (IOException | InterruptedException e) {
                // the link was cut: close both
            }
            cut();
        }

        private void reset() {
            try {
                client.setSoLinger(true, 0);
                upstream.setSoLinger(true, 0);
            } catch (IOException e) {
                // already closed: the close below is all there is to do
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

    /** Bytes read from one side, to be written to the other at {@code due} (System.nanoTime). */
    private record Chunk(byte[] bytes, long due) {
        static final Chunk END = new Chunk(new byte[0], 0);
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
        blackhole(false);
        server.close();
        sockets.forEach(FaultProxy::closeQuietly);
    }
}
