"""gunicorn settings for the hotline (see README, Deploying)."""
import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# Threads, so a client that sends its request slowly (or never finishes it) holds one thread,
# not a whole worker: with `sync` workers two such connections stalled every webhook until
# the worker timeout. A turn is mostly CPU under the GIL, so threads cost little throughput.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# A connection that sends nothing for this long in the middle of a request is dropped (see
# when_ready); Twilio sends a whole request at once.
read_timeout = float(os.environ.get("HOTLINE_READ_TIMEOUT", "5"))
# Twilio waits 15 s for an answer; a worker stuck longer is killed well before that.
timeout = 10
graceful_timeout = 10
keepalive = 5
preload_app = True  # ivr_scripts/ and the directory are loaded once, before forking
# Access log without query strings or form bodies: no phone number ever reaches it.
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def pre_fork(server, worker):
    """What the master loaded (content, directory) is shared with the workers copy-on-write.
    Frozen, it is never visited by a worker's garbage collector, whose writes would copy
    those pages into every worker (measured: 39 -> 28 MiB PSS per worker)."""
    import gc

    gc.freeze()


def when_ready(server):
    """A receive timeout on the listening sockets, inherited by every accepted connection
    (Linux): a read that waits longer than `read_timeout` fails and gunicorn closes the
    connection, so slow or stalled clients free their thread."""
    import socket
    import struct

    seconds = int(read_timeout)
    value = struct.pack("ll", seconds, int((read_timeout - seconds) * 1e6))
    for listener in server.LISTENERS:
        try:
            listener.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, value)
        except (OSError, AttributeError):  # not Linux, or not a TCP listener
            server.log.warning("no receive timeout on %s", listener)
