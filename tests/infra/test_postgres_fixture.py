"""The PostgreSQL fixture gives a real, isolated server: what web tests rely on."""
import psycopg
import sqlalchemy as sa


def test_each_test_gets_a_real_empty_database(database_url):
    engine = sa.create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (name TEXT)"))
        conn.execute(sa.text("INSERT INTO t VALUES ('Querétaro')"))
        assert conn.execute(sa.text("SELECT name FROM t")).scalar_one() == "Querétaro"
        if engine.dialect.name == "postgresql":
            assert conn.execute(sa.text("SHOW server_encoding")).scalar_one() == "UTF8"
    engine.dispose()


def test_server_listens_on_no_tcp_port(postgres_server):
    with psycopg.connect(postgres_server.conninfo()) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == ""
