"""The adaptive batch size of ctx.backfill (ncm_core.backfill.Throttle): pure logic."""

from ncm_core.backfill import BackfillOptions, Checkpoint, Throttle


def test_a_batch_slower_than_the_target_shrinks_the_next_in_proportion():
    throttle = Throttle(10_000, target=0.2)
    throttle.after(0.8)
    assert throttle.size == 2_500


def test_a_fast_batch_lets_a_shrunk_size_grow_back():
    throttle = Throttle(10_000, target=0.2)
    throttle.after(0.8)
    throttle.after(0.01)
    assert throttle.size == 5_000


def test_a_batch_a_little_under_the_target_lets_the_size_grow_in_proportion():
    throttle = Throttle(10_000, target=0.2)
    throttle.after(0.25)
    throttle.after(0.19)
    assert throttle.size == 8_421


def test_the_size_never_grows_past_the_size_asked_for():
    throttle = Throttle(10_000, target=0.2)
    throttle.after(0.01)
    assert throttle.size == 10_000


def test_the_size_never_shrinks_below_one_row():
    throttle = Throttle(10, target=0.2)
    throttle.after(1_000)
    assert throttle.size == 1


def test_without_a_target_every_batch_keeps_its_size():
    throttle = BackfillOptions(target_ms=0).throttle(10_000)
    throttle.after(5)
    assert throttle.size == 10_000


def test_batch_size_option_overrides_the_migration_size():
    assert BackfillOptions(batch_size=500).throttle(10_000).size == 500


def test_a_checkpoint_rate_counts_batch_time_only():
    point = Checkpoint("001", "users", rows_done=1_000, rows_total=4_000, seconds=2.0)
    assert (point.rate, point.eta_seconds) == (500.0, 6.0)
