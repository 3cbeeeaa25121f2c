"""The pipelined publisher counts the broker's confirms right whatever order they come in."""

from collections import defaultdict

import pytest

from guichet.pipelined import NotConfirmed, PipelinedPublisher


class ScriptedChannel:
    """A channel whose broker answers each batch with the given (tag, multiple) acks, in that order."""

    def __init__(self, acks: list[tuple[int, bool]]):
        self.events = defaultdict(set)
        self.acks = acks
        self.connection = self
        self._confirm_selected = True
        self.published = 0

    def _basic_publish(self, message, exchange, routing_key):
        self.published += 1

    def drain_events(self, timeout):
        if not self.acks:
            raise TimeoutError()
        tag, multiple = self.acks.pop(0)
        for callback in self.events["basic_ack"]:
            callback(tag, multiple)


def messages(n: int):
    from guichet.pipelined import Outgoing

    return [Outgoing("{}", "flux", "ofii.x", {}, str(i)) for i in range(n)]


def test_single_acks_above_a_gap_count_once_a_later_multiple_ack_fills_the_gap():
    channel = ScriptedChannel([(5, False), (6, False), (4, True)])
    PipelinedPublisher(channel).publish_all(messages(6))  # returns: all six confirmed
    assert channel.acks == []


def test_a_missing_confirm_is_not_taken_for_one():
    channel = ScriptedChannel([(6, False), (4, True)])  # tag 5 never confirmed
    with pytest.raises(NotConfirmed):
        PipelinedPublisher(channel, timeout=0.3).publish_all(messages(6))
