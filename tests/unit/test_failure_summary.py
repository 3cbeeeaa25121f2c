"""The traceback carried in the error-queue headers stays readable when cut."""

from guichet.failures import failure_summary


def fail_deep(depth: int) -> None:
    if depth == 0:
        raise RuntimeError("the innermost failure")
    fail_deep(depth - 1)


def caught(depth: int) -> BaseException:
    try:
        fail_deep(depth)
    except RuntimeError as exc:
        return exc
    raise AssertionError("fail_deep did not raise")


def test_a_short_traceback_is_kept_whole():
    summary = failure_summary(caught(1))
    assert summary.startswith("Traceback (most recent call last):\n")
    assert "cut" not in summary
    assert summary.endswith("RuntimeError: the innermost failure\n")


def test_a_long_traceback_keeps_its_heading_and_innermost_frames_within_the_limit():
    summary = failure_summary(caught(60), limit=600)
    assert len(summary) <= 600
    assert summary.startswith("Traceback (most recent call last):\n  [... earlier frames cut ...]\n")
    assert summary.endswith("RuntimeError: the innermost failure\n")
    # the cut falls between lines: the first kept line is a whole frame line
    first_kept = summary.splitlines()[2]
    assert first_kept.startswith("  File ") or first_kept.startswith("    ")
