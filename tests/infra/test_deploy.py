"""The documented deployment, for real on 127.0.0.1: gunicorn with deploy/gunicorn.conf.py behind
Debian's nginx with deploy/nginx.conf. Slow clients holding half-sent requests do not stop the
site, and neither access log holds a respondent's token."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from diagnostic import database

ROOT = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_abcd"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def deployed(tmp_path):
    if not os.path.exists(NGINX):
        if os.environ.get("CI"):
            pytest.fail("nginx is required in CI (make test installs nginx-light)")
        pytest.skip("nginx not installed; `make test` installs nginx-light")
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    database.upgrade(url)
    app_port, web_port = _port(), _port()
    env = {**os.environ, "APERTURA_DATABASE_URL": url, "APERTURA_SECRET_KEY": "deploy-test",
           "APERTURA_TRUSTED_PROXIES": "1", "GUNICORN_BIND": f"127.0.0.1:{app_port}", "GUNICORN_WORKERS": "2",
           "GUNICORN_THREADS": "2", "GUNICORN_ACCESSLOG": str(tmp_path / "gunicorn.access.log"),
           "PYTHONPATH": str(ROOT)}
    with open(tmp_path / "gunicorn.err", "w") as err:
        gunicorn = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "-c",
                                     "deploy/gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=err)
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    site = (site.replace("listen 80;", f"listen 127.0.0.1:{web_port};")
                .replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};")
                .replace("/var/log/nginx/apertura.access.log", str(tmp_path / "nginx.access.log")))
    (tmp_path / "site.conf").write_text(site)
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / d).mkdir()
    main = f"""
user {"root" if os.geteuid() == 0 else os.environ.get("USER", "nobody")};
worker_processes 1; daemon off; pid {tmp_path}/nginx.pid; error_log {tmp_path}/nginx.error.log;
events {{ worker_connections 256; }}
http {{
  client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;
  fastcgi_temp_path {tmp_path}/fastcgi; uwsgi_temp_path {tmp_path}/uwsgi; scgi_temp_path {tmp_path}/scgi;
  include {tmp_path}/site.conf;
}}
"""
    (tmp_path / "nginx.conf").write_text(main)
    check = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    nginx = subprocess.Popen([NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(f"http://127.0.0.1:{app_port}/healthz")
        _wait(f"http://127.0.0.1:{web_port}/healthz")
        yield tmp_path, web_port, app_port
    finally:
        _stop(nginx)
        _stop(gunicorn)


def test_slow_clients_do_not_stop_the_site_behind_nginx(deployed):
    tmp_path, web_port, _app_port = deployed
    slow = []
    try:
        for _ in range(12):  # more half-sent requests than gunicorn has threads (2 x 2)
            s = socket.create_connection(("127.0.0.1", web_port), timeout=5)
            s.sendall(b"POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nemail=a")
            slow.append(s)
        start = time.monotonic()
        for _ in range(5):
            with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/healthz", timeout=10) as r:
                assert r.status == 200
        assert time.monotonic() - start < 8
    finally:
        for s in slow:
            s.close()


def test_no_access_log_holds_a_respondent_token(deployed):
    tmp_path, web_port, app_port = deployed
    for port in (web_port, app_port):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/r/{TOKEN}/p/0", timeout=10)
        except urllib.error.HTTPError as exc:
            assert exc.code == 404
    time.sleep(0.5)
    for log in ("nginx.access.log", "gunicorn.access.log"):
        text = (tmp_path / log).read_text()
        assert "/r/[token]/p/0" in text, (log, text[-500:])
        assert TOKEN not in text, log
    assert TOKEN not in (tmp_path / "gunicorn.err").read_text()


def test_security_headers_pass_through_the_proxy(deployed):
    _tmp, web_port, _app = deployed
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/", timeout=10) as r:
        assert "script-src 'self'" in r.headers["Content-Security-Policy"]
        assert r.headers["X-Frame-Options"] == "DENY"
