package dev.nightshift.loop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A loop survives whatever its body throws and stray interrupts; only stop() ends it. */
class LoopTest {

    @Test
    void a_body_that_throws_errors_and_exceptions_is_counted_and_run_again_until_it_works() {
        AtomicInteger turns = new AtomicInteger();
        AtomicInteger failures = new AtomicInteger();
        Loop loop = new Loop("flaky", () -> {
            int n = turns.incrementAndGet();
            if (n == 1) {
                throw new OutOfMemoryError("simulated");
            }
            if (n == 2) {
                throw new IllegalStateException("simulated");
            }
            return Duration.ofHours(1);
        }, failures::incrementAndGet).start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> turns.get() == 3);
            assertThat(failures.get()).isEqualTo(2);
            assertThat(loop.dead()).isFalse();
            loop.wake();
            await().atMost(Duration.ofSeconds(10)).until(() -> turns.get() == 4);
        } finally {
            loop.stop(Duration.ofSeconds(5));
        }
        assertThat(loop.dead()).as("a stopped loop is not dead").isFalse();
    }

    @Test
    void a_stray_interrupt_does_not_end_the_loop_and_the_test_hook_does() throws Exception {
        AtomicInteger turns = new AtomicInteger();
        Thread[] worker = new Thread[1];
        Loop loop = new Loop("interrupted", () -> {
            worker[0] = Thread.currentThread();
            turns.incrementAndGet();
            Thread.sleep(60_000);
            return Duration.ZERO;
        }, () -> { }).start();
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> turns.get() == 1);
            worker[0].interrupt();
            await().atMost(Duration.ofSeconds(10)).until(() -> turns.get() == 2);
            assertThat(loop.dead()).isFalse();
            Loops loops = new Loops();
            loops.add(loop);
            assertThat(loops.dead()).isNull();
            loops.killForTest("interrupted");
            assertThat(loop.dead()).isTrue();
            assertThat(loops.dead()).isEqualTo("interrupted");
        } finally {
            loop.stop(Duration.ofSeconds(5));
        }
    }

    @Test
    void backoff_doubles_from_100_ms_to_5_s() {
        assertThat(Loop.backoff(1)).isEqualTo(Duration.ofMillis(100));
        assertThat(Loop.backoff(2)).isEqualTo(Duration.ofMillis(200));
        assertThat(Loop.backoff(6)).isEqualTo(Duration.ofMillis(3_200));
        assertThat(Loop.backoff(7)).isEqualTo(Duration.ofSeconds(5));
        assertThat(Loop.backoff(1_000)).isEqualTo(Duration.ofSeconds(5));
    }
}
