"""What ``driver_rows.collector_paused`` promises the measures: rows built inside it are not
walked by the next young collection, and garbage among them is still collected."""
import gc
import weakref

import pytest

from workflows.measures import driver_rows


class Node:
    """A container the cycle collector tracks."""


@pytest.fixture
def collector_on():
    was_on = gc.isenabled()
    gc.enable()
    yield
    if not was_on:
        gc.disable()


def test_rows_built_while_paused_leave_the_young_generation(collector_on):
    gc.collect()
    with driver_rows.collector_paused():
        assert not gc.isenabled()
        built = [(n, str(n)) for n in range(50_000)]
    assert gc.isenabled()
    # Promoted unread: the young generation holds none of them, the oldest holds them all.
    young = {id(o) for o in gc.get_objects(generation=0)}
    assert not any(id(row) in young for row in built[::997])
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert all(id(row) in oldest for row in built[::997])
    assert gc.get_freeze_count() == 0


def test_a_cycle_built_while_paused_is_still_collected(collector_on):
    with driver_rows.collector_paused():
        node = Node()
        node.me = node
        gone = weakref.ref(node)
    del node
    gc.collect()
    assert gone() is None


def test_another_freeze_is_left_as_it_was(collector_on):
    kept = [Node() for _ in range(10)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with driver_rows.collector_paused():
            built = [Node() for _ in range(10)]
        assert gc.get_freeze_count() == frozen
        assert gc.isenabled() and kept and built
    finally:
        gc.unfreeze()
