"""A worker whose broker connection died keeps going: closing the channel must not crash
on the unacknowledged messages it can no longer restore (see ``tiktok.celery``)."""

import uuid

from kombu import Connection, Queue

from tiktok.celery import app


def test_closing_a_channel_whose_broker_client_is_gone_keeps_its_unacked_message():
    queue_name = f"test-restore-{uuid.uuid4().hex}"
    with Connection(app.conf.broker_url, transport_options=app.conf.broker_transport_options) as connection:
        channel = connection.channel()
        queue = Queue(queue_name, channel=channel)
        queue.declare()
        connection.Producer(channel).publish({"n": 1}, routing_key=queue_name, declare=[queue])
        message = queue.get(no_ack=False)  # delivered, not acknowledged: in the unacked hash
        assert message is not None
        client = channel.client
        # What the consumer sees after the master died: the transport dropped its client
        # and the channel's pool is gone, so a restore cannot connect.
        channel.connection.client = None
        channel._pool = None

        channel.close()  # kombu 5.7 raised AttributeError here: the worker exited

        unacked = client.hgetall(channel.unacked_key)
        assert any(queue_name.encode() in value for value in unacked.values())  # left to the sweep
        client.hdel(channel.unacked_key, *unacked.keys())
        client.delete(queue_name)


def test_acknowledging_on_a_channel_whose_connection_is_gone_is_a_logged_connection_error():
    """A task that ended just before the broker's master died is acknowledged on its old
    channel after the worker reconnected: the ack fails as a connection error (Celery logs
    it and goes on) and the message stays unacknowledged, for the sweep to deliver again."""
    queue_name = f"test-ack-{uuid.uuid4().hex}"
    with Connection(app.conf.broker_url, transport_options=app.conf.broker_transport_options) as connection:
        channel = connection.channel()
        queue = Queue(queue_name, channel=channel)
        queue.declare()
        connection.Producer(channel).publish({"n": 1}, routing_key=queue_name, declare=[queue])
        message = queue.get(no_ack=False)
        assert message is not None
        client = channel.client
        channel.connection = None  # closed under it by the reconnection
        channel._pool = None
        logged = []

        class Logger:
            def critical(self, text, *args, **kwargs):
                logged.append(text % args)

        message.ack_log_error(Logger(), connection.connection_errors)  # kombu 5.7: AttributeError

        assert logged and "Couldn't ack" in logged[0]
        unacked = client.hgetall(channel.unacked_key)
        assert any(queue_name.encode() in value for value in unacked.values())
        client.hdel(channel.unacked_key, *unacked.keys())
        client.delete(queue_name)
