"""WSGI entry point: `gunicorn wsgi:app`, and the app the `apertura` CLI loads."""
from diagnostic import create_app

app = create_app()
