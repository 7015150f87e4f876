package dev.nightshift.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The claim loop's wakeable wait. Bounds are generous: the machine is shared and busy. */
class WaiterTest {
    private static final Duration LONG = Duration.ofSeconds(30);

    @Test
    void a_wake_before_the_wait_is_not_lost() throws Exception {
        Waiter w = new Waiter();
        w.wake();
        long t0 = System.nanoTime();
        w.await(LONG);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void one_wake_ends_one_wait_only() throws Exception {
        Waiter w = new Waiter();
        w.wake();
        w.wake();
        w.await(LONG);
        long t0 = System.nanoTime();
        w.await(Duration.ofMillis(100));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(100));
    }

    @Test
    void without_a_wake_the_wait_lasts_its_maximum() throws Exception {
        Waiter w = new Waiter();
        long t0 = System.nanoTime();
        w.await(Duration.ofMillis(150));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(150));
    }

    @Test
    void a_wake_from_another_thread_cuts_a_long_wait_short() throws Exception {
        Waiter w = new Waiter();
        CountDownLatch done = new CountDownLatch(1);
        Thread t = new Thread(() -> {
            try {
                w.await(LONG);
                done.countDown();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        Thread.sleep(50); // let it reach the wait; a wake that comes first is kept anyway
        w.wake();
        assertThat(done.await(5, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void an_interrupted_wait_throws() throws Exception {
        Waiter w = new Waiter();
        Thread.currentThread().interrupt();
        try {
            w.await(LONG);
            assertThat(false).as("await should have thrown").isTrue();
        } catch (InterruptedException expected) {
            assertThat(Thread.currentThread().isInterrupted()).isFalse();
        }
    }
}
