package dev.nightshift.jobs;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;

/** A reader that counts a table's rows in a loop, remembering the smallest count and any error. */
final class ReaderThread implements AutoCloseable {
    final AtomicLong reads = new AtomicLong();
    final AtomicLong smallest = new AtomicLong(Long.MAX_VALUE);
    final AtomicReference<Throwable> error = new AtomicReference<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Thread thread;

    ReaderThread(DataSource ds, String countSql) {
        thread = new Thread(() -> {
            try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                while (!stop.get()) {
                    try (ResultSet rs = st.executeQuery(countSql)) {
                        rs.next();
                        smallest.accumulateAndGet(rs.getLong(1), Math::min);
                        reads.incrementAndGet();
                    }
                }
            } catch (Throwable t) {
                error.set(t);
            }
        }, "reader");
        thread.start();
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        thread.join(30_000);
    }
}
