"""gunicorn settings for Apertura (`gunicorn -c deploy/gunicorn.conf.py wsgi:app`, used by `make serve`).

Threaded workers (gthread): a request waiting on the database or a PDF holds a thread, not a
whole process. A client that sends its request slowly still holds a thread once it has
started, so gunicorn always runs behind nginx (deploy/nginx.conf), which reads every request
in full before passing it on and buffers the answer: slow clients then cost nginx a few
kilobytes, never an app thread. Every value can be overridden with GUNICORN_* below or on
the command line.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", str(min(8, 2 * multiprocessing.cpu_count()))))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))  # a PDF report takes a few seconds, not a minute
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then (bounded memory over a long campaign)
max_requests_jitter = 200
limit_request_line = 8190
limit_request_fields = 100
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = "-"
# The path only (%(U)s, no query string); respondents' tokens in /r/<token> are masked by the
# log-record hook installed below, in the master and so in every forked worker.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'


def on_starting(server):
    """Mask /r/<token> in every log record of gunicorn and the app."""
    from diagnostic.security import install_log_masking

    install_log_masking()
